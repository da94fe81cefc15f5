//! SIP status codes (RFC 3261 §7.2, §21) as a type: the codes the PBX itself sends are named
//! constants, and the reason phrase of each comes from one table
//! ([`super::message::reason_phrase`]).

use std::fmt;

/// A response status code, always within 100–699 (RFC 3261 §7.2, §21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(u16);

impl StatusCode {
    /// 400 Bad Request (§21.4.1).
    pub const BAD_REQUEST: StatusCode = StatusCode(400);
    /// 403 Forbidden (§21.4.4).
    pub const FORBIDDEN: StatusCode = StatusCode(403);
    /// 415 Unsupported Media Type (§21.4.13).
    pub const UNSUPPORTED_MEDIA_TYPE: StatusCode = StatusCode(415);
    /// 416 Unsupported URI Scheme (§21.4.14).
    pub const UNSUPPORTED_URI_SCHEME: StatusCode = StatusCode(416);
    /// 420 Bad Extension (§21.4.15).
    pub const BAD_EXTENSION: StatusCode = StatusCode(420);
    /// 483 Too Many Hops (§21.4.21).
    pub const TOO_MANY_HOPS: StatusCode = StatusCode(483);
    /// 503 Service Unavailable (§21.5.4).
    pub const SERVICE_UNAVAILABLE: StatusCode = StatusCode(503);
    /// 505 Version Not Supported (§21.5.6).
    pub const VERSION_NOT_SUPPORTED: StatusCode = StatusCode(505);

    /// The code when it lies within 100–699, the range §7.2 allows; `None` otherwise.
    pub fn new(code: u16) -> Option<StatusCode> {
        (100..=699).contains(&code).then_some(StatusCode(code))
    }

    /// The numeric code.
    pub fn as_u16(self) -> u16 {
        self.0
    }

    /// The RFC 3261 §21 reason phrase.
    pub fn reason(self) -> &'static str {
        super::message::reason_phrase(self.0)
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_codes_in_range_exist() {
        assert_eq!(StatusCode::new(99), None);
        assert_eq!(StatusCode::new(700), None);
        assert_eq!(StatusCode::new(100).map(StatusCode::as_u16), Some(100));
        assert_eq!(StatusCode::new(699).map(StatusCode::as_u16), Some(699));
        assert_eq!(StatusCode::BAD_EXTENSION.reason(), "Bad Extension");
        assert_eq!(StatusCode::TOO_MANY_HOPS.to_string(), "483");
    }
}
