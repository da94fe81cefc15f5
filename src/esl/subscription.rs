//! Which events a session gets (sans-IO): the names it asked for with `event` (or `ALL`,
//! or `CUSTOM` and subclasses), less those `nixevent` removed; with `myevents`, only those
//! of one channel; and, when the client set `filter`s, only events that match one of them
//! (a header with that exact value), as `mod_event_socket.c` filters.

use std::collections::BTreeSet;

use super::event::{EslEvent, EventFormat};

/// One session's event wishes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscription {
    format: EventFormat,
    all: bool,
    names: BTreeSet<String>,
    subclasses: BTreeSet<String>,
    channel: Option<String>,
    filters: Vec<(String, String)>,
}

impl Subscription {
    /// The format events are rendered in.
    pub fn format(&self) -> EventFormat {
        self.format
    }

    /// Whether any event is wanted at all.
    pub fn active(&self) -> bool {
        self.all || !self.names.is_empty() || !self.subclasses.is_empty()
    }

    /// `event FORMAT NAMES...`: adds the names (`ALL`, `CUSTOM a b`).
    pub fn add(&mut self, format: EventFormat, names: &[String]) {
        self.format = format;
        let mut custom = false;
        for name in names {
            let upper = name.to_ascii_uppercase();
            match upper.as_str() {
                "ALL" => self.all = true,
                "CUSTOM" => custom = true,
                _ if custom => {
                    self.subclasses.insert(name.clone());
                }
                _ => {
                    self.names.insert(upper);
                }
            }
        }
    }

    /// `nixevent NAMES...`.
    pub fn remove(&mut self, names: &[String]) {
        for name in names {
            let upper = name.to_ascii_uppercase();
            if upper == "ALL" {
                self.all = false;
                self.names.clear();
                self.subclasses.clear();
            } else {
                self.names.remove(&upper);
                self.subclasses.remove(name);
            }
        }
    }

    /// `noevents`.
    pub fn clear(&mut self) {
        let channel = self.channel.take();
        *self = Subscription::default();
        self.channel = channel;
    }

    /// `myevents`: every event of channel `uuid`.
    pub fn my_events(&mut self, format: EventFormat, uuid: &str) {
        self.format = format;
        self.all = true;
        self.channel = Some(uuid.to_owned());
    }

    /// `filter HEADER VALUE`.
    pub fn add_filter(&mut self, header: &str, value: &str) {
        self.filters.push((header.to_owned(), value.to_owned()));
    }

    /// `filter delete HEADER [VALUE]`; `all` removes every filter. Whether one went.
    pub fn delete_filter(&mut self, header: &str, value: Option<&str>) -> bool {
        let before = self.filters.len();
        if header.eq_ignore_ascii_case("all") {
            self.filters.clear();
        } else {
            self.filters.retain(|(h, v)| {
                !(h.eq_ignore_ascii_case(header) && value.is_none_or(|value| v == value))
            });
        }
        self.filters.len() != before
    }

    /// Whether `event` goes to the client.
    pub fn wants(&self, event: &EslEvent) -> bool {
        let named = match event.name() {
            "CUSTOM" => {
                self.all
                    || event
                        .header("Event-Subclass")
                        .is_some_and(|s| self.subclasses.contains(s))
            }
            name => self.all || self.names.contains(name),
        };
        let own = match &self.channel {
            Some(uuid) => event.header("Unique-ID") == Some(uuid.as_str()),
            None => true,
        };
        let filtered = self.filters.is_empty()
            || self
                .filters
                .iter()
                .any(|(h, v)| event.header(h) == Some(v.as_str()));
        named && own && filtered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, uuid: &str) -> EslEvent {
        let mut e = EslEvent::new(name);
        e.push("Unique-ID", uuid);
        e
    }

    #[test]
    fn names_all_custom_and_nixevent() {
        let mut s = Subscription::default();
        assert!(!s.wants(&event("DTMF", "a")));
        s.add(
            EventFormat::Json,
            &["DTMF".into(), "CUSTOM".into(), "sofia::register".into()],
        );
        assert_eq!(s.format(), EventFormat::Json);
        assert!(s.wants(&event("DTMF", "a")));
        assert!(!s.wants(&event("CHANNEL_ANSWER", "a")));
        let mut custom = EslEvent::new("CUSTOM");
        custom.push("Event-Subclass", "sofia::register");
        assert!(s.wants(&custom));
        s.remove(&["DTMF".into()]);
        assert!(!s.wants(&event("DTMF", "a")));
        s.add(EventFormat::Plain, &["all".into()]);
        assert!(s.wants(&event("HEARTBEAT", "")));
        s.clear();
        assert!(!s.active());
    }

    #[test]
    fn myevents_keeps_one_channel_and_filters_narrow() {
        let mut s = Subscription::default();
        s.my_events(EventFormat::Plain, "1.1");
        assert!(s.wants(&event("CHANNEL_ANSWER", "1.1")));
        assert!(!s.wants(&event("CHANNEL_ANSWER", "1.2")));
        s.add_filter("Event-Name", "DTMF");
        assert!(!s.wants(&event("CHANNEL_ANSWER", "1.1")));
        assert!(s.wants(&event("DTMF", "1.1")));
        assert!(s.delete_filter("event-name", None));
        assert!(!s.delete_filter("event-name", None));
        assert!(s.wants(&event("CHANNEL_ANSWER", "1.1")));
    }
}
