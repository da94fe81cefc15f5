//! The field blocks AMI events share (sans-IO), named as Asterisk 12+ names them: a channel
//! snapshot (`Channel` ... `Linkedid`, or with the `Dest` prefix for the called side of
//! DialBegin/DialEnd) and a bridge snapshot (`BridgeUniqueid` ...).
//!
//! Asterisk writes an unknown caller or connected number or name as `<unknown>`, a channel
//! state both as its number (`ChannelState: 6`) and its name (`ChannelStateDesc: Up`), and
//! a bridge's kind as `BridgeType` (basic, mixing, holding) plus `BridgeTechnology` (how the
//! media flows: simple_bridge, softmix, holding_bridge).

use crate::channel::{ChannelSnapshot, ChannelState};
use crate::events::BridgeSnapshot;

use super::message::Message;

const PLAIN: [&str; 14] = [
    "Channel",
    "ChannelState",
    "ChannelStateDesc",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Language",
    "AccountCode",
    "Context",
    "Exten",
    "Priority",
    "Uniqueid",
    "Linkedid",
];

const DEST: [&str; 14] = [
    "DestChannel",
    "DestChannelState",
    "DestChannelStateDesc",
    "DestCallerIDNum",
    "DestCallerIDName",
    "DestConnectedLineNum",
    "DestConnectedLineName",
    "DestLanguage",
    "DestAccountCode",
    "DestContext",
    "DestExten",
    "DestPriority",
    "DestUniqueid",
    "DestLinkedid",
];

/// Which name set a channel block uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `Channel`, `ChannelState`, ...
    Plain,
    /// `DestChannel`, `DestChannelState`, ... (the peer of a Dial).
    Dest,
}

/// Asterisk's number for a channel state (`enum ast_channel_state`).
pub fn state_number(state: ChannelState) -> u8 {
    match state {
        ChannelState::Down => 0,
        ChannelState::Rsrvd => 1,
        ChannelState::OffHook => 2,
        ChannelState::Dialing => 3,
        ChannelState::Ring => 4,
        ChannelState::Ringing => 5,
        ChannelState::Up => 6,
        ChannelState::Busy => 7,
        ChannelState::DialingOffhook => 8,
        ChannelState::PreRing => 9,
        _ => 10,
    }
}

fn or_unknown(text: &str) -> String {
    if text.is_empty() {
        "<unknown>".to_string()
    } else {
        text.to_string()
    }
}

/// Appends the channel block of `channel` to `message`.
pub fn channel(message: &mut Message, side: Side, channel: &ChannelSnapshot) {
    let names = match side {
        Side::Plain => &PLAIN,
        Side::Dest => &DEST,
    };
    let language = if channel.language.is_empty() {
        "en"
    } else {
        &channel.language
    };
    let values = [
        channel.name.clone(),
        state_number(channel.state).to_string(),
        channel.state.as_str().to_string(),
        or_unknown(&channel.caller.number),
        or_unknown(&channel.caller.name),
        or_unknown(&channel.connected.number),
        or_unknown(&channel.connected.name),
        language.to_string(),
        String::new(),
        channel.dialplan.context.clone(),
        channel.dialplan.exten.clone(),
        channel.dialplan.priority.max(1).to_string(),
        channel.id.0.clone(),
        channel.linkedid.0.clone(),
    ];
    for (name, value) in names.iter().zip(values) {
        message.push(*name, value);
    }
}

/// Asterisk's `BridgeType` and `BridgeTechnology` for one of our bridge kinds.
pub fn bridge_kind(bridge_type: &str) -> (&'static str, &'static str) {
    match bridge_type {
        "mixing" => ("mixing", "softmix"),
        "holding" => ("holding", "holding_bridge"),
        _ => ("basic", "simple_bridge"),
    }
}

/// Appends the bridge block of `bridge` to `message`.
pub fn bridge(message: &mut Message, bridge: &BridgeSnapshot) {
    let (kind, technology) = bridge_kind(&bridge.bridge_type);
    message.push("BridgeUniqueid", bridge.id.clone());
    message.push("BridgeType", kind);
    message.push("BridgeTechnology", technology);
    message.push("BridgeCreator", "<unknown>");
    message.push("BridgeName", or_unknown(&bridge.name));
    message.push("BridgeNumChannels", bridge.channels.len().to_string());
    message.push("BridgeVideoSourceMode", "none");
}

/// `HH:MM:SS` for a duration in seconds (CoreShowChannel's Duration).
pub fn hms(secs: u64) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Asterisk's format name for one of our codecs (`ulaw` for PCMU).
pub fn format_name(codec: Option<&str>) -> &'static str {
    match codec {
        Some(c) if c.eq_ignore_ascii_case("PCMU") => "ulaw",
        Some(c) if c.eq_ignore_ascii_case("PCMA") => "alaw",
        Some(c) if c.eq_ignore_ascii_case("opus") => "opus",
        _ => "nothing",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::channel::{ChannelId, DialplanPosition, MediaStats, Party};

    /// A channel of 6001 calling 8000, answered.
    pub(crate) fn snapshot() -> ChannelSnapshot {
        ChannelSnapshot {
            id: ChannelId("1700000000.3".into()),
            linkedid: ChannelId("1700000000.3".into()),
            name: "PJSIP/6001-00000003".into(),
            state: ChannelState::Up,
            caller: Party {
                number: "6001".into(),
                name: String::new(),
            },
            connected: Party::default(),
            dialplan: DialplanPosition {
                context: "internal".into(),
                exten: "8000".into(),
                priority: 2,
                app_name: "Playback".into(),
                app_data: "hello-world".into(),
            },
            language: "en".into(),
            creationtime: "2023-11-14T22:13:20.000Z".into(),
            duration_secs: 65,
            sip_call_id: "abc".into(),
            codec: Some("PCMU".into()),
            media: MediaStats::default(),
        }
    }

    #[test]
    fn a_channel_block_has_asterisks_fields_in_order() {
        let mut m = Message::event("Newstate");
        channel(&mut m, Side::Plain, &snapshot());
        assert_eq!(
            String::from_utf8(m.render()).unwrap(),
            "Event: Newstate\r\nChannel: PJSIP/6001-00000003\r\nChannelState: 6\r\n\
             ChannelStateDesc: Up\r\nCallerIDNum: 6001\r\nCallerIDName: <unknown>\r\n\
             ConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\nLanguage: en\r\n\
             AccountCode: \r\nContext: internal\r\nExten: 8000\r\nPriority: 2\r\n\
             Uniqueid: 1700000000.3\r\nLinkedid: 1700000000.3\r\n\r\n"
        );
    }

    #[test]
    fn the_dest_block_prefixes_every_name() {
        let mut m = Message::new();
        channel(&mut m, Side::Dest, &snapshot());
        assert!(m.headers().iter().all(|(n, _)| n.starts_with("Dest")));
        assert_eq!(m.get("DestChannelStateDesc"), Some("Up"));
    }

    #[test]
    fn durations_and_formats() {
        assert_eq!(hms(3725), "01:02:05");
        assert_eq!(format_name(Some("PCMA")), "alaw");
        assert_eq!(bridge_kind("simple"), ("basic", "simple_bridge"));
    }
}
