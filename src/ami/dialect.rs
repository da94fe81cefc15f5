//! The `asterisk11` dialect (sans-IO): events rewritten the way Asterisk 1.8 / 11 named them,
//! for clients written against those versions (`[ami] dialect = "asterisk11"`). The default,
//! `asterisk22`, sends events as [`super::event`] renders them.
//!
//! What the dialect changes, all of it:
//! - `AsyncAGIStart` / `AsyncAGIExec` / `AsyncAGIEnd` become `Event: AsyncAGI` with
//!   `SubEvent: Start|Exec|End` (what panoramisk's `send_agi_command` waits for).
//! - `DialBegin` / `DialEnd` become `Event: Dial` with `SubEvent: Begin|End`, the peer as
//!   `Destination` / `DestUniqueID`, `UniqueID` and `Dialstring`.
//! - `DTMFBegin` / `DTMFEnd` become `Event: DTMF` with `Begin: Yes|No` and `End: No|Yes`.
//! - Two channels joined in a bridge also give `Event: Bridge` with `Bridgestate: Link`
//!   (`Channel1`/`Channel2`, `Uniqueid1`/`Uniqueid2`, `CallerID1`/`CallerID2`), and
//!   `Bridgestate: Unlink` when one leaves ([`BridgeLinks`] remembers the members from the
//!   `BridgeEnter` / `BridgeLeave` events, which are still sent). Bridges of three or more
//!   (conferences) had no such event and get none.
//! - The `Command` action is answered `Response: Follows`, `Privilege: Command`, then the
//!   output as raw lines and `--END COMMAND--` ([`Dialect::command_reply`]).
//!
//! Variables passed in Originate are set before the dialplan runs, so their `VarSet` comes
//! before any `AsyncAGI` `Start`, as such clients expect.

use std::collections::HashMap;

use serde::Deserialize;

use super::class::Class;

use super::event::AmiEvent;
use super::message::Message;

/// Which Asterisk's event names a connection gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Asterisk 12 and later (22 today).
    #[default]
    Asterisk22,
    /// Asterisk 1.8 and 11.
    Asterisk11,
}

impl Dialect {
    /// `event` as this dialect sends it.
    pub fn adapt(self, event: AmiEvent) -> AmiEvent {
        if self == Dialect::Asterisk22 {
            return event;
        }
        let name = event.message.get("Event").unwrap_or_default().to_owned();
        let message = match name.as_str() {
            "AsyncAGIStart" => renamed(&event.message, "AsyncAGI", ("SubEvent", "Start"), &[]),
            "AsyncAGIExec" => renamed(&event.message, "AsyncAGI", ("SubEvent", "Exec"), &[]),
            "AsyncAGIEnd" => renamed(&event.message, "AsyncAGI", ("SubEvent", "End"), &[]),
            "DialBegin" => renamed(&event.message, "Dial", ("SubEvent", "Begin"), DIAL_FIELDS),
            "DialEnd" => renamed(&event.message, "Dial", ("SubEvent", "End"), DIAL_FIELDS),
            "DTMFBegin" => dtmf(&event.message, true),
            "DTMFEnd" => dtmf(&event.message, false),
            _ => return event,
        };
        AmiEvent {
            class: event.class,
            message,
        }
    }
}

impl Dialect {
    /// The answer to the `Command` action: `Message: Command output follows` and `Output`
    /// lines (Asterisk 22), or `Response: Follows` with the raw output (Asterisk 11).
    pub fn command_reply(
        self,
        success: bool,
        action_id: Option<&str>,
        lines: Vec<String>,
    ) -> Message {
        match self {
            Dialect::Asterisk22 => {
                let status = if success { "Success" } else { "Error" };
                let reply =
                    Message::response(status, action_id).with("Message", "Command output follows");
                lines
                    .into_iter()
                    .fold(reply, |reply, line| reply.with("Output", line))
            }
            Dialect::Asterisk11 => Message::response("Follows", action_id)
                .with("Privilege", "Command")
                .with_follows(lines),
        }
    }

    /// The `Event: Bridge` (Link or Unlink) that `event` makes in this dialect, given what
    /// `links` saw before; `None` in Asterisk 22 and for every other event.
    pub fn bridge_link(self, event: &AmiEvent, links: &mut BridgeLinks) -> Option<AmiEvent> {
        if self == Dialect::Asterisk22 {
            return None;
        }
        let message = &event.message;
        let bridge = message.get("BridgeUniqueid")?.to_owned();
        let member = Member {
            channel: message.get("Channel")?.to_owned(),
            uniqueid: message.get("Uniqueid")?.to_owned(),
            callerid: message.get("CallerIDNum").unwrap_or_default().to_owned(),
        };
        match message.get("Event")? {
            "BridgeEnter" => {
                let members = links.bridges.entry(bridge).or_default();
                members.push(member);
                (members.len() == 2).then(|| link_event("Link", members))
            }
            "BridgeLeave" => {
                let members = links.bridges.get_mut(&bridge)?;
                let unlink = (members.len() == 2).then(|| link_event("Unlink", members));
                members.retain(|m| m.uniqueid != member.uniqueid);
                if members.is_empty() {
                    links.bridges.remove(&bridge);
                }
                unlink
            }
            _ => None,
        }
    }
}

/// The members of the bridges an `asterisk11` connection has seen channels enter, for its
/// `Bridge` events (one per connection, emptied as bridges empty).
#[derive(Debug, Default)]
pub struct BridgeLinks {
    bridges: HashMap<String, Vec<Member>>,
}

/// A bridged channel as Asterisk 11's `Bridge` event names it.
#[derive(Debug, Clone)]
struct Member {
    channel: String,
    uniqueid: String,
    callerid: String,
}

/// `Event: Bridge` with `Bridgestate: state` between the first two `members`.
fn link_event(state: &str, members: &[Member]) -> AmiEvent {
    let (one, two) = (&members[0], &members[1]);
    let message = Message::event("Bridge")
        .with("Privilege", Class::Call.privilege())
        .with("Bridgestate", state)
        .with("Bridgetype", "core")
        .with("Channel1", one.channel.clone())
        .with("Channel2", two.channel.clone())
        .with("Uniqueid1", one.uniqueid.clone())
        .with("Uniqueid2", two.uniqueid.clone())
        .with("CallerID1", one.callerid.clone())
        .with("CallerID2", two.callerid.clone());
    AmiEvent {
        class: Class::Call,
        message,
    }
}

/// Asterisk 12+ Dial field names and their Asterisk 11 names.
const DIAL_FIELDS: &[(&str, &str)] = &[
    ("DestChannel", "Destination"),
    ("Uniqueid", "UniqueID"),
    ("DestUniqueid", "DestUniqueID"),
    ("DialString", "Dialstring"),
];

/// `message` as event `name` with `sub` after `Privilege` and fields renamed by `names`.
fn renamed(
    message: &Message,
    name: &'static str,
    sub: (&'static str, &'static str),
    names: &[(&str, &'static str)],
) -> Message {
    let mut out = Message::event(name);
    for (header, value) in message.headers() {
        if header.eq_ignore_ascii_case("Event") {
            continue;
        }
        let new = names
            .iter()
            .find(|(from, _)| header.eq_ignore_ascii_case(from))
            .map(|(_, to)| std::borrow::Cow::Borrowed(*to))
            .unwrap_or_else(|| header.clone());
        out.push(new, value.clone());
        if header.eq_ignore_ascii_case("Privilege") {
            out.push(sub.0, sub.1);
        }
    }
    out
}

/// Asterisk 11's one `DTMF` event with `Begin` / `End` flags.
fn dtmf(message: &Message, begin: bool) -> Message {
    let yes_no = |b: bool| if b { "Yes" } else { "No" };
    let mut out = renamed(message, "DTMF", ("Begin", yes_no(begin)), &[]);
    out.push("End", yes_no(!begin));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: Message) -> AmiEvent {
        AmiEvent {
            class: Class::Agi,
            message,
        }
    }

    fn bridge_event(name: &str, bridge: &str, channel: &str, uniqueid: &str) -> AmiEvent {
        AmiEvent {
            class: Class::Call,
            message: Message::event(name)
                .with("Privilege", "call,all")
                .with("BridgeUniqueid", bridge)
                .with("Channel", channel)
                .with("Uniqueid", uniqueid)
                .with("CallerIDNum", uniqueid.replace('.', "")),
        }
    }

    #[test]
    fn two_channels_in_a_bridge_link_and_unlink_in_asterisk_11() {
        let mut links = BridgeLinks::default();
        let old = Dialect::Asterisk11;
        let enter_a = bridge_event("BridgeEnter", "b1", "PJSIP/6001-01", "1.1");
        let enter_b = bridge_event("BridgeEnter", "b1", "PJSIP/6002-02", "1.2");
        assert!(Dialect::Asterisk22
            .bridge_link(&enter_a, &mut links)
            .is_none());
        assert!(old.bridge_link(&enter_a, &mut links).is_none());
        let link = old.bridge_link(&enter_b, &mut links).unwrap().message;
        assert_eq!(link.get("Event"), Some("Bridge"));
        assert_eq!(link.get("Bridgestate"), Some("Link"));
        assert_eq!(link.get("Channel1"), Some("PJSIP/6001-01"));
        assert_eq!(link.get("Channel2"), Some("PJSIP/6002-02"));
        assert_eq!(link.get("Uniqueid2"), Some("1.2"));
        assert_eq!(link.get("CallerID1"), Some("11"));
        let third = bridge_event("BridgeEnter", "b1", "PJSIP/6003-03", "1.3");
        assert!(
            old.bridge_link(&third, &mut links).is_none(),
            "a conference"
        );
        let leave_third = bridge_event("BridgeLeave", "b1", "PJSIP/6003-03", "1.3");
        assert!(old.bridge_link(&leave_third, &mut links).is_none());
        let leave_a = bridge_event("BridgeLeave", "b1", "PJSIP/6001-01", "1.1");
        let unlink = old.bridge_link(&leave_a, &mut links).unwrap().message;
        assert_eq!(unlink.get("Bridgestate"), Some("Unlink"));
        let leave_b = bridge_event("BridgeLeave", "b1", "PJSIP/6002-02", "1.2");
        assert!(old.bridge_link(&leave_b, &mut links).is_none());
        assert!(links.bridges.is_empty(), "forgotten once empty");
        let unknown = bridge_event("BridgeLeave", "b9", "PJSIP/6009-09", "1.9");
        assert!(old.bridge_link(&unknown, &mut links).is_none());
    }

    #[test]
    fn command_output_follows_in_asterisk_11() {
        let lines = vec!["pbx 0.1.0".to_owned(), "second".to_owned()];
        let new = Dialect::Asterisk22.command_reply(true, Some("a1"), lines.clone());
        assert_eq!(new.get("Message"), Some("Command output follows"));
        assert_eq!(new.get_all("Output").count(), 2);
        let old = Dialect::Asterisk11.command_reply(true, Some("a1"), lines);
        assert_eq!(
            String::from_utf8(old.render()).unwrap(),
            "Response: Follows\r\nActionID: a1\r\nPrivilege: Command\r\n\
             pbx 0.1.0\nsecond\n--END COMMAND--\r\n\r\n"
        );
    }

    #[test]
    fn asyncagi_and_dial_get_their_asterisk_11_names() {
        let exec = Message::event("AsyncAGIExec")
            .with("Privilege", "agi,all")
            .with("Channel", "PJSIP/6001-00000001")
            .with("CommandID", "c1")
            .with("Result", "200%20result%3D0%0A");
        let old = Dialect::Asterisk11.adapt(event(exec.clone())).message;
        assert_eq!(old.get("Event"), Some("AsyncAGI"));
        assert_eq!(old.headers()[2], ("SubEvent".into(), "Exec".to_owned()));
        assert_eq!(old.get("CommandID"), Some("c1"));
        assert_eq!(Dialect::Asterisk22.adapt(event(exec.clone())).message, exec);

        let dial = Message::event("DialBegin")
            .with("Privilege", "call,all")
            .with("Uniqueid", "1.1")
            .with("DestChannel", "PJSIP/6002-00000002")
            .with("DestUniqueid", "1.2")
            .with("DialString", "6002");
        let old = Dialect::Asterisk11.adapt(event(dial)).message;
        assert_eq!(old.get("Event"), Some("Dial"));
        assert_eq!(old.get("SubEvent"), Some("Begin"));
        assert_eq!(old.get("Destination"), Some("PJSIP/6002-00000002"));
        assert_eq!(old.get("DestUniqueID"), Some("1.2"));
        assert_eq!(old.get("Dialstring"), Some("6002"));

        let end = Message::event("DTMFEnd")
            .with("Privilege", "dtmf,all")
            .with("Digit", "5");
        let old = Dialect::Asterisk11.adapt(event(end)).message;
        assert_eq!(
            (old.get("Event"), old.get("Begin"), old.get("End")),
            (Some("DTMF"), Some("No"), Some("Yes"))
        );
    }
}
