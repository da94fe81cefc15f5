//! Channels (edge): every leg of a call — the caller's inbound leg, each branch Dial creates —
//! is a channel with what Asterisk users know of one: a unique id (`<epoch>.<n>`), a name
//! (`PJSIP/6001-0000000a`: technology/endpoint-sequence), a state, caller and connected ids,
//! its dialplan position, its codec and media statistics and the SIP Call-ID of its dialog.
//! The [`ChannelRegistry`] lists the live ones and publishes their life on the event stream.

mod registry;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use registry::{CallToken, ChannelHandle, ChannelRegistry, MediaTotals, NewChannel};

/// A channel's unique id, `<creation epoch seconds>.<n>` as Asterisk writes its uniqueid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelId(pub String);

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A channel's state, with Asterisk's names (`ast_state2str`), which clients match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChannelState {
    /// Created, nothing sent or received yet (an outgoing leg before its INVITE).
    Down,
    /// Reserved.
    Rsrvd,
    /// Off hook.
    OffHook,
    /// Digits being dialled.
    Dialing,
    /// An incoming call ringing at the PBX (the caller's leg before answer).
    Ring,
    /// The far end is ringing (an outgoing leg after 180/183).
    Ringing,
    /// Answered.
    Up,
    /// The far end is busy.
    Busy,
    /// Dialling while off hook.
    #[serde(rename = "Dialing Offhook")]
    DialingOffhook,
    /// About to ring.
    #[serde(rename = "Pre-ring")]
    PreRing,
    /// Unknown.
    Unknown,
}

impl ChannelState {
    /// Asterisk's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelState::Down => "Down",
            ChannelState::Rsrvd => "Rsrvd",
            ChannelState::OffHook => "OffHook",
            ChannelState::Dialing => "Dialing",
            ChannelState::Ring => "Ring",
            ChannelState::Ringing => "Ringing",
            ChannelState::Up => "Up",
            ChannelState::Busy => "Busy",
            ChannelState::DialingOffhook => "Dialing Offhook",
            ChannelState::PreRing => "Pre-ring",
            ChannelState::Unknown => "Unknown",
        }
    }
}

/// A caller or connected party: number and display name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// The number (user part), e.g. `6001`.
    pub number: String,
    /// The display name.
    pub name: String,
}

/// Where a channel is in the dialplan: context, extension, 1-based priority and the app
/// running there with its arguments as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialplanPosition {
    /// Context.
    pub context: String,
    /// Extension (`${EXTEN}`).
    pub exten: String,
    /// Step, counting from 1.
    pub priority: usize,
    /// The app's name (`Playback`), empty before the first step.
    pub app_name: String,
    /// The app's arguments as written (`hello-world`).
    pub app_data: String,
}

/// A channel's RTP statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaStats {
    /// RTP packets received.
    pub packets_in: u64,
    /// RTP packets sent.
    pub packets_out: u64,
    /// RTP packets lost (RFC 3550 A.3; negative with duplicates).
    pub lost: i64,
    /// Interarrival jitter in milliseconds (RFC 3550 A.8).
    pub jitter_ms: f64,
    /// RTP payload octets received.
    #[serde(default)]
    pub bytes_in: u64,
    /// RTP payload octets sent.
    #[serde(default)]
    pub bytes_out: u64,
}

impl From<&crate::media::session::SessionStats> for MediaStats {
    fn from(stats: &crate::media::session::SessionStats) -> MediaStats {
        MediaStats {
            packets_in: stats.packets_received,
            packets_out: stats.packets_sent,
            lost: stats.lost,
            jitter_ms: stats.jitter_ms,
            bytes_in: stats.bytes_received,
            bytes_out: stats.bytes_sent,
        }
    }
}

/// Everything known about a channel at one moment: what `GET /api/channels` lists and what
/// channel events carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelSnapshot {
    /// Unique id.
    pub id: ChannelId,
    /// The id of the first channel of the call this one belongs to (Asterisk's linkedid): a
    /// Dial branch carries its caller's, a channel that starts a call its own.
    pub linkedid: ChannelId,
    /// Name, `PJSIP/<endpoint>-<sequence>`.
    pub name: String,
    /// State.
    pub state: ChannelState,
    /// Who called.
    pub caller: Party,
    /// Who the channel is connected to.
    pub connected: Party,
    /// Dialplan position.
    pub dialplan: DialplanPosition,
    /// Language of prompts.
    pub language: String,
    /// Creation time, ISO 8601 UTC.
    pub creationtime: String,
    /// Seconds since creation (when the snapshot was taken).
    pub duration_secs: u64,
    /// SIP Call-ID of the channel's dialog.
    pub sip_call_id: String,
    /// Negotiated codec (`PCMU`), once known.
    pub codec: Option<String>,
    /// RTP statistics.
    pub media: MediaStats,
}

/// Q.850 cause 16, normal clearing: a hang-up nobody gave a reason for.
pub const NORMAL_CLEARING: u16 = 16;

/// The Q.850 cause for a hang-up reason named as ARI's `reason` names them (`busy`,
/// `congestion`...); `None` for a name it does not know.
pub fn cause_of_reason(reason: &str) -> Option<u16> {
    Some(match reason {
        "normal" => 16,
        "busy" => 17,
        "no_answer" => 19,
        "timeout" => 18,
        "rejected" => 21,
        "unallocated" => 1,
        "normal_unspecified" => 31,
        "number_incomplete" => 28,
        "codec_mismatch" => 58,
        "interworking" => 127,
        "failure" => 38,
        "answered_elsewhere" => 26,
        "congestion" => 34,
        _ => return None,
    })
}

/// A Q.850 cause's text as Asterisk writes it (`ast_cause2str`), for the common causes.
pub fn cause_text(cause: u16) -> &'static str {
    match cause {
        1 => "Unallocated (unassigned) number",
        3 => "No route to destination",
        16 => "Normal Clearing",
        17 => "User busy",
        18 => "No user responding",
        19 => "User alerting, no answer",
        21 => "Call Rejected",
        22 => "Number changed",
        26 => "Answered elsewhere",
        27 => "Destination out of order",
        28 => "Invalid number format (addr incomplete)",
        31 => "Normal, unspecified",
        34 => "Circuit/channel congestion",
        38 => "Network out of order",
        41 => "Temporary failure",
        42 => "Switching equipment congestion",
        58 => "Bearer capability not available",
        65 => "Bearer capability not implemented",
        88 => "Incompatible destination",
        102 => "Recovery on timer expiry",
        127 => "Interworking, unspecified",
        _ => "Unknown",
    }
}

/// The Q.850 cause for a SIP final response (RFC 3398 §7.2.4.1, as Asterisk maps them).
pub fn cause_of_status(status: u16) -> u16 {
    match status {
        404 | 485 | 604 => 1,
        403 | 603 => 21,
        408 | 504 => 102,
        410 => 22,
        480 => 18,
        484 => 28,
        486 | 600 => 17,
        487 => 16,
        488 | 606 => 65,
        500 => 41,
        501 => 79,
        502 => 38,
        503 => 34,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_serialize_with_asterisks_names() {
        for state in [
            ChannelState::Ring,
            ChannelState::Up,
            ChannelState::DialingOffhook,
            ChannelState::PreRing,
        ] {
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::Value::String(state.as_str().into())
            );
        }
    }

    #[test]
    fn sip_statuses_map_to_q850_causes() {
        assert_eq!(cause_of_status(486), 17);
        assert_eq!(cause_of_status(480), 18);
        assert_eq!(cause_of_status(404), 1);
        assert_eq!(cause_text(16), "Normal Clearing");
    }
}
