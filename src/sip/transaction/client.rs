//! Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6).
//!
//! > "When the transaction is constructed, the client transaction MUST set timer F to fire in
//! > 64*T1 seconds. ... If an unreliable transport is in use, the client transaction MUST set
//! > timer E to fire in T1 seconds." (§17.1.2.2)
//!
//! - Trying: timer E retransmits the request (T1, doubling, capped at T2).
//! - Proceeding (a provisional arrived): timer E keeps retransmitting, every T2.
//! - Timer F (64*T1) in either state reports [`TransactionEvent::RequestTimeout`]; the TU
//!   then behaves as if a 408 had arrived.
//! - Completed (a final arrived): timer K (T4 on UDP, zero on reliable transports) absorbs
//!   response retransmissions.
//!
//! The owner feeds responses to [`ClientTransaction::handle_response`], which says whether the
//! TU sees each one.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{
    due, earliest, Reliability, ResponseDisposition, Timers, Transaction, TransactionEvent,
};

/// The states of Figure 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// The request was sent; no response yet.
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived; timer K absorbs its retransmissions.
    Completed,
    /// Done; the owner may drop the transaction.
    Terminated,
}

/// The client side of a non-INVITE transaction.
#[derive(Debug)]
pub struct ClientTransaction {
    reliability: Reliability,
    timers: Timers,
    state: ClientState,
    request: Bytes,
    transmit: VecDeque<Bytes>,
    /// Timer E.
    retransmit_at: Option<Instant>,
    /// The interval timer E was last armed with.
    interval: Duration,
    /// Timer F, then timer K.
    expire_at: Option<Instant>,
    event: Option<TransactionEvent>,
}

impl ClientTransaction {
    /// Starts the transaction: queues `request` for sending and arms timers E and F.
    pub fn new(request: Bytes, reliability: Reliability, timers: Timers, now: Instant) -> Self {
        let retransmit_at = reliability.retransmits().then(|| now + timers.t1);
        ClientTransaction {
            reliability,
            timers,
            state: ClientState::Trying,
            request: request.clone(),
            transmit: VecDeque::from([request]),
            retransmit_at,
            interval: timers.t1,
            expire_at: Some(now + timers.long()),
            event: None,
        }
    }

    /// A response with `status` matched this transaction (§17.1.3). Statuses outside
    /// 100..=699 are malformed and absorbed.
    pub fn handle_response(&mut self, status: u16, now: Instant) -> ResponseDisposition {
        if !(100..=699).contains(&status)
            || matches!(self.state, ClientState::Completed | ClientState::Terminated)
        {
            return ResponseDisposition::Absorb;
        }
        if status < 200 {
            self.state = ClientState::Proceeding;
            return ResponseDisposition::Deliver;
        }
        self.retransmit_at = None;
        let wait = self.reliability.linger(self.timers.t4);
        if wait.is_zero() {
            self.terminate();
        } else {
            self.state = ClientState::Completed;
            self.expire_at = Some(now + wait);
        }
        ResponseDisposition::Deliver
    }

    /// The current state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    fn terminate(&mut self) {
        self.state = ClientState::Terminated;
        self.retransmit_at = None;
        self.expire_at = None;
    }
}

impl Transaction for ClientTransaction {
    fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        earliest(self.retransmit_at, self.expire_at)
    }

    /// Fires the due timers: F (report, terminate), K (terminate), E (retransmit).
    fn handle_timeout(&mut self, now: Instant) {
        if due(self.expire_at, now) {
            if matches!(self.state, ClientState::Trying | ClientState::Proceeding) {
                self.event = Some(TransactionEvent::RequestTimeout);
            }
            self.terminate();
            return;
        }
        if due(self.retransmit_at, now) {
            self.transmit.push_back(self.request.clone());
            self.interval = match self.state {
                ClientState::Proceeding => self.timers.t2,
                _ => self.timers.backoff_capped(self.interval),
            };
            self.retransmit_at = Some(now + self.interval);
        }
    }

    /// What the TU must hear: [`TransactionEvent::RequestTimeout`] when timer F fired.
    fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.event.take()
    }

    fn is_terminated(&self) -> bool {
        self.state == ClientState::Terminated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn start(reliability: Reliability, t0: Instant) -> ClientTransaction {
        let mut tx = ClientTransaction::new(
            Bytes::from_static(b"OPTIONS"),
            reliability,
            Timers::default(),
            t0,
        );
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"OPTIONS"[..]));
        tx
    }

    /// Runs the timers until `end` or termination, returning the send offsets (ms).
    fn run(tx: &mut ClientTransaction, t0: Instant, end: Instant) -> Vec<u128> {
        let mut sent = Vec::new();
        while let Some(at) = tx.poll_timeout().filter(|&at| at <= end) {
            tx.handle_timeout(at);
            while tx.poll_transmit().is_some() {
                sent.push((at - t0).as_millis());
            }
        }
        sent
    }

    #[test]
    fn timer_e_doubles_to_t2_and_timer_f_times_out() {
        let t0 = Instant::now();
        let mut tx = start(Reliability::Unreliable, t0);
        let sent = run(&mut tx, t0, t0 + 60_000 * MS);
        assert_eq!(
            sent,
            [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
        );
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_event(), Some(TransactionEvent::RequestTimeout));
        assert_eq!(tx.poll_event(), None);
    }

    #[test]
    fn proceeding_retransmits_every_t2_until_f() {
        let t0 = Instant::now();
        let mut tx = start(Reliability::Unreliable, t0);
        assert_eq!(run(&mut tx, t0, t0 + 600 * MS), [500]);
        assert_eq!(
            tx.handle_response(100, t0 + 600 * MS),
            ResponseDisposition::Deliver
        );
        assert_eq!(tx.state(), ClientState::Proceeding);
        let sent = run(&mut tx, t0, t0 + 60_000 * MS);
        assert_eq!(sent, [1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500]);
        assert_eq!(tx.poll_event(), Some(TransactionEvent::RequestTimeout));
    }

    #[test]
    fn final_response_is_delivered_once_and_timer_k_ends() {
        let t0 = Instant::now();
        let mut tx = start(Reliability::Unreliable, t0);
        let at = t0 + 200 * MS;
        assert_eq!(tx.handle_response(180, at), ResponseDisposition::Deliver);
        assert_eq!(tx.handle_response(183, at), ResponseDisposition::Deliver);
        assert_eq!(tx.handle_response(200, at), ResponseDisposition::Deliver);
        assert_eq!(tx.state(), ClientState::Completed);
        assert_eq!(tx.handle_response(200, at), ResponseDisposition::Absorb);
        assert_eq!(tx.handle_response(100, at), ResponseDisposition::Absorb);
        assert_eq!(tx.poll_timeout(), Some(at + 5000 * MS));
        assert!(run(&mut tx, t0, t0 + 60_000 * MS).is_empty());
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_event(), None);
    }

    #[test]
    fn malformed_status_is_absorbed() {
        let t0 = Instant::now();
        let mut tx = start(Reliability::Unreliable, t0);
        assert_eq!(tx.handle_response(42, t0), ResponseDisposition::Absorb);
        assert_eq!(tx.handle_response(700, t0), ResponseDisposition::Absorb);
        assert_eq!(tx.state(), ClientState::Trying);
    }

    #[test]
    fn reliable_has_no_e_keeps_f_and_zero_k() {
        let t0 = Instant::now();
        let mut tx = start(Reliability::Reliable, t0);
        assert_eq!(tx.poll_timeout(), Some(t0 + 32_000 * MS));
        assert_eq!(
            tx.handle_response(408, t0 + MS),
            ResponseDisposition::Deliver
        );
        assert!(tx.is_terminated());

        let mut tx = start(Reliability::Reliable, t0);
        assert!(run(&mut tx, t0, t0 + 60_000 * MS).is_empty());
        assert_eq!(tx.poll_event(), Some(TransactionEvent::RequestTimeout));
    }
}
