//! SIP message parsing and building (RFC 3261 §7, §18.3, §20).
//!
//! A parsed [`SipMessage`] keeps the datagram and byte ranges of its parts, so reading a header
//! does not copy. Header names are normalised once (case, compact forms of §7.3.3); typed views
//! of values live in [`super::header`]. Structural problems that still leave a usable Via are
//! reported by [`SipMessage::defect`], so the edge can answer `400` with a precise reason phrase
//! instead of dropping the request.

use std::ops::Range;

use bytes::Bytes;

pub use super::writer::MessageWriter;

use super::header::{split_list, CSeq, NameAddr, Via};
use super::method::Method;

/// Header names the PBX reads, normalised from full and compact forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderName {
    /// Via / v
    Via,
    /// From / f
    From,
    /// To / t
    To,
    /// Call-ID / i
    CallId,
    /// CSeq
    CSeq,
    /// Contact / m
    Contact,
    /// Expires
    Expires,
    /// Max-Forwards
    MaxForwards,
    /// Content-Length / l
    ContentLength,
    /// Content-Type / c
    ContentType,
    /// Authorization
    Authorization,
    /// Proxy-Authorization
    ProxyAuthorization,
    /// User-Agent
    UserAgent,
    /// Route
    Route,
    /// Record-Route
    RecordRoute,
    /// Supported / k
    Supported,
    /// Require
    Require,
    /// WWW-Authenticate
    WwwAuthenticate,
    /// Proxy-Authenticate
    ProxyAuthenticate,
    /// Refer-To / r (RFC 3515 §2.1)
    ReferTo,
    /// Proxy-Require
    ProxyRequire,
    /// Content-Encoding / e
    ContentEncoding,
    /// P-Asserted-Identity (RFC 3325 §9.1)
    PAssertedIdentity,
    /// Path (RFC 3327 §4)
    Path,
    /// Any other header; look it up by name.
    Other,
}

impl HeaderName {
    fn classify(name: &str) -> HeaderName {
        const TABLE: [(&str, Option<&str>, HeaderName); 24] = [
            ("Via", Some("v"), HeaderName::Via),
            ("From", Some("f"), HeaderName::From),
            ("To", Some("t"), HeaderName::To),
            ("Call-ID", Some("i"), HeaderName::CallId),
            ("CSeq", None, HeaderName::CSeq),
            ("Contact", Some("m"), HeaderName::Contact),
            ("Expires", None, HeaderName::Expires),
            ("Max-Forwards", None, HeaderName::MaxForwards),
            ("Content-Length", Some("l"), HeaderName::ContentLength),
            ("Content-Type", Some("c"), HeaderName::ContentType),
            ("Authorization", None, HeaderName::Authorization),
            ("Proxy-Authorization", None, HeaderName::ProxyAuthorization),
            ("User-Agent", None, HeaderName::UserAgent),
            ("Route", None, HeaderName::Route),
            ("Record-Route", None, HeaderName::RecordRoute),
            ("Supported", Some("k"), HeaderName::Supported),
            ("Require", None, HeaderName::Require),
            ("WWW-Authenticate", None, HeaderName::WwwAuthenticate),
            ("Proxy-Authenticate", None, HeaderName::ProxyAuthenticate),
            ("Refer-To", Some("r"), HeaderName::ReferTo),
            ("Proxy-Require", None, HeaderName::ProxyRequire),
            ("Content-Encoding", Some("e"), HeaderName::ContentEncoding),
            ("P-Asserted-Identity", None, HeaderName::PAssertedIdentity),
            ("Path", None, HeaderName::Path),
        ];
        TABLE
            .iter()
            .find(|(full, compact, _)| {
                full.eq_ignore_ascii_case(name)
                    || compact.is_some_and(|c| c.eq_ignore_ascii_case(name))
            })
            .map_or(HeaderName::Other, |(_, _, h)| *h)
    }
}

/// Why a datagram is not a usable SIP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The datagram is empty or only whitespace (keep-alive CRLFs, RFC 5626 §3.5.1).
    #[error("empty datagram")]
    Empty,
    /// The header section is not valid UTF-8.
    #[error("header section is not UTF-8")]
    NotUtf8,
    /// No blank line ends the header section.
    #[error("no end of headers")]
    Unterminated,
    /// The first line is neither a request line nor a status line.
    #[error("bad start line")]
    StartLine,
    /// A response's SIP version is not SIP/2.0 (requests of other versions parse and are
    /// answered 505).
    #[error("unsupported SIP version")]
    Version,
    /// The request line has whitespace other than one SP between its elements (§7.1).
    #[error("malformed Request-Line")]
    RequestLine,
    /// A header line has no colon.
    #[error("malformed header line {0}")]
    HeaderLine(usize),
    /// A mandatory header is missing.
    #[error("missing {0} header")]
    Missing(&'static str),
    /// A header value does not parse.
    #[error("malformed {0} header")]
    Malformed(&'static str),
    /// Content-Length promises more bytes than the datagram carries (§18.3).
    #[error("Content-Length exceeds body")]
    BodyTruncated,
}

#[derive(Debug, Clone)]
enum StartLine {
    Request {
        method: Method,
        uri: Range<usize>,
        /// Whether the request line says SIP/2.0; other versions are answered 505 (§21.5.6).
        sip2: bool,
    },
    Response {
        status: u16,
        reason: Range<usize>,
    },
}

#[derive(Debug, Clone)]
struct HeaderField {
    name: HeaderName,
    raw_name: Range<usize>,
    value: Range<usize>,
}

/// A parsed SIP request or response, borrowing nothing: it owns the datagram.
#[derive(Debug, Clone)]
pub struct SipMessage {
    raw: Bytes,
    start: StartLine,
    start_line: Range<usize>,
    headers: Vec<HeaderField>,
    body: Range<usize>,
    defect: Option<ParseError>,
}

impl SipMessage {
    /// Parses a datagram. Hard errors mean nothing can be answered; softer problems are kept in
    /// [`SipMessage::defect`].
    pub fn parse(raw: Bytes) -> Result<SipMessage, ParseError> {
        let data: &[u8] = &raw;
        let leading = data.iter().take_while(|b| b.is_ascii_whitespace()).count();
        if leading == data.len() {
            return Err(ParseError::Empty);
        }
        let (head_end, body_start) = find_head_end(data).ok_or(ParseError::Unterminated)?;
        let head = std::str::from_utf8(&data[..head_end]).map_err(|_| ParseError::NotUtf8)?;
        let mut lines = LineIter::new(head, leading);
        let (first, first_range) = lines.next().ok_or(ParseError::StartLine)?;
        let start = parse_start_line(first, first_range.start)?;
        let mut headers = Vec::with_capacity(16);
        let mut defect = match start {
            StartLine::Request { .. } if !exact_request_line(first) => {
                Some(ParseError::RequestLine)
            }
            _ => None,
        };
        for (index, (line, range)) in lines.enumerate() {
            let Some(colon) = line.find(':') else {
                defect.get_or_insert(ParseError::HeaderLine(index + 2));
                continue;
            };
            // `field-name HCOLON`: a token, then optional whitespace before the colon.
            let name = line[..colon].trim_end();
            if !super::header::is_token(name) {
                defect.get_or_insert(ParseError::HeaderLine(index + 2));
                continue;
            }
            let value = &line[colon + 1..];
            let value_start = range.start + colon + 1 + (value.len() - value.trim_start().len());
            let value_end = range.start + colon + 1 + value.trim_end().len();
            headers.push(HeaderField {
                name: HeaderName::classify(name),
                raw_name: range.start..range.start + name.len(),
                value: value_start..value_end.max(value_start),
            });
        }
        let mut msg = SipMessage {
            body: body_start..data.len(),
            raw: raw.clone(),
            start,
            start_line: first_range,
            headers,
            defect,
        };
        match msg
            .header(HeaderName::ContentLength)
            .map(str::parse::<usize>)
        {
            Some(Ok(len)) if len > msg.body.len() => {
                msg.defect.get_or_insert(ParseError::BodyTruncated);
            }
            Some(Ok(len)) => msg.body.end = msg.body.start + len,
            Some(Err(_)) => {
                msg.defect
                    .get_or_insert(ParseError::Malformed("Content-Length"));
            }
            None => {}
        }
        if msg.defect.is_none() {
            msg.defect = msg.check_mandatory().err();
        }
        Ok(msg)
    }

    fn check_mandatory(&self) -> Result<(), ParseError> {
        self.top_via()?;
        let call_id = self
            .header(HeaderName::CallId)
            .ok_or(ParseError::Missing("Call-ID"))?;
        if call_id.is_empty() {
            return Err(ParseError::Malformed("Call-ID"));
        }
        for (name, label) in [(HeaderName::From, "From"), (HeaderName::To, "To")] {
            let value = self.header(name).ok_or(ParseError::Missing(label))?;
            NameAddr::parse(value).map_err(|_| ParseError::Malformed(label))?;
        }
        self.cseq()?;
        Ok(())
    }

    /// The first problem found that makes the message unusable although it could be answered.
    pub fn defect(&self) -> Option<&ParseError> {
        self.defect.as_ref()
    }

    /// The whole datagram.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    fn text(&self, range: &Range<usize>) -> &str {
        // The header section was validated as UTF-8 and ranges fall on char boundaries.
        std::str::from_utf8(&self.raw[range.clone()]).unwrap_or_default()
    }

    /// The request method, `None` for a response.
    pub fn method(&self) -> Option<Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(*method),
            StartLine::Response { .. } => None,
        }
    }

    /// The request method token as written (useful for `Unknown` methods).
    pub fn method_token(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => {
                let line_start = self.raw[..uri.start]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                self.text(&(line_start..uri.start))
                    .split_whitespace()
                    .next()
            }
            StartLine::Response { .. } => None,
        }
    }

    /// Whether a request's line names SIP version 2.0 (always true for a response, whose other
    /// versions do not parse). Requests of other versions get 505 (RFC 3261 §21.5.6).
    pub fn is_sip2(&self) -> bool {
        match &self.start {
            StartLine::Request { sip2, .. } => *sip2,
            StartLine::Response { .. } => true,
        }
    }

    /// The Request-URI, `None` for a response.
    pub fn request_uri(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(self.text(uri)),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code, `None` for a request.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { status, .. } => Some(*status),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase of a response.
    pub fn reason(&self) -> Option<&str> {
        match &self.start {
            StartLine::Response { reason, .. } => Some(self.text(reason)),
            StartLine::Request { .. } => None,
        }
    }

    /// The first value of a header, as written (a comma list is not split).
    pub fn header(&self, name: HeaderName) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| self.text(&h.value))
    }

    /// Every occurrence of a header, unsplit: for headers whose values contain commas but are
    /// not lists (Authorization, WWW-Authenticate...).
    pub fn header_occurrences(&self, name: HeaderName) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(move |h| h.name == name)
            .map(|h| self.text(&h.value))
    }

    /// Every value of a header, comma lists split (for Via, Contact, Route...).
    pub fn header_values(&self, name: HeaderName) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(move |h| h.name == name)
            .flat_map(|h| split_list(self.text(&h.value)))
    }

    /// The first value of a header not in [`HeaderName`], looked up case-insensitively.
    pub fn other_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| {
                h.name == HeaderName::Other && self.text(&h.raw_name).eq_ignore_ascii_case(name)
            })
            .map(|h| self.text(&h.value))
    }

    /// The topmost Via.
    pub fn top_via(&self) -> Result<Via<'_>, ParseError> {
        let value = self
            .header_values(HeaderName::Via)
            .next()
            .ok_or(ParseError::Missing("Via"))?;
        Via::parse(value).map_err(|_| ParseError::Malformed("Via"))
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<&str> {
        self.header(HeaderName::CallId)
    }

    /// The CSeq.
    pub fn cseq(&self) -> Result<CSeq, ParseError> {
        let value = self
            .header(HeaderName::CSeq)
            .ok_or(ParseError::Missing("CSeq"))?;
        CSeq::parse(value).map_err(|_| ParseError::Malformed("CSeq"))
    }

    /// The From header.
    pub fn from_header(&self) -> Result<NameAddr<'_>, ParseError> {
        let value = self
            .header(HeaderName::From)
            .ok_or(ParseError::Missing("From"))?;
        NameAddr::parse(value).map_err(|_| ParseError::Malformed("From"))
    }

    /// The To header.
    pub fn to_header(&self) -> Result<NameAddr<'_>, ParseError> {
        let value = self
            .header(HeaderName::To)
            .ok_or(ParseError::Missing("To"))?;
        NameAddr::parse(value).map_err(|_| ParseError::Malformed("To"))
    }

    /// The Expires header as seconds, `Err` when present but not a number.
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        self.header(HeaderName::Expires)
            .map(|v| parse_delta_seconds(v).ok_or(ParseError::Malformed("Expires")))
            .transpose()
    }

    /// The message body (exactly Content-Length bytes when given).
    pub fn body(&self) -> &[u8] {
        &self.raw[self.body.clone()]
    }

    /// Every header line in order, as `(name as written, value)`; folded values keep their
    /// line breaks, which the typed views read as LWS (§7.3.1).
    pub fn header_fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .map(|h| (self.text(&h.raw_name), self.text(&h.value)))
    }

    /// The message written out again: its start line, one `Name: value` line per header, and
    /// exactly the body that Content-Length framed (octets after it are gone, §18.3).
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(self.raw.len());
        out.extend_from_slice(&self.raw[self.start_line.clone()]);
        out.extend_from_slice(b"\r\n");
        for (name, value) in self.header_fields() {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(self.body());
        Bytes::from(out)
    }
}

/// The RFC 3261 §21 reason phrase for the status codes the PBX sends.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "Version Not Supported",
        603 => "Decline",
        _ => match status / 100 {
            1 => "Progress",
            2 => "OK",
            3 => "Redirect",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}

/// Parses delta-seconds (§25.1), saturating values beyond 2^32-1 as §20.19 allows.
pub fn parse_delta_seconds(value: &str) -> Option<u32> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        value
            .parse::<u64>()
            .map_or(u32::MAX, |v| v.min(u32::MAX as u64) as u32),
    )
}

fn find_head_end(data: &[u8]) -> Option<(usize, usize)> {
    if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
        return Some((i, i + 4));
    }
    data.windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i, i + 2))
}

/// Iterates logical header lines (folded continuation lines joined by range, RFC 3261 §7.3.1).
/// A folded header yields its first physical line plus continuations as one range only when
/// they are contiguous; since folding replaces CRLF+WSP by a space semantically, the joined
/// range keeps the CRLF, which the typed parsers treat as whitespace.
struct LineIter<'a> {
    head: &'a str,
    pos: usize,
}

impl<'a> LineIter<'a> {
    fn new(head: &'a str, pos: usize) -> Self {
        LineIter { head, pos }
    }
}

impl<'a> Iterator for LineIter<'a> {
    type Item = (&'a str, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.head.len() {
            return None;
        }
        let start = self.pos;
        let bytes = self.head.as_bytes();
        let mut end = start;
        loop {
            match self.head[end..].find('\n') {
                Some(i) => {
                    let nl = end + i;
                    let continues = bytes.get(nl + 1).is_some_and(|&b| b == b' ' || b == b'\t');
                    if continues {
                        end = nl + 1;
                        continue;
                    }
                    self.pos = nl + 1;
                    end = nl;
                    break;
                }
                None => {
                    self.pos = self.head.len();
                    end = self.head.len();
                    break;
                }
            }
        }
        let line_end = if end > start && bytes[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        Some((&self.head[start..line_end], start..line_end))
    }
}

fn parse_start_line(line: &str, offset: usize) -> Result<StartLine, ParseError> {
    if let Some(rest) = line.strip_prefix("SIP/") {
        let mut parts = rest.splitn(3, ' ');
        if parts.next() != Some("2.0") {
            return Err(ParseError::Version);
        }
        let code = parts.next().ok_or(ParseError::StartLine)?;
        let status: u16 = code.parse().map_err(|_| ParseError::StartLine)?;
        if !(100..=699).contains(&status) || code.len() != 3 {
            return Err(ParseError::StartLine);
        }
        let reason_start = offset + 4 + 3 + 1 + 3 + 1;
        let reason = reason_start.min(offset + line.len())..offset + line.len();
        return Ok(StartLine::Response { status, reason });
    }
    let (method, uri, version) = match split_request_line(line) {
        Some(parts) => parts,
        None => return Err(ParseError::StartLine),
    };
    if !super::header::is_token(method) {
        return Err(ParseError::StartLine);
    }
    let sip2 = match sip_version(version) {
        Some(numbers) => numbers == (2, 0),
        None => return Err(ParseError::StartLine),
    };
    if uri.is_empty() || !uri.contains(':') {
        return Err(ParseError::StartLine);
    }
    let uri_start = offset + (uri.as_ptr() as usize - line.as_ptr() as usize);
    Ok(StartLine::Request {
        method: Method::from_token(method),
        uri: uri_start..uri_start + uri.len(),
        sip2,
    })
}

/// `Method SP Request-URI SP SIP-Version` (§7.1). A line with other whitespace between or
/// after the elements (RFC 4475 §3.1.2.8–10) still yields its three parts, so the request can
/// be answered 400 rather than dropped: the caller tells the two apart by [`exact_request_line`].
fn split_request_line(line: &str) -> Option<(&str, &str, &str)> {
    let line = line.trim_end();
    let (method, rest) = line.split_once(|c: char| c.is_ascii_whitespace())?;
    let (uri, version) = rest.rsplit_once(|c: char| c.is_ascii_whitespace())?;
    let uri = uri.trim();
    if method.is_empty() || uri.is_empty() || version.is_empty() {
        return None;
    }
    Some((method, uri, version))
}

/// Whether a request line has exactly one SP between its three elements and nothing after.
fn exact_request_line(line: &str) -> bool {
    line.split(' ').count() == 3 && !line.contains(|c: char| c.is_ascii_whitespace() && c != ' ')
}

/// `SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT` (§25.1, "SIP" case-insensitive), as numbers.
fn sip_version(token: &str) -> Option<(u32, u32)> {
    let (name, numbers) = token.split_once('/')?;
    if !name.eq_ignore_ascii_case("SIP") {
        return None;
    }
    let (major, minor) = numbers.split_once('.')?;
    let number = |digits: &str| {
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse::<u32>().unwrap_or(u32::MAX))
    };
    Some((number(major)?, number(minor)?))
}

#[cfg(test)]
mod roundtrip;
#[cfg(test)]
mod tests;
