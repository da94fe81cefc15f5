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
//!
//! Asterisk 11's `Bridge`, `Link` and `Unlink` events, and `Response: Follows` for Command,
//! are not produced. Variables passed in Originate are set before the dialplan runs, so their
//! `VarSet` comes before any `AsyncAGI` `Start`, as such clients expect.

use serde::Deserialize;

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
    use crate::ami::class::Class;

    fn event(message: Message) -> AmiEvent {
        AmiEvent {
            class: Class::Agi,
            message,
        }
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
