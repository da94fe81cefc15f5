//! RFC 3261 §17 transactions as sans-IO state machines, and the table the transport edge drives.
//!
//! > "A SIP transaction consists of a single request and any responses to that request, which
//! > include zero or more provisional responses and one or more final responses." (§17)
//!
//! Where it sits: the UDP edge parses a datagram with `sip::message`, builds a
//! [`TransactionKey`] and hands it, the status code and the serialized bytes to
//! [`table::TransactionTable`]; the table decides whether the TU (router, registrar, calls)
//! sees the message, queues what must go back on the wire and reports timeouts. The machines
//! carry messages as opaque [`bytes::Bytes`] and only look at status codes, so they do not
//! depend on the SIP parser. Time is passed in as `now`; nothing here reads a clock.
//!
//! One file per §17 case: [`client_invite`] (Figure 5), [`client`] (Figure 6),
//! [`server_invite`] (Figure 7) and [`server`] (Figure 8). Both INVITE machines include the
//! "Accepted" state of RFC 6026, which keeps the transaction alive after a 2xx so that
//! retransmitted INVITEs and 2xx responses are recognised instead of being taken as new.
//!
//! Timers (RFC 3261 Table 4, plus L and M from RFC 6026):
//!
//! | Timer | Value                      | Meaning                                          |
//! |-------|----------------------------|--------------------------------------------------|
//! | T1    | 500 ms default             | RTT estimate                                     |
//! | T2    | 4 s                        | maximum retransmit interval (non-INVITE requests, INVITE responses) |
//! | T4    | 5 s                        | maximum time a message stays in the network      |
//! | A     | initially T1, doubling     | INVITE request retransmit interval, unreliable only |
//! | B     | 64*T1                      | INVITE transaction timeout                       |
//! | D     | 32 s unreliable, 0 reliable | client: wait for response retransmits           |
//! | E     | initially T1, doubling to T2 | non-INVITE request retransmit, unreliable only |
//! | F     | 64*T1                      | non-INVITE transaction timeout                   |
//! | G     | initially T1, doubling to T2 | INVITE response retransmit, unreliable only    |
//! | H     | 64*T1                      | wait time for ACK receipt                        |
//! | I     | T4 unreliable, 0 reliable  | wait time for ACK retransmits                    |
//! | J     | 64*T1 unreliable, 0 reliable | wait time for non-INVITE request retransmits   |
//! | K     | T4 unreliable, 0 reliable  | wait time for response retransmits               |
//! | L     | 64*T1                      | wait time for accepted INVITE request retransmits |
//! | M     | 64*T1                      | wait time for 2xx retransmits (and forked 2xx)   |
//!
//! Timer C (proxy INVITE timeout) does not apply: the PBX is a B2BUA, not a proxy.

pub mod client;
pub mod client_invite;
mod deadlines;
pub mod server;
pub mod server_invite;
pub mod table;

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::sip::method::Method;

/// Timer D for unreliable transports: "at least 32 seconds" (§17.1.1.2).
const TIMER_D_UNRELIABLE: Duration = Duration::from_secs(32);

/// The base timer values T1, T2 and T4 every other timer derives from (§17, Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate; the first retransmit interval and 1/64 of the transaction timeouts.
    pub t1: Duration,
    /// Cap on the retransmit interval of non-INVITE requests and INVITE responses.
    pub t2: Duration,
    /// Maximum time a message remains in the network; the linger of timers I and K.
    pub t4: Duration,
}

impl Default for Timers {
    /// The RFC 3261 recommended values: T1 = 500 ms, T2 = 4 s, T4 = 5 s.
    fn default() -> Self {
        Timers::new(
            Duration::from_millis(500),
            Duration::from_secs(4),
            Duration::from_secs(5),
        )
    }
}

impl Timers {
    /// Timers with explicit values, for tests and tuned deployments. All three must be
    /// non-zero (the configuration layer checks): a zero T1 would retransmit continuously.
    pub fn new(t1: Duration, t2: Duration, t4: Duration) -> Self {
        Timers { t1, t2, t4 }
    }

    /// 64*T1: timers B, F, H, L and M, and J on unreliable transports.
    fn long(&self) -> Duration {
        self.t1 * 64
    }

    /// The next retransmit interval after `current`, doubling but capped at T2 (timers E, G).
    fn backoff_capped(&self, current: Duration) -> Duration {
        (current * 2).min(self.t2)
    }
}

/// Whether the transport delivers messages reliably, which switches the §17 timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reliability {
    /// UDP: retransmit timers A, E and G run; I, J, K and D linger to absorb retransmissions.
    Unreliable,
    /// TCP, TLS, WebSocket: no retransmissions (A, E, G off) and I, J, K, D are zero.
    Reliable,
}

impl Reliability {
    /// True when requests and INVITE responses must be retransmitted (timers A, E, G).
    fn retransmits(self) -> bool {
        self == Reliability::Unreliable
    }

    /// `wait` on unreliable transports, zero on reliable ones (timers I, J, K, D).
    fn linger(self, wait: Duration) -> Duration {
        match self {
            Reliability::Unreliable => wait,
            Reliability::Reliable => Duration::ZERO,
        }
    }
}

/// Identifies a transaction for matching (§17.1.3 for responses, §17.2.3 for requests).
///
/// Only RFC 3261 branches (starting with the magic cookie `z9hG4bK`) are unique enough to key
/// on; the message layer is expected to reject or rewrite RFC 2543 style requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionKey {
    /// The `branch` parameter of the top Via header field, compared exactly.
    pub branch: Box<str>,
    /// The request method, with ACK folded into INVITE (an ACK for a non-2xx response belongs
    /// to the INVITE server transaction with the same branch).
    pub method: Method,
    /// The top Via `sent-by` (host and port, normalised by the message layer), which §17.2.3
    /// adds to server matching so two clients picking the same branch do not collide.
    pub sent_by: Option<Box<str>>,
}

impl TransactionKey {
    /// The key for a request with this top Via branch and method, or for a response with this
    /// top Via branch and CSeq method. ACK maps to INVITE; CANCEL stays its own transaction
    /// even though it carries the branch of the INVITE it cancels (§9.2).
    pub fn for_request(branch: &str, method: Method) -> Self {
        let method = match method {
            Method::Ack => Method::Invite,
            other => other,
        };
        TransactionKey {
            branch: branch.into(),
            method,
            sent_by: None,
        }
    }

    /// The key of the INVITE a CANCEL with this key targets: same branch and sent-by, method
    /// INVITE (§9.2). The TU answers that transaction 487 and the CANCEL 200, or the CANCEL
    /// 481 when the table has no such transaction.
    pub fn cancelled_invite(&self) -> Self {
        TransactionKey {
            method: Method::Invite,
            ..self.clone()
        }
    }

    /// The same key, also matching on the top Via `sent-by` (server transactions, §17.2.3).
    pub fn with_sent_by(mut self, sent_by: &str) -> Self {
        self.sent_by = Some(sent_by.into());
        self
    }
}

/// What the owner of a client transaction must do with a received response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseDisposition {
    /// Pass the response to the TU.
    Deliver,
    /// Pass this 3xx-6xx INVITE response to the TU and hand the transaction the ACK for it
    /// (`send_ack`); the transaction sends it and re-sends it for retransmitted finals.
    DeliverAndAck,
    /// A retransmission the transaction has dealt with; drop it.
    Absorb,
    /// No client transaction matches (a stray response); the table's caller drops it.
    NoTransaction,
}

/// What a transaction tells its TU on its own initiative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionEvent {
    /// Timer B or F fired without a final response; the TU acts as on a 408 (§8.1.3.1).
    RequestTimeout,
    /// Timer H fired: the non-2xx final response to an INVITE was never acknowledged.
    AckTimeout,
}

/// The sans-IO surface all four machines share: the owner drains what must be sent, sleeps
/// until the deadline, fires the timers and forwards events to the TU.
pub trait Transaction {
    /// The next message to put on the wire, oldest first.
    fn poll_transmit(&mut self) -> Option<Bytes>;

    /// When [`Transaction::handle_timeout`] must next be called; `None` while no timer runs.
    fn poll_timeout(&self) -> Option<Instant>;

    /// Fires the timers due at `now`.
    fn handle_timeout(&mut self, now: Instant);

    /// What the TU must hear. The non-INVITE server transaction has no TU-facing timer and
    /// keeps this default.
    fn poll_event(&mut self) -> Option<TransactionEvent> {
        None
    }

    /// True once the transaction is over and the owner can drop it.
    fn is_terminated(&self) -> bool;
}

/// Misuse of a transaction by its TU or the edge; the network cannot cause these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// A status code outside 100..=699.
    #[error("status code {0} is outside 100..=699")]
    InvalidStatus(u16),
    /// A response after the final one (only a 2xx may follow a 2xx to an INVITE).
    #[error("the transaction already sent its final response")]
    AlreadyFinal,
    /// An ACK handed to a client INVITE transaction that did not receive a 3xx-6xx.
    #[error("the transaction did not receive a non-2xx final response to acknowledge")]
    AckNotExpected,
    /// No transaction with this key exists (never created, or already terminated).
    #[error("no transaction matches the key")]
    NoTransaction,
    /// A client transaction with this key already exists; each request needs a fresh branch.
    #[error("a client transaction with this key already exists")]
    DuplicateKey,
}

/// Checks that `status` is a SIP status code (§7.2: 100 to 699).
fn check_status(status: u16) -> Result<(), TransactionError> {
    if (100..=699).contains(&status) {
        Ok(())
    } else {
        Err(TransactionError::InvalidStatus(status))
    }
}

/// The earlier of two optional deadlines.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// True when an optional deadline has been reached at `now`.
fn due(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|d| d <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_rfc_values() {
        let t = Timers::default();
        assert_eq!(t.t1, Duration::from_millis(500));
        assert_eq!(t.t2, Duration::from_secs(4));
        assert_eq!(t.t4, Duration::from_secs(5));
        assert_eq!(t.long(), Duration::from_secs(32));
    }

    #[test]
    fn ack_keys_fold_into_invite_but_cancel_does_not() {
        let invite = TransactionKey::for_request("z9hG4bK1", Method::Invite);
        assert_eq!(TransactionKey::for_request("z9hG4bK1", Method::Ack), invite);
        assert_ne!(
            TransactionKey::for_request("z9hG4bK1", Method::Cancel),
            invite
        );
        assert_ne!(
            TransactionKey::for_request("z9hG4bK2", Method::Invite),
            invite
        );
        assert_ne!(invite.clone().with_sent_by("10.0.0.1:5060"), invite);
        let cancel = TransactionKey::for_request("z9hG4bK1", Method::Cancel).with_sent_by("h:1");
        assert_eq!(cancel.cancelled_invite(), invite.with_sent_by("h:1"));
    }

    #[test]
    fn status_range_is_checked() {
        assert_eq!(check_status(99), Err(TransactionError::InvalidStatus(99)));
        assert_eq!(check_status(700), Err(TransactionError::InvalidStatus(700)));
        assert_eq!(check_status(100), Ok(()));
        assert_eq!(check_status(699), Ok(()));
    }
}
