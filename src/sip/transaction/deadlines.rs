//! The deadline queue of the transaction table: a min-heap of (deadline, transaction) with
//! lazy deletion.
//!
//! RFC 3261 §17 gives every transaction up to two running timers (a retransmit timer and a
//! lifetime timer); the table only needs the earliest of all of them. A transaction whose
//! deadline moves simply gets a new entry; the table ignores entries that no longer match a
//! live transaction's current deadline. No §17 timer exceeds 64*T1, so stale entries pop out
//! within that horizon and the heap stays proportional to recent activity, with O(log n)
//! pushes and pops however many transactions are alive.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Instant;

use super::TransactionKey;

/// Which of the table's maps a deadline refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// A server transaction (requests received).
    Server,
    /// A client transaction (requests sent).
    Client,
}

/// One deadline of one transaction.
#[derive(Debug)]
pub(super) struct Scheduled {
    /// When the transaction's `handle_timeout` is due.
    pub(super) at: Instant,
    /// Insertion order, so equal deadlines fire first come, first served.
    seq: u64,
    /// The map holding the transaction.
    pub(super) side: Side,
    /// The transaction's key in that map.
    pub(super) key: TransactionKey,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The heap; validity of entries is the table's call.
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    heap: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
}

impl Deadlines {
    /// Records that transaction `key` on `side` is due at `at`.
    pub(super) fn push(&mut self, at: Instant, side: Side, key: TransactionKey) {
        self.seq += 1;
        let seq = self.seq;
        self.heap.push(Reverse(Scheduled { at, seq, side, key }));
    }

    /// The earliest entry, valid or not.
    pub(super) fn peek(&self) -> Option<&Scheduled> {
        self.heap.peek().map(|Reverse(s)| s)
    }

    /// Drops the earliest entry (a stale one, found by [`Self::peek`]).
    pub(super) fn pop(&mut self) {
        self.heap.pop();
    }

    /// Moves every entry due at or before `now` into `due`, earliest first.
    pub(super) fn pop_due(&mut self, now: Instant, due: &mut Vec<Scheduled>) {
        while self.peek().is_some_and(|s| s.at <= now) {
            if let Some(Reverse(s)) = self.heap.pop() {
                due.push(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::method::Method;
    use std::time::Duration;

    #[test]
    fn pops_in_deadline_then_insertion_order() {
        let t0 = Instant::now();
        let key = |b: &str| TransactionKey::for_request(b, Method::Options);
        let mut d = Deadlines::default();
        d.push(t0 + Duration::from_secs(2), Side::Server, key("late"));
        d.push(t0 + Duration::from_secs(1), Side::Client, key("first"));
        d.push(t0 + Duration::from_secs(1), Side::Server, key("second"));
        assert_eq!(d.peek().map(|s| s.at), Some(t0 + Duration::from_secs(1)));
        let mut due = Vec::new();
        d.pop_due(t0 + Duration::from_secs(1), &mut due);
        let order: Vec<_> = due.iter().map(|s| (&*s.key.branch, s.side)).collect();
        assert_eq!(order, [("first", Side::Client), ("second", Side::Server)]);
        d.pop();
        assert!(d.peek().is_none());
    }
}
