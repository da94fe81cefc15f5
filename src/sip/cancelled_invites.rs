//! Outgoing INVITEs the PBX cancels (RFC 3261 §9.1), sans-IO: a CANCEL waits until its
//! INVITE has had a provisional response (sending it before is forbidden, and a stateless
//! proxy could not match it); a 2xx that crosses the CANCEL is refused with ACK then BYE
//! (§15, the called phone must not stay off-hook); and a cancelled INVITE that never gets a
//! final response is given up 64*T1 after its CANCEL left. The router glues it to the
//! transaction table.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::transaction::TransactionKey;

/// A CANCEL ready to go out in its own client transaction, with who owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingCancel<O> {
    /// The CANCEL's client transaction key.
    pub key: TransactionKey,
    /// Where the INVITE went, so the CANCEL goes there too.
    pub to: std::net::SocketAddr,
    /// The serialized CANCEL: same Request-URI, From, To, Call-ID and CSeq number as the INVITE.
    pub request: Bytes,
    /// The owner (a call), to route the CANCEL's response.
    pub owner: O,
}

/// What to do with a response to a cancelled INVITE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelAction<O> {
    /// Not a cancelled INVITE, or nothing to do: handle the response as usual.
    Deliver,
    /// The first provisional response: send the CANCEL that waited for it, and deliver.
    SendCancel(OutgoingCancel<O>),
    /// A 2xx although the INVITE was cancelled: ACK it and, the first time, send BYE. The
    /// CANCEL request carries what the ACK and BYE are built from. Not for the owner.
    Refuse {
        /// The CANCEL sent (or held) for this INVITE.
        cancel: Bytes,
        /// False for a retransmitted 2xx: ACK again, no second BYE.
        first: bool,
    },
}

#[derive(Debug)]
struct Cancelled<O> {
    /// The CANCEL, held while the INVITE has had no provisional response.
    held: Option<OutgoingCancel<O>>,
    /// The CANCEL's bytes (kept to refuse a crossing 2xx).
    request: Bytes,
    /// When the CANCEL left (`None` while held).
    sent_at: Option<Instant>,
    /// A crossing 2xx was refused already.
    refused: bool,
}

/// The cancelled outgoing INVITEs, by their client transaction key.
#[derive(Debug)]
pub struct CancelledInvites<O> {
    entries: HashMap<TransactionKey, Cancelled<O>>,
    /// How long after its CANCEL an INVITE may still lack a final response (64*T1).
    give_up_after: Duration,
}

impl<O: Clone> CancelledInvites<O> {
    /// Empty; INVITEs are given up `give_up_after` (64*T1) after their CANCEL.
    pub fn new(give_up_after: Duration) -> Self {
        CancelledInvites {
            entries: HashMap::new(),
            give_up_after,
        }
    }

    /// Records the CANCEL of INVITE `invite`. Returns it when it may go out now (the INVITE
    /// had a provisional response); otherwise it is held for [`Self::on_response`].
    pub fn cancel(
        &mut self,
        invite: TransactionKey,
        cancel: OutgoingCancel<O>,
        had_provisional: bool,
        now: Instant,
    ) -> Option<OutgoingCancel<O>> {
        let request = cancel.request.clone();
        let (held, sent_at, send) = if had_provisional {
            (None, Some(now), Some(cancel))
        } else {
            (Some(cancel), None, None)
        };
        self.entries.insert(
            invite,
            Cancelled {
                held,
                request,
                sent_at,
                refused: false,
            },
        );
        send
    }

    /// A response with `status` to INVITE `invite`.
    pub fn on_response(
        &mut self,
        invite: &TransactionKey,
        status: u16,
        now: Instant,
    ) -> CancelAction<O> {
        let Some(entry) = self.entries.get_mut(invite) else {
            return CancelAction::Deliver;
        };
        match status {
            100..=199 => match entry.held.take() {
                Some(cancel) => {
                    entry.sent_at = Some(now);
                    CancelAction::SendCancel(cancel)
                }
                None => CancelAction::Deliver,
            },
            200..=299 => {
                // A held CANCEL is moot now: the BYE ends the call instead.
                entry.held = None;
                entry.sent_at.get_or_insert(now);
                let first = !entry.refused;
                entry.refused = true;
                CancelAction::Refuse {
                    cancel: entry.request.clone(),
                    first,
                }
            }
            _ => {
                self.entries.remove(invite);
                CancelAction::Deliver
            }
        }
    }

    /// INVITE `invite` timed out (timer B) or ended otherwise: forget it.
    pub fn forget(&mut self, invite: &TransactionKey) {
        self.entries.remove(invite);
    }

    /// The cancelled INVITEs whose CANCEL left `give_up_after` ago or more: forgotten here;
    /// the caller destroys their client transactions (§9.1).
    pub fn expired(&mut self, now: Instant) -> Vec<TransactionKey> {
        let limit = self.give_up_after;
        let expired: Vec<TransactionKey> = self
            .entries
            .iter()
            .filter(|(_, e)| e.sent_at.is_some_and(|at| now >= at + limit))
            .map(|(k, _)| k.clone())
            .collect();
        for key in &expired {
            self.entries.remove(key);
        }
        expired
    }

    /// When [`Self::expired`] next has something to give up.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter_map(|e| e.sent_at)
            .min()
            .map(|at| at + self.give_up_after)
    }

    /// Whether anything is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::method::Method;

    const LIMIT: Duration = Duration::from_secs(32);

    fn invite(branch: &str) -> TransactionKey {
        TransactionKey::for_request(branch, Method::Invite)
    }

    fn cancel(branch: &str) -> OutgoingCancel<u64> {
        OutgoingCancel {
            key: TransactionKey::for_request(branch, Method::Cancel),
            to: "127.0.0.1:5070".parse().unwrap(),
            request: Bytes::from(format!("CANCEL {branch}")),
            owner: 7,
        }
    }

    #[test]
    fn cancel_after_a_provisional_goes_out_at_once() {
        let (mut c, now) = (CancelledInvites::new(LIMIT), Instant::now());
        assert_eq!(
            c.cancel(invite("a"), cancel("a"), true, now),
            Some(cancel("a"))
        );
        assert_eq!(c.on_response(&invite("a"), 180, now), CancelAction::Deliver);
        assert_eq!(c.on_response(&invite("a"), 487, now), CancelAction::Deliver);
        assert!(c.is_empty());
    }

    #[test]
    fn cancel_before_any_provisional_waits_for_one() {
        let (mut c, now) = (CancelledInvites::new(LIMIT), Instant::now());
        assert_eq!(c.cancel(invite("a"), cancel("a"), false, now), None);
        assert_eq!(
            c.on_response(&invite("a"), 100, now),
            CancelAction::SendCancel(cancel("a"))
        );
        assert_eq!(c.on_response(&invite("a"), 180, now), CancelAction::Deliver);
    }

    #[test]
    fn a_final_error_before_any_provisional_drops_the_held_cancel() {
        let (mut c, now) = (CancelledInvites::new(LIMIT), Instant::now());
        c.cancel(invite("a"), cancel("a"), false, now);
        assert_eq!(c.on_response(&invite("a"), 486, now), CancelAction::Deliver);
        assert!(c.is_empty());
        assert_eq!(c.on_response(&invite("a"), 100, now), CancelAction::Deliver);
    }

    #[test]
    fn a_crossing_2xx_is_refused_once_with_bye_and_acked_each_time() {
        let (mut c, now) = (CancelledInvites::new(LIMIT), Instant::now());
        c.cancel(invite("a"), cancel("a"), false, now);
        let request = Bytes::from("CANCEL a");
        assert_eq!(
            c.on_response(&invite("a"), 200, now),
            CancelAction::Refuse {
                cancel: request.clone(),
                first: true
            }
        );
        assert_eq!(
            c.on_response(&invite("a"), 200, now),
            CancelAction::Refuse {
                cancel: request,
                first: false
            }
        );
        // The held CANCEL never goes out once the 2xx came.
        assert_eq!(c.on_response(&invite("a"), 180, now), CancelAction::Deliver);
    }

    #[test]
    fn other_invites_are_not_affected() {
        let (mut c, now) = (CancelledInvites::new(LIMIT), Instant::now());
        c.cancel(invite("a"), cancel("a"), true, now);
        assert_eq!(c.on_response(&invite("b"), 200, now), CancelAction::Deliver);
    }

    #[test]
    fn an_invite_without_final_response_is_given_up_64_t1_after_its_cancel() {
        let (mut c, t0) = (CancelledInvites::new(LIMIT), Instant::now());
        c.cancel(invite("a"), cancel("a"), true, t0);
        c.cancel(invite("held"), cancel("held"), false, t0);
        assert_eq!(c.poll_timeout(), Some(t0 + LIMIT));
        assert!(c.expired(t0 + LIMIT - Duration::from_millis(1)).is_empty());
        assert_eq!(c.expired(t0 + LIMIT), vec![invite("a")]);
        // A CANCEL still held is never sent, so timer B ends its INVITE instead.
        assert!(c.expired(t0 + 10 * LIMIT).is_empty());
        assert_eq!(c.poll_timeout(), None);
        c.forget(&invite("held"));
        assert!(c.is_empty());
    }
}
