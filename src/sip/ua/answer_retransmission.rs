//! Retransmission of a 2xx to INVITE by the UAS core until its ACK comes (RFC 3261
//! §13.3.1.4), sans-IO: the 2xx goes again after T1, then at doubling intervals capped at
//! T2; without an ACK for 64·T1 the UAS gives up and ends the dialog with BYE. A re-INVITE's
//! 2xx is retransmitted the same way.

use std::time::{Duration, Instant};

use crate::sip::transaction::Timers;

/// What is due when the retransmission timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerDue {
    /// Send the 2xx again.
    Retransmit,
    /// No ACK within 64·T1: give up (BYE the dialog, §13.3.1.4).
    GiveUp,
}

/// The retransmission schedule of one 2xx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRetransmission {
    next: Instant,
    interval: Duration,
    t2: Duration,
    give_up: Instant,
}

impl AnswerRetransmission {
    /// A 2xx sent at `now`.
    pub fn new(now: Instant, timers: Timers) -> AnswerRetransmission {
        AnswerRetransmission {
            next: now + timers.t1,
            interval: timers.t1,
            t2: timers.t2,
            give_up: now + 64 * timers.t1,
        }
    }

    /// When [`AnswerRetransmission::handle_timeout`] must next run.
    pub fn poll_timeout(&self) -> Instant {
        self.next.min(self.give_up)
    }

    /// What is due at `now`, if anything; a retransmission moves the schedule on.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<AnswerDue> {
        if now >= self.give_up {
            return Some(AnswerDue::GiveUp);
        }
        if now < self.next {
            return None;
        }
        self.interval = (self.interval * 2).min(self.t2);
        self.next = now + self.interval;
        Some(AnswerDue::Retransmit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the schedule on a simulated clock in 1 ms steps and returns when each
    /// retransmission happened (ms after the 2xx) and when it gave up.
    fn schedule() -> (Vec<u64>, u64) {
        let start = Instant::now();
        let mut machine = AnswerRetransmission::new(start, Timers::default());
        let mut sent = Vec::new();
        for ms in 0..40_000 {
            let now = start + Duration::from_millis(ms);
            if now < machine.poll_timeout() {
                continue;
            }
            match machine.handle_timeout(now) {
                Some(AnswerDue::Retransmit) => sent.push(ms),
                Some(AnswerDue::GiveUp) => return (sent, ms),
                None => {}
            }
        }
        panic!("never gave up");
    }

    #[test]
    fn retransmits_at_t1_doubling_to_t2_and_gives_up_at_64_t1() {
        let (sent, gave_up) = schedule();
        // T1 = 500 ms: 0.5, 1.5, 3.5 s, then every T2 = 4 s until 32 s.
        assert_eq!(
            sent,
            [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
        );
        assert_eq!(gave_up, 32_000);
    }

    #[test]
    fn nothing_is_due_before_the_first_interval() {
        let start = Instant::now();
        let mut machine = AnswerRetransmission::new(start, Timers::default());
        assert_eq!(
            machine.handle_timeout(start + Duration::from_millis(499)),
            None
        );
        assert_eq!(machine.poll_timeout(), start + Duration::from_millis(500));
    }
}
