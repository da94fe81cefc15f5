//! The bridge (edge): once Dial connected, the caller's task relays media between the two legs
//! until one side hangs up, and handles both dialogs meanwhile: BYE from either side, the
//! re-INVITEs (hold, unhold) of either side passed on to the other with the PBX's own SDP,
//! 2xx retransmissions re-ACKed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::media_io::{MediaEvent, MediaLeg};
use super::outgoing::Bridged;
use super::task::{rearm, send_ack, Call, PendingAck};
use super::uas::info_digit;
use super::{CallEvent, CallId, IncomingRequest, SipCommand};
use crate::bridge::BridgeKind;
use crate::dialplan::{DialStatus, Event};
use crate::events::PbxEvent;
use crate::registration::random_tag;
use crate::sdp::negotiate;
use crate::sip::dialog::DialogId;
use crate::sip::message::SipMessage;
use crate::sip::method::Method;
use crate::sip::transaction::TransactionKey;

/// A re-INVITE passed on to the other side, waiting for that side's answer.
struct PassedReinvite {
    /// True when the callee's re-INVITE went to the caller; false for the caller's to the callee.
    to_caller: bool,
    /// The CSeq number of the re-INVITE the PBX sent on.
    cseq: u32,
    request: SipMessage,
    key: TransactionKey,
    source: SocketAddr,
}

impl Call {
    /// Bridges the caller and the answered leg until one side hangs up: a `simple` bridge
    /// when both legs use the same codec, `transcoding` otherwise.
    pub(super) async fn bridge(&mut self, mut leg: Bridged) -> Event {
        let kind = if self.media.negotiated().codec == leg.media.negotiated().codec {
            BridgeKind::Simple
        } else {
            BridgeKind::Transcoding
        };
        let bridge = self.shared.bridges.create(kind, "");
        bridge.enter(&self.channel);
        bridge.enter(&leg.channel);
        let ended = self.relay(&mut leg).await;
        bridge.leave(&leg.channel);
        bridge.leave(&self.channel);
        drop(bridge);
        match self.transfer.take() {
            Some(transfer) => self.complete_transfer(leg, *transfer),
            None => ended,
        }
    }

    /// Relays media between the caller and the answered leg until one side hangs up.
    async fn relay(&mut self, leg: &mut Bridged) -> Event {
        let mut passed: Option<PassedReinvite> = None;
        let timer = tokio::time::sleep(Duration::from_secs(86_400));
        tokio::pin!(timer);
        // SIP events and timers are handled in boxed futures: they are rare, and their state
        // would otherwise sit in every bridged call's task for the whole call.
        loop {
            if self.interrupted() {
                Box::pin(self.bye(&mut leg.dialog, leg.to)).await;
                return Event::Hangup;
            }
            let deadline = [
                self.media.poll_timeout(),
                leg.media.poll_timeout(),
                self.pending_ack.as_ref().map(PendingAck::deadline),
                Some(self.last_stats + Duration::from_secs(1)),
            ]
            .into_iter()
            .flatten()
            .min();
            rearm(timer.as_mut(), deadline);
            tokio::select! {
                Ok(()) = self.media.readable() => {
                    self.media.relay(Instant::now(), &mut leg.media);
                }
                Ok(()) = leg.media.readable() => {
                    leg.media.relay(Instant::now(), &mut self.media);
                }
                event = self.events.recv() => match event {
                    None => self.hung_up = true,
                    Some(event) => {
                        let handled = Box::pin(self.on_bridge_event(leg, &mut passed, event));
                        if let Some(ended) = handled.await {
                            return ended;
                        }
                    }
                },
                _ = &mut timer => {
                    let now = Instant::now();
                    self.update_stats(now);
                    if self.pending_ack.is_some() {
                        Box::pin(self.retransmit_2xx(now)).await;
                    }
                    let inactive = self.media.handle_timeout(now) == Some(MediaEvent::Inactive)
                        || leg.media.handle_timeout(now) == Some(MediaEvent::Inactive);
                    if inactive {
                        tracing::warn!(call = self.id, "no RTP on a bridged leg: hanging up both");
                        Box::pin(self.bye(&mut leg.dialog, leg.to)).await;
                        Box::pin(self.hangup(None)).await;
                        return Event::Hangup;
                    }
                }
            }
        }
    }

    /// A SIP event while bridged; `Some` when it ended the call.
    async fn on_bridge_event(
        &mut self,
        leg: &mut Bridged,
        passed: &mut Option<PassedReinvite>,
        event: CallEvent,
    ) -> Option<Event> {
        match event {
            CallEvent::Request(incoming) => {
                let IncomingRequest {
                    request,
                    key,
                    source,
                } = *incoming;
                let from_callee = DialogId::of_incoming_request(&request)
                    .is_some_and(|id| id.call_id == leg.dialog.id().call_id);
                let reinvite_with_offer =
                    request.method() == Some(Method::Invite) && !request.body().is_empty();
                if let (Some(Method::Refer), Some(key)) = (request.method(), key.clone()) {
                    return self.on_refer(leg, request, key, source, from_callee).await;
                }
                if from_callee && reinvite_with_offer && passed.is_none() {
                    *passed = self.pass_reinvite(leg, request, key, source, true).await;
                } else if from_callee {
                    return self.on_callee_request(leg, request, key, source).await;
                } else if reinvite_with_offer && passed.is_none() {
                    *passed = self.pass_reinvite(leg, request, key, source, false).await;
                } else if let Some(digit) = self.on_request(request, key, source).await {
                    pass_digit(self.id, digit, &mut leg.media);
                }
            }
            CallEvent::Response(response) => {
                let on_leg = response.call_id() == Some(leg.dialog.id().call_id.as_str());
                let on_caller = response.call_id() == Some(self.dialog.id().call_id.as_str());
                let invite_cseq = response
                    .cseq()
                    .ok()
                    .filter(|c| c.method == Method::Invite)
                    .map(|c| c.seq);
                let status = response.status().unwrap_or(0);
                let answers_passed = passed.as_ref().is_some_and(|p| {
                    Some(p.cseq) == invite_cseq && if p.to_caller { on_caller } else { on_leg }
                });
                if answers_passed && status >= 200 {
                    if let Some(pending) = passed.take() {
                        self.finish_passed_reinvite(leg, pending, &response).await;
                    }
                } else if on_leg && invite_cseq.is_some() && (200..300).contains(&status) {
                    let ack = SipCommand::Send {
                        to: leg.to,
                        message: leg.ack.clone(),
                    };
                    let _ = self.shared.commands.send(ack).await;
                }
            }
            CallEvent::Hangup(Some(channel)) if *channel == *leg.channel.id() => {
                leg.channel
                    .publish(|channel| PbxEvent::ChannelHangupRequest {
                        channel,
                        cause: 16,
                        source: "operator".into(),
                    });
                tracing::info!(call = self.id, "operator hung up the callee");
                self.bye(&mut leg.dialog, leg.to).await;
                return Some(Event::DialResult(DialStatus::Answer));
            }
            CallEvent::RequestTimeout(key) if passed.is_some() && key.method == Method::Invite => {
                if let Some(pending) = passed.take() {
                    tracing::warn!(
                        call = self.id,
                        "no answer to a passed re-INVITE: answering it locally"
                    );
                    if pending.to_caller {
                        self.callee_reinvite(leg, &pending.request, pending.key, pending.source)
                            .await;
                    } else {
                        self.reinvite(&pending.request, pending.key, pending.source)
                            .await;
                    }
                }
            }
            event => {
                self.on_sip_event(event).await;
            }
        }
        None
    }

    /// Passes a re-INVITE (hold, unhold) on to the other side with the PBX's own SDP in the
    /// same direction: the callee's to the caller when `to_caller`, else the caller's to the
    /// callee. The sender is answered when the other side has answered.
    async fn pass_reinvite(
        &mut self,
        leg: &mut Bridged,
        request: SipMessage,
        key: Option<TransactionKey>,
        source: SocketAddr,
        to_caller: bool,
    ) -> Option<PassedReinvite> {
        let key = key?;
        let sender = if to_caller {
            &mut leg.dialog
        } else {
            &mut self.dialog
        };
        if sender.accept_request(&request).is_err() {
            self.reply(&request, key, 500, source).await;
            return None;
        }
        let body = std::str::from_utf8(request.body()).unwrap_or_default();
        let Ok(offer) = negotiate::parse_offer(body) else {
            self.reply(&request, key, 488, source).await;
            return None;
        };
        let sip = self.shared.sip_address;
        let (dialog, local, to) = if to_caller {
            (&mut self.dialog, &mut self.local_media, self.source)
        } else {
            (&mut leg.dialog, &mut leg.local, leg.to)
        };
        local.direction = offer.direction;
        local.session_version += 1;
        let sdp = negotiate::offer(local);
        let branch = format!("z9hG4bK{}", random_tag());
        let reinvite = dialog
            .request(Method::Invite, sip, &branch)
            .header("Contact", format!("<sip:{}@{}>", self.caller, sip))
            .header("Allow", super::task::ALLOW)
            .finish_with_body(Some("application/sdp"), sdp.as_bytes());
        let cseq = dialog.local_cseq();
        if to_caller {
            self.answer_sdp = sdp;
            tracing::info!(call = self.id, direction = ?offer.direction, "callee re-INVITE passed to the caller");
        } else {
            tracing::info!(call = self.id, direction = ?offer.direction, "caller re-INVITE passed to the callee");
        }
        let _ = self
            .shared
            .commands
            .send(SipCommand::Request {
                key: TransactionKey::for_request(&branch, Method::Invite),
                to,
                request: reinvite,
                call: self.id,
            })
            .await;
        Some(PassedReinvite {
            to_caller,
            cseq,
            request,
            key,
            source,
        })
    }

    /// The other side answered a passed re-INVITE: ACK a 2xx and apply its SDP answer, then
    /// answer the side that sent the re-INVITE from its own leg's state.
    async fn finish_passed_reinvite(
        &mut self,
        leg: &mut Bridged,
        pending: PassedReinvite,
        response: &SipMessage,
    ) {
        let to_caller = pending.to_caller;
        if response.status().is_some_and(|s| (200..300).contains(&s)) {
            let (dialog, to, local, media) = if to_caller {
                (
                    &mut self.dialog,
                    self.source,
                    &self.local_media,
                    &mut self.media,
                )
            } else {
                (&mut leg.dialog, leg.to, &leg.local, &mut leg.media)
            };
            let ack = send_ack(&self.shared, dialog, to).await;
            let body = std::str::from_utf8(response.body()).unwrap_or_default();
            match negotiate::parse_answer(local, body) {
                Ok(negotiated) => media.renegotiate(negotiated),
                Err(error) => {
                    tracing::warn!(call = self.id, %error, to_caller, "answer to a passed re-INVITE unusable")
                }
            }
            if !to_caller {
                leg.ack = ack;
            }
        } else if to_caller {
            tracing::info!(
                call = self.id,
                status = response.status(),
                "caller refused the passed re-INVITE"
            );
        } else {
            tracing::info!(
                call = self.id,
                status = response.status(),
                "callee refused the passed re-INVITE"
            );
        }
        if to_caller {
            self.callee_reinvite(leg, &pending.request, pending.key, pending.source)
                .await;
        } else {
            self.reinvite(&pending.request, pending.key, pending.source)
                .await;
        }
    }

    /// A request from the callee inside the bridged dialog; `Some` ends the bridge.
    async fn on_callee_request(
        &mut self,
        leg: &mut Bridged,
        request: SipMessage,
        key: Option<TransactionKey>,
        source: SocketAddr,
    ) -> Option<Event> {
        let key = key?;
        match request.method() {
            Some(Method::Bye) => {
                self.reply(&request, key, 200, source).await;
                tracing::info!(call = self.id, "callee hung up");
                leg.channel
                    .publish(|channel| PbxEvent::ChannelHangupRequest {
                        channel,
                        cause: 16,
                        source: "remote".into(),
                    });
                self.hangup(None).await;
                Some(Event::DialResult(DialStatus::Answer))
            }
            Some(Method::Options) => {
                self.reply(&request, key, 200, source).await;
                None
            }
            Some(Method::Info) => {
                self.reply(&request, key, 200, source).await;
                if let Some(digit) = info_digit(&request) {
                    pass_digit(self.id, digit, &mut self.media);
                }
                None
            }
            Some(Method::Invite) => {
                self.callee_reinvite(leg, &request, key, source).await;
                None
            }
            _ => {
                self.reply(&request, key, 405, source).await;
                None
            }
        }
    }

    /// Answers the callee's re-INVITE (hold, unhold, refresh) from this leg's media state.
    async fn callee_reinvite(
        &mut self,
        leg: &mut Bridged,
        request: &SipMessage,
        key: TransactionKey,
        source: SocketAddr,
    ) {
        let body = std::str::from_utf8(request.body()).unwrap_or_default();
        let answered = negotiate::parse_offer(body).and_then(|offer| {
            leg.local.session_version += 1;
            negotiate::answer(&offer, &leg.local)
        });
        match answered {
            Ok((sdp, negotiated)) => {
                tracing::info!(call = self.id, direction = ?negotiated.direction, "callee re-INVITE answered");
                leg.media.renegotiate(negotiated);
                let response = crate::sip::message::MessageWriter::response(
                    request,
                    200,
                    "OK",
                    Some(&leg.dialog.id().local_tag),
                    source,
                )
                .header(
                    "Contact",
                    format!("<sip:{}@{}>", self.caller, self.shared.sip_address),
                )
                .header("Allow", super::task::ALLOW)
                .finish_with_body(Some("application/sdp"), sdp.as_bytes());
                self.send_response(key, 200, response).await;
            }
            Err(_) => self.reply(request, key, 488, source).await,
        }
    }
}

/// A key press received by SIP INFO on one leg goes on to the other leg `to` as RFC 4733.
fn pass_digit(call: CallId, digit: char, to: &mut MediaLeg) {
    if !to.send_digit(digit, Instant::now()) {
        tracing::info!(call, %digit, "key press by SIP INFO dropped: the other side takes no RFC 4733 events");
    }
}
