//! Writing SIP messages (RFC 3261 §7, §8.2.6, §18): requests line by line, and responses that
//! copy what §8.2.6.2 and §12.1.1 require from their request, with RFC 3581 received/rport.

use std::fmt::Write as _;
use std::net::SocketAddr;

use bytes::Bytes;

use super::header::{NameAddr, Via};
use super::message::{HeaderName, SipMessage};
use super::method::Method;

/// Builds the text of a SIP message header by header; the body and Content-Length come last.
#[derive(Debug)]
pub struct MessageWriter {
    text: String,
}

impl MessageWriter {
    /// Starts a request with its request line.
    pub fn request(method: Method, uri: &str) -> MessageWriter {
        let mut text = String::with_capacity(512);
        let _ = write!(text, "{method} {uri} SIP/2.0\r\n");
        MessageWriter { text }
    }

    /// Starts a response to `request`, copying Via (with RFC 3581 received/rport filled from
    /// `source`), From, To (adding `to_tag` unless one is present), Call-ID and CSeq as
    /// RFC 3261 §8.2.6.2 requires, and Record-Route in 1xx/2xx (§12.1.1).
    pub fn response(
        request: &SipMessage,
        status: u16,
        reason: &str,
        to_tag: Option<&str>,
        source: SocketAddr,
    ) -> MessageWriter {
        let mut text = String::with_capacity(512);
        let _ = write!(text, "SIP/2.0 {status} {reason}\r\n");
        for (index, via) in request.header_values(HeaderName::Via).enumerate() {
            text.push_str("Via: ");
            if index == 0 {
                write_top_via(&mut text, via, source);
            } else {
                text.push_str(via);
            }
            text.push_str("\r\n");
        }
        if let Some(from) = request.header(HeaderName::From) {
            let _ = write!(text, "From: {from}\r\n");
        }
        if let Some(to) = request.header(HeaderName::To) {
            let has_tag = NameAddr::parse(to).ok().and_then(|t| t.tag()).is_some();
            match to_tag {
                Some(tag) if !has_tag && status > 100 => {
                    let _ = write!(text, "To: {to};tag={tag}\r\n");
                }
                _ => {
                    let _ = write!(text, "To: {to}\r\n");
                }
            }
        }
        if let Some(call_id) = request.call_id() {
            let _ = write!(text, "Call-ID: {call_id}\r\n");
        }
        if let Some(cseq) = request.header(HeaderName::CSeq) {
            let _ = write!(text, "CSeq: {cseq}\r\n");
        }
        // §12.1.1: a response that may create a dialog copies the Record-Route set, so the
        // peer's in-dialog requests (ACK, BYE) traverse the proxies that asked for it.
        if (101..300).contains(&status) {
            for route in request.header_values(HeaderName::RecordRoute) {
                let _ = write!(text, "Record-Route: {route}\r\n");
            }
        }
        MessageWriter { text }
    }

    /// Appends one header line.
    pub fn header(mut self, name: &str, value: impl std::fmt::Display) -> MessageWriter {
        let _ = write!(self.text, "{name}: {value}\r\n");
        self
    }

    /// Finishes with no body.
    pub fn finish(self) -> Bytes {
        self.finish_with_body(None, &[])
    }

    /// Finishes with a body of the given Content-Type (`None` with an empty body).
    pub fn finish_with_body(mut self, content_type: Option<&str>, body: &[u8]) -> Bytes {
        if let Some(content_type) = content_type {
            let _ = write!(self.text, "Content-Type: {content_type}\r\n");
        }
        let _ = write!(self.text, "Content-Length: {}\r\n\r\n", body.len());
        let mut bytes = self.text.into_bytes();
        bytes.extend_from_slice(body);
        Bytes::from(bytes)
    }
}

fn write_top_via(text: &mut String, via: &str, source: SocketAddr) {
    let Ok(parsed) = Via::parse(via) else {
        text.push_str(via);
        return;
    };
    let head_len = via.len() - parsed.params().len();
    text.push_str(via[..head_len].trim_end());
    let source_ip = source.ip().to_string();
    let host = parsed.host.trim_start_matches('[').trim_end_matches(']');
    let wants_rport = parsed.rport().is_some();
    for (name, value) in super::header::params(parsed.params()) {
        if name.eq_ignore_ascii_case("received") || name.eq_ignore_ascii_case("rport") {
            continue;
        }
        match value {
            Some(v) => {
                let _ = write!(text, ";{name}={v}");
            }
            None => {
                let _ = write!(text, ";{name}");
            }
        }
    }
    if host != source_ip || wants_rport {
        let _ = write!(text, ";received={source_ip}");
    }
    if wants_rport {
        let _ = write!(text, ";rport={}", source.port());
    }
}
