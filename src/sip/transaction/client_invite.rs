//! INVITE client transaction (RFC 3261 §17.1.1, Figure 5, with the Accepted state of RFC 6026).
//!
//! > "The initial state, 'calling', MUST be entered when the TU initiates a new client
//! > transaction with an INVITE request." (§17.1.1.2)
//!
//! - Calling: timer A retransmits the INVITE on unreliable transports (T1, doubling, no cap);
//!   timer B (64*T1) reports [`TransactionEvent::RequestTimeout`].
//! - Proceeding (a provisional arrived): no more retransmissions; the TU bounds the wait
//!   itself (CANCEL, and per §9.1 [`crate::sip::transaction::table::TransactionTable::abandon_client`]).
//! - Accepted (RFC 6026, a 2xx arrived): every 2xx, retransmitted or from another fork, goes
//!   to the TU, which ACKs 2xx responses itself (§13.2.2.4); timer M (64*T1) ends it.
//! - Completed (a 3xx-6xx arrived): the first final is delivered with
//!   [`ResponseDisposition::DeliverAndAck`]; the owner builds the ACK (§17.1.1.3) and hands it
//!   to [`ClientInviteTransaction::send_ack`] at once, before the next timeout is handled.
//!   It is sent, and re-sent for every retransmission of the final, until timer D (32 s on
//!   UDP, zero on reliable transports).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{
    due, earliest, Reliability, ResponseDisposition, Timers, Transaction, TransactionError,
    TransactionEvent, TIMER_D_UNRELIABLE,
};

/// The states of Figure 5 as amended by RFC 6026.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientInviteState {
    /// The INVITE was sent; no response yet.
    Calling,
    /// A provisional response arrived.
    Proceeding,
    /// A 2xx arrived (RFC 6026); timer M lets further 2xx reach the TU.
    Accepted,
    /// A 3xx-6xx arrived and is acknowledged; timer D absorbs its retransmissions.
    Completed,
    /// Done; the owner may drop the transaction.
    Terminated,
}

/// The client side of an INVITE transaction.
#[derive(Debug)]
pub struct ClientInviteTransaction {
    reliability: Reliability,
    timers: Timers,
    state: ClientInviteState,
    request: Bytes,
    ack: Option<Bytes>,
    transmit: VecDeque<Bytes>,
    /// Timer A.
    retransmit_at: Option<Instant>,
    /// The interval timer A was last armed with.
    interval: Duration,
    /// Timer B, D or M, depending on the state.
    expire_at: Option<Instant>,
    event: Option<TransactionEvent>,
}

impl ClientInviteTransaction {
    /// Starts the transaction: queues the INVITE `request` and arms timers A and B.
    pub fn new(request: Bytes, reliability: Reliability, timers: Timers, now: Instant) -> Self {
        let retransmit_at = reliability.retransmits().then(|| now + timers.t1);
        ClientInviteTransaction {
            reliability,
            timers,
            state: ClientInviteState::Calling,
            request: request.clone(),
            ack: None,
            transmit: VecDeque::from([request]),
            retransmit_at,
            interval: timers.t1,
            expire_at: Some(now + timers.long()),
            event: None,
        }
    }

    /// The INVITE this transaction sends, from which the owner builds the ACK (§17.1.1.3).
    pub fn request(&self) -> &Bytes {
        &self.request
    }

    /// A response with `status` matched this transaction (§17.1.3). Statuses outside
    /// 100..=699 are malformed and absorbed.
    pub fn handle_response(&mut self, status: u16, now: Instant) -> ResponseDisposition {
        if !(100..=699).contains(&status) {
            return ResponseDisposition::Absorb;
        }
        match self.state {
            ClientInviteState::Calling | ClientInviteState::Proceeding => {
                self.retransmit_at = None;
                if status < 200 {
                    self.state = ClientInviteState::Proceeding;
                    self.expire_at = None;
                    ResponseDisposition::Deliver
                } else if status < 300 {
                    self.state = ClientInviteState::Accepted;
                    self.expire_at = Some(now + self.timers.long());
                    ResponseDisposition::Deliver
                } else {
                    self.state = ClientInviteState::Completed;
                    self.expire_at = Some(now + self.reliability.linger(TIMER_D_UNRELIABLE));
                    ResponseDisposition::DeliverAndAck
                }
            }
            ClientInviteState::Accepted if (200..300).contains(&status) => {
                ResponseDisposition::Deliver
            }
            ClientInviteState::Completed if status >= 300 => {
                if let Some(ack) = &self.ack {
                    self.transmit.push_back(ack.clone());
                }
                ResponseDisposition::Absorb
            }
            _ => ResponseDisposition::Absorb,
        }
    }

    /// The owner's ACK for the 3xx-6xx final response: sent now and for every retransmission
    /// of that response. Only valid once, in Completed.
    pub fn send_ack(&mut self, ack: Bytes) -> Result<(), TransactionError> {
        if self.state != ClientInviteState::Completed || self.ack.is_some() {
            return Err(TransactionError::AckNotExpected);
        }
        self.transmit.push_back(ack.clone());
        self.ack = Some(ack);
        Ok(())
    }

    /// The current state.
    pub fn state(&self) -> ClientInviteState {
        self.state
    }
}

impl Transaction for ClientInviteTransaction {
    fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        earliest(self.retransmit_at, self.expire_at)
    }

    /// Fires the due timers: B (report, terminate), D and M (terminate), A (retransmit).
    fn handle_timeout(&mut self, now: Instant) {
        if due(self.expire_at, now) {
            if self.state == ClientInviteState::Calling {
                self.event = Some(TransactionEvent::RequestTimeout);
            }
            self.state = ClientInviteState::Terminated;
            self.retransmit_at = None;
            self.expire_at = None;
            return;
        }
        if due(self.retransmit_at, now) {
            self.transmit.push_back(self.request.clone());
            self.interval *= 2;
            self.retransmit_at = Some(now + self.interval);
        }
    }

    /// What the TU must hear: [`TransactionEvent::RequestTimeout`] when timer B fired.
    fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.event.take()
    }

    fn is_terminated(&self) -> bool {
        self.state == ClientInviteState::Terminated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn start(reliability: Reliability, t0: Instant) -> ClientInviteTransaction {
        let mut tx = ClientInviteTransaction::new(
            Bytes::from_static(b"INVITE"),
            reliability,
            Timers::default(),
            t0,
        );
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"INVITE"[..]));
        tx
    }

    /// Runs every timer to the end, returning what was sent and when (ms).
    fn run(tx: &mut ClientInviteTransaction, t0: Instant) -> Vec<(u128, Bytes)> {
        let mut sent = Vec::new();
        while let Some(at) = tx.poll_timeout() {
            tx.handle_timeout(at);
            while let Some(out) = tx.poll_transmit() {
                sent.push(((at - t0).as_millis(), out));
            }
        }
        sent
    }

    fn offsets(sent: &[(u128, Bytes)]) -> Vec<u128> {
        sent.iter().map(|(at, _)| *at).collect()
    }

    #[test]
    fn timer_a_doubles_and_timer_b_times_out() {
        let t0 = Instant::now();
        let mut tx = start(Reliability::Unreliable, t0);
        let sent = run(&mut tx, t0);
        assert_eq!(offsets(&sent), [500, 1500, 3500, 7500, 15500, 31500]);
        assert!(sent.iter().all(|(_, b)| b == "INVITE"));
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_event(), Some(TransactionEvent::RequestTimeout));
        assert_eq!(tx.poll_event(), None);
    }

    #[test]
    fn provisional_stops_timer_a_and_b() {
        let t0 = Instant::now();
        let mut tx = start(Reliability::Unreliable, t0);
        tx.handle_timeout(t0 + 500 * MS);
        assert!(tx.poll_transmit().is_some());
        let at = t0 + 600 * MS;
        assert_eq!(tx.handle_response(100, at), ResponseDisposition::Deliver);
        assert_eq!(tx.handle_response(180, at), ResponseDisposition::Deliver);
        assert_eq!(tx.state(), ClientInviteState::Proceeding);
        assert_eq!(tx.poll_timeout(), None);
        assert_eq!(tx.poll_event(), None);
    }

    #[test]
    fn every_2xx_reaches_the_tu_until_timer_m() {
        let t0 = Instant::now();
        let mut tx = start(Reliability::Unreliable, t0);
        let at = t0 + 100 * MS;
        assert_eq!(tx.handle_response(180, at), ResponseDisposition::Deliver);
        assert_eq!(tx.handle_response(200, at), ResponseDisposition::Deliver);
        assert_eq!(tx.state(), ClientInviteState::Accepted);
        assert_eq!(tx.handle_response(200, at), ResponseDisposition::Deliver);
        assert_eq!(tx.handle_response(202, at), ResponseDisposition::Deliver);
        assert_eq!(tx.handle_response(180, at), ResponseDisposition::Absorb);
        assert_eq!(tx.handle_response(486, at), ResponseDisposition::Absorb);
        assert_eq!(
            tx.send_ack(Bytes::new()),
            Err(TransactionError::AckNotExpected)
        );
        assert_eq!(tx.poll_timeout(), Some(at + 32_000 * MS));
        assert!(run(&mut tx, t0).is_empty());
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_event(), None);
    }

    #[test]
    fn non_2xx_is_acked_and_the_ack_resent_until_timer_d() {
        let t0 = Instant::now();
        let mut tx = start(Reliability::Unreliable, t0);
        assert_eq!(
            tx.send_ack(Bytes::new()),
            Err(TransactionError::AckNotExpected)
        );
        let at = t0 + 100 * MS;
        assert_eq!(
            tx.handle_response(486, at),
            ResponseDisposition::DeliverAndAck
        );
        assert_eq!(tx.state(), ClientInviteState::Completed);
        assert_eq!(tx.request(), "INVITE");
        tx.send_ack(Bytes::from_static(b"ACK")).unwrap();
        assert_eq!(
            tx.send_ack(Bytes::from_static(b"ACK")),
            Err(TransactionError::AckNotExpected)
        );
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"ACK"[..]));
        for _ in 0..2 {
            assert_eq!(tx.handle_response(486, at), ResponseDisposition::Absorb);
            assert_eq!(tx.poll_transmit().as_deref(), Some(&b"ACK"[..]));
        }
        assert_eq!(tx.handle_response(200, at), ResponseDisposition::Absorb);
        assert_eq!(tx.poll_transmit(), None);
        assert_eq!(tx.poll_timeout(), Some(at + 32_000 * MS));
        assert!(run(&mut tx, t0).is_empty());
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_event(), None);
    }

    #[test]
    fn reliable_has_no_a_keeps_b_and_zero_d() {
        let t0 = Instant::now();
        let mut tx = start(Reliability::Reliable, t0);
        assert_eq!(tx.poll_timeout(), Some(t0 + 32_000 * MS));
        let at = t0 + 100 * MS;
        assert_eq!(
            tx.handle_response(603, at),
            ResponseDisposition::DeliverAndAck
        );
        tx.send_ack(Bytes::from_static(b"ACK")).unwrap();
        assert_eq!(tx.poll_timeout(), Some(at));
        tx.handle_timeout(at);
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"ACK"[..]));

        let mut tx = start(Reliability::Reliable, t0);
        assert!(run(&mut tx, t0).is_empty());
        assert_eq!(tx.poll_event(), Some(TransactionEvent::RequestTimeout));
    }
}
