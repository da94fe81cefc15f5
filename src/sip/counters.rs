//! Counters of SIP messages (sans-IO): requests by method and responses by status class, each
//! way, and retransmissions, as the transaction table ([`super::transaction::table`]) sees
//! them. Plain relaxed atomics in fixed arrays indexed by method or class, so counting costs
//! one `fetch_add` per message and readers (the `/metrics` scrape) never block the SIP task.

use std::sync::atomic::{AtomicU64, Ordering};

use super::method::Method;

/// Every method a counter is kept for: the known ones, then `Unknown`.
pub const COUNTED_METHODS: [Method; Method::KNOWN.len() + 1] = {
    let mut all = [Method::Unknown; Method::KNOWN.len() + 1];
    let mut i = 0;
    while i < Method::KNOWN.len() {
        all[i] = Method::KNOWN[i];
        i += 1;
    }
    all
};

/// The status classes counted: `1xx` to `6xx` (RFC 3261 §7.2).
pub const STATUS_CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "6xx"];

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received from the network.
    Received,
    /// Sent by this PBX.
    Sent,
}

impl Direction {
    /// Both directions, received first.
    pub const BOTH: [Direction; 2] = [Direction::Received, Direction::Sent];

    /// The label value: `received` or `sent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Received => "received",
            Direction::Sent => "sent",
        }
    }

    fn index(self) -> usize {
        match self {
            Direction::Received => 0,
            Direction::Sent => 1,
        }
    }
}

/// One counter per (direction, method), per (direction, class) and per direction of
/// retransmissions; shared between the SIP task that bumps and the readers.
#[derive(Debug, Default)]
pub struct SipCounters {
    requests: [[AtomicU64; COUNTED_METHODS.len()]; 2],
    responses: [[AtomicU64; STATUS_CLASSES.len()]; 2],
    retransmissions: [AtomicU64; 2],
    /// Transactions alive, as last published by the SIP task.
    transactions: AtomicU64,
}

fn method_index(method: Method) -> usize {
    COUNTED_METHODS
        .iter()
        .position(|m| *m == method)
        .unwrap_or(COUNTED_METHODS.len() - 1)
}

/// The class index of `status` (`1xx` is 0); a status outside 100–699 (which the parser
/// never yields) is clamped into the nearest class rather than lost.
fn class_index(status: u16) -> usize {
    (usize::from(status / 100)).clamp(1, STATUS_CLASSES.len()) - 1
}

impl SipCounters {
    /// Counts a request (not a retransmission of one) going `direction`.
    pub fn request(&self, direction: Direction, method: Method) {
        self.requests[direction.index()][method_index(method)].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a response with `status` going `direction`.
    pub fn response(&self, direction: Direction, status: u16) {
        self.responses[direction.index()][class_index(status)].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `count` retransmitted messages going `direction`.
    pub fn retransmissions(&self, direction: Direction, count: u64) {
        if count > 0 {
            self.retransmissions[direction.index()].fetch_add(count, Ordering::Relaxed);
        }
    }

    /// Publishes how many transactions are alive now.
    pub fn set_transactions(&self, alive: usize) {
        self.transactions.store(alive as u64, Ordering::Relaxed);
    }

    /// Requests counted going `direction` with `method`.
    pub fn requests(&self, direction: Direction, method: Method) -> u64 {
        self.requests[direction.index()][method_index(method)].load(Ordering::Relaxed)
    }

    /// Responses counted going `direction` in class `STATUS_CLASSES[class]`.
    pub fn responses(&self, direction: Direction, class: usize) -> u64 {
        self.responses[direction.index()]
            .get(class)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Retransmissions counted going `direction`.
    pub fn retransmitted(&self, direction: Direction) -> u64 {
        self.retransmissions[direction.index()].load(Ordering::Relaxed)
    }

    /// Transactions alive when last published.
    pub fn transactions(&self) -> u64 {
        self.transactions.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_count_by_method_and_direction() {
        let counters = SipCounters::default();
        counters.request(Direction::Received, Method::Invite);
        counters.request(Direction::Received, Method::Invite);
        counters.request(Direction::Sent, Method::Bye);
        assert_eq!(counters.requests(Direction::Received, Method::Invite), 2);
        assert_eq!(counters.requests(Direction::Sent, Method::Invite), 0);
        assert_eq!(counters.requests(Direction::Sent, Method::Bye), 1);
    }

    #[test]
    fn responses_count_by_class_and_out_of_range_codes_are_clamped() {
        let counters = SipCounters::default();
        for status in [100, 180, 200, 486, 603, 42, 999] {
            counters.response(Direction::Sent, status);
        }
        let sent: Vec<u64> = (0..STATUS_CLASSES.len())
            .map(|class| counters.responses(Direction::Sent, class))
            .collect();
        assert_eq!(sent, vec![3, 1, 0, 1, 0, 2]);
        assert_eq!(counters.responses(Direction::Received, 1), 0);
    }

    #[test]
    fn unknown_methods_share_one_counter() {
        let counters = SipCounters::default();
        counters.request(Direction::Received, Method::Unknown);
        assert_eq!(counters.requests(Direction::Received, Method::Unknown), 1);
        assert_eq!(
            method_index(Method::Unknown),
            COUNTED_METHODS.len() - 1,
            "Unknown is the last counted method"
        );
    }
}
