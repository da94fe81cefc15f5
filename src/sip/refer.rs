//! Call transfer by REFER (RFC 3515), sans-IO: what a REFER asks for ([`ReferTarget`] from
//! its Refer-To header), and the NOTIFY bodies that report the progress of the referred call
//! to the transferor (`message/sipfrag`, RFC 3420: a status line, §2.4.5 of RFC 3515).
//!
//! Only blind transfer is understood: a Refer-To whose URI carries an embedded `Replaces`
//! header (attended transfer, RFC 3891) is reported as such, for the caller to refuse.

use super::header::{HeaderError, NameAddr, SipUri};

/// The `Event` header of the implicit subscription a REFER creates (RFC 3515 §2.4.4).
pub const REFER_EVENT: &str = "refer";

/// The content type of NOTIFY bodies reporting a referred call's progress.
pub const SIPFRAG: &str = "message/sipfrag;version=2.0";

/// What a REFER asks the PBX to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferTarget {
    /// Blind transfer: send the other party to this extension (the Refer-To URI's user).
    Extension(String),
    /// Attended transfer (Refer-To with `?Replaces=`), not supported.
    Attended,
}

/// Why a Refer-To header is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferError {
    /// The REFER has no Refer-To header (RFC 3515 §2.4.1: exactly one is required).
    #[error("REFER without Refer-To")]
    Missing,
    /// The header is not a SIP URI.
    #[error("unusable Refer-To: {0}")]
    Syntax(#[from] HeaderError),
    /// The URI names no user part, so no extension.
    #[error("Refer-To names no extension")]
    NoUser,
}

impl ReferTarget {
    /// Reads a Refer-To header value (`<sip:8000@pbx>`, `sip:8000@pbx;user=phone`).
    pub fn parse(refer_to: Option<&str>) -> Result<ReferTarget, ReferError> {
        let value = refer_to.ok_or(ReferError::Missing)?;
        let name_addr = NameAddr::parse(value)?;
        let headers = name_addr.uri.split_once('?').map(|(_, h)| h).unwrap_or("");
        let attended = headers.split('&').any(|h| {
            h.split('=')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case("replaces"))
        });
        if attended {
            return Ok(ReferTarget::Attended);
        }
        let uri = SipUri::parse(name_addr.uri)?;
        match uri.user {
            Some(user) if !user.is_empty() => Ok(ReferTarget::Extension(unescape(user))),
            _ => Err(ReferError::NoUser),
        }
    }
}

/// The sipfrag body reporting `status` of the referred call: `SIP/2.0 200 OK`.
pub fn sipfrag(status: u16, reason: &str) -> String {
    format!("SIP/2.0 {status} {reason}\r\n")
}

/// The Subscription-State of a progress NOTIFY: active while the referred call proceeds,
/// terminated with its final status (RFC 3515 §2.4.7, RFC 6665 §4.1.3).
pub fn subscription_state(final_status: bool) -> &'static str {
    if final_status {
        "terminated;reason=noresource"
    } else {
        "active;expires=60"
    }
}

/// Percent-decodes a URI user part (`%23` is `#`); malformed escapes stay as written.
fn unescape(user: &str) -> String {
    let bytes = user.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| user.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blind_transfer_targets_the_uri_user() {
        // RFC 3515 §2.1's form, and the addr-spec form phones also send.
        for value in [
            "<sip:8000@pbx.example.com>",
            "sip:8000@127.0.0.1:5060;user=phone",
            "\"Hello\" <sip:8000@127.0.0.1;transport=udp>",
        ] {
            assert_eq!(
                ReferTarget::parse(Some(value)),
                Ok(ReferTarget::Extension("8000".into())),
                "{value}"
            );
        }
        assert_eq!(
            ReferTarget::parse(Some("<sip:%2A72@pbx>")),
            Ok(ReferTarget::Extension("*72".into()))
        );
    }

    #[test]
    fn refer_to_with_replaces_is_attended_transfer() {
        // RFC 3891 §7's example of a Refer-To carrying Replaces.
        let value =
            "<sip:6003@pbx?Replaces=12345%40192.0.2.1%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>";
        assert_eq!(ReferTarget::parse(Some(value)), Ok(ReferTarget::Attended));
    }

    #[test]
    fn unusable_refer_to_headers_are_errors() {
        assert_eq!(ReferTarget::parse(None), Err(ReferError::Missing));
        assert_eq!(
            ReferTarget::parse(Some("<sip:pbx.example.com>")),
            Err(ReferError::NoUser)
        );
        assert!(matches!(
            ReferTarget::parse(Some("<mailto:x@y>")),
            Err(ReferError::Syntax(_))
        ));
    }

    #[test]
    fn progress_bodies_are_sipfrag_status_lines() {
        assert_eq!(sipfrag(100, "Trying"), "SIP/2.0 100 Trying\r\n");
        assert_eq!(subscription_state(false), "active;expires=60");
        assert!(subscription_state(true).starts_with("terminated"));
    }
}
