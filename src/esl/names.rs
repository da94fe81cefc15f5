//! The PBX's events under FreeSWITCH's names (sans-IO): which `PbxEvent` becomes which
//! event-socket events, for which channel, with their own headers. The session adds the
//! `Event-*` stamps and the channel's header set ([`super::channel_data`]).
//!
//! | PbxEvent | event-socket events |
//! |---|---|
//! | ChannelCreated | CHANNEL_CREATE |
//! | ChannelStateChanged | CHANNEL_CALLSTATE; CHANNEL_PROGRESS (Ringing), CHANNEL_ANSWER (Up) |
//! | ChannelDtmfReceived | DTMF (`DTMF-Digit`, `DTMF-Duration` in samples) |
//! | ChannelHangupRequest | CHANNEL_STATE (CS_HANGUP), CHANNEL_HANGUP (`Hangup-Cause`) |
//! | ChannelDestroyed | CHANNEL_HANGUP_COMPLETE (`Hangup-Cause`), CHANNEL_DESTROY |
//! | ChannelEnteredBridge / LeftBridge | CHANNEL_BRIDGE / CHANNEL_UNBRIDGE (`Bridge-A/B-Unique-ID`) |
//! | ChannelHold / Unhold | CHANNEL_HOLD / CHANNEL_UNHOLD |
//! | PlaybackStarted / Finished | PLAYBACK_START / PLAYBACK_STOP (`Playback-File-Path`) |
//! | RecordingStarted / Finished | RECORD_START / RECORD_STOP (`Record-File-Path`) |
//! | ContactStatusChange | CUSTOM `sofia::register` / `sofia::unregister` |

use super::cause;
use super::channel_data::Phase;
use crate::channel::{ChannelId, ChannelSnapshot};
use crate::events::PbxEvent;

/// Samples per millisecond, for `DTMF-Duration` (FreeSWITCH counts 8 kHz samples).
const SAMPLES_PER_MS: u32 = 8;

/// One event-socket event made from a PBX event.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated<'a> {
    /// `Event-Name`.
    pub name: &'static str,
    /// The channel it is about, if any.
    pub channel: Option<ChannelId>,
    /// The channel as the event carried it, when it did.
    pub snapshot: Option<&'a ChannelSnapshot>,
    /// Where the channel is in its life.
    pub phase: Phase,
    /// The event's own headers (after the channel's).
    pub headers: Vec<(String, String)>,
}

fn of<'a>(
    name: &'static str,
    channel: &'a ChannelSnapshot,
    phase: Phase,
    headers: Vec<(&str, String)>,
) -> Translated<'a> {
    Translated {
        name,
        channel: Some(channel.id.clone()),
        snapshot: Some(channel),
        phase,
        headers: headers
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect(),
    }
}

/// The id in a `channel:ID` target URI.
fn target_channel(uri: &str) -> Option<ChannelId> {
    uri.strip_prefix("channel:")
        .map(|id| ChannelId(id.to_owned()))
}

fn live(channel: &ChannelSnapshot) -> Phase {
    match channel.state {
        crate::channel::ChannelState::Up => Phase::Active,
        _ => Phase::Ringing,
    }
}

/// The event-socket events `event` stands for, in the order FreeSWITCH sends them.
pub fn translate(event: &PbxEvent) -> Vec<Translated<'_>> {
    use crate::channel::ChannelState;
    match event {
        PbxEvent::ChannelCreated { channel } => {
            vec![of("CHANNEL_CREATE", channel, Phase::Ringing, vec![])]
        }
        PbxEvent::ChannelStateChanged { channel } => {
            let mut out = vec![of("CHANNEL_CALLSTATE", channel, live(channel), vec![])];
            match channel.state {
                ChannelState::Up => out.push(of("CHANNEL_ANSWER", channel, Phase::Active, vec![])),
                ChannelState::Ringing => {
                    out.push(of("CHANNEL_PROGRESS", channel, Phase::Ringing, vec![]))
                }
                _ => {}
            }
            out
        }
        PbxEvent::ChannelDtmfReceived {
            channel,
            digit,
            duration_ms,
        } => vec![of(
            "DTMF",
            channel,
            live(channel),
            vec![
                ("DTMF-Digit", digit.to_string()),
                ("DTMF-Duration", (duration_ms * SAMPLES_PER_MS).to_string()),
                ("DTMF-Source", "RTP".to_owned()),
            ],
        )],
        PbxEvent::ChannelHangupRequest {
            channel, cause: c, ..
        } => vec![
            of("CHANNEL_STATE", channel, Phase::Hangup, vec![]),
            of(
                "CHANNEL_HANGUP",
                channel,
                Phase::Hangup,
                vec![("Hangup-Cause", cause::name(*c).to_owned())],
            ),
        ],
        PbxEvent::ChannelDestroyed {
            channel, cause: c, ..
        } => vec![
            of(
                "CHANNEL_HANGUP_COMPLETE",
                channel,
                Phase::Reported,
                vec![("Hangup-Cause", cause::name(*c).to_owned())],
            ),
            of("CHANNEL_DESTROY", channel, Phase::Reported, vec![]),
        ],
        PbxEvent::ChannelEnteredBridge { bridge, channel }
        | PbxEvent::ChannelLeftBridge { bridge, channel } => {
            let name = match event {
                PbxEvent::ChannelEnteredBridge { .. } => "CHANNEL_BRIDGE",
                _ => "CHANNEL_UNBRIDGE",
            };
            let mut headers = vec![("Bridge-A-Unique-ID", channel.id.0.clone())];
            if let Some(other) = bridge.channels.iter().find(|c| **c != channel.id) {
                headers.push(("Bridge-B-Unique-ID", other.0.clone()));
                headers.push(("Other-Leg-Unique-ID", other.0.clone()));
            }
            vec![of(name, channel, live(channel), headers)]
        }
        PbxEvent::ChannelHold { channel } => {
            vec![of("CHANNEL_HOLD", channel, live(channel), vec![])]
        }
        PbxEvent::ChannelUnhold { channel } => {
            vec![of("CHANNEL_UNHOLD", channel, live(channel), vec![])]
        }
        PbxEvent::PlaybackStarted { playback } | PbxEvent::PlaybackFinished { playback } => {
            let name = match event {
                PbxEvent::PlaybackStarted { .. } => "PLAYBACK_START",
                _ => "PLAYBACK_STOP",
            };
            let Some(channel) = target_channel(&playback.target_uri) else {
                return Vec::new();
            };
            vec![Translated {
                name,
                channel: Some(channel),
                snapshot: None,
                phase: Phase::Active,
                headers: vec![(
                    "Playback-File-Path".to_owned(),
                    playback.media_uri.join("!"),
                )],
            }]
        }
        PbxEvent::RecordingStarted { recording } | PbxEvent::RecordingFinished { recording } => {
            let name = match event {
                PbxEvent::RecordingStarted { .. } => "RECORD_START",
                _ => "RECORD_STOP",
            };
            let Some(channel) = target_channel(&recording.target_uri) else {
                return Vec::new();
            };
            vec![Translated {
                name,
                channel: Some(channel),
                snapshot: None,
                phase: Phase::Active,
                headers: vec![(
                    "Record-File-Path".to_owned(),
                    format!("{}.{}", recording.name, recording.format),
                )],
            }]
        }
        PbxEvent::ContactStatusChange { contact } => {
            let subclass = match contact.contact_status.as_str() {
                "Removed" | "Unreachable" => "sofia::unregister",
                _ => "sofia::register",
            };
            let user = contact.aor.split('@').next().unwrap_or(&contact.aor);
            vec![Translated {
                name: "CUSTOM",
                channel: None,
                snapshot: None,
                phase: Phase::Active,
                headers: [
                    ("Event-Subclass", subclass.to_owned()),
                    ("profile-name", "internal".to_owned()),
                    ("from-user", user.to_owned()),
                    ("username", user.to_owned()),
                    ("contact", contact.uri.clone()),
                    ("status", contact.contact_status.clone()),
                ]
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v))
                .collect(),
            }]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{ChannelState, DialplanPosition, MediaStats, Party};

    fn channel(state: ChannelState) -> ChannelSnapshot {
        ChannelSnapshot {
            id: ChannelId("1.1".into()),
            linkedid: ChannelId("1.1".into()),
            name: "PJSIP/6001-00000000".into(),
            state,
            caller: Party::default(),
            connected: Party::default(),
            dialplan: DialplanPosition::default(),
            language: "en".into(),
            creationtime: String::new(),
            duration_secs: 0,
            sip_call_id: String::new(),
            codec: None,
            media: MediaStats::default(),
        }
    }

    #[test]
    fn an_answer_is_a_callstate_then_channel_answer() {
        let event = PbxEvent::ChannelStateChanged {
            channel: channel(ChannelState::Up),
        };
        let names: Vec<&str> = translate(&event).iter().map(|t| t.name).collect();
        assert_eq!(names, ["CHANNEL_CALLSTATE", "CHANNEL_ANSWER"]);
    }

    #[test]
    fn dtmf_and_hangups_carry_their_headers() {
        let dtmf = PbxEvent::ChannelDtmfReceived {
            channel: channel(ChannelState::Up),
            digit: '5',
            duration_ms: 100,
        };
        let t = &translate(&dtmf)[0];
        assert_eq!(t.name, "DTMF");
        assert!(t.headers.contains(&("DTMF-Digit".into(), "5".into())));
        assert!(t.headers.contains(&("DTMF-Duration".into(), "800".into())));
        let gone = PbxEvent::ChannelDestroyed {
            channel: channel(ChannelState::Up),
            cause: 17,
            cause_txt: "User busy".into(),
        };
        let t = &translate(&gone)[0];
        assert_eq!(
            (t.name, t.phase),
            ("CHANNEL_HANGUP_COMPLETE", Phase::Reported)
        );
        assert!(t
            .headers
            .contains(&("Hangup-Cause".into(), "USER_BUSY".into())));
    }

    #[test]
    fn playbacks_name_their_channel_by_target() {
        let started = PbxEvent::PlaybackStarted {
            playback: crate::events::PlaybackSnapshot {
                id: "p".into(),
                media_uri: vec!["sound:hello-world".into()],
                target_uri: "channel:1.1".into(),
                state: crate::events::PlaybackState::Playing,
            },
        };
        let t = &translate(&started)[0];
        assert_eq!(t.name, "PLAYBACK_START");
        assert_eq!(t.channel, Some(ChannelId("1.1".into())));
    }
}
