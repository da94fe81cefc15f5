//! Typed views of the SIP header values the PBX reads (RFC 3261 §20, §25.1 grammar): Via,
//! name-addr (From, To, Contact), SIP URIs and CSeq. Views borrow the message buffer; parsing is
//! lenient about whitespace and case as §7.3.1 requires and strict about structure.

use std::net::IpAddr;

use super::method::Method;

/// Why a header value could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The Via value is not `SIP/<version>/<transport> host[:port][;params]`.
    #[error("malformed Via")]
    Via,
    /// A URI is not `sip:`/`sips:`/`tel:` with a host part.
    #[error("malformed URI")]
    Uri,
    /// A name-addr is missing its closing `>` or its URI.
    #[error("malformed name-addr")]
    NameAddr,
    /// CSeq is not `<number> <method>` with a 32-bit number.
    #[error("malformed CSeq")]
    CSeq,
    /// A number (Expires, Max-Forwards, Content-Length, port) is out of range or not digits.
    #[error("malformed number")]
    Number,
}

/// Splits a header value on top-level commas (not inside quotes or `<...>`), trimming each part.
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(value);
    std::iter::from_fn(move || loop {
        let text = rest?;
        let mut in_quotes = false;
        let mut in_angle = false;
        let mut escaped = false;
        let mut cut = None;
        for (i, c) in text.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_quotes => escaped = true,
                '"' => in_quotes = !in_quotes,
                '<' if !in_quotes => in_angle = true,
                '>' if !in_quotes => in_angle = false,
                ',' if !in_quotes && !in_angle => {
                    cut = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let (part, next) = match cut {
            Some(i) => (&text[..i], Some(&text[i + 1..])),
            None => (text, None),
        };
        rest = next;
        let part = part.trim();
        if !part.is_empty() {
            return Some(part);
        }
    })
}

/// Iterates `;name[=value]` parameters, names as written (compare case-insensitively).
pub fn params(text: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    text.split(';').filter_map(|p| {
        let p = p.trim();
        if p.is_empty() {
            return None;
        }
        Some(match p.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (p, None),
        })
    })
}

fn find_param<'a>(text: &'a str, name: &str) -> Option<Option<&'a str>> {
    params(text)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Splits `host[:port]` (IPv6 in brackets) into host and optional port.
pub fn split_host_port(text: &str) -> Result<(&str, Option<u16>), HeaderError> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let end = rest.find(']').ok_or(HeaderError::Uri)?;
        let host = &text[..end + 2];
        match &rest[end + 1..] {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or(HeaderError::Uri)?)),
        }
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(HeaderError::Uri);
    }
    let port = port
        .map(|p| p.parse::<u16>().map_err(|_| HeaderError::Number))
        .transpose()?;
    Ok((host, port))
}

/// A Via header value (RFC 3261 §20.42, RFC 3581 rport).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via<'a> {
    /// Transport token, e.g. `UDP`.
    pub transport: &'a str,
    /// sent-by host.
    pub host: &'a str,
    /// sent-by port, if written.
    pub port: Option<u16>,
    params: &'a str,
}

impl<'a> Via<'a> {
    /// Parses one Via value (one element of a comma list).
    pub fn parse(value: &'a str) -> Result<Via<'a>, HeaderError> {
        // sent-protocol allows LWS around the slashes (§25.1 SLASH), e.g. "SIP / 2.0 / UDP".
        let mut parts = value.trim().splitn(3, '/');
        let (Some(name), Some(version), Some(tail)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(HeaderError::Via);
        };
        // Any protocol version parses, so a request of another SIP version can be answered
        // 505 (RFC 4475 §3.1.2.16) rather than dropped.
        let version = version.trim();
        let numeric = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        let version_ok = version
            .split_once('.')
            .is_some_and(|(major, minor)| numeric(major) && numeric(minor));
        if !name.trim().eq_ignore_ascii_case("SIP") || !version_ok {
            return Err(HeaderError::Via);
        }
        let tail = tail.trim_start();
        let (transport, rest) = tail
            .split_once(|c: char| c.is_ascii_whitespace())
            .ok_or(HeaderError::Via)?;
        if transport.is_empty() || transport.contains('/') {
            return Err(HeaderError::Via);
        }
        let rest = rest.trim_start();
        let (sent_by, params) = match rest.find(';') {
            Some(i) => (rest[..i].trim(), &rest[i..]),
            None => (rest.trim(), ""),
        };
        let (host, port) = split_host_port(sent_by).map_err(|_| HeaderError::Via)?;
        Ok(Via {
            transport,
            host,
            port,
            params,
        })
    }

    /// The branch parameter, the transaction id of RFC 3261 §17.2.3.
    pub fn branch(&self) -> Option<&'a str> {
        find_param(self.params, "branch").flatten()
    }

    /// RFC 3581: `Some(None)` for a bare `;rport` (client asks for it), `Some(Some(p))` when
    /// filled in.
    pub fn rport(&self) -> Option<Option<&'a str>> {
        find_param(self.params, "rport")
    }

    /// The received parameter, if any.
    pub fn received(&self) -> Option<&'a str> {
        find_param(self.params, "received").flatten()
    }

    /// The raw `;...` parameter text.
    pub fn params(&self) -> &'a str {
        self.params
    }
}

/// A SIP or tel URI (RFC 3261 §19.1), borrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri<'a> {
    /// `sip`, `sips` or `tel` (lowercased comparison is up to callers).
    pub scheme: &'a str,
    /// The user part, if any (still escaped, and it may hold `;`: `user;par=u%40h`, §19.1.1).
    pub user: Option<&'a str>,
    /// Host (IPv6 in brackets), or the number for tel URIs.
    pub host: &'a str,
    /// Port, if written.
    pub port: Option<u16>,
    params: &'a str,
    headers: Option<&'a str>,
}

impl<'a> SipUri<'a> {
    /// Parses a URI such as `sip:6001@192.0.2.1:5062;transport=udp?Subject=x`. The user part
    /// ends at the last `@` (a raw `@` cannot appear in the host, parameters or headers), so
    /// it may contain `;`, `?` and escaped characters (RFC 3261 §19.1.1, RFC 4475 §3.1.1.9).
    pub fn parse(text: &'a str) -> Result<SipUri<'a>, HeaderError> {
        let text = text.trim();
        let (scheme, rest) = text.split_once(':').ok_or(HeaderError::Uri)?;
        if !["sip", "sips", "tel"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme))
        {
            return Err(HeaderError::Uri);
        }
        if rest.contains(|c: char| c.is_ascii_whitespace() || c == '<' || c == '>') {
            return Err(HeaderError::Uri);
        }
        let (userinfo, hostpart) = match rest.rfind('@') {
            Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
            None => (None, rest),
        };
        let (hostpart, headers) = match hostpart.split_once('?') {
            Some((h, headers)) => (h, Some(headers)),
            None => (hostpart, None),
        };
        let (hostport, params) = match hostpart.find(';') {
            Some(i) => (&hostpart[..i], &hostpart[i..]),
            None => (hostpart, ""),
        };
        let (host, port) = if scheme.eq_ignore_ascii_case("tel") {
            (hostport, None)
        } else {
            split_host_port(hostport)?
        };
        if host.is_empty() || !well_formed_params(params) || !valid_escapes(rest) {
            return Err(HeaderError::Uri);
        }
        if host.starts_with('[')
            && host[1..host.len() - 1]
                .parse::<std::net::Ipv6Addr>()
                .is_err()
        {
            return Err(HeaderError::Uri);
        }
        let user = match userinfo {
            Some("") => return Err(HeaderError::Uri),
            Some(u) => Some(u.split(':').next().unwrap_or(u)),
            None => None,
        };
        Ok(SipUri {
            scheme,
            user,
            host,
            port,
            params,
            headers,
        })
    }

    /// What a caller dialled: the user part of a `sip:`/`sips:` URI, or the number of a `tel:`
    /// URI (RFC 3966, its parameters left out).
    pub fn dialled(&self) -> Option<&'a str> {
        if self.scheme.eq_ignore_ascii_case("tel") {
            Some(self.host)
        } else {
            self.user
        }
    }

    /// A URI parameter's value (`Some(None)` for a flag parameter).
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        find_param(self.params, name)
    }

    /// The URI headers after `?` (§19.1.1), still escaped; `None` when there are none.
    pub fn headers(&self) -> Option<&'a str> {
        self.headers
    }

    /// The host as an IP address when it is a literal one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()
    }
}

/// Whether every `%` starts an escape of two hex digits (§25.1 `escaped`).
fn valid_escapes(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !hex(i + 1) || !hex(i + 2) {
                return false;
            }
            i += 2;
        }
        i += 1;
    }
    true
}

/// Whether a `;name[=value]` list has a name in every parameter: `;;` or a bare `;` is not
/// the §25.1 grammar (RFC 4475 §3.1.2.1). Whitespace around the separators is LWS.
pub fn well_formed_params(text: &str) -> bool {
    let text = text.trim();
    if text.is_empty() {
        return true;
    }
    let Some(rest) = text.strip_prefix(';') else {
        return false;
    };
    rest.split(';').all(|p| {
        let name = p.split('=').next().unwrap_or_default().trim();
        !name.is_empty() && !name.contains(char::is_whitespace)
    })
}

/// A name-addr or addr-spec with header parameters (From, To, Contact; RFC 3261 §20.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// Display name without quotes (escapes kept as written), if any.
    pub display: Option<&'a str>,
    /// The URI text (without angle brackets).
    pub uri: &'a str,
    params: &'a str,
}

impl<'a> NameAddr<'a> {
    /// Parses one name-addr / addr-spec value. The display name is a quoted string (with
    /// `\"` and `\\` escapes) or tokens separated by LWS; the URI of the addr-spec form
    /// may not contain `?` or `,` (§20.10), and parameters need names.
    pub fn parse(value: &'a str) -> Result<NameAddr<'a>, HeaderError> {
        let value = value.trim();
        let (display, rest) = if let Some(quoted) = value.strip_prefix('"') {
            let end = closing_quote(quoted).ok_or(HeaderError::NameAddr)?;
            let rest = quoted[end + 1..].trim_start();
            if !rest.starts_with('<') {
                return Err(HeaderError::NameAddr);
            }
            (Some(&quoted[..end]), rest)
        } else if let Some(open) = value.find('<') {
            let tokens = value[..open].trim();
            if !tokens.split_ascii_whitespace().all(is_token) {
                return Err(HeaderError::NameAddr);
            }
            (Some(tokens), &value[open..])
        } else {
            (None, value)
        };
        if let Some(inner) = rest.strip_prefix('<') {
            let close = inner.find('>').ok_or(HeaderError::NameAddr)?;
            let uri = inner[..close].trim();
            let params = &inner[close + 1..];
            if uri.is_empty() || !well_formed_params(params) {
                return Err(HeaderError::NameAddr);
            }
            Ok(NameAddr {
                display: display.filter(|d| !d.trim().is_empty()),
                uri,
                params,
            })
        } else {
            // addr-spec form: parameters after the URI belong to the header (§20.10).
            let (uri, params) = match rest.find(';') {
                Some(i) => (rest[..i].trim_end(), &rest[i..]),
                None => (rest, ""),
            };
            if uri.is_empty()
                || uri.contains(|c: char| c.is_whitespace() || c == '?' || c == ',' || c == '>')
                || !well_formed_params(params)
            {
                return Err(HeaderError::NameAddr);
            }
            Ok(NameAddr {
                display: None,
                uri,
                params,
            })
        }
    }

    /// The tag parameter (dialog identification, §19.3).
    pub fn tag(&self) -> Option<&'a str> {
        self.param("tag").flatten()
    }

    /// A header parameter's value (`Some(None)` for a flag parameter).
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        find_param(self.params, name)
    }

    /// The parsed URI.
    pub fn sip_uri(&self) -> Result<SipUri<'a>, HeaderError> {
        SipUri::parse(self.uri)
    }
}

/// The index of the quote closing a quoted string whose opening quote was just consumed
/// (`quoted-pair` escapes skipped, §25.1).
fn closing_quote(quoted: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in quoted.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// `token` of §25.1: alphanumerics and `-.!%*_+`'~`.
pub fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// The CSeq header (RFC 3261 §20.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number.
    pub seq: u32,
    /// Method, which must match the request line's.
    pub method: Method,
}

impl CSeq {
    /// Parses `<number> <method>`.
    pub fn parse(value: &str) -> Result<CSeq, HeaderError> {
        let mut parts = value.split_ascii_whitespace();
        let seq = parts
            .next()
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or(HeaderError::CSeq)?;
        let method = parts.next().ok_or(HeaderError::CSeq)?;
        if parts.next().is_some() {
            return Err(HeaderError::CSeq);
        }
        Ok(CSeq {
            seq,
            method: Method::from_token(method),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_with_rport_and_branch() {
        let via = Via::parse("SIP/2.0/UDP 192.0.2.4:5062;branch=z9hG4bKnashds7;rport").unwrap();
        assert_eq!(via.transport, "UDP");
        assert_eq!(via.host, "192.0.2.4");
        assert_eq!(via.port, Some(5062));
        assert_eq!(via.branch(), Some("z9hG4bKnashds7"));
        assert_eq!(via.rport(), Some(None));
        assert_eq!(via.received(), None);
    }

    #[test]
    fn via_tolerates_spacing_and_ipv6() {
        let via = Via::parse("SIP / 2.0 / UDP 192.0.2.1:5060 ;branch=z9hG4bK1").unwrap();
        assert_eq!((via.transport, via.host), ("UDP", "192.0.2.1"));
        assert_eq!(via.branch(), Some("z9hG4bK1"));
        let via = Via::parse("SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bK1").unwrap();
        assert_eq!(via.host, "[2001:db8::9]");
        assert_eq!(via.port, Some(5060));
        let via = Via::parse("SIP/2.0/TCP pc33.atlanta.com").unwrap();
        assert_eq!(via.port, None);
        assert_eq!(via.branch(), None);
    }

    #[test]
    fn via_garbage_is_an_error() {
        for bad in [
            "",
            "SIP/2.0",
            "HTTP/1.1/UDP host",
            "SIP/2.0/UDP ",
            "SIP/2.0/UDP h:99999",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn name_addr_forms() {
        let na = NameAddr::parse("\"Bob\" <sip:bob@biloxi.com>;tag=a6c85cf").unwrap();
        assert_eq!(na.display, Some("Bob"));
        assert_eq!(na.uri, "sip:bob@biloxi.com");
        assert_eq!(na.tag(), Some("a6c85cf"));
        let na = NameAddr::parse("sip:alice@atlanta.com;tag=1928301774").unwrap();
        assert_eq!(na.uri, "sip:alice@atlanta.com");
        assert_eq!(na.tag(), Some("1928301774"));
        let na = NameAddr::parse("<sip:6001@10.0.0.5:5062;transport=udp;ob>;expires=600").unwrap();
        assert_eq!(na.param("expires"), Some(Some("600")));
        let uri = na.sip_uri().unwrap();
        assert_eq!(uri.user, Some("6001"));
        assert_eq!(uri.port, Some(5062));
        assert_eq!(uri.param("transport"), Some(Some("udp")));
        assert!(NameAddr::parse("<sip:a@b").is_err());
    }

    #[test]
    fn list_splitting_respects_quotes_and_brackets() {
        let parts: Vec<_> =
            split_list("\"Smith, J\" <sip:a@b;x=1,2>, <sip:c@d> ,sip:e@f").collect();
        assert_eq!(
            parts,
            ["\"Smith, J\" <sip:a@b;x=1,2>", "<sip:c@d>", "sip:e@f"]
        );
    }

    #[test]
    fn uri_forms() {
        let uri = SipUri::parse("sip:127.0.0.1").unwrap();
        assert_eq!(uri.user, None);
        assert_eq!(uri.ip(), Some("127.0.0.1".parse().unwrap()));
        let uri = SipUri::parse("sips:alice:secret@atlanta.com;transport=tcp?subject=x").unwrap();
        assert_eq!(uri.user, Some("alice"));
        assert_eq!(uri.host, "atlanta.com");
        assert!(SipUri::parse("http://x").is_err());
        assert!(SipUri::parse("sip:").is_err());
    }

    #[test]
    fn cseq_forms() {
        assert_eq!(
            CSeq::parse("314159 INVITE").unwrap(),
            CSeq {
                seq: 314159,
                method: Method::Invite
            }
        );
        assert!(CSeq::parse("x INVITE").is_err());
        assert!(CSeq::parse("99999999999 INVITE").is_err());
        assert!(CSeq::parse("1").is_err());
    }

    #[test]
    fn uri_grammar_corners() {
        let uri = SipUri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(uri.user, Some("user;par=u%40example.net"));
        assert_eq!(uri.host, "example.com");
        let uri =
            SipUri::parse("sip:crazy?,/;;*:&it+has=1@example.com;lr?Route=%3Csip:x%3E").unwrap();
        assert_eq!(uri.user, Some("crazy?,/;;*"));
        assert_eq!(uri.param("lr"), Some(None));
        assert_eq!(uri.headers(), Some("Route=%3Csip:x%3E"));
        let uri = SipUri::parse("sip:[2001:db8::10]:5070").unwrap();
        assert_eq!(uri.ip(), Some("2001:db8::10".parse().unwrap()));
        assert_eq!(uri.port, Some(5070));
        let tel = SipUri::parse("tel:+15551234;phone-context=x").unwrap();
        assert_eq!(tel.dialled(), Some("+15551234"));
        for bad in [
            "sip:[2001:db8::10",
            "sip:[not-v6]",
            "sip:a%zz@h",
            "sip:@h",
            "sip:a@h;;lr",
            "sip:a b@h",
            "sip:<a@h>",
        ] {
            assert!(SipUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_names_follow_the_grammar() {
        let na = NameAddr::parse(r#""J Rosenberg \\\"" <sip:j@example.com>;tag=1"#).unwrap();
        assert_eq!(na.display, Some(r#"J Rosenberg \\\""#));
        assert_eq!(na.uri, "sip:j@example.com");
        let na = NameAddr::parse(r#""a <sip:not@this>" <sip:this@one>"#).unwrap();
        assert_eq!(na.uri, "sip:this@one");
        let na = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!((na.display, na.tag()), (Some("caller"), Some("323")));
        let na = NameAddr::parse("sip:a@h ;  tag = x").unwrap();
        assert_eq!((na.uri, na.tag()), ("sip:a@h", Some("x")));
        for bad in [
            "\"Mr. J. User <sip:j.user@example.com>",
            "Bell, Alexander <sip:a.g.bell@example.com>",
            "sip:user@example.com?Route=%3Csip:x%3E",
            "<sip:a@h>;;tag=1",
            ";",
        ] {
            assert!(NameAddr::parse(bad).is_err(), "{bad}");
        }
    }
}
