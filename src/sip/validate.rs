//! Validation of a new request before anything else looks at it (RFC 3261 §8.2, §16.3): the
//! checks a UAS makes, in the order the RFC gives them, before authentication, routing or
//! registration. The first failed check decides the answer:
//!
//! 1. a malformed request, or one missing a mandatory header (To, From, Call-ID, CSeq, Via,
//!    and Max-Forwards on a request the PBX forwards): 400 naming the defect (§8.1.1, §8.2);
//! 2. a single-valued header written twice with different values: 400 (§7.3.1, §20);
//! 3. a CSeq method that is not the request method: 400 (§8.1.1.5);
//! 4. a SIP version other than 2.0: 505 (§21.5.6);
//! 5. a Request-URI scheme the PBX does not serve: 416 (§8.2.2.1);
//! 6. `Require`/`Proxy-Require` option tags the PBX does not support: 420 with `Unsupported`
//!    (§8.2.2.3, §16.3 item 6);
//! 7. an INVITE body in a Content-Type or Content-Encoding the PBX cannot read: 415 with
//!    `Accept` and `Accept-Encoding` (§8.2.3);
//! 8. Max-Forwards 0 on a request the PBX would forward: 483 (§16.3 item 3).
//!
//! The PBX forwards only INVITEs that start a call (it is a B2BUA: each call leaves on a new
//! leg); REGISTER and OPTIONS end here, so they need no Max-Forwards. ACKs are never answered
//! and never reach this module.

use super::header::{well_formed_params, NameAddr, SipUri, Via};
use super::message::{HeaderName, ParseError, SipMessage};
use super::method::Method;
use super::status::StatusCode;

/// What the PBX serves and understands, for the checks that depend on it.
#[derive(Debug, Clone, Copy)]
pub struct Capabilities {
    /// Request-URI schemes served (compared case-insensitively).
    pub uri_schemes: &'static [&'static str],
    /// Option tags (RFC 3261 §19.2) supported, for `Require` and `Supported`.
    pub option_tags: &'static [&'static str],
    /// Body types an INVITE may carry (the `Accept` header of a 415).
    pub content_types: &'static [&'static str],
}

/// The PBX's capabilities: `sip:` and `tel:` Request-URIs (there is no TLS transport, so no
/// `sips:`), the Path extension (RFC 3327) and no other, SDP bodies without content coding.
pub const PBX: Capabilities = Capabilities {
    uri_schemes: &["sip", "tel"],
    option_tags: &["path"],
    content_types: &["application/sdp"],
};

/// The only content coding the PBX reads (RFC 3261 §20.12; `Accept-Encoding` of a 415).
pub const CONTENT_ENCODING: &str = "identity";

/// Why a request is refused before the PBX acts on it; each cause maps to one status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Malformed or missing a mandatory header (400).
    #[error("{0}")]
    Malformed(ParseError),
    /// The Request-URI does not parse (400).
    #[error("malformed Request-URI")]
    RequestUri,
    /// A non-empty INVITE body without a Content-Type (400, §20.15).
    #[error("missing Content-Type header")]
    MissingContentType,
    /// A single-valued header appears twice with different values (400).
    #[error("conflicting {0} headers")]
    Duplicate(&'static str),
    /// The CSeq method is not the request method (400).
    #[error("CSeq method does not match request method")]
    CSeqMethod,
    /// The request line's SIP version is not 2.0 (505).
    #[error("SIP version not supported")]
    Version,
    /// The Request-URI scheme is not served (416).
    #[error("unsupported URI scheme")]
    UriScheme,
    /// Required extensions the PBX does not support, comma-separated (420).
    #[error("unsupported extensions: {0}")]
    BadExtension(String),
    /// The INVITE body's type or coding cannot be read (415).
    #[error("unsupported body")]
    UnsupportedMedia,
    /// Max-Forwards is 0 on a request that would be forwarded (483).
    #[error("Max-Forwards exhausted")]
    TooManyHops,
}

impl Rejection {
    /// The status code answering this rejection.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::Malformed(_)
            | Rejection::RequestUri
            | Rejection::MissingContentType
            | Rejection::Duplicate(_)
            | Rejection::CSeqMethod => StatusCode::BAD_REQUEST,
            Rejection::Version => StatusCode::VERSION_NOT_SUPPORTED,
            Rejection::UriScheme => StatusCode::UNSUPPORTED_URI_SCHEME,
            Rejection::BadExtension(_) => StatusCode::BAD_EXTENSION,
            Rejection::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Rejection::TooManyHops => StatusCode::TOO_MANY_HOPS,
        }
    }

    /// The reason phrase: for a 400 the RFC phrase followed by the defect, so the sender can
    /// tell what to fix (§21.4.1); otherwise the RFC phrase.
    pub fn reason(&self) -> String {
        let status = self.status();
        if status == StatusCode::BAD_REQUEST {
            format!("{} ({self})", status.reason())
        } else {
            status.reason().to_string()
        }
    }

    /// Headers the answer must carry: `Unsupported` on a 420 (§20.40), `Accept` and
    /// `Accept-Encoding` on a 415 (§21.4.13).
    pub fn headers(&self, capabilities: &Capabilities) -> Vec<(&'static str, String)> {
        match self {
            Rejection::BadExtension(tags) => vec![("Unsupported", tags.clone())],
            Rejection::UnsupportedMedia => vec![
                ("Accept", capabilities.content_types.join(", ")),
                ("Accept-Encoding", CONTENT_ENCODING.to_string()),
            ],
            _ => Vec::new(),
        }
    }
}

/// Single-valued headers (§7.3.1: a header may repeat only when its grammar is a comma list).
const SINGLE_VALUED: [(HeaderName, &str); 8] = [
    (HeaderName::To, "To"),
    (HeaderName::From, "From"),
    (HeaderName::CallId, "Call-ID"),
    (HeaderName::CSeq, "CSeq"),
    (HeaderName::MaxForwards, "Max-Forwards"),
    (HeaderName::ContentLength, "Content-Length"),
    (HeaderName::ContentType, "Content-Type"),
    (HeaderName::Expires, "Expires"),
];

/// Runs the checks in order on a new request (not an ACK) and returns the first failure.
pub fn validate(request: &SipMessage, capabilities: &Capabilities) -> Result<(), Rejection> {
    let Some(method) = request.method() else {
        return Ok(());
    };
    let forwards = method == Method::Invite && !in_dialog(request);
    check_well_formed(request, method, forwards)?;
    check_duplicates(request)?;
    check_cseq_method(request)?;
    if !request.is_sip2() {
        return Err(Rejection::Version);
    }
    let uri = request.request_uri().unwrap_or_default();
    let scheme = uri.split_once(':').map_or("", |(scheme, _)| scheme);
    if !capabilities
        .uri_schemes
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        return Err(Rejection::UriScheme);
    }
    if !matches!(method, Method::Ack | Method::Cancel) {
        check_extensions(request, capabilities)?;
    }
    if method == Method::Invite {
        check_body(request, capabilities)?;
    }
    if forwards && max_forwards(request) == Some(0) {
        return Err(Rejection::TooManyHops);
    }
    Ok(())
}

fn in_dialog(request: &SipMessage) -> bool {
    request.to_header().ok().and_then(|t| t.tag()).is_some()
}

fn max_forwards(request: &SipMessage) -> Option<u32> {
    request
        .header(HeaderName::MaxForwards)
        .and_then(super::message::parse_delta_seconds)
}

fn check_well_formed(
    request: &SipMessage,
    method: Method,
    forwards: bool,
) -> Result<(), Rejection> {
    if let Some(defect) = request.defect() {
        return Err(Rejection::Malformed(defect.clone()));
    }
    match request.header(HeaderName::MaxForwards) {
        None if forwards => return Err(Rejection::Malformed(ParseError::Missing("Max-Forwards"))),
        Some(value) if super::message::parse_delta_seconds(value).is_none_or(|v| v > 255) => {
            return Err(Rejection::Malformed(ParseError::Malformed("Max-Forwards")))
        }
        _ => {}
    }
    if request.expires().is_err() {
        return Err(Rejection::Malformed(ParseError::Malformed("Expires")));
    }
    check_request_uri(request.request_uri().unwrap_or_default())?;
    for via in request.header_values(HeaderName::Via) {
        let well_formed = Via::parse(via).is_ok_and(|v| well_formed_params(v.params()));
        if !well_formed {
            return Err(Rejection::Malformed(ParseError::Malformed("Via")));
        }
    }
    for contact in request.header_values(HeaderName::Contact) {
        let well_formed = contact == "*"
            || NameAddr::parse(contact).is_ok_and(|c| {
                let scheme = c.uri.split_once(':').map_or("", |(s, _)| s);
                !is_sip_scheme(scheme) || c.sip_uri().is_ok()
            });
        if !well_formed {
            return Err(Rejection::Malformed(ParseError::Malformed("Contact")));
        }
    }
    if method == Method::Invite
        && !request.body().is_empty()
        && request.header(HeaderName::ContentType).is_none()
    {
        return Err(Rejection::MissingContentType);
    }
    Ok(())
}

fn is_sip_scheme(scheme: &str) -> bool {
    ["sip", "sips", "tel"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
}

/// `Request-URI = SIP-URI / SIPS-URI / absoluteURI` (§25.1): a scheme of letters, digits,
/// `+-.` starting with a letter; a SIP URI must parse and may not carry headers (§19.1.5).
fn check_request_uri(uri: &str) -> Result<(), Rejection> {
    let scheme = uri.split_once(':').map_or("", |(scheme, _)| scheme);
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !scheme_ok || uri.contains(|c: char| c.is_ascii_whitespace() || c == '<' || c == '>') {
        return Err(Rejection::RequestUri);
    }
    if is_sip_scheme(scheme) {
        let parsed = SipUri::parse(uri).map_err(|_| Rejection::RequestUri)?;
        if parsed.headers().is_some() {
            return Err(Rejection::RequestUri);
        }
    }
    Ok(())
}

fn check_duplicates(request: &SipMessage) -> Result<(), Rejection> {
    for (name, label) in SINGLE_VALUED {
        let mut values = request.header_occurrences(name);
        let Some(first) = values.next() else {
            continue;
        };
        if values.any(|other| other != first) {
            return Err(Rejection::Duplicate(label));
        }
    }
    Ok(())
}

fn check_cseq_method(request: &SipMessage) -> Result<(), Rejection> {
    let cseq_method = request
        .header(HeaderName::CSeq)
        .and_then(|v| v.split_ascii_whitespace().nth(1));
    if cseq_method != request.method_token() {
        return Err(Rejection::CSeqMethod);
    }
    Ok(())
}

fn check_extensions(request: &SipMessage, capabilities: &Capabilities) -> Result<(), Rejection> {
    let mut unsupported = String::new();
    let required = request
        .header_values(HeaderName::Require)
        .chain(request.header_values(HeaderName::ProxyRequire));
    for tag in required {
        let known = capabilities
            .option_tags
            .iter()
            .any(|t| t.eq_ignore_ascii_case(tag));
        let listed = unsupported.split(", ").any(|t| t.eq_ignore_ascii_case(tag));
        if !known && !listed {
            if !unsupported.is_empty() {
                unsupported.push_str(", ");
            }
            unsupported.push_str(tag);
        }
    }
    if unsupported.is_empty() {
        Ok(())
    } else {
        Err(Rejection::BadExtension(unsupported))
    }
}

fn check_body(request: &SipMessage, capabilities: &Capabilities) -> Result<(), Rejection> {
    if request.body().is_empty() {
        return Ok(());
    }
    let media_type = request
        .header(HeaderName::ContentType)
        .map(|v| v.split(';').next().unwrap_or_default().trim())
        .unwrap_or_default();
    let readable_type = capabilities
        .content_types
        .iter()
        .any(|t| t.eq_ignore_ascii_case(media_type));
    let readable_coding = request
        .header_values(HeaderName::ContentEncoding)
        .all(|coding| coding.eq_ignore_ascii_case(CONTENT_ENCODING));
    if readable_type && readable_coding {
        Ok(())
    } else {
        Err(Rejection::UnsupportedMedia)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod corpus;
