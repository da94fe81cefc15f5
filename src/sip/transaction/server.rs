//! Non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8).
//!
//! > "The state machine is initialized in the 'Trying' state and is passed a request other
//! > than INVITE or ACK when initialized." (§17.2.2)
//!
//! The TU answers through [`ServerTransaction::send_response`]; retransmitted requests are
//! absorbed here and answered with the last response sent, so a retransmitted REGISTER gets the
//! stored response instead of being processed twice. After the final response the transaction
//! lingers in Completed for timer J (64*T1 on UDP, zero on reliable transports). The edge
//! drains [`ServerTransaction::poll_transmit`] and drives [`ServerTransaction::handle_timeout`].
//! No timer here concerns the TU, so the machine has no events.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use super::{check_status, due, Reliability, Timers, Transaction, TransactionError};

/// The states of Figure 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// The request arrived; the TU has not answered yet.
    Trying,
    /// The TU sent a provisional response.
    Proceeding,
    /// The TU sent a final response; timer J absorbs request retransmissions.
    Completed,
    /// Done; the owner may drop the transaction.
    Terminated,
}

/// The server side of a non-INVITE transaction.
#[derive(Debug)]
pub struct ServerTransaction {
    reliability: Reliability,
    timers: Timers,
    state: ServerState,
    last_response: Option<Bytes>,
    transmit: VecDeque<Bytes>,
    timer_j: Option<Instant>,
}

impl ServerTransaction {
    /// A transaction for a request just received (not ACK, not INVITE), in Trying.
    pub fn new(reliability: Reliability, timers: Timers) -> Self {
        ServerTransaction {
            reliability,
            timers,
            state: ServerState::Trying,
            last_response: None,
            transmit: VecDeque::new(),
            timer_j: None,
        }
    }

    /// A retransmission of the request arrived: re-send the last response, if any (§17.2.2).
    pub fn handle_request(&mut self) {
        if matches!(self.state, ServerState::Proceeding | ServerState::Completed) {
            if let Some(response) = &self.last_response {
                self.transmit.push_back(response.clone());
            }
        }
    }

    /// The TU sends a response with `status`; a final one moves to Completed and starts timer J.
    pub fn send_response(
        &mut self,
        status: u16,
        response: Bytes,
        now: Instant,
    ) -> Result<(), TransactionError> {
        check_status(status)?;
        if matches!(self.state, ServerState::Completed | ServerState::Terminated) {
            return Err(TransactionError::AlreadyFinal);
        }
        self.transmit.push_back(response.clone());
        self.last_response = Some(response);
        if status < 200 {
            self.state = ServerState::Proceeding;
            return Ok(());
        }
        let wait = self.reliability.linger(self.timers.long());
        if wait.is_zero() {
            self.state = ServerState::Terminated;
        } else {
            self.state = ServerState::Completed;
            self.timer_j = Some(now + wait);
        }
        Ok(())
    }

    /// The current state.
    pub fn state(&self) -> ServerState {
        self.state
    }
}

impl Transaction for ServerTransaction {
    fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.timer_j
    }

    /// Fires timer J when due: Completed moves to Terminated.
    fn handle_timeout(&mut self, now: Instant) {
        if due(self.timer_j, now) {
            self.timer_j = None;
            self.state = ServerState::Terminated;
        }
    }

    fn is_terminated(&self) -> bool {
        self.state == ServerState::Terminated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn udp() -> ServerTransaction {
        ServerTransaction::new(Reliability::Unreliable, Timers::default())
    }

    #[test]
    fn retransmission_in_trying_is_absorbed_silently() {
        let mut tx = udp();
        tx.handle_request();
        assert_eq!(tx.poll_transmit(), None);
        assert_eq!(tx.state(), ServerState::Trying);
        assert_eq!(tx.poll_timeout(), None);
    }

    #[test]
    fn retransmitted_request_gets_the_stored_response() {
        let t0 = Instant::now();
        let mut tx = udp();
        tx.send_response(100, Bytes::from_static(b"100"), t0)
            .unwrap();
        assert_eq!(tx.state(), ServerState::Proceeding);
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"100"[..]));
        tx.handle_request();
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"100"[..]));

        tx.send_response(200, Bytes::from_static(b"200 REGISTER"), t0)
            .unwrap();
        assert_eq!(tx.state(), ServerState::Completed);
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"200 REGISTER"[..]));
        for _ in 0..3 {
            tx.handle_request();
            assert_eq!(tx.poll_transmit().as_deref(), Some(&b"200 REGISTER"[..]));
            assert_eq!(tx.poll_transmit(), None);
        }
    }

    #[test]
    fn timer_j_is_64_t1_on_udp() {
        let t0 = Instant::now();
        let mut tx = udp();
        tx.send_response(404, Bytes::from_static(b"404"), t0)
            .unwrap();
        let j = t0 + Duration::from_secs(32);
        assert_eq!(tx.poll_timeout(), Some(j));
        tx.handle_timeout(j - Duration::from_millis(1));
        assert_eq!(tx.state(), ServerState::Completed);
        tx.handle_timeout(j);
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_timeout(), None);
    }

    #[test]
    fn reliable_final_terminates_at_once_but_still_sends() {
        let t0 = Instant::now();
        let mut tx = ServerTransaction::new(Reliability::Reliable, Timers::default());
        tx.send_response(200, Bytes::from_static(b"200"), t0)
            .unwrap();
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"200"[..]));
        assert_eq!(tx.poll_timeout(), None);
    }

    #[test]
    fn second_final_and_bad_status_are_refused() {
        let t0 = Instant::now();
        let mut tx = udp();
        assert_eq!(
            tx.send_response(99, Bytes::new(), t0),
            Err(TransactionError::InvalidStatus(99))
        );
        tx.send_response(486, Bytes::from_static(b"486"), t0)
            .unwrap();
        assert_eq!(
            tx.send_response(200, Bytes::new(), t0),
            Err(TransactionError::AlreadyFinal)
        );
        assert_eq!(tx.poll_transmit().as_deref(), Some(&b"486"[..]));
        assert_eq!(tx.poll_transmit(), None);
    }
}
