//! SIP transports (edge). UDP now; TCP/TLS/WebSocket later plug in beside it behind the same
//! shape: a transport receives datagrams or framed messages and sends serialized messages to a
//! socket address. The router never sees a socket.

pub mod udp;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;

use crate::sip::counters::SipCounters;

/// Counters of what the SIP transport received and refused, for the admin API.
#[derive(Debug, Default)]
pub struct TransportStats {
    /// Datagrams received.
    pub received: AtomicU64,
    /// Datagrams dropped because they exceed `max_message_size`.
    pub dropped_oversized: AtomicU64,
    /// Datagrams dropped because they are not SIP at all (or unanswerable).
    pub dropped_unparsable: AtomicU64,
    /// Requests refused by validation before processing (400, 415, 416, 420, 483, 505).
    pub bad_requests: AtomicU64,
    /// Datagrams dropped unparsed because their source is banned.
    pub dropped_banned: AtomicU64,
    /// Requests dropped unanswered because their User-Agent names a scanner.
    pub dropped_scanners: AtomicU64,
    /// Keep-alive datagrams (CRLF) received.
    pub keepalives: AtomicU64,
    /// Messages sent.
    pub sent: AtomicU64,
    /// Sends that failed at the socket.
    pub send_errors: AtomicU64,
    /// SIP messages by method and class, counted by the transaction table.
    pub messages: Arc<SipCounters>,
}

/// A point-in-time copy of [`TransportStats`].
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct TransportStatsView {
    /// Datagrams received.
    pub received: u64,
    /// Datagrams dropped for size.
    pub dropped_oversized: u64,
    /// Datagrams dropped as not SIP.
    pub dropped_unparsable: u64,
    /// Requests refused by validation.
    pub bad_requests: u64,
    /// Datagrams dropped from banned sources.
    pub dropped_banned: u64,
    /// Requests dropped from known scanners.
    pub dropped_scanners: u64,
    /// CRLF keep-alives received.
    pub keepalives: u64,
    /// Messages sent.
    pub sent: u64,
    /// Failed sends.
    pub send_errors: u64,
}

impl TransportStats {
    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads every counter.
    pub fn view(&self) -> TransportStatsView {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TransportStatsView {
            received: get(&self.received),
            dropped_oversized: get(&self.dropped_oversized),
            dropped_unparsable: get(&self.dropped_unparsable),
            bad_requests: get(&self.bad_requests),
            dropped_banned: get(&self.dropped_banned),
            dropped_scanners: get(&self.dropped_scanners),
            keepalives: get(&self.keepalives),
            sent: get(&self.sent),
            send_errors: get(&self.send_errors),
        }
    }
}
