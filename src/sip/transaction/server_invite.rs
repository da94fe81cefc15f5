//! INVITE server transaction (RFC 3261 §17.2.1, Figure 7, with the Accepted state of RFC 6026).
//!
//! > "When a server transaction is constructed for a request, it enters the 'Proceeding'
//! > state." (§17.2.1)
//!
//! - Proceeding: the TU sends provisional responses; a retransmitted INVITE re-sends the last
//!   one. §17.2.1 wants a 100 (Trying) unless the TU answers within 200 ms; here the TU sends
//!   it itself through [`ServerInviteTransaction::send_response`], and
//!   [`ServerInviteTransaction::owes_trying`] says whether nothing has been sent yet.
//! - Accepted (RFC 6026): after a 2xx, timer L (64*T1) absorbs retransmitted INVITEs so they
//!   are not taken for new requests. Retransmitting the 2xx until the ACK arrives is the TU's
//!   job (§13.3.1.4, the dialog core); 2xx responses it sends in this state pass through.
//!   The ACK for a 2xx is its own transaction and goes to the TU.
//! - Completed: after a 3xx-6xx, timer G retransmits it on unreliable transports (T1,
//!   doubling, capped at T2) until the ACK arrives; timer H (64*T1) gives up and reports
//!   [`TransactionEvent::AckTimeout`]. A retransmitted INVITE re-sends the final response.
//! - Confirmed: the ACK arrived; timer I (T4 on UDP, zero on reliable transports) absorbs its
//!   retransmissions.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{
    check_status, due, earliest, Reliability, Timers, Transaction, TransactionError,
    TransactionEvent,
};

/// The states of Figure 7 as amended by RFC 6026.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerInviteState {
    /// Waiting for the TU's final response; provisional responses may have been sent.
    Proceeding,
    /// A 2xx was sent (RFC 6026); timer L absorbs INVITE retransmissions.
    Accepted,
    /// A 3xx-6xx was sent; retransmitted by timer G until the ACK, abandoned at timer H.
    Completed,
    /// The ACK arrived; timer I absorbs ACK retransmissions.
    Confirmed,
    /// Done; the owner may drop the transaction.
    Terminated,
}

/// The server side of an INVITE transaction.
#[derive(Debug)]
pub struct ServerInviteTransaction {
    reliability: Reliability,
    timers: Timers,
    state: ServerInviteState,
    last_response: Option<Bytes>,
    transmit: VecDeque<Bytes>,
    /// Timer G.
    retransmit_at: Option<Instant>,
    /// The interval timer G was last armed with.
    interval: Duration,
    /// Timer H, I or L, depending on the state.
    expire_at: Option<Instant>,
    event: Option<TransactionEvent>,
}

impl ServerInviteTransaction {
    /// A transaction for an INVITE just received, in Proceeding.
    pub fn new(reliability: Reliability, timers: Timers) -> Self {
        ServerInviteTransaction {
            reliability,
            timers,
            state: ServerInviteState::Proceeding,
            last_response: None,
            transmit: VecDeque::new(),
            retransmit_at: None,
            interval: timers.t1,
            expire_at: None,
            event: None,
        }
    }

    /// True while no response at all has been sent: the TU owes a 100 (Trying) unless it
    /// answers within 200 ms (§17.2.1).
    pub fn owes_trying(&self) -> bool {
        self.state == ServerInviteState::Proceeding && self.last_response.is_none()
    }

    /// A retransmission of the INVITE arrived: re-send the last provisional (Proceeding) or
    /// final (Completed) response; absorb it silently in the other states.
    pub fn handle_request(&mut self) {
        if matches!(
            self.state,
            ServerInviteState::Proceeding | ServerInviteState::Completed
        ) {
            if let Some(response) = &self.last_response {
                self.transmit.push_back(response.clone());
            }
        }
    }

    /// An ACK with this transaction's branch arrived. Returns true when it acknowledges the
    /// non-2xx final response (absorbed here); false when it is not this transaction's to
    /// absorb (an ACK for a 2xx, which belongs to the TU).
    pub fn handle_ack(&mut self, now: Instant) -> bool {
        match self.state {
            ServerInviteState::Completed => {
                self.retransmit_at = None;
                let wait = self.reliability.linger(self.timers.t4);
                if wait.is_zero() {
                    self.terminate();
                } else {
                    self.state = ServerInviteState::Confirmed;
                    self.expire_at = Some(now + wait);
                }
                true
            }
            ServerInviteState::Confirmed => true,
            ServerInviteState::Proceeding
            | ServerInviteState::Accepted
            | ServerInviteState::Terminated => false,
        }
    }

    /// The TU sends a response with `status`: 1xx stays in Proceeding, 2xx moves to Accepted
    /// (and further 2xx pass through there), 3xx-6xx moves to Completed.
    pub fn send_response(
        &mut self,
        status: u16,
        response: Bytes,
        now: Instant,
    ) -> Result<(), TransactionError> {
        check_status(status)?;
        let accepted_2xx =
            self.state == ServerInviteState::Accepted && (200..300).contains(&status);
        if self.state != ServerInviteState::Proceeding && !accepted_2xx {
            return Err(TransactionError::AlreadyFinal);
        }
        self.transmit.push_back(response.clone());
        self.last_response = Some(response);
        if accepted_2xx || status < 200 {
            return Ok(());
        }
        self.expire_at = Some(now + self.timers.long());
        if status < 300 {
            self.state = ServerInviteState::Accepted;
        } else {
            self.state = ServerInviteState::Completed;
            if self.reliability.retransmits() {
                self.interval = self.timers.t1;
                self.retransmit_at = Some(now + self.interval);
            }
        }
        Ok(())
    }

    /// The current state.
    pub fn state(&self) -> ServerInviteState {
        self.state
    }

    fn terminate(&mut self) {
        self.state = ServerInviteState::Terminated;
        self.retransmit_at = None;
        self.expire_at = None;
    }
}

impl Transaction for ServerInviteTransaction {
    fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        earliest(self.retransmit_at, self.expire_at)
    }

    /// Fires the due timers: H (report, terminate), I and L (terminate), G (retransmit).
    fn handle_timeout(&mut self, now: Instant) {
        if due(self.expire_at, now) {
            if self.state == ServerInviteState::Completed {
                self.event = Some(TransactionEvent::AckTimeout);
            }
            self.terminate();
            return;
        }
        if due(self.retransmit_at, now) {
            if let Some(response) = &self.last_response {
                self.transmit.push_back(response.clone());
            }
            self.interval = self.timers.backoff_capped(self.interval);
            self.retransmit_at = Some(now + self.interval);
        }
    }

    /// What the TU must hear: [`TransactionEvent::AckTimeout`] when timer H fired.
    fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.event.take()
    }

    fn is_terminated(&self) -> bool {
        self.state == ServerInviteState::Terminated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn udp() -> ServerInviteTransaction {
        ServerInviteTransaction::new(Reliability::Unreliable, Timers::default())
    }

    /// Runs every timer to the end, returning the offsets (ms) at which something was sent.
    fn run(tx: &mut ServerInviteTransaction, t0: Instant) -> Vec<u128> {
        let mut sent = Vec::new();
        while let Some(at) = tx.poll_timeout() {
            tx.handle_timeout(at);
            while tx.poll_transmit().is_some() {
                sent.push((at - t0).as_millis());
            }
        }
        sent
    }

    #[test]
    fn trying_is_owed_until_the_tu_responds() {
        let t0 = Instant::now();
        let mut tx = udp();
        assert!(tx.owes_trying());
        tx.handle_request();
        assert_eq!(tx.poll_transmit(), None);
        tx.send_response(100, Bytes::from_static(b"100"), t0)
            .unwrap();
        assert!(!tx.owes_trying());
        tx.send_response(180, Bytes::from_static(b"180"), t0)
            .unwrap();
        tx.poll_transmit();
        tx.poll_transmit();
        tx.handle_request();
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"180"[..]));
        assert_eq!(tx.state(), ServerInviteState::Proceeding);
        assert_eq!(tx.poll_timeout(), None);
    }

    #[test]
    fn accepted_absorbs_invites_and_ends_at_timer_l() {
        let t0 = Instant::now();
        let mut tx = udp();
        tx.send_response(200, Bytes::from_static(b"200"), t0)
            .unwrap();
        assert_eq!(tx.state(), ServerInviteState::Accepted);
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"200"[..]));
        tx.handle_request();
        assert_eq!(tx.poll_transmit(), None);
        assert!(!tx.handle_ack(t0));
        tx.send_response(200, Bytes::from_static(b"200 again"), t0 + MS)
            .unwrap();
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"200 again"[..]));
        assert_eq!(
            tx.send_response(486, Bytes::new(), t0),
            Err(TransactionError::AlreadyFinal)
        );
        assert_eq!(tx.poll_timeout(), Some(t0 + 32_000 * MS));
        assert!(run(&mut tx, t0).is_empty());
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_event(), None);
    }

    #[test]
    fn timer_g_doubles_to_t2_and_timer_h_reports() {
        let t0 = Instant::now();
        let mut tx = udp();
        tx.send_response(486, Bytes::from_static(b"486"), t0)
            .unwrap();
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"486"[..]));
        assert_eq!(tx.state(), ServerInviteState::Completed);
        let sent = run(&mut tx, t0);
        assert_eq!(
            sent,
            [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
        );
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_event(), Some(TransactionEvent::AckTimeout));
        assert_eq!(tx.poll_event(), None);
    }

    #[test]
    fn timer_g_caps_at_a_small_t2() {
        let t0 = Instant::now();
        let timers = Timers::new(100 * MS, 300 * MS, 1000 * MS);
        let mut tx = ServerInviteTransaction::new(Reliability::Unreliable, timers);
        tx.send_response(603, Bytes::from_static(b"603"), t0)
            .unwrap();
        tx.poll_transmit();
        let sent = run(&mut tx, t0);
        assert_eq!(&sent[..5], [100, 300, 600, 900, 1200]);
        assert_eq!(sent.last(), Some(&6300));
    }

    #[test]
    fn retransmitted_invite_in_completed_resends_the_final() {
        let t0 = Instant::now();
        let mut tx = udp();
        tx.send_response(404, Bytes::from_static(b"404"), t0)
            .unwrap();
        tx.poll_transmit();
        tx.handle_request();
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"404"[..]));
    }

    #[test]
    fn ack_confirms_stops_g_and_timer_i_ends() {
        let t0 = Instant::now();
        let mut tx = udp();
        tx.send_response(486, Bytes::from_static(b"486"), t0)
            .unwrap();
        tx.poll_transmit();
        tx.handle_timeout(t0 + 500 * MS);
        assert!(tx.poll_transmit().is_some());
        assert!(tx.handle_ack(t0 + 700 * MS));
        assert_eq!(tx.state(), ServerInviteState::Confirmed);
        assert!(tx.handle_ack(t0 + 800 * MS));
        tx.handle_request();
        assert_eq!(tx.poll_transmit(), None);
        assert_eq!(tx.poll_timeout(), Some(t0 + 5700 * MS));
        assert!(run(&mut tx, t0).is_empty());
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_event(), None);
    }

    #[test]
    fn reliable_has_no_g_but_keeps_h_and_zero_i() {
        let t0 = Instant::now();
        let mut tx = ServerInviteTransaction::new(Reliability::Reliable, Timers::default());
        tx.send_response(480, Bytes::from_static(b"480"), t0)
            .unwrap();
        tx.poll_transmit();
        assert_eq!(tx.poll_timeout(), Some(t0 + 32_000 * MS));
        assert!(tx.handle_ack(t0 + MS));
        assert!(tx.is_terminated());

        let mut tx = ServerInviteTransaction::new(Reliability::Reliable, Timers::default());
        tx.send_response(480, Bytes::from_static(b"480"), t0)
            .unwrap();
        tx.poll_transmit();
        assert!(run(&mut tx, t0).is_empty());
        assert_eq!(tx.poll_event(), Some(TransactionEvent::AckTimeout));
    }
}
