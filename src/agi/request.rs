//! What `AGI(...)` names: `agi:async` (AsyncAGI over AMI), `agi://host[:port][/script]`
//! (FastAGI, port 4573 by default), or a program under the configured `agi_dir`. Program names
//! stay inside that directory: no absolute paths, no `..`.

/// FastAGI's default TCP port.
pub const FASTAGI_PORT: u16 = 4573;

/// Where an AGI session's commands come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgiRequest {
    /// AsyncAGI: commands arrive with the AMI `AGI` action.
    Async,
    /// FastAGI: the PBX connects to a server.
    Fast {
        /// Host name or address.
        host: String,
        /// TCP port.
        port: u16,
        /// What follows the first `/` (`script?x=1`), sent as `agi_network_script`.
        script: String,
    },
    /// A local program, relative to `agi_dir`.
    Program(String),
}

/// Why an `AGI(...)` target is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Nothing was named.
    #[error("AGI needs a target: agi:async, agi://host[:port]/script or a program name")]
    Empty,
    /// The FastAGI URL has no host or a bad port.
    #[error("bad FastAGI URL {0:?}: use agi://host[:port]/script")]
    BadUrl(String),
    /// A scheme other than `agi://` and `agi:async` (`hagi://` SRV lookups are not done).
    #[error("unsupported AGI scheme in {0:?}: use agi:async or agi://host[:port]/script")]
    UnsupportedScheme(String),
    /// A program name that is absolute or climbs out of `agi_dir`.
    #[error("bad AGI program name {0:?}: name a file under agi_dir, without .. or a leading /")]
    BadProgram(String),
}

impl AgiRequest {
    /// Parses the target as written in `AGI(...)`.
    pub fn parse(target: &str) -> Result<AgiRequest, RequestError> {
        let target = target.trim();
        if target.is_empty() {
            return Err(RequestError::Empty);
        }
        if target.eq_ignore_ascii_case("agi:async") {
            return Ok(AgiRequest::Async);
        }
        if let Some(rest) = strip_prefix_ignore_case(target, "agi://") {
            return parse_fast(rest).ok_or_else(|| RequestError::BadUrl(target.to_owned()));
        }
        if target.contains("://") || target.to_ascii_lowercase().starts_with("agi:") {
            return Err(RequestError::UnsupportedScheme(target.to_owned()));
        }
        let safe = !target.starts_with('/')
            && target
                .split('/')
                .all(|part| !part.is_empty() && part != ".." && part != ".");
        match safe {
            true => Ok(AgiRequest::Program(target.to_owned())),
            false => Err(RequestError::BadProgram(target.to_owned())),
        }
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `host[:port][/script]`.
fn parse_fast(rest: &str) -> Option<AgiRequest> {
    let (authority, script) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok().filter(|p| *p != 0)?,
        None => FASTAGI_PORT,
    };
    Some(AgiRequest::Fast {
        host: host.to_owned(),
        port,
        script: script.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(AgiRequest::parse("agi:async"), Ok(AgiRequest::Async));
        assert_eq!(
            AgiRequest::parse("agi://127.0.0.1:4600/hello?x=1"),
            Ok(AgiRequest::Fast {
                host: "127.0.0.1".into(),
                port: 4600,
                script: "hello?x=1".into()
            })
        );
        assert_eq!(
            AgiRequest::parse("AGI://agi.example.com"),
            Ok(AgiRequest::Fast {
                host: "agi.example.com".into(),
                port: FASTAGI_PORT,
                script: String::new()
            })
        );
        assert_eq!(
            AgiRequest::parse("agi://[::1]:4000/x"),
            Ok(AgiRequest::Fast {
                host: "::1".into(),
                port: 4000,
                script: "x".into()
            })
        );
        assert_eq!(
            AgiRequest::parse("ivr/menu.py"),
            Ok(AgiRequest::Program("ivr/menu.py".into()))
        );
    }

    #[test]
    fn refused_targets() {
        assert_eq!(AgiRequest::parse(" "), Err(RequestError::Empty));
        for bad in ["agi://", "agi://:4573/x", "agi://h:99999/x", "agi://h:0"] {
            assert!(
                matches!(AgiRequest::parse(bad), Err(RequestError::BadUrl(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            AgiRequest::parse("hagi://example.com"),
            Err(RequestError::UnsupportedScheme(_))
        ));
        for bad in ["/bin/sh", "../x", "a/../b", "a//b"] {
            assert!(
                matches!(AgiRequest::parse(bad), Err(RequestError::BadProgram(_))),
                "{bad}"
            );
        }
    }
}
