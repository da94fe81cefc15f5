//! Dial: the B2BUA half of a call (RFC 3261 §13 as UAC, RFC 7092 B2BUA roles). The call task
//! forks an INVITE to every registered contact of the dialled endpoints, each outgoing leg with
//! its own dialog and RTP port (the PBX anchors media for NAT and docker), relays ringing to
//! the caller, takes the first 2xx and CANCELs the other branches, answers the caller and then
//! bridges the two legs' media until one side hangs up.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use super::media_io::{open_socket, MediaLeg};
use super::task::{send_ack, send_bye, Call};
use super::{CallEvent, SipCommand};
use crate::channel::{cause_of_status, ChannelHandle, ChannelState, NewChannel, Party};
use crate::dialplan::{DialStatus, DialTarget, Event};
use crate::events::PbxEvent;
use crate::media::codec::CodecKind;
use crate::media::ports::PortLease;
use crate::registration::random_tag;
use crate::sdp::negotiate::{self, Direction, LocalMedia};
use crate::sip::auth::{random_cnonce, DigestChallenge};
use crate::sip::dialog::Dialog;
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
    /// For logs: the endpoint user or `trunk/NAME/NUMBER`.
    label: String,
    /// The dial string of DialBegin events: `endpoint/USER` or `trunk/NAME/NUMBER`.
    dialstring: String,
    /// The endpoint or trunk name in the channel's name.
    endpoint: String,
    /// Who is called: the endpoint user or the number.
    callee: String,
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
    /// The leg's channel.
    channel: ChannelHandle,
}

impl OutLeg {
    /// Publishes how this branch of the Dial by `caller` ended.
    fn dial_end(&self, caller: &ChannelHandle, status: DialStatus) {
        if let (Some(caller), Some(peer)) = (caller.snapshot(), self.channel.snapshot()) {
            self.channel.events().publish(PbxEvent::DialEnd {
                caller,
                peer,
                dialstatus: status.as_str().to_string(),
            });
        }
    }

    /// The branch failed with final response `status` (408 for a timeout).
    fn fail(&mut self, caller: &ChannelHandle, status: u16) {
        self.state = LegState::Failed(status);
        self.early = None;
        self.channel.set_cause(cause_of_status(status));
        if matches!(status, 486 | 600) {
            self.channel.set_state(ChannelState::Busy);
        }
        self.dial_end(caller, branch_status(status));
    }
}

/// The answered outgoing leg, bridged to the caller.
pub(super) struct Bridged {
    pub(super) dialog: Dialog,
    pub(super) local: LocalMedia,
    pub(super) to: SocketAddr,
    pub(super) ack: bytes::Bytes,
    pub(super) media: MediaLeg,
    pub(super) channel: ChannelHandle,
}

impl Call {
    /// Runs `Dial(targets, timeout)` up to the answer: returns the answered leg to bridge, or
    /// the dialplan event (`DialResult` with the outcome, or `Hangup` when the caller went
    /// away). The bridge runs after this future is gone, so a bridged call does not keep the
    /// ringing phase's state.
    pub(super) async fn dial(
        &mut self,
        targets: Vec<DialTarget>,
        timeout: Duration,
    ) -> Result<Box<Bridged>, Event> {
        if self.hung_up {
            return Err(Event::Hangup);
        }
        let now = Instant::now();
        let mut legs = Vec::new();
        for target in targets {
            match target {
                DialTarget::Endpoint(user) => {
                    for binding in self.shared.location.contacts(&user, now) {
                        let target = self.endpoint_target(&user, &binding);
                        legs.extend(Box::pin(self.start_leg(target)).await);
                    }
                }
                DialTarget::Trunk { trunk, number } => match self.trunk_target(&trunk, &number) {
                    Some(target) => legs.extend(Box::pin(self.start_leg(target)).await),
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
            return Err(Event::DialResult(DialStatus::ChanUnavail));
        }
        let ring_timeout = tokio::time::sleep_until((now + timeout).into());
        tokio::pin!(ring_timeout);
        let winner = loop {
            if self.hung_up {
                Box::pin(self.abandon(&mut legs, DialStatus::Cancel)).await;
                return Err(Event::Hangup);
            }
            if legs
                .iter()
                .all(|l| matches!(l.state, LegState::Failed(_) | LegState::Abandoned))
            {
                let status = dial_status(&legs);
                tracing::info!(call = self.id, ?status, "Dial failed");
                return Err(Event::DialResult(status));
            }
            let early = legs.iter().position(|l| l.early.is_some());
            tokio::select! {
                event = self.events.recv() => match event {
                    None => self.hung_up = true,
                    Some(CallEvent::Response(response)) => {
                        if let Some(answered) = Box::pin(self.on_leg_response(&mut legs, &response)).await {
                            break answered;
                        }
                    }
                    Some(CallEvent::RequestTimeout(key)) => {
                        if let Some(leg) = legs.iter_mut().find(|l| l.key == *key) {
                            leg.fail(&self.channel, 408);
                        }
                    }
                    Some(CallEvent::Hangup(Some(channel)))
                        if legs.iter().any(|l| *l.channel.id() == *channel) =>
                    {
                        if let Some(index) = legs.iter().position(|l| *l.channel.id() == *channel) {
                            legs[index].channel.publish(|channel| PbxEvent::ChannelHangupRequest {
                                channel,
                                cause: 16,
                                source: "operator".into(),
                            });
                            Box::pin(self.abandon(&mut legs[index..=index], DialStatus::Cancel)).await;
                        }
                    }
                    Some(event) => {
                        Box::pin(self.on_sip_event(event)).await;
                    }
                },
                Ok(()) = self.media.readable() => {
                    match early.and_then(|i| legs[i].early.as_mut()) {
                        Some(early) => self.media.relay(Instant::now(), early),
                        None => {
                            self.media.receive(Instant::now());
                        }
                    }
                }
                Ok(()) = early_readable(&legs, early) => {
                    if let Some(media) = early.and_then(|i| legs[i].early.as_mut()) {
                        media.relay(Instant::now(), &mut self.media);
                    }
                }
                _ = &mut ring_timeout => {
                    tracing::info!(call = self.id, "Dial timed out: cancelling");
                    Box::pin(self.abandon(&mut legs, DialStatus::NoAnswer)).await;
                    return Err(Event::DialResult(DialStatus::NoAnswer));
                }
            }
        };
        let (winner, response) = winner;
        let answer = legs.remove(winner);
        Box::pin(self.abandon(&mut legs, DialStatus::Cancel)).await;
        Box::pin(self.connect(answer, response))
            .await
            .map(Box::new)
            .ok_or(Event::DialResult(DialStatus::Congestion))
    }

    fn endpoint_target(&self, user: &str, binding: &Binding) -> LegTarget {
        let sip = self.shared.sip_address;
        LegTarget {
            label: user.to_string(),
            dialstring: format!("endpoint/{user}"),
            endpoint: user.to_string(),
            callee: user.to_string(),
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
            dialstring: format!("trunk/{name}/{number}"),
            endpoint: name.to_string(),
            callee: number.to_string(),
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
        let (context, _, _) = self.interpreter.location();
        let channel = self.shared.channels.create(
            NewChannel {
                call: self.id,
                endpoint: target.endpoint.clone(),
                state: ChannelState::Down,
                caller: Party {
                    number: self.caller.clone(),
                    name: self.caller_name.clone(),
                },
                connected: Party {
                    number: target.callee.clone(),
                    name: String::new(),
                },
                context: context.to_string(),
                exten: target.callee.clone(),
                sip_call_id: call_id.clone(),
            },
            Instant::now(),
            std::time::SystemTime::now(),
        );
        if let (Some(caller), Some(peer)) = (self.channel.snapshot(), channel.snapshot()) {
            self.shared.channels.events().publish(PbxEvent::DialBegin {
                caller,
                peer,
                dialstring: target.dialstring.clone(),
            });
        }
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
            channel,
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
                leg.channel.set_state(ChannelState::Ringing);
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
                leg.fail(&self.channel, status);
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
        leg.dial_end(&self.channel, DialStatus::Answer);
        let OutLeg {
            mut dialog,
            target,
            mut offer,
            socket,
            early,
            channel,
            ..
        } = leg;
        let (to, user) = (target.send_to, target.label);
        let ack = send_ack(&self.shared, &mut dialog, to).await;
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
        channel.set_state(ChannelState::Up);
        channel.update(|c| c.codec = Some(negotiated.codec.encoding_name().to_string()));
        self.channel
            .update(|c| c.connected.number.clone_from(&user));
        tracing::info!(call = self.id, %user, codec_in = self.media.negotiated().codec.encoding_name(), codec_out = negotiated.codec.encoding_name(), "Dial answered: bridging");
        Some(Bridged {
            dialog,
            local: offer,
            to,
            ack,
            media,
            channel,
        })
    }

    /// CANCELs ringing legs; their Dial ends with `status`.
    async fn abandon(&mut self, legs: &mut [OutLeg], status: DialStatus) {
        for leg in legs.iter_mut() {
            if matches!(leg.state, LegState::Calling | LegState::Ringing) {
                leg.dial_end(&self.channel, status);
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

    async fn ack_and_bye(&mut self, dialog: &mut Dialog, to: SocketAddr) {
        send_ack(&self.shared, dialog, to).await;
        self.bye(dialog, to).await;
    }

    pub(super) async fn bye(&mut self, dialog: &mut Dialog, to: SocketAddr) {
        send_bye(&self.shared, self.id, dialog, to).await;
    }
}

/// Waits for RTP on the early-media leg `index`, or forever when there is none.
async fn early_readable(legs: &[OutLeg], index: Option<usize>) -> std::io::Result<()> {
    match index
        .and_then(|i| legs.get(i))
        .and_then(|l| l.early.as_ref())
    {
        Some(media) => media.readable().await,
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

/// The DIALSTATUS of one branch that failed with `status`.
fn branch_status(status: u16) -> DialStatus {
    match status {
        486 | 600 => DialStatus::Busy,
        408 | 480 | 487 | 603 => DialStatus::NoAnswer,
        _ => DialStatus::Congestion,
    }
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
