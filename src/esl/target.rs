//! Where an outbound socket connects and how it runs (sans-IO): `host:port` then the
//! options `async` (the client's apps queue while it keeps talking; without it each
//! `sendmsg` is answered once its app has run) and `full` (the client may use every
//! command, not only those of its own channel), separated by blanks or commas, as
//! FreeSWITCH's `socket` app and the dialplan's `Socket(...)` write them.

/// A parsed socket target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketTarget {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `async`.
    pub async_mode: bool,
    /// `full`.
    pub full: bool,
}

/// Why a target is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// No `host:port`.
    #[error("Socket needs host:port, like 127.0.0.1:8051")]
    MissingAddress,
    /// A port that is not 1-65535.
    #[error("bad port in {0:?}: Socket needs host:port, like 127.0.0.1:8051")]
    BadPort(String),
    /// An option other than `async` and `full`.
    #[error("Socket has no option {0:?}: use async and/or full")]
    BadOption(String),
}

impl SocketTarget {
    /// Parses `host:port[ async][ full]`.
    pub fn parse(text: &str) -> Result<SocketTarget, TargetError> {
        let mut words = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty());
        let address = words.next().ok_or(TargetError::MissingAddress)?;
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| TargetError::BadPort(address.to_owned()))?;
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| TargetError::BadPort(address.to_owned()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(TargetError::MissingAddress);
        }
        let mut target = SocketTarget {
            host: host.to_owned(),
            port,
            async_mode: false,
            full: false,
        };
        for option in words {
            match option.to_ascii_lowercase().as_str() {
                "async" => target.async_mode = true,
                "full" => target.full = true,
                _ => return Err(TargetError::BadOption(option.to_owned())),
            }
        }
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings() {
        let t = SocketTarget::parse("127.0.0.1:8051, async, full").unwrap();
        assert_eq!(
            t,
            SocketTarget {
                host: "127.0.0.1".into(),
                port: 8051,
                async_mode: true,
                full: true
            }
        );
        let t = SocketTarget::parse("localhost:8084 async").unwrap();
        assert!(t.async_mode && !t.full);
        assert_eq!(SocketTarget::parse("[::1]:9000").unwrap().host, "::1");
    }

    #[test]
    fn bad_targets() {
        assert_eq!(SocketTarget::parse(""), Err(TargetError::MissingAddress));
        assert!(matches!(
            SocketTarget::parse("host"),
            Err(TargetError::BadPort(_))
        ));
        assert!(matches!(
            SocketTarget::parse("host:0"),
            Err(TargetError::BadPort(_))
        ));
        assert!(matches!(
            SocketTarget::parse("h:1 fast"),
            Err(TargetError::BadOption(_))
        ));
    }
}
