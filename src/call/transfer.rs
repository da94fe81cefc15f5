//! Blind transfer (edge, RFC 3515 over the sans-IO [`crate::sip::refer`]): a REFER from
//! either party of a bridged call sends the *other* party to the referred extension through
//! the dialplan. The transferor gets `202 Accepted`, a NOTIFY `100 Trying`, then a final
//! NOTIFY `200 OK` (subscription terminated), and its leg ends with the PBX's BYE, as
//! Asterisk does for a blind transfer. The extension is looked up in the call's current
//! context; an unknown one is refused `404`, attended transfer (`Replaces`) `501`.
//!
//! When the callee refers, the caller's channel simply continues in the dialplan. When the
//! caller refers, the callee's leg becomes the call's own leg (its dialog, media and
//! channel) and runs the dialplan from the referred extension with the callee as caller.

use std::net::SocketAddr;
use std::sync::Arc;

use super::outgoing::Bridged;
use super::task::{send_bye, Call, CallShared, ALLOW};
use super::{CallId, SipCommand};
use crate::dialplan::{CallInfo, Event, Interpreter};
use crate::events::PbxEvent;
use crate::registration::random_tag;
use crate::sip::dialog::Dialog;
use crate::sip::message::{reason_phrase, HeaderName, MessageWriter, SipMessage};
use crate::sip::method::Method;
use crate::sip::refer::{sipfrag, subscription_state, ReferTarget, REFER_EVENT, SIPFRAG};
use crate::sip::transaction::TransactionKey;

/// A blind transfer accepted while bridged, carried out when the bridge has ended.
#[derive(Debug)]
pub(super) struct Transfer {
    /// The context of the referred extension.
    context: String,
    /// The referred extension.
    exten: String,
    /// The caller referred (so the callee is transferred).
    by_caller: bool,
}

impl Call {
    /// A REFER from the callee (`from_callee`) or the caller while bridged. `Some` ends the
    /// bridge: the transfer is then pending and [`Call::complete_transfer`] carries it out.
    pub(super) async fn on_refer(
        &mut self,
        leg: &mut Bridged,
        request: SipMessage,
        key: TransactionKey,
        source: SocketAddr,
        from_callee: bool,
    ) -> Option<Event> {
        let dialog = if from_callee {
            &mut leg.dialog
        } else {
            &mut self.dialog
        };
        let context = self.interpreter.location().0.to_string();
        let target = ReferTarget::parse(request.header(HeaderName::ReferTo));
        let status = if dialog.accept_request(&request).is_err() {
            500
        } else {
            match &target {
                Ok(ReferTarget::Extension(exten)) => {
                    let known = self
                        .shared
                        .dialplan
                        .current()
                        .context(&context)
                        .is_some_and(|c| c.position(exten).is_some());
                    if known {
                        202
                    } else {
                        404
                    }
                }
                Ok(ReferTarget::Attended) => 501,
                Err(_) => 400,
            }
        };
        let response = MessageWriter::response(
            &request,
            status,
            reason_phrase(status),
            Some(&dialog.id().local_tag),
            source,
        )
        .header(
            "Contact",
            format!("<sip:{}@{}>", self.contact_user, self.shared.sip_address),
        )
        .header("Allow", ALLOW)
        .header("Server", &self.shared.user_agent)
        .finish();
        self.send_response(key, status, response).await;
        let Ok(ReferTarget::Extension(exten)) = target else {
            tracing::info!(call = self.id, status, "REFER refused");
            return None;
        };
        if status != 202 {
            tracing::info!(call = self.id, status, %exten, "REFER refused");
            return None;
        }
        let (dialog, to) = if from_callee {
            (&mut leg.dialog, leg.to)
        } else {
            (&mut self.dialog, self.source)
        };
        notify(&self.shared, self.id, dialog, to, 100, false).await;
        notify(&self.shared, self.id, dialog, to, 200, true).await;
        send_bye(&self.shared, self.id, dialog, to).await;
        let (transferor, transferee) = if from_callee {
            (&leg.channel, &self.channel)
        } else {
            (&self.channel, &leg.channel)
        };
        if let (Some(transferer), Some(transferee)) = (transferor.snapshot(), transferee.snapshot())
        {
            self.shared
                .channels
                .events()
                .publish(PbxEvent::BlindTransfer {
                    transferer,
                    transferee,
                    context: context.clone(),
                    exten: exten.clone(),
                });
        }
        tracing::info!(call = self.id, %exten, by_caller = !from_callee, "blind transfer");
        self.transfer = Some(Box::new(Transfer {
            context,
            exten,
            by_caller: !from_callee,
        }));
        Some(Event::Hangup)
    }

    /// Carries out the transfer accepted in the bridge that just ended with `leg`: returns
    /// the event the dialplan resumes with (`Started`: run from the referred extension).
    pub(super) fn complete_transfer(&mut self, leg: Bridged, transfer: Transfer) -> Event {
        if transfer.by_caller {
            let callee = leg
                .channel
                .snapshot()
                .map(|c| c.connected)
                .unwrap_or_default();
            let info = CallInfo {
                context: transfer.context.clone(),
                exten: transfer.exten.clone(),
                caller_num: callee.number.clone(),
                caller_name: callee.name.clone(),
            };
            match Interpreter::new(self.shared.dialplan.current(), info, |name: &str| {
                std::env::var(name).ok()
            }) {
                Ok(mut interpreter) => {
                    interpreter.set_database(Arc::new(self.shared.astdb.clone()));
                    self.interpreter = interpreter;
                }
                Err(error) => {
                    tracing::warn!(call = self.id, %error, "transfer target vanished");
                    return Event::Hangup;
                }
            }
            self.take_over(leg, callee.number, callee.name);
        } else if let Err(error) = self
            .interpreter
            .redirect(&transfer.context, &transfer.exten, 1)
        {
            tracing::warn!(call = self.id, %error, "transfer target vanished");
            return Event::Hangup;
        }
        Event::Started
    }

    /// Makes the answered outgoing `leg` this call's own leg; the caller's leg (already hung
    /// up) and its channel go.
    fn take_over(&mut self, leg: Bridged, number: String, name: String) {
        let Bridged {
            dialog,
            local,
            to,
            media,
            channel,
            ..
        } = leg;
        self.answer_sdp = crate::sdp::negotiate::offer(&local);
        self.inbound = None;
        self.dialog = dialog;
        self.source = to;
        self.media = media;
        self.local_media = local;
        self.channel = channel;
        self.pending_ack = None;
        self.early_media = false;
        self.caller = number;
        self.caller_name = name;
    }
}

/// Sends a NOTIFY reporting the referred call's `status` on the transferor's `dialog`.
async fn notify(
    shared: &CallShared,
    call: CallId,
    dialog: &mut Dialog,
    to: SocketAddr,
    status: u16,
    last: bool,
) {
    let branch = format!("z9hG4bK{}", random_tag());
    let request = dialog
        .request(Method::Notify, shared.sip_address, &branch)
        .header("Event", REFER_EVENT)
        .header("Subscription-State", subscription_state(last))
        .header("User-Agent", &shared.user_agent)
        .finish_with_body(
            Some(SIPFRAG),
            sipfrag(status, reason_phrase(status)).as_bytes(),
        );
    let _ = shared
        .commands
        .send(SipCommand::Request {
            key: TransactionKey::for_request(&branch, Method::Notify),
            to,
            request,
            call,
        })
        .await;
}
