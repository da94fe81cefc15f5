//! Dial: the B2BUA half of a call (RFC 3261 §13 as UAC, RFC 7092 B2BUA roles). The call task
//! forks an INVITE to every registered contact of the dialled endpoints, each outgoing leg with
//! its own dialog and RTP port (the PBX anchors media for NAT and docker), relays ringing to
//! the caller, takes the first 2xx and CANCELs the other branches, answers the caller and then
//! bridges the two legs' media until one side hangs up.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use super::media_io::{open_socket, MediaEvent, MediaLeg};
use super::task::{send_bye, sleep_until, Call};
use super::{CallEvent, SipCommand};
use crate::dialplan::{DialStatus, DialTarget, Event};
use crate::media::codec::CodecKind;
use crate::media::ports::PortLease;
use crate::registration::random_tag;
use crate::sdp::negotiate::{self, Direction, LocalMedia};
use crate::sip::auth::{random_cnonce, DigestChallenge};
use crate::sip::dialog::{Dialog, DialogId};
use crate::sip::message::{HeaderName, SipMessage};
use crate::sip::method::Method;
use crate::sip::registrar::Binding;
use crate::sip::transaction::TransactionKey;

/// Where an outgoing leg stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LegState {
    /// INVITE sent, nothing or 100 back.
    Calling,
    /// 180/183 received.
    Ringing,
    /// Final failure response (or timeout as 408).
    Failed(u16),
    /// CANCEL or BYE sent by us.
    Abandoned,
}

/// Whom an outgoing leg calls and how.
struct LegTarget {
    /// For logs and the call list: the endpoint user or `trunk/NUMBER`.
    label: String,
    /// Request-URI.
    uri: String,
    /// To header value.
    to_header: String,
    /// User part of From and Contact (our caller ID on that leg).
    from_user: String,
    /// Host part of From.
    from_domain: String,
    /// Where to send the INVITE.
    send_to: SocketAddr,
    /// Codecs the far side may use, by preference.
    codecs: Vec<CodecKind>,
    /// Digest credentials for a provider's 401/407.
    credentials: Option<(String, String)>,
}

/// One outgoing leg while it rings.
struct OutLeg {
    target: LegTarget,
    key: TransactionKey,
    branch: String,
    dialog: Dialog,
    offer: LocalMedia,
    sdp: String,
    socket: Option<(UdpSocket, PortLease)>,
    state: LegState,
    /// A challenge was answered already: another one means the credentials are wrong.
    authenticated: bool,
    /// Media started by a 183 with SDP (early media), relayed to the caller while ringing.
    early: Option<MediaLeg>,
}

/// A caller's re-INVITE passed on to the callee, waiting for the callee's answer.
struct PassedReinvite {
    /// The callee-side re-INVITE's CSeq number.
    cseq: u32,
    request: SipMessage,
    key: TransactionKey,
    source: SocketAddr,
}

/// The answered outgoing leg, bridged to the caller.
struct Bridged {
    dialog: Dialog,
    local: LocalMedia,
    to: SocketAddr,
    ack: bytes::Bytes,
    media: MediaLeg,
}

impl Call {
    /// Runs `Dial(targets, timeout)`: returns `DialResult` with the outcome, or `Hangup` when
    /// the caller went away.
    pub(super) async fn dial(&mut self, targets: Vec<DialTarget>, timeout: Duration) -> Event {
        if self.hung_up {
            return Event::Hangup;
        }
        let now = Instant::now();
        let mut legs = Vec::new();
        for target in targets {
            match target {
                DialTarget::Endpoint(user) => {
                    for binding in self.shared.location.contacts(&user, now) {
                        let target = self.endpoint_target(&user, &binding);
                        legs.extend(self.start_leg(target).await);
                    }
                }
                DialTarget::Trunk { trunk, number } => match self.trunk_target(&trunk, &number) {
                    Some(target) => legs.extend(self.start_leg(target).await),
                    None => {
                        tracing::info!(call = self.id, %trunk, %number, "trunk unavailable (disabled, unknown or unresolved): CHANUNAVAIL");
                    }
                },
            }
        }
        if legs.is_empty() {
            tracing::info!(
                call = self.id,
                "Dial: nobody to call (not registered): CHANUNAVAIL"
            );
            return Event::DialResult(DialStatus::ChanUnavail);
        }
        let deadline = now + timeout;
        let winner = loop {
            if self.hung_up {
                self.abandon(&mut legs).await;
                return Event::Hangup;
            }
            if legs
                .iter()
                .all(|l| matches!(l.state, LegState::Failed(_) | LegState::Abandoned))
            {
                let status = dial_status(&legs);
                tracing::info!(call = self.id, ?status, "Dial failed");
                return Event::DialResult(status);
            }
            let early = legs.iter().position(|l| l.early.is_some());
            tokio::select! {
                event = self.events.recv() => match event {
                    None => self.hung_up = true,
                    Some(CallEvent::Response(response)) => {
                        if let Some(answered) = self.on_leg_response(&mut legs, &response).await {
                            break answered;
                        }
                    }
                    Some(CallEvent::RequestTimeout(key)) => {
                        if let Some(leg) = legs.iter_mut().find(|l| l.key == key) {
                            leg.state = LegState::Failed(408);
                            leg.early = None;
                        }
                    }
                    Some(event) => {
                        self.on_sip_event(event).await;
                    }
                },
                received = self.media.recv() => {
                    let early = early.and_then(|i| legs[i].early.as_mut());
                    if let (Ok((len, from)), Some(early)) = (received, early) {
                        self.media.relay(len, from, Instant::now(), early);
                    }
                }
                received = recv_early(&mut legs, early) => {
                    if let (Ok((len, from)), Some(i)) = (received, early) {
                        if let Some(media) = legs[i].early.as_mut() {
                            media.relay(len, from, Instant::now(), &mut self.media);
                        }
                    }
                }
                _ = sleep_until(Some(deadline)) => {
                    tracing::info!(call = self.id, "Dial timed out: cancelling");
                    self.abandon(&mut legs).await;
                    return Event::DialResult(DialStatus::NoAnswer);
                }
            }
        };
        let (winner, response) = winner;
        let answer = legs.remove(winner);
        self.abandon(&mut legs).await;
        match self.connect(answer, response).await {
            Some(bridged) => self.bridge(bridged).await,
            None => Event::DialResult(DialStatus::Congestion),
        }
    }

    fn endpoint_target(&self, user: &str, binding: &Binding) -> LegTarget {
        let sip = self.shared.sip_address;
        LegTarget {
            label: user.to_string(),
            uri: binding.contact.clone(),
            to_header: format!("<sip:{user}@{sip}>"),
            from_user: self.caller.clone(),
            from_domain: sip.to_string(),
            send_to: binding.source,
            codecs: self
                .shared
                .endpoints
                .get(user)
                .map(|p| p.codecs.clone())
                .unwrap_or_else(|| vec![CodecKind::Pcmu, CodecKind::Pcma]),
            credentials: None,
        }
    }

    fn trunk_target(&self, name: &str, number: &str) -> Option<LegTarget> {
        let trunk = self.shared.trunks.get(name)?;
        let send_to = trunk.send_to?;
        Some(LegTarget {
            label: format!("trunk/{name}/{number}"),
            uri: format!("sip:{number}@{}", trunk.host_port),
            to_header: format!("<sip:{number}@{}>", trunk.from_domain),
            from_user: trunk.from_user.clone(),
            from_domain: trunk.from_domain.clone(),
            send_to,
            codecs: trunk.codecs.clone(),
            credentials: Some((trunk.auth_user.clone(), trunk.password.clone())),
        })
    }

    /// Sends the INVITE of a new outgoing leg.
    async fn start_leg(&mut self, target: LegTarget) -> Option<OutLeg> {
        let opened = match open_socket(&self.shared.ports, self.shared.rtp_bind).await {
            Ok(opened) => opened,
            Err(error) => {
                tracing::warn!(call = self.id, %error, "no RTP port for an outgoing leg");
                return None;
            }
        };
        let sip = self.shared.sip_address;
        let offer = LocalMedia {
            address: self.shared.media_address,
            port: opened.1.port(),
            session_id: rand::random::<u32>() as u64,
            session_version: 1,
            codecs: prefer(self.media.negotiated().codec, &target.codecs),
            telephone_event: true,
            ptime_ms: 20,
            direction: Direction::SendRecv,
        };
        let local_tag = random_tag();
        let call_id = format!("{}@{}", random_tag(), sip.ip());
        let from = format!(
            "\"{}\" <sip:{}@{}>;tag={local_tag}",
            self.caller_name.replace('"', ""),
            target.from_user,
            target.from_domain
        );
        let dialog = Dialog::new_uac(&call_id, &local_tag, &from, &target.to_header, &target.uri);
        let _ = self
            .shared
            .commands
            .send(SipCommand::Route {
                call: self.id,
                call_id,
                local_tag,
            })
            .await;
        let mut leg = OutLeg {
            sdp: negotiate::offer(&offer),
            target,
            key: TransactionKey::for_request("", Method::Invite),
            branch: String::new(),
            dialog,
            offer,
            socket: Some(opened),
            state: LegState::Calling,
            authenticated: false,
            early: None,
        };
        self.send_invite(&mut leg, None).await;
        tracing::info!(call = self.id, user = %leg.target.label, uri = %leg.target.uri, to = %leg.target.send_to, "Dial: INVITE sent");
        Some(leg)
    }

    /// Sends (or re-sends with credentials) the leg's INVITE in a new transaction.
    async fn send_invite(&mut self, leg: &mut OutLeg, authorization: Option<(&str, String)>) {
        let sip = self.shared.sip_address;
        leg.branch = format!("z9hG4bK{}", random_tag());
        let mut writer = leg
            .dialog
            .request(Method::Invite, sip, &leg.branch)
            .header("Contact", format!("<sip:{}@{}>", leg.target.from_user, sip))
            .header("Allow", super::task::ALLOW)
            .header("User-Agent", &self.shared.user_agent);
        if let Some((name, value)) = authorization {
            writer = writer.header(name, value);
        }
        let invite = writer.finish_with_body(Some("application/sdp"), leg.sdp.as_bytes());
        leg.key = TransactionKey::for_request(&leg.branch, Method::Invite);
        let _ = self
            .shared
            .commands
            .send(SipCommand::Request {
                key: leg.key.clone(),
                to: leg.target.send_to,
                request: invite,
                call: self.id,
            })
            .await;
    }

    /// Answers a provider's 401/407 on `leg` once; false when it cannot or already did.
    async fn answer_challenge(
        &mut self,
        leg: &mut OutLeg,
        response: &SipMessage,
        status: u16,
    ) -> bool {
        let Some((user, password)) = leg.target.credentials.clone() else {
            return false;
        };
        if leg.authenticated {
            return false;
        }
        let (challenge_header, answer_header) = if status == 407 {
            (HeaderName::ProxyAuthenticate, "Proxy-Authorization")
        } else {
            (HeaderName::WwwAuthenticate, "Authorization")
        };
        let Some(challenge) = response
            .header_occurrences(challenge_header)
            .find_map(|v| DigestChallenge::parse(v).ok())
        else {
            return false;
        };
        let credentials = challenge.answer(
            "INVITE",
            &leg.target.uri,
            &user,
            &password,
            &random_cnonce(),
            1,
        );
        leg.authenticated = true;
        self.send_invite(leg, Some((answer_header, credentials.to_header_value())))
            .await;
        true
    }

    /// Handles a response on one of the ringing legs; returns the leg that answered and its 2xx.
    async fn on_leg_response(
        &mut self,
        legs: &mut [OutLeg],
        response: &SipMessage,
    ) -> Option<(usize, SipMessage)> {
        let call_id = response.call_id()?;
        let index = legs.iter().position(|l| l.dialog.id().call_id == call_id)?;
        let early_taken = legs.iter().any(|l| l.early.is_some());
        let status = response.status()?;
        let leg = &mut legs[index];
        match status {
            100 => None,
            101..=199 => {
                let first = leg.state == LegState::Calling;
                leg.state = LegState::Ringing;
                if !response.body().is_empty() && !early_taken {
                    self.start_early_media(leg, response).await;
                } else if first && !self.final_sent && !self.answered && !self.early_media {
                    self.provisional(180, false).await;
                }
                None
            }
            200..=299 => {
                leg.dialog.confirm_uac(response);
                if leg.state == LegState::Abandoned {
                    // A branch that answered after we gave up on it: ACK and release it.
                    self.ack_and_bye(&mut leg.dialog, leg.target.send_to).await;
                    return None;
                }
                Some((index, response.clone()))
            }
            401 | 407 if self.answer_challenge(leg, response, status).await => None,
            _ => {
                tracing::info!(call = self.id, user = %leg.target.label, status, "Dial branch failed");
                leg.state = LegState::Failed(status);
                leg.early = None;
                None
            }
        }
    }

    /// Starts relaying a ringing leg's early media (183 with SDP) to the caller, who gets our
    /// own 183 with SDP (the PBX anchors media on both legs).
    async fn start_early_media(&mut self, leg: &mut OutLeg, response: &SipMessage) {
        let body = std::str::from_utf8(response.body()).unwrap_or_default();
        let Ok(negotiated) = negotiate::parse_answer(&leg.offer, body) else {
            return;
        };
        let Some((socket, lease)) = leg.socket.take() else {
            return;
        };
        match MediaLeg::new(socket, lease, negotiated, Duration::ZERO, Instant::now()) {
            Ok(media) => {
                leg.early = Some(media);
                if !self.final_sent && !self.answered {
                    self.provisional(183, true).await;
                    self.early_media = true;
                }
                tracing::info!(call = self.id, user = %leg.target.label, "early media from the callee");
            }
            Err(error) => tracing::warn!(call = self.id, %error, "early media refused"),
        }
    }

    /// ACKs the winning 2xx, answers the caller and starts the outgoing leg's media.
    async fn connect(&mut self, leg: OutLeg, response: SipMessage) -> Option<Bridged> {
        let OutLeg {
            mut dialog,
            target,
            mut offer,
            socket,
            early,
            ..
        } = leg;
        let (to, user) = (target.send_to, target.label);
        let ack = self.ack(&mut dialog, to).await;
        let body = std::str::from_utf8(response.body()).unwrap_or_default();
        offer.session_version += 1;
        let negotiated = match negotiate::parse_answer(&offer, body) {
            Ok(negotiated) => negotiated,
            Err(error) => {
                tracing::warn!(call = self.id, %error, "callee's SDP answer unusable: hanging up the branch");
                self.bye(&mut dialog, to).await;
                return None;
            }
        };
        let media = match early {
            Some(mut media) => {
                media.renegotiate(negotiated);
                media
            }
            None => {
                let (socket, lease) = socket?;
                MediaLeg::new(
                    socket,
                    lease,
                    negotiated,
                    self.shared.rtp_timeout,
                    Instant::now(),
                )
                .ok()?
            }
        };
        self.answer().await;
        self.guard
            .update(|v| v.state = format!("bridged to {user}"));
        tracing::info!(call = self.id, %user, codec_in = self.media.negotiated().codec.encoding_name(), codec_out = negotiated.codec.encoding_name(), "Dial answered: bridging");
        Some(Bridged {
            dialog,
            local: offer,
            to,
            ack,
            media,
        })
    }

    /// Relays media between the caller and the answered leg until one side hangs up.
    async fn bridge(&mut self, mut leg: Bridged) -> Event {
        let mut passed: Option<PassedReinvite> = None;
        loop {
            if self.hung_up {
                self.bye(&mut leg.dialog, leg.to).await;
                return Event::Hangup;
            }
            let deadline = [
                self.media.poll_timeout(),
                leg.media.poll_timeout(),
                self.pending_ack.as_ref().map(|p| p.next.min(p.give_up)),
                Some(self.last_stats + Duration::from_secs(1)),
            ]
            .into_iter()
            .flatten()
            .min();
            tokio::select! {
                received = self.media.recv() => {
                    if let Ok((len, from)) = received {
                        self.media.relay(len, from, Instant::now(), &mut leg.media);
                    }
                }
                received = leg.media.recv() => {
                    if let Ok((len, from)) = received {
                        leg.media.relay(len, from, Instant::now(), &mut self.media);
                    }
                }
                event = self.events.recv() => match event {
                    None => self.hung_up = true,
                    Some(CallEvent::Request { request, key, source }) => {
                        let from_callee = DialogId::of_incoming_request(&request)
                            .is_some_and(|id| id.call_id == leg.dialog.id().call_id);
                        let reinvite_with_offer = request.method() == Some(Method::Invite)
                            && !request.body().is_empty();
                        if from_callee {
                            if let Some(ended) = self.on_callee_request(&mut leg, request, key, source).await {
                                return ended;
                            }
                        } else if reinvite_with_offer && passed.is_none() {
                            passed = self.pass_reinvite(&mut leg, request, key, source).await;
                        } else {
                            self.on_request(request, key, source).await;
                        }
                    }
                    Some(CallEvent::Response(response)) => {
                        let on_leg = response.call_id() == Some(leg.dialog.id().call_id.as_str());
                        let invite_cseq = response
                            .cseq()
                            .ok()
                            .filter(|c| c.method == Method::Invite)
                            .map(|c| c.seq);
                        let status = response.status().unwrap_or(0);
                        let answers_passed = passed.as_ref().is_some_and(|p| Some(p.cseq) == invite_cseq);
                        if on_leg && answers_passed && status >= 200 {
                            if let Some(pending) = passed.take() {
                                self.finish_passed_reinvite(&mut leg, pending, &response).await;
                            }
                        } else if on_leg && invite_cseq.is_some() && (200..300).contains(&status) {
                            let _ = self.shared.commands.send(SipCommand::Send { to: leg.to, message: leg.ack.clone() }).await;
                        }
                    }
                    Some(CallEvent::RequestTimeout(key)) if passed.is_some() && key.method == Method::Invite => {
                        if let Some(pending) = passed.take() {
                            tracing::warn!(call = self.id, "callee did not answer the passed re-INVITE: answering the caller locally");
                            self.reinvite(&pending.request, pending.key, pending.source).await;
                        }
                    }
                    Some(event) => {
                        self.on_sip_event(event).await;
                    }
                },
                _ = sleep_until(deadline) => {
                    let now = Instant::now();
                    self.on_timers(now).await;
                    let inactive = self.media.handle_timeout(now) == Some(MediaEvent::Inactive)
                        || leg.media.handle_timeout(now) == Some(MediaEvent::Inactive);
                    if inactive {
                        tracing::warn!(call = self.id, "no RTP on a bridged leg: hanging up both");
                        self.bye(&mut leg.dialog, leg.to).await;
                        self.hangup(None).await;
                        return Event::Hangup;
                    }
                }
            }
        }
    }

    /// Passes the caller's re-INVITE (hold, unhold) on to the callee with the PBX's own SDP in
    /// the same direction; the caller is answered when the callee has answered.
    async fn pass_reinvite(
        &mut self,
        leg: &mut Bridged,
        request: SipMessage,
        key: Option<TransactionKey>,
        source: SocketAddr,
    ) -> Option<PassedReinvite> {
        let key = key?;
        if self.dialog.accept_request(&request).is_err() {
            self.reply(&request, key, 500, source).await;
            return None;
        }
        let body = std::str::from_utf8(request.body()).unwrap_or_default();
        let Ok(offer) = negotiate::parse_offer(body) else {
            self.reply(&request, key, 488, source).await;
            return None;
        };
        leg.local.direction = offer.direction;
        leg.local.session_version += 1;
        let sdp = negotiate::offer(&leg.local);
        let branch = format!("z9hG4bK{}", random_tag());
        let sip = self.shared.sip_address;
        let reinvite = leg
            .dialog
            .request(Method::Invite, sip, &branch)
            .header("Contact", format!("<sip:{}@{}>", self.caller, sip))
            .header("Allow", super::task::ALLOW)
            .finish_with_body(Some("application/sdp"), sdp.as_bytes());
        let _ = self
            .shared
            .commands
            .send(SipCommand::Request {
                key: TransactionKey::for_request(&branch, Method::Invite),
                to: leg.to,
                request: reinvite,
                call: self.id,
            })
            .await;
        tracing::info!(call = self.id, direction = ?offer.direction, "caller re-INVITE passed to the callee");
        Some(PassedReinvite {
            cseq: leg.dialog.local_cseq(),
            request,
            key,
            source,
        })
    }

    /// The callee answered a passed re-INVITE: ACK it, apply its answer, answer the caller.
    async fn finish_passed_reinvite(
        &mut self,
        leg: &mut Bridged,
        pending: PassedReinvite,
        response: &SipMessage,
    ) {
        if response.status().is_some_and(|s| (200..300).contains(&s)) {
            leg.ack = self.ack(&mut leg.dialog, leg.to).await;
            let body = std::str::from_utf8(response.body()).unwrap_or_default();
            match negotiate::parse_answer(&leg.local, body) {
                Ok(negotiated) => leg.media.renegotiate(negotiated),
                Err(error) => {
                    tracing::warn!(call = self.id, %error, "callee's answer to the re-INVITE unusable")
                }
            }
        } else {
            tracing::info!(
                call = self.id,
                status = response.status(),
                "callee refused the passed re-INVITE"
            );
        }
        self.reinvite(&pending.request, pending.key, pending.source)
            .await;
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
                self.hangup(None).await;
                Some(Event::DialResult(DialStatus::Answer))
            }
            Some(Method::Options) | Some(Method::Info) => {
                self.reply(&request, key, 200, source).await;
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

    /// Answers the callee's re-INVITE (hold, unhold, refresh) from this leg's media state. The
    /// caller's leg is not renegotiated: media towards a holding side simply stops.
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

    /// CANCELs ringing legs.
    async fn abandon(&mut self, legs: &mut [OutLeg]) {
        for leg in legs.iter_mut() {
            if matches!(leg.state, LegState::Calling | LegState::Ringing) {
                let cancel = leg
                    .dialog
                    .request(Method::Cancel, self.shared.sip_address, &leg.branch)
                    .finish();
                let _ = self
                    .shared
                    .commands
                    .send(SipCommand::Request {
                        key: TransactionKey::for_request(&leg.branch, Method::Cancel),
                        to: leg.target.send_to,
                        request: cancel,
                        call: self.id,
                    })
                    .await;
                leg.state = LegState::Abandoned;
            }
        }
    }

    /// Sends the ACK for a 2xx on `dialog` (no transaction, §13.2.2.4) and returns it for
    /// retransmitted 2xx.
    async fn ack(&mut self, dialog: &mut Dialog, to: SocketAddr) -> bytes::Bytes {
        let branch = format!("z9hG4bK{}", random_tag());
        let ack = dialog
            .request(Method::Ack, self.shared.sip_address, &branch)
            .finish();
        let message = ack.clone();
        let _ = self
            .shared
            .commands
            .send(SipCommand::Send { to, message })
            .await;
        ack
    }

    async fn ack_and_bye(&mut self, dialog: &mut Dialog, to: SocketAddr) {
        self.ack(dialog, to).await;
        self.bye(dialog, to).await;
    }

    async fn bye(&mut self, dialog: &mut Dialog, to: SocketAddr) {
        send_bye(&self.shared, self.id, dialog, to).await;
    }
}

/// Waits for RTP on the early-media leg `index`, or forever when there is none.
async fn recv_early(
    legs: &mut [OutLeg],
    index: Option<usize>,
) -> std::io::Result<(usize, SocketAddr)> {
    match index
        .and_then(|i| legs.get_mut(i))
        .and_then(|l| l.early.as_mut())
    {
        Some(media) => media.recv().await,
        None => std::future::pending().await,
    }
}

/// `preferred` first (no transcoding when the callee accepts the caller's codec), then the
/// callee's allowed codecs.
fn prefer(preferred: CodecKind, allowed: &[CodecKind]) -> Vec<CodecKind> {
    let mut codecs: Vec<CodecKind> = allowed
        .iter()
        .copied()
        .filter(|c| *c == preferred)
        .collect();
    codecs.extend(allowed.iter().copied().filter(|c| *c != preferred));
    codecs
}

/// DIALSTATUS when every branch failed, from the most telling response (Asterisk's mapping).
fn dial_status(legs: &[OutLeg]) -> DialStatus {
    let statuses: Vec<u16> = legs
        .iter()
        .filter_map(|l| match l.state {
            LegState::Failed(status) => Some(status),
            _ => None,
        })
        .collect();
    if statuses.iter().any(|s| matches!(s, 486 | 600)) {
        DialStatus::Busy
    } else if statuses.iter().any(|s| matches!(s, 408 | 480 | 487 | 603)) {
        DialStatus::NoAnswer
    } else if statuses.is_empty() {
        DialStatus::Cancel
    } else {
        DialStatus::Congestion
    }
}
