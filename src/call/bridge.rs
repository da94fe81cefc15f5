//! The bridge (edge): once Dial connected, the caller's task relays media between the two legs
//! until one side hangs up, and handles both dialogs meanwhile: BYE from either side,
//! re-INVITEs answered on their own leg, 2xx retransmissions re-ACKed.
//!
//! **Hold** (RFC 3264 §8.4, RFC 6337 §5.3): media is anchored in the PBX, so a side that puts
//! the call on hold (a re-INVITE with `a=sendonly`, `a=inactive` or `c=0.0.0.0`) is answered
//! by the PBX itself, `a=recvonly` or `a=inactive` as RFC 3264 §6.1 says, and the other, held
//! party hears the music on hold ([`MUSIC_ON_HOLD`], looped, in that party's codec and
//! ptime) instead of the holder's audio, as Asterisk does with its own media. A re-INVITE
//! back to sendrecv stops the music and the two-way relay resumes. A held call stays up for
//! as long as the hold lasts: the holder's stream is not sendrecv, so its silence is not RTP
//! inactivity ([`MediaLeg::renegotiate`]), while the held party, still sendrecv with the PBX,
//! keeps the inactivity timeout.
//!
//! **Other re-INVITEs** (a new address, a session refresh, a new ptime) are answered on their
//! own leg too, and not passed on: the other side's media goes to the PBX, whose address and
//! codec on that leg do not change, so it has nothing to renegotiate. Passing them on would
//! also make each leg's re-INVITE wait on the other phone, with glare (491) and a failure on
//! one leg to carry over to the other.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::media_io::{MediaEvent, MediaLeg};
use super::outgoing::Bridged;
use super::task::{rearm, Call};
use super::uas::info_digit;
use super::{CallEvent, CallId, IncomingRequest, SipCommand};
use crate::bridge::BridgeKind;
use crate::dialplan::{DialStatus, Event};
use crate::events::PbxEvent;
use crate::media::dtmf::KeyPress;
use crate::media::hold::Holds;
use crate::media::prompts::{PromptLibrary, MUSIC_ON_HOLD};
use crate::sdp::negotiate;
use crate::sip::dialog::DialogId;
use crate::sip::message::SipMessage;
use crate::sip::method::Method;
use crate::sip::transaction::TransactionKey;

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
        publish_stats(&leg);
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
        let mut holds = Holds::default();
        let timer = tokio::time::sleep(Duration::from_secs(86_400));
        tokio::pin!(timer);
        // SIP events and timers are handled in boxed futures: they are rare, and their state
        // would otherwise sit in every bridged call's task for the whole call.
        loop {
            if self.interrupted() {
                Box::pin(self.bye(&mut leg.dialog, leg.to)).await;
                return Event::Hangup;
            }
            let media = [self.media.poll_timeout(), leg.media.poll_timeout()];
            rearm(timer.as_mut(), self.next_deadline(media));
            tokio::select! {
                Ok(()) = self.media.readable() => {
                    if holds.caller {
                        self.media.receive(Instant::now());
                    } else {
                        self.media.relay(Instant::now(), &mut leg.media);
                    }
                }
                Ok(()) = leg.media.readable() => {
                    if holds.callee {
                        leg.media.receive(Instant::now());
                    } else {
                        leg.media.relay(Instant::now(), &mut self.media);
                    }
                }
                event = self.events.recv() => match event {
                    None => self.hung_up = true,
                    Some(event) => {
                        let handled = Box::pin(self.on_bridge_event(leg, event));
                        if let Some(ended) = handled.await {
                            return ended;
                        }
                        self.update_holds(leg, &mut holds);
                    }
                },
                _ = &mut timer => {
                    let now = Instant::now();
                    if self.update_stats(now) {
                        publish_stats(leg);
                    }
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
    async fn on_bridge_event(&mut self, leg: &mut Bridged, event: CallEvent) -> Option<Event> {
        match event {
            CallEvent::Request(incoming) => {
                let IncomingRequest {
                    request,
                    key,
                    source,
                } = *incoming;
                let from_callee = DialogId::of_incoming_request(&request)
                    .is_some_and(|id| id.call_id == leg.dialog.id().call_id);
                if let (Some(Method::Refer), Some(key)) = (request.method(), key.clone()) {
                    return self.on_refer(leg, request, key, source, from_callee).await;
                }
                if from_callee {
                    return self.on_callee_request(leg, request, key, source).await;
                } else if let Some(digit) = self.on_request(request, key, source).await {
                    pass_digit(self.id, digit, &mut leg.media);
                }
            }
            CallEvent::Response(response) => {
                let on_leg = response.call_id() == Some(leg.dialog.id().call_id.as_str());
                let invite = response.cseq().is_ok_and(|c| c.method == Method::Invite);
                let status = response.status().unwrap_or(0);
                if on_leg && invite && (200..300).contains(&status) {
                    let ack = SipCommand::Send {
                        to: leg.to,
                        message: leg.ack.clone(),
                    };
                    let _ = self.shared.commands.send(ack).await;
                }
            }
            CallEvent::Hangup {
                channel: Some(channel),
                cause,
            } if *channel == *leg.channel.id() => {
                leg.channel.set_cause(cause);
                leg.channel
                    .publish(|channel| PbxEvent::ChannelHangupRequest {
                        channel,
                        cause,
                        source: "operator".into(),
                    });
                tracing::info!(call = self.id, "operator hung up the callee");
                self.bye(&mut leg.dialog, leg.to).await;
                return Some(Event::DialResult(DialStatus::Answer));
            }
            event => {
                self.on_sip_event(event).await;
            }
        }
        None
    }

    /// Starts or stops the music on hold after a re-INVITE ([`Holds`]: a leg holds while the
    /// PBX may not send to it, and the other leg then hears music).
    fn update_holds(&mut self, leg: &mut Bridged, holds: &mut Holds) {
        let now = Holds::from_directions(
            self.media.negotiated().direction,
            leg.media.negotiated().direction,
        );
        let changes = holds.update(now);
        if let Some(on) = changes.to_callee {
            tracing::info!(call = self.id, on_hold = on, "caller hold changed");
            music_on_hold(self.id, &self.shared.prompts, &mut leg.media, on);
            publish_hold(&self.channel, on);
        }
        if let Some(on) = changes.to_caller {
            tracing::info!(call = self.id, on_hold = on, "callee hold changed");
            music_on_hold(self.id, &self.shared.prompts, &mut self.media, on);
            publish_hold(&leg.channel, on);
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

/// Publishes the bridged leg's media statistics on its channel, as the caller's own are.
fn publish_stats(leg: &Bridged) {
    let stats = leg.media.stats();
    leg.channel
        .update(|v| v.media = crate::channel::MediaStats::from(&stats));
}

/// A key press received by SIP INFO on one leg goes on to the other leg `to` as RFC 4733.
fn pass_digit(call: CallId, key: KeyPress, to: &mut MediaLeg) {
    let digit = key.digit;
    if !to.send_digit(digit, Instant::now()) {
        tracing::info!(call, %digit, "key press by SIP INFO dropped: the other side takes no RFC 4733 events");
    }
}

/// Publishes that `holder` put its call on hold (`on`) or took it off.
fn publish_hold(holder: &crate::channel::ChannelHandle, on: bool) {
    holder.publish(|channel| {
        if on {
            PbxEvent::ChannelHold { channel }
        } else {
            PbxEvent::ChannelUnhold { channel }
        }
    });
}

/// Starts (`on`) or stops the music on hold towards the held party `held`.
fn music_on_hold(call: CallId, prompts: &PromptLibrary, held: &mut MediaLeg, on: bool) {
    if !on {
        held.stop_playback();
        return;
    }
    match prompts.get(MUSIC_ON_HOLD) {
        Ok(music) => held.play_looping(vec![music], Instant::now()),
        Err(error) => tracing::warn!(call, %error, "no music on hold"),
    }
}
