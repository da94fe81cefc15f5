//! PbxEvent -> AMI events (sans-IO): the one event stream rendered with Asterisk 12+ event
//! names and fields, each with its permission class, which decides who receives it.
//!
//! | PbxEvent | AMI event | class |
//! | --- | --- | --- |
//! | ChannelCreated | Newchannel | call |
//! | ChannelStateChanged | Newstate | call |
//! | ChannelDialplan | Newexten (Extension, Application, AppData) | dialplan |
//! | ChannelVarset | VarSet (Variable, Value) | dialplan |
//! | ChannelDtmfReceived | DTMFBegin then DTMFEnd (Digit, DurationMs, Direction) | dtmf |
//! | ChannelHangupRequest | HangupRequest (far end, dialplan) or SoftHangupRequest (operator, shutdown, timeout), with Cause | call |
//! | ChannelDestroyed | Hangup (Cause, Cause-txt) | call |
//! | ChannelHold / ChannelUnhold | Hold / Unhold | call |
//! | ChannelCallerId | NewCallerid (CID-CallingPres) | call |
//! | ChannelConnectedLine | NewConnectedLine | call |
//! | BridgeCreated / BridgeDestroyed | BridgeCreate / BridgeDestroy, and ConfbridgeStart / ConfbridgeEnd for a conference | call |
//! | ChannelEnteredBridge / ChannelLeftBridge | BridgeEnter / BridgeLeave, and ConfbridgeJoin / ConfbridgeLeave for a conference | call |
//! | DialBegin / DialEnd | DialBegin (DialString) / DialEnd (DialStatus), the peer as Dest* | call |
//! | ContactStatusChange | ContactStatus, and PeerStatus (Reachable when a contact registers or answers, Unreachable when it goes or stops answering) | system |
//! | TrunkStateChange | Registry | system |
//! | UserEvent | UserEvent (UserEvent, then the action's other headers) | user |
//! | OriginateResponse | OriginateResponse (ActionID, Response, Reason, Uniqueid) | call |
//! | Agi (ExecStart / ExecEnd) | AGIExecStart (CommandId, Command) / AGIExecEnd (+ ResultCode, Result) | agi |
//! | Agi (AsyncStart / AsyncExec / AsyncEnd) | AsyncAGIStart (Env) / AsyncAGIExec (CommandID, Result) / AsyncAGIEnd | agi |
//!
//! A conference is a named mixing bridge (a `ConfBridge` room), as ConfbridgeList has it.
//! Our key presses are reported once they end, so DTMFBegin and DTMFEnd come together.
//! Other events (playbacks, Stasis, transfers, losses of the window) have no AMI form here
//! and are not sent; variants added to [`PbxEvent`] later fall in that arm too.

use super::class::Class;
use super::fields::{self, Side};
use super::message::Message;
use crate::agi::event::AgiEvent;
use crate::channel::{cause_text, ChannelSnapshot};
use crate::events::PbxEvent;

/// One AMI event and the class that decides who receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmiEvent {
    /// Its class.
    pub class: Class,
    /// The message, `Event` and `Privilege` first.
    pub message: Message,
}

fn start(name: &str, class: Class) -> Message {
    Message::event(name).with("Privilege", class.privilege())
}

/// Whether `bridge` is a conference (a named mixing bridge, as `ConfBridge` makes).
fn is_conference(bridge: &crate::events::BridgeSnapshot) -> bool {
    bridge.bridge_type == "mixing" && !bridge.name.is_empty()
}

fn with_channel(name: &str, class: Class, channel: &ChannelSnapshot) -> Message {
    let mut message = start(name, class);
    fields::channel(&mut message, Side::Plain, channel);
    message
}

/// The AMI events for `event` (none, one, or two for a key press).
pub fn render(event: &PbxEvent) -> Vec<AmiEvent> {
    let one = |class: Class, message: Message| vec![AmiEvent { class, message }];
    match event {
        PbxEvent::ChannelCreated { channel } => one(
            Class::Call,
            with_channel("Newchannel", Class::Call, channel),
        ),
        PbxEvent::ChannelStateChanged { channel } => {
            one(Class::Call, with_channel("Newstate", Class::Call, channel))
        }
        PbxEvent::ChannelDialplan { channel } => {
            let mut m = with_channel("Newexten", Class::Dialplan, channel);
            m.push("Extension", channel.dialplan.exten.clone());
            m.push("Application", channel.dialplan.app_name.clone());
            m.push("AppData", channel.dialplan.app_data.clone());
            one(Class::Dialplan, m)
        }
        PbxEvent::ChannelVarset {
            channel,
            variable,
            value,
        } => {
            let mut m = with_channel("VarSet", Class::Dialplan, channel);
            m.push("Variable", variable.clone());
            m.push("Value", value.clone());
            one(Class::Dialplan, m)
        }
        PbxEvent::ChannelDtmfReceived {
            channel,
            digit,
            duration_ms,
        } => {
            let mut begin = with_channel("DTMFBegin", Class::Dtmf, channel);
            begin.push("Digit", digit.to_string());
            begin.push("Direction", "Received");
            let mut end = with_channel("DTMFEnd", Class::Dtmf, channel);
            end.push("Digit", digit.to_string());
            end.push("DurationMs", duration_ms.to_string());
            end.push("Direction", "Received");
            vec![
                AmiEvent {
                    class: Class::Dtmf,
                    message: begin,
                },
                AmiEvent {
                    class: Class::Dtmf,
                    message: end,
                },
            ]
        }
        PbxEvent::ChannelHangupRequest {
            channel,
            cause,
            source,
        } => {
            let name = match source.as_str() {
                "remote" | "dialplan" => "HangupRequest",
                _ => "SoftHangupRequest",
            };
            let mut m = with_channel(name, Class::Call, channel);
            m.push("Cause", cause.to_string());
            one(Class::Call, m)
        }
        PbxEvent::ChannelDestroyed {
            channel,
            cause,
            cause_txt,
        } => {
            let mut m = with_channel("Hangup", Class::Call, channel);
            m.push("Cause", cause.to_string());
            let text = if cause_txt.is_empty() {
                cause_text(*cause)
            } else {
                cause_txt
            };
            m.push("Cause-txt", text.to_string());
            one(Class::Call, m)
        }
        PbxEvent::ChannelHold { channel } => {
            let mut m = with_channel("Hold", Class::Call, channel);
            m.push("MusicClass", "default");
            one(Class::Call, m)
        }
        PbxEvent::ChannelUnhold { channel } => {
            one(Class::Call, with_channel("Unhold", Class::Call, channel))
        }
        PbxEvent::ChannelConnectedLine { channel } => {
            let mut m = with_channel("NewConnectedLine", Class::Call, channel);
            m.push("CID-CallingPres", "0 (Presentation Allowed, Not Screened)");
            one(Class::Call, m)
        }
        PbxEvent::ChannelCallerId { channel } => {
            let mut m = with_channel("NewCallerid", Class::Call, channel);
            m.push("CID-CallingPres", "0 (Presentation Allowed, Not Screened)");
            one(Class::Call, m)
        }
        PbxEvent::BridgeCreated { bridge } | PbxEvent::BridgeDestroyed { bridge } => {
            let name = match event {
                PbxEvent::BridgeCreated { .. } => "BridgeCreate",
                _ => "BridgeDestroy",
            };
            let mut m = start(name, Class::Call);
            fields::bridge(&mut m, bridge);
            let mut out = one(Class::Call, m);
            if is_conference(bridge) {
                let name = match event {
                    PbxEvent::BridgeCreated { .. } => "ConfbridgeStart",
                    _ => "ConfbridgeEnd",
                };
                let mut m = start(name, Class::Call).with("Conference", bridge.name.clone());
                fields::bridge(&mut m, bridge);
                out.extend(one(Class::Call, m));
            }
            out
        }
        PbxEvent::ChannelEnteredBridge { bridge, channel }
        | PbxEvent::ChannelLeftBridge { bridge, channel } => {
            let name = match event {
                PbxEvent::ChannelEnteredBridge { .. } => "BridgeEnter",
                _ => "BridgeLeave",
            };
            let mut m = start(name, Class::Call);
            fields::bridge(&mut m, bridge);
            fields::channel(&mut m, Side::Plain, channel);
            let mut out = one(Class::Call, m);
            if is_conference(bridge) {
                let joined = matches!(event, PbxEvent::ChannelEnteredBridge { .. });
                let name = if joined {
                    "ConfbridgeJoin"
                } else {
                    "ConfbridgeLeave"
                };
                let mut m = start(name, Class::Call).with("Conference", bridge.name.clone());
                fields::bridge(&mut m, bridge);
                fields::channel(&mut m, Side::Plain, channel);
                m.push("Admin", "No");
                if joined {
                    m.push("Muted", "No");
                }
                out.extend(one(Class::Call, m));
            }
            out
        }
        PbxEvent::DialBegin {
            caller,
            peer,
            dialstring,
        } => {
            let mut m = with_channel("DialBegin", Class::Call, caller);
            fields::channel(&mut m, Side::Dest, peer);
            m.push("DialString", dial_string(dialstring));
            one(Class::Call, m)
        }
        PbxEvent::DialEnd {
            caller,
            peer,
            dialstatus,
        } => {
            let mut m = with_channel("DialEnd", Class::Call, caller);
            fields::channel(&mut m, Side::Dest, peer);
            m.push("DialStatus", dialstatus.clone());
            one(Class::Call, m)
        }
        PbxEvent::ContactStatusChange { contact } => {
            let mut m = start("ContactStatus", Class::System);
            m.push("URI", contact.uri.clone());
            m.push("ContactStatus", contact.contact_status.clone());
            m.push("AOR", contact.aor.clone());
            m.push("EndpointName", contact.aor.clone());
            if let Some(rtt) = contact.roundtrip_usec {
                m.push("RoundtripUsec", rtt.to_string());
            }
            let mut out = one(Class::System, m);
            let peer_status = match contact.contact_status.as_str() {
                "Created" | "Reachable" => Some("Reachable"),
                "Removed" | "Unreachable" => Some("Unreachable"),
                _ => None,
            };
            if let Some(status) = peer_status {
                let m = start("PeerStatus", Class::System)
                    .with("ChannelType", "PJSIP")
                    .with("Peer", format!("PJSIP/{}", contact.aor))
                    .with("PeerStatus", status);
                out.extend(one(Class::System, m));
            }
            out
        }
        PbxEvent::TrunkStateChange { trunk } => {
            let status = match trunk.state.as_str() {
                "registered" => "Registered",
                "rejected" => "Rejected",
                "unreachable" => "Failed",
                "unregistered" | "idle" => "Unregistered",
                _ => return Vec::new(),
            };
            let m = start("Registry", Class::System)
                .with("ChannelType", "PJSIP")
                .with("Username", trunk.name.clone())
                .with("Domain", trunk.name.clone())
                .with("Status", status);
            one(Class::System, m)
        }
        PbxEvent::Agi { channel, agi } => one(Class::Agi, render_agi(channel, agi)),
        PbxEvent::OriginateResponse(outcome) => one(Class::Call, outcome.render()),
        PbxEvent::UserEvent { name, headers, .. } => {
            let mut m = start("UserEvent", Class::User).with("UserEvent", name.clone());
            for (header, value) in headers {
                m.push(header.clone(), value.clone());
            }
            one(Class::User, m)
        }
        _ => Vec::new(),
    }
}

/// An AGI event, with the header names Asterisk's `res_agi.c` uses (`CommandId` in
/// AGIExec*, `CommandID` in AsyncAGIExec).
fn render_agi(channel: &ChannelSnapshot, agi: &AgiEvent) -> Message {
    match agi {
        AgiEvent::ExecStart {
            command_id,
            command,
        } => with_channel("AGIExecStart", Class::Agi, channel)
            .with("CommandId", command_id.clone())
            .with("Command", command.clone()),
        AgiEvent::ExecEnd {
            command_id,
            command,
            result_code,
            result,
        } => with_channel("AGIExecEnd", Class::Agi, channel)
            .with("CommandId", command_id.clone())
            .with("Command", command.clone())
            .with("ResultCode", result_code.to_string())
            .with("Result", result.clone()),
        AgiEvent::AsyncStart { env } => {
            with_channel("AsyncAGIStart", Class::Agi, channel).with("Env", env.clone())
        }
        AgiEvent::AsyncExec { command_id, result } => {
            let mut m = with_channel("AsyncAGIExec", Class::Agi, channel);
            if let Some(id) = command_id {
                m.push("CommandID", id.clone());
            }
            m.with("Result", result.clone())
        }
        AgiEvent::AsyncEnd => with_channel("AsyncAGIEnd", Class::Agi, channel),
    }
}

/// Asterisk's DialString is what follows the technology: `6002` for `endpoint/6002`,
/// `provider/123` for `trunk/provider/123`.
fn dial_string(dialstring: &str) -> String {
    dialstring
        .split_once('/')
        .map_or(dialstring, |(_, rest)| rest)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ami::fields::tests::snapshot;

    fn names(events: &[AmiEvent]) -> Vec<(&str, Class)> {
        events
            .iter()
            .map(|e| (e.message.get("Event").unwrap(), e.class))
            .collect()
    }

    #[test]
    fn channel_life_renders_with_asterisk_names_and_classes() {
        let channel = snapshot();
        let created = render(&PbxEvent::ChannelCreated {
            channel: channel.clone(),
        });
        assert_eq!(names(&created), [("Newchannel", Class::Call)]);
        assert_eq!(created[0].message.get("Privilege"), Some("call,all"));
        assert_eq!(
            created[0].message.get("Channel"),
            Some("PJSIP/6001-00000003")
        );
        let exten = render(&PbxEvent::ChannelDialplan {
            channel: channel.clone(),
        });
        assert_eq!(names(&exten), [("Newexten", Class::Dialplan)]);
        assert_eq!(exten[0].message.get("Application"), Some("Playback"));
        assert_eq!(exten[0].message.get("AppData"), Some("hello-world"));
        let hangup = render(&PbxEvent::ChannelDestroyed {
            channel,
            cause: 16,
            cause_txt: "Normal Clearing".into(),
        });
        let m = &hangup[0].message;
        assert_eq!(m.get("Event"), Some("Hangup"));
        assert_eq!(m.get("Cause"), Some("16"));
        assert_eq!(m.get("Cause-txt"), Some("Normal Clearing"));
    }

    #[test]
    fn a_key_press_is_dtmf_begin_then_end() {
        let events = render(&PbxEvent::ChannelDtmfReceived {
            channel: snapshot(),
            digit: '5',
            duration_ms: 120,
        });
        assert_eq!(
            names(&events),
            [("DTMFBegin", Class::Dtmf), ("DTMFEnd", Class::Dtmf)]
        );
        assert_eq!(events[1].message.get("DurationMs"), Some("120"));
        assert_eq!(events[1].message.get("Direction"), Some("Received"));
    }

    #[test]
    fn dial_begin_names_the_peer_with_dest_fields() {
        let mut peer = snapshot();
        peer.name = "PJSIP/6002-00000004".into();
        let events = render(&PbxEvent::DialBegin {
            caller: snapshot(),
            peer,
            dialstring: "endpoint/6002".into(),
        });
        let m = &events[0].message;
        assert_eq!(m.get("Channel"), Some("PJSIP/6001-00000003"));
        assert_eq!(m.get("DestChannel"), Some("PJSIP/6002-00000004"));
        assert_eq!(m.get("DialString"), Some("6002"));
    }

    #[test]
    fn hangup_requests_say_who_asked() {
        let request = |source: &str| {
            render(&PbxEvent::ChannelHangupRequest {
                channel: snapshot(),
                cause: 16,
                source: source.into(),
            })[0]
                .message
                .get("Event")
                .unwrap()
                .to_string()
        };
        assert_eq!(request("remote"), "HangupRequest");
        assert_eq!(request("operator"), "SoftHangupRequest");
    }

    #[test]
    fn agi_events_carry_asterisk_headers_in_class_agi() {
        let channel = snapshot();
        let exec = render(&PbxEvent::Agi {
            channel: channel.clone(),
            agi: AgiEvent::AsyncExec {
                command_id: Some("c1".into()),
                result: "200%20result%3D0%0A".into(),
            },
        });
        assert_eq!(names(&exec), [("AsyncAGIExec", Class::Agi)]);
        assert_eq!(exec[0].message.get("CommandID"), Some("c1"));
        assert_eq!(exec[0].message.get("Result"), Some("200%20result%3D0%0A"));
        assert_eq!(exec[0].message.get("Channel"), Some("PJSIP/6001-00000003"));
        let end = render(&PbxEvent::Agi {
            channel,
            agi: AgiEvent::ExecEnd {
                command_id: "3".into(),
                command: "FROB".into(),
                result_code: 510,
                result: "Invalid or unknown command".into(),
            },
        });
        assert_eq!(names(&end), [("AGIExecEnd", Class::Agi)]);
        assert_eq!(end[0].message.get("ResultCode"), Some("510"));
    }

    #[test]
    fn a_conference_room_also_gives_confbridge_events_and_a_dial_bridge_does_not() {
        let room = crate::events::BridgeSnapshot {
            id: "b1".into(),
            bridge_type: "mixing".into(),
            name: "8002".into(),
            channels: Vec::new(),
            creationtime: String::new(),
        };
        let dial = crate::events::BridgeSnapshot {
            bridge_type: "simple".into(),
            name: String::new(),
            ..room.clone()
        };
        let start = render(&PbxEvent::BridgeCreated {
            bridge: room.clone(),
        });
        assert_eq!(
            names(&start),
            [
                ("BridgeCreate", Class::Call),
                ("ConfbridgeStart", Class::Call)
            ]
        );
        assert_eq!(start[1].message.get("Conference"), Some("8002"));
        let join = render(&PbxEvent::ChannelEnteredBridge {
            bridge: room.clone(),
            channel: snapshot(),
        });
        assert_eq!(
            names(&join),
            [
                ("BridgeEnter", Class::Call),
                ("ConfbridgeJoin", Class::Call)
            ]
        );
        assert_eq!(join[1].message.get("Channel"), Some("PJSIP/6001-00000003"));
        let leave = render(&PbxEvent::ChannelLeftBridge {
            bridge: room.clone(),
            channel: snapshot(),
        });
        assert_eq!(names(&leave)[1].0, "ConfbridgeLeave");
        let end = render(&PbxEvent::BridgeDestroyed { bridge: room });
        assert_eq!(names(&end)[1].0, "ConfbridgeEnd");
        assert_eq!(render(&PbxEvent::BridgeCreated { bridge: dial }).len(), 1);
    }

    #[test]
    fn contact_changes_also_give_the_peer_status() {
        let contact = |status: &str| PbxEvent::ContactStatusChange {
            contact: crate::events::ContactStatus {
                aor: "6001".into(),
                uri: "sip:6001@192.0.2.1".into(),
                contact_status: status.into(),
                roundtrip_usec: None,
            },
        };
        for (status, peer) in [("Created", "Reachable"), ("Unreachable", "Unreachable")] {
            let out = render(&contact(status));
            assert_eq!(
                names(&out),
                [
                    ("ContactStatus", Class::System),
                    ("PeerStatus", Class::System)
                ]
            );
            assert_eq!(out[1].message.get("Peer"), Some("PJSIP/6001"));
            assert_eq!(out[1].message.get("PeerStatus"), Some(peer));
        }
    }

    #[test]
    fn events_without_an_ami_form_render_nothing() {
        assert!(render(&PbxEvent::EventsLost { count: 3 }).is_empty());
    }
}
