//! The router's side of cancelling outgoing INVITEs (edge glue for
//! [`crate::sip::cancelled_invites`]): CANCELs held until a provisional response, crossing
//! 2xx refused with ACK and BYE, INVITEs without a final response given up.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use super::Router;
use crate::call::CallId;
use crate::registration::random_tag;
use crate::sip::cancelled_invites::{CancelAction, OutgoingCancel};
use crate::sip::dialog::Dialog;
use crate::sip::message::SipMessage;
use crate::sip::method::Method;
use crate::sip::transaction::TransactionKey;

impl Router {
    /// A call's CANCEL (`key`) of one of its INVITEs: sent now when the INVITE has had a
    /// response, held until it has one, dropped when the INVITE transaction is gone.
    pub(super) fn cancel_invite(
        &mut self,
        key: TransactionKey,
        to: SocketAddr,
        request: Bytes,
        call: CallId,
        now: Instant,
    ) {
        let invite = key.cancelled_invite();
        let Some(answered) = self.transactions.invite_answered(&invite) else {
            tracing::debug!(
                ?invite,
                "CANCEL for an INVITE transaction already gone: not sent"
            );
            return;
        };
        let cancel = OutgoingCancel {
            key,
            to,
            request,
            owner: call,
        };
        if let Some(cancel) = self.cancels.cancel(invite, cancel, answered, now) {
            self.send_cancel(cancel, now);
        } else {
            tracing::debug!(
                call,
                "CANCEL held until the INVITE has a provisional response"
            );
        }
    }

    fn send_cancel(&mut self, cancel: OutgoingCancel<CallId>, now: Instant) {
        let OutgoingCancel {
            key,
            to,
            request,
            owner,
        } = cancel;
        if self
            .transactions
            .send_request(&key, to, request, now)
            .is_ok()
        {
            self.calls.own_request(key, owner);
        }
    }

    /// A response to INVITE client transaction `invite` from `source`; true when it was for
    /// a cancelled INVITE and is dealt with here (not for the call).
    pub(super) fn on_invite_response(
        &mut self,
        invite: &TransactionKey,
        response: &SipMessage,
        status: u16,
        source: SocketAddr,
        now: Instant,
    ) -> bool {
        match self.cancels.on_response(invite, status, now) {
            CancelAction::Deliver => false,
            CancelAction::SendCancel(cancel) => {
                self.send_cancel(cancel, now);
                false
            }
            CancelAction::Refuse { cancel, first } => {
                self.refuse_2xx(&cancel, response, first, source, now);
                true
            }
        }
    }

    /// ACKs a 2xx that crossed our CANCEL and, the first time, hangs it up with BYE (§15).
    fn refuse_2xx(
        &mut self,
        cancel: &Bytes,
        response: &SipMessage,
        first: bool,
        source: SocketAddr,
        now: Instant,
    ) {
        let dialog = SipMessage::parse(cancel.clone())
            .ok()
            .and_then(|cancel| Dialog::of_cancelled_invite(&cancel, response));
        let Some(mut dialog) = dialog else {
            tracing::warn!(%source, "2xx to a cancelled INVITE cannot be acknowledged");
            return;
        };
        let branch = format!("z9hG4bK{}", random_tag());
        let ack = dialog
            .request(Method::Ack, self.advertised, &branch)
            .finish();
        self.direct.push_back((source, ack));
        if !first {
            return;
        }
        tracing::info!(%source, call_id = %dialog.id().call_id, "2xx crossed our CANCEL: sending BYE");
        let branch = format!("z9hG4bK{}", random_tag());
        let bye = dialog
            .request(Method::Bye, self.advertised, &branch)
            .header("User-Agent", &self.user_agent)
            .finish();
        let key = TransactionKey::for_request(&branch, Method::Bye);
        if let Err(error) = self.transactions.send_request(&key, source, bye, now) {
            tracing::warn!(%error, "BYE for a 2xx that crossed our CANCEL not sent");
        }
    }

    /// Gives up cancelled INVITEs that got no final response 64*T1 after their CANCEL (§9.1).
    pub(super) fn expire_cancelled(&mut self, now: Instant) {
        for invite in self.cancels.expired(now) {
            self.transactions.abandon_client(&invite);
        }
    }
}
