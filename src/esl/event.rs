//! One event as the event socket carries it (sans-IO): an ordered list of headers (the
//! first is always `Event-Name`) and an optional body, rendered as FreeSWITCH's
//! `switch_event_serialize` renders it (`text/event-plain`: `Name: url-encoded value` lines,
//! then `Content-Length` and the body, or a blank line) or as `switch_event_serialize_json`
//! does (`text/event-json`: one JSON object of strings, the body under `_body`).

use super::url;

/// How a client asked to receive events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventFormat {
    /// `text/event-plain`.
    #[default]
    Plain,
    /// `text/event-json`.
    Json,
}

impl EventFormat {
    /// The format named `word` (`plain`, `json`); `xml` is not offered.
    pub fn parse(word: &str) -> Option<EventFormat> {
        match word.to_ascii_lowercase().as_str() {
            "plain" => Some(EventFormat::Plain),
            "json" => Some(EventFormat::Json),
            _ => None,
        }
    }

    /// The name used in `Content-Type: text/event-NAME` and in replies.
    pub fn as_str(self) -> &'static str {
        match self {
            EventFormat::Plain => "plain",
            EventFormat::Json => "json",
        }
    }
}

/// An event: headers in order, and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EslEvent {
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl EslEvent {
    /// An event named `name` (its `Event-Name` header) and nothing else yet.
    pub fn new(name: &str) -> EslEvent {
        EslEvent {
            headers: vec![("Event-Name".to_owned(), name.to_owned())],
            body: None,
        }
    }

    /// The event's name.
    pub fn name(&self) -> &str {
        &self.headers[0].1
    }

    /// Adds a header at the end.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.headers.push((name.to_owned(), value.into()));
    }

    /// Sets a header: replaces the first of that name, or adds it at the end.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        match self.headers.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value.into(),
            None => self.push(name, value),
        }
    }

    /// Adds every header of `other` (but its `Event-Name`) at the end.
    pub fn extend(&mut self, other: &[(String, String)]) {
        self.headers.extend(other.iter().cloned());
    }

    /// The first header named `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header, in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// Sets the body.
    pub fn set_body(&mut self, body: impl Into<String>) {
        self.body = Some(body.into());
    }

    /// `text/event-plain`'s body.
    pub fn render_plain(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.headers {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(&url::encode(value));
            out.push('\n');
        }
        match self.body.as_deref().filter(|b| !b.is_empty()) {
            Some(body) => out.push_str(&format!("Content-Length: {}\n\n{body}", body.len())),
            None => out.push('\n'),
        }
        out
    }

    /// `text/event-json`'s body.
    pub fn render_json(&self) -> String {
        let mut object = serde_json::Map::new();
        for (name, value) in &self.headers {
            object
                .entry(name.clone())
                .or_insert_with(|| serde_json::Value::String(value.clone()));
        }
        if let Some(body) = self.body.as_deref().filter(|b| !b.is_empty()) {
            object.insert(
                "Content-Length".into(),
                serde_json::Value::String(body.len().to_string()),
            );
            object.insert("_body".into(), serde_json::Value::String(body.to_owned()));
        }
        serde_json::Value::Object(object).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EslEvent {
        let mut e = EslEvent::new("CHANNEL_EXECUTE_COMPLETE");
        e.push("Application", "playback");
        e.push("Application-Data", "say:'Hello there'");
        e
    }

    #[test]
    fn plain_encodes_values_and_ends_with_a_blank_line() {
        assert_eq!(
            sample().render_plain(),
            "Event-Name: CHANNEL_EXECUTE_COMPLETE\nApplication: playback\n\
             Application-Data: say%3A'Hello%20there'\n\n"
        );
        let mut with_body = EslEvent::new("BACKGROUND_JOB");
        with_body.push("Job-UUID", "j1");
        with_body.set_body("+OK done\n");
        assert!(with_body
            .render_plain()
            .ends_with("Job-UUID: j1\nContent-Length: 9\n\n+OK done\n"));
    }

    #[test]
    fn json_keeps_values_as_they_are_and_the_body_under_body() {
        let mut e = sample();
        e.set("Application", "speak");
        e.set_body("x");
        let json: serde_json::Value = serde_json::from_str(&e.render_json()).unwrap();
        assert_eq!(json["Event-Name"], "CHANNEL_EXECUTE_COMPLETE");
        assert_eq!(json["Application"], "speak");
        assert_eq!(json["Application-Data"], "say:'Hello there'");
        assert_eq!(json["_body"], "x");
        assert_eq!(e.name(), "CHANNEL_EXECUTE_COMPLETE");
        assert_eq!(e.header("application-data"), Some("say:'Hello there'"));
    }

    #[test]
    fn formats_are_named_plain_and_json() {
        assert_eq!(EventFormat::parse("JSON"), Some(EventFormat::Json));
        assert_eq!(
            EventFormat::parse("plain").map(EventFormat::as_str),
            Some("plain")
        );
        assert_eq!(EventFormat::parse("xml"), None);
    }
}
