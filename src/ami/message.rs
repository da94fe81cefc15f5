//! AMI wire messages (sans-IO): the `Key: Value` lines of the Asterisk Manager Interface.
//!
//! A message is a list of header lines, each `Name: Value` ended by CRLF, and the message
//! ends with an empty line. Clients are not always strict, so the [`Decoder`] also accepts a
//! bare LF, skips empty lines between messages, ignores lines without a colon and strips the
//! whitespace around values. Header names are compared without regard to case, and a name
//! may repeat (`Variable: A=1`, `Variable: B=2`): every occurrence is kept, in order.
//!
//! The decoder takes bytes as they arrive ([`Decoder::handle_bytes`]) and hands out whole
//! messages ([`Decoder::poll_message`]); it owns no socket. A line longer than [`MAX_LINE`]
//! or a message with more than [`MAX_HEADERS`] headers is not kept: the message is reported
//! as a [`DecodeError`] once its blank line arrives, and decoding goes on with the next one.
//! Nothing a client sends can make it panic or grow without bound.
//!
//! [`Message::render_into`] writes the CRLF form. Values are single lines on the wire, so a
//! CR or LF inside a value (a channel variable can hold anything) is written as a space
//! rather than letting it forge headers.

use std::borrow::Cow;

/// The longest header line kept, in bytes, without its line ending.
pub const MAX_LINE: usize = 4096;
/// The most headers one message may carry (Asterisk's own limit is 128 as well).
pub const MAX_HEADERS: usize = 128;

/// Why a message was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A header line was longer than [`MAX_LINE`].
    #[error("a header line is longer than {MAX_LINE} bytes")]
    LineTooLong,
    /// The message had more than [`MAX_HEADERS`] headers.
    #[error("a message has more than {MAX_HEADERS} headers")]
    TooManyHeaders,
}

/// One header: its name as written and its value.
pub type Header = (Cow<'static, str>, String);

/// An AMI message: an action from a client, or a response or event to one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    headers: Vec<Header>,
    /// The raw output lines of an Asterisk 11 `Response: Follows`, written after the
    /// headers and ended by `--END COMMAND--`.
    follows: Option<Vec<String>>,
}

impl Message {
    /// A message without headers.
    pub fn new() -> Message {
        Message::default()
    }

    /// A response: `Response: <status>` then `ActionID` when the action carried one.
    pub fn response(status: &str, action_id: Option<&str>) -> Message {
        Message::new()
            .with("Response", status)
            .with_action_id(action_id)
    }

    /// An event: `Event: <name>`.
    pub fn event(name: &str) -> Message {
        Message::new().with("Event", name)
    }

    /// Appends a header.
    pub fn push(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.headers.push((name.into(), value.into()));
    }

    /// Appends a header, builder style.
    pub fn with(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.push(name, value);
        self
    }

    /// Makes this a `Response: Follows` carrying `lines` of raw output (Asterisk 11's
    /// `Command` answer).
    pub fn with_follows(mut self, lines: Vec<String>) -> Self {
        self.follows = Some(lines);
        self
    }

    /// Appends `ActionID` when there is one.
    pub fn with_action_id(self, action_id: Option<&str>) -> Self {
        match action_id {
            Some(id) => self.with("ActionID", id),
            None => self,
        }
    }

    /// The first value of header `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (any case), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All headers, in order.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Whether the message has no header.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Writes the message in its wire form (CRLF lines, then an empty line) to `out`.
    pub fn render_into(&self, out: &mut Vec<u8>) {
        for (name, value) in &self.headers {
            put_single_line(out, name);
            out.extend_from_slice(b": ");
            put_single_line(out, value);
            out.extend_from_slice(b"\r\n");
        }
        if let Some(lines) = &self.follows {
            for line in lines {
                put_single_line(out, line);
                out.push(b'\n');
            }
            out.extend_from_slice(b"--END COMMAND--\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }

    /// The wire form.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 * self.headers.len() + 2);
        self.render_into(&mut out);
        out
    }
}

fn put_single_line(out: &mut Vec<u8>, text: &str) {
    out.extend(
        text.bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
}

/// Splits a byte stream from a client into messages.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Bytes of the line not yet ended.
    line: Vec<u8>,
    /// Headers of the message being read.
    current: Vec<Header>,
    /// The current line was too long: drop bytes until its end.
    skipping_line: bool,
    /// What is wrong with the message being read, reported at its end.
    error: Option<DecodeError>,
    /// Whole messages (or errors) waiting to be polled.
    ready: std::collections::VecDeque<Result<Message, DecodeError>>,
}

impl Decoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Feeds bytes received from the client.
    pub fn handle_bytes(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let (chunk, ended) = match data.iter().position(|&b| b == b'\n') {
                Some(at) => (&data[..at], Some(at + 1)),
                None => (data, None),
            };
            if !self.skipping_line {
                if self.line.len() + chunk.len() > MAX_LINE + 1 {
                    self.line.clear();
                    self.skipping_line = true;
                    self.error.get_or_insert(DecodeError::LineTooLong);
                } else {
                    self.line.extend_from_slice(chunk);
                }
            }
            match ended {
                Some(next) => {
                    if !self.skipping_line {
                        self.end_line();
                    }
                    self.line.clear();
                    self.skipping_line = false;
                    data = &data[next..];
                }
                None => break,
            }
        }
    }

    /// The next whole message, or why one was refused; `None` until more bytes arrive.
    pub fn poll_message(&mut self) -> Option<Result<Message, DecodeError>> {
        self.ready.pop_front()
    }

    fn end_line(&mut self) {
        let mut line = self.line.as_slice();
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if line.len() > MAX_LINE {
            self.error.get_or_insert(DecodeError::LineTooLong);
            return;
        }
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            self.end_message();
            return;
        }
        let text = String::from_utf8_lossy(line);
        let Some((name, value)) = text.split_once(':') else {
            return;
        };
        if self.current.len() >= MAX_HEADERS {
            self.error.get_or_insert(DecodeError::TooManyHeaders);
            return;
        }
        self.current.push((
            Cow::Owned(name.trim().to_string()),
            value.trim().to_string(),
        ));
    }

    fn end_message(&mut self) {
        let headers = std::mem::take(&mut self.current);
        match self.error.take() {
            Some(error) => self.ready.push_back(Err(error)),
            None if headers.is_empty() => {}
            None => self.ready.push_back(Ok(Message {
                headers,
                follows: None,
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<Result<Message, DecodeError>> {
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.handle_bytes(chunk);
            while let Some(m) = decoder.poll_message() {
                out.push(m);
            }
        }
        out
    }

    #[test]
    fn a_crlf_action_ending_in_a_blank_line_is_one_message() {
        let got = decode_all(&[b"Action: Login\r\nUsername: admin\r\nSecret: s3cret\r\n\r\n"]);
        assert_eq!(got.len(), 1);
        let m = got[0].as_ref().unwrap();
        assert_eq!(m.get("Action"), Some("Login"));
        assert_eq!(m.get("username"), Some("admin"));
        assert_eq!(m.get("SECRET"), Some("s3cret"));
        assert_eq!(m.get("Events"), None);
    }

    #[test]
    fn bare_lf_and_split_reads_are_tolerated() {
        let got = decode_all(&[
            b"Action: Pi",
            b"ng\nActionID: 4",
            b"2\n",
            b"\nAction: Logoff\r\n\r\n",
        ]);
        let names: Vec<_> = got
            .iter()
            .map(|m| m.as_ref().unwrap().get("action").unwrap().to_string())
            .collect();
        assert_eq!(names, ["Ping", "Logoff"]);
        assert_eq!(got[0].as_ref().unwrap().get("ActionID"), Some("42"));
    }

    #[test]
    fn repeated_headers_are_kept_in_order() {
        let got = decode_all(&[
            b"Action: Originate\r\nVariable: A=1\r\nvariable: B=2\r\nVARIABLE: C=x: y\r\n\r\n",
        ]);
        let m = got[0].as_ref().unwrap();
        let vars: Vec<_> = m.get_all("Variable").collect();
        assert_eq!(vars, ["A=1", "B=2", "C=x: y"]);
    }

    #[test]
    fn blank_lines_between_messages_and_lines_without_colon_are_ignored() {
        let got = decode_all(&[b"\r\n\r\n\r\ngarbage\r\nAction: Ping\r\n  \r\n"]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].as_ref().unwrap().headers().len(), 1);
    }

    #[test]
    fn values_are_trimmed_and_may_be_empty() {
        let got = decode_all(&[b"Action:Ping\r\nActionID:   \r\nX:  a b  \r\n\r\n"]);
        let m = got[0].as_ref().unwrap();
        assert_eq!(m.get("Action"), Some("Ping"));
        assert_eq!(m.get("ActionID"), Some(""));
        assert_eq!(m.get("X"), Some("a b"));
    }

    #[test]
    fn an_overlong_line_refuses_its_message_and_decoding_goes_on() {
        let long = vec![b'a'; MAX_LINE * 3];
        let got = decode_all(&[
            b"Action: Ping\r\nX: ",
            &long,
            &long,
            b"\r\n\r\nAction: Ping\r\n\r\n",
        ]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], Err(DecodeError::LineTooLong));
        assert_eq!(got[1].as_ref().unwrap().get("Action"), Some("Ping"));
    }

    #[test]
    fn too_many_headers_refuse_the_message() {
        let mut text = String::from("Action: Ping\r\n");
        for i in 0..MAX_HEADERS {
            text.push_str(&format!("Variable: v{i}=1\r\n"));
        }
        text.push_str("\r\nAction: Ping\r\n\r\n");
        let got = decode_all(&[text.as_bytes()]);
        assert_eq!(got[0], Err(DecodeError::TooManyHeaders));
        assert!(got[1].is_ok());
    }

    #[test]
    fn invalid_utf8_does_not_panic() {
        let got = decode_all(&[b"Action: \xff\xfe\r\n\r\n"]);
        assert!(got[0].as_ref().unwrap().get("Action").is_some());
    }

    #[test]
    fn responses_render_as_crlf_lines_and_a_blank_line() {
        let m = Message::response("Success", Some("abc"))
            .with("Ping", "Pong")
            .with("Timestamp", "1.000000");
        assert_eq!(
            m.render(),
            b"Response: Success\r\nActionID: abc\r\nPing: Pong\r\nTimestamp: 1.000000\r\n\r\n"
        );
        assert_eq!(
            Message::response("Error", None)
                .with("Message", "x")
                .render(),
            b"Response: Error\r\nMessage: x\r\n\r\n"
        );
    }

    #[test]
    fn line_breaks_in_values_cannot_forge_headers() {
        let m = Message::event("VarSet").with("Value", "a\r\nEvent: Fake\r\n");
        assert_eq!(
            m.render(),
            b"Event: VarSet\r\nValue: a  Event: Fake  \r\n\r\n"
        );
    }

    #[test]
    fn rendered_messages_decode_back_to_themselves() {
        let m = Message::event("Newchannel")
            .with("Channel", "PJSIP/6001-00000001")
            .with("Variable", "A=1")
            .with("Variable", "B=2");
        let got = decode_all(&[&m.render()]);
        assert_eq!(got, vec![Ok(m)]);
    }
}
