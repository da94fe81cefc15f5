//! SIP request methods (RFC 3261 §7.1 and the extension RFCs), typed once at the parse boundary.

use std::fmt;

/// A SIP request method. Methods this PBX does not know at all are `Unknown` and get `501`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// RFC 3261 §10: binding registration.
    Register,
    /// RFC 3261 §13: session initiation.
    Invite,
    /// RFC 3261 §17: acknowledgement of an INVITE final response.
    Ack,
    /// RFC 3261 §15: session termination.
    Bye,
    /// RFC 3261 §9: cancellation of a pending request.
    Cancel,
    /// RFC 3261 §11: capability query.
    Options,
    /// RFC 6086: mid-session information.
    Info,
    /// RFC 3311: session update before answer.
    Update,
    /// RFC 3262: provisional response acknowledgement.
    Prack,
    /// RFC 6665: event subscription.
    Subscribe,
    /// RFC 6665: event notification.
    Notify,
    /// RFC 3515: call transfer.
    Refer,
    /// RFC 3428: instant message.
    Message,
    /// RFC 3903: event state publication.
    Publish,
    /// A method token this PBX does not know.
    Unknown,
}

impl Method {
    /// Every known method, in the order used for display.
    pub const KNOWN: [Method; 14] = [
        Method::Register,
        Method::Invite,
        Method::Ack,
        Method::Bye,
        Method::Cancel,
        Method::Options,
        Method::Info,
        Method::Update,
        Method::Prack,
        Method::Subscribe,
        Method::Notify,
        Method::Refer,
        Method::Message,
        Method::Publish,
    ];

    /// The method token as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Register => "REGISTER",
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Unknown => "UNKNOWN",
        }
    }

    /// Parses a method token (case-sensitive, as RFC 3261 §7.1 requires).
    pub fn from_token(token: &str) -> Method {
        Method::KNOWN
            .into_iter()
            .find(|m| m.as_str() == token)
            .unwrap_or(Method::Unknown)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_case_sensitive() {
        for m in Method::KNOWN {
            assert_eq!(Method::from_token(m.as_str()), m);
        }
        assert_eq!(Method::from_token("invite"), Method::Unknown);
        assert_eq!(Method::from_token("FOO"), Method::Unknown);
    }
}
