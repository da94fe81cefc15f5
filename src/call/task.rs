//! The call task (edge): one per incoming call. It owns the UAS leg (dialog, INVITE
//! transaction responses, media) and runs the dialplan interpreter, turning each
//! [`Action`] into SIP and media work and feeding back what happened as an [`Event`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;

use super::dialplan_handle::DialplanHandle;
use super::media_io::{open_socket, MediaError, MediaEvent, MediaLeg};
use super::registry::{CallGuard, CallRegistry};
use super::{CallEvent, CallId, SipCommand};
use crate::dialplan::{Action, CallInfo, Event, Interpreter, RunError};
use crate::media::codec::CodecKind;
use crate::media::ports::{PortError, PortPool};
use crate::media::prompts::PromptLibrary;
use crate::registration::random_tag;
use crate::sdp::negotiate::{self, Direction, LocalMedia, SdpError};
use crate::sip::dialog::Dialog;
use crate::sip::message::{reason_phrase, HeaderName, MessageWriter, SipMessage};
use crate::sip::method::Method;
use crate::sip::transaction::{Timers, TransactionKey};

/// Methods a call leg accepts in its dialog, for Allow headers.
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO";

/// What every call task shares.
#[derive(Debug, Clone)]
pub struct CallShared {
    /// Commands to the SIP task.
    pub commands: mpsc::Sender<SipCommand>,
    /// RTP ports.
    pub ports: PortPool,
    /// Prompts.
    pub prompts: Arc<PromptLibrary>,
    /// The current dialplan.
    pub dialplan: DialplanHandle,
    /// Live calls.
    pub registry: CallRegistry,
    /// Our SIP address, for Contact and Via.
    pub sip_address: SocketAddr,
    /// Registered contacts, for Dial.
    pub location: crate::location::Location,
    /// Endpoint profiles, for the codecs offered to a dialled endpoint.
    pub endpoints: Arc<std::collections::HashMap<String, crate::router::EndpointProfile>>,
    /// SIP trunks, for Dial(trunk/...).
    pub trunks: Arc<crate::trunk::Trunks>,
    /// The address RTP sockets bind to.
    pub rtp_bind: IpAddr,
    /// The address advertised in SDP.
    pub media_address: IpAddr,
    /// Server/User-Agent header.
    pub user_agent: String,
    /// RTP inactivity timeout (zero disables).
    pub rtp_timeout: Duration,
}

/// Everything about one new call, from the router.
#[derive(Debug)]
pub struct CallSetup {
    /// The call's id.
    pub id: CallId,
    /// The INVITE.
    pub invite: SipMessage,
    /// Its server transaction.
    pub key: TransactionKey,
    /// Where it came from (responses and in-dialog requests go there).
    pub source: SocketAddr,
    /// Our To tag.
    pub local_tag: String,
    /// The caller: the authenticated endpoint user, or the From user of a trunk call.
    pub caller: String,
    /// The dialled extension (Request-URI user, or a trunk call's DID).
    pub exten: String,
    /// The dialplan context of the caller.
    pub context: String,
    /// The caller's allowed codecs.
    pub codecs: Vec<CodecKind>,
    /// Events from the SIP task.
    pub events: mpsc::Receiver<CallEvent>,
}

/// A 2xx being retransmitted until its ACK (RFC 3261 §13.3.1.4).
#[derive(Debug)]
pub(super) struct PendingAck {
    key: TransactionKey,
    response: Bytes,
    pub(super) next: Instant,
    interval: Duration,
    pub(super) give_up: Instant,
}

/// What a media wait is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Playback { interruptible: bool },
    Digit { until: Instant },
    Sleep { until: Instant },
    Echo,
}

/// Runs one call to its end.
pub async fn run(shared: CallShared, setup: CallSetup) {
    let guard = shared.registry.register(
        setup.id,
        &setup.caller,
        &exten_of(&setup.invite),
        Instant::now(),
    );
    let id = setup.id;
    let mut call = match Call::start(shared, setup, guard).await {
        Ok(call) => call,
        Err(()) => return,
    };
    call.run().await;
    call.finish().await;
    tracing::debug!(call = id, "call task ended");
}

fn exten_of(invite: &SipMessage) -> String {
    invite
        .request_uri()
        .and_then(|u| crate::sip::header::SipUri::parse(u).ok())
        .and_then(|u| u.user.map(str::to_string))
        .unwrap_or_default()
}

/// One call's state, shared with the Dial implementation in [`super::b2bua`].
pub(super) struct Call {
    pub(super) shared: CallShared,
    pub(super) id: CallId,
    pub(super) invite: SipMessage,
    pub(super) key: TransactionKey,
    pub(super) source: SocketAddr,
    pub(super) local_tag: String,
    pub(super) dialog: Dialog,
    pub(super) events: mpsc::Receiver<CallEvent>,
    pub(super) media: MediaLeg,
    pub(super) local_media: LocalMedia,
    pub(super) answer_sdp: String,
    pub(super) interpreter: Interpreter,
    pub(super) guard: CallGuard,
    pub(super) answered: bool,
    pub(super) early_media: bool,
    pub(super) final_sent: bool,
    pub(super) hung_up: bool,
    pub(super) pending_ack: Option<PendingAck>,
    pub(super) last_stats: Instant,
    pub(super) caller: String,
    pub(super) caller_name: String,
}

impl Call {
    /// Validates the INVITE, sets up media and the dialplan; answers the INVITE with an error
    /// and returns `Err` when the call cannot proceed.
    async fn start(shared: CallShared, setup: CallSetup, guard: CallGuard) -> Result<Call, ()> {
        let CallSetup {
            id,
            invite,
            key,
            source,
            local_tag,
            caller,
            exten,
            context,
            codecs,
            events,
        } = setup;
        let reject = |status: u16, why: &str| {
            tracing::info!(call = id, status, why, "call rejected");
            let response = MessageWriter::response(
                &invite,
                status,
                reason_phrase(status),
                Some(&local_tag),
                source,
            )
            .header("Server", &shared.user_agent)
            .finish();
            (status, response)
        };
        let fail = |(status, response): (u16, Bytes)| {
            let commands = shared.commands.clone();
            let key = key.clone();
            async move {
                let _ = commands
                    .send(SipCommand::Respond {
                        key,
                        status,
                        response,
                        to: source,
                    })
                    .await;
                let _ = commands.send(SipCommand::Ended { call: id }).await;
            }
        };
        let dialog = match Dialog::as_uas(&invite, &local_tag) {
            Ok(dialog) => dialog,
            Err(e) => {
                fail(reject(400, &e.to_string())).await;
                return Err(());
            }
        };
        let body = std::str::from_utf8(invite.body()).unwrap_or_default();
        if body.trim().is_empty() {
            fail(reject(
                488,
                "INVITE without SDP offer (late offer is not supported)",
            ))
            .await;
            return Err(());
        }
        let offer = match negotiate::parse_offer(body) {
            Ok(offer) => offer,
            Err(e) => {
                fail(reject(488, &e.to_string())).await;
                return Err(());
            }
        };
        let (socket, lease) = match open_socket(&shared.ports, shared.rtp_bind).await {
            Ok(opened) => opened,
            Err(MediaError::Ports(e @ PortError::Exhausted { .. })) => {
                tracing::warn!(call = id, error = %e, "no RTP port for a new call: answering 503");
                fail(reject(503, "no free RTP port")).await;
                return Err(());
            }
            Err(e) => {
                tracing::error!(call = id, error = %e, "RTP socket setup failed");
                fail(reject(503, "RTP socket setup failed")).await;
                return Err(());
            }
        };
        let local_media = LocalMedia {
            address: shared.media_address,
            port: lease.port(),
            session_id: rand::random::<u32>() as u64,
            session_version: 1,
            codecs,
            telephone_event: true,
            ptime_ms: 20,
            direction: Direction::SendRecv,
        };
        let (answer_sdp, negotiated) = match negotiate::answer(&offer, &local_media) {
            Ok(answered) => answered,
            Err(SdpError::NoCommonCodec) => {
                fail(reject(488, "no common codec")).await;
                return Err(());
            }
            Err(e) => {
                fail(reject(488, &e.to_string())).await;
                return Err(());
            }
        };
        let media = match MediaLeg::new(
            socket,
            lease,
            negotiated,
            shared.rtp_timeout,
            Instant::now(),
        ) {
            Ok(media) => media,
            Err(e) => {
                fail(reject(488, &e.to_string())).await;
                return Err(());
            }
        };
        let caller_name = invite
            .from_header()
            .ok()
            .and_then(|f| f.display.map(str::to_string))
            .unwrap_or_else(|| caller.clone());
        let info = CallInfo {
            context: context.clone(),
            exten: exten.clone(),
            caller_num: caller.clone(),
            caller_name: caller_name.clone(),
        };
        let interpreter = match Interpreter::new(shared.dialplan.current(), info, |name: &str| {
            std::env::var(name).ok()
        }) {
            Ok(interpreter) => interpreter,
            Err(RunError::NoSuchExtension { .. }) | Err(RunError::NoSuchContext { .. }) => {
                fail(reject(
                    404,
                    &format!("no extension {exten} in context {context}"),
                ))
                .await;
                return Err(());
            }
        };
        guard.update(|v| v.codec = Some(negotiated.codec.encoding_name().to_string()));
        tracing::info!(call = id, from = %caller, to = %exten, %context, codec = negotiated.codec.encoding_name(), rtp_port = media.port(), "call started");
        Ok(Call {
            shared,
            id,
            invite,
            key,
            source,
            local_tag,
            dialog,
            events,
            media,
            local_media,
            answer_sdp,
            interpreter,
            guard,
            answered: false,
            early_media: false,
            final_sent: false,
            hung_up: false,
            pending_ack: None,
            last_stats: Instant::now(),
            caller,
            caller_name,
        })
    }

    async fn run(&mut self) {
        let mut event = Event::Started;
        loop {
            let action = self.interpreter.resume(event);
            event = match action {
                Action::Answer => {
                    self.answer().await;
                    Event::Done
                }
                Action::Ringing => {
                    if !self.final_sent && !self.hung_up {
                        self.provisional(180, false).await;
                    }
                    Event::Done
                }
                Action::Progress => {
                    if !self.final_sent && !self.hung_up {
                        self.provisional(183, true).await;
                        self.early_media = true;
                    }
                    Event::Done
                }
                Action::Play {
                    sounds,
                    interruptible,
                } => self.play(&sounds, interruptible).await,
                Action::WaitDigit { timeout } => {
                    self.wait(Wait::Digit {
                        until: Instant::now() + timeout,
                    })
                    .await
                }
                Action::Wait { duration } => {
                    self.wait(Wait::Sleep {
                        until: Instant::now() + duration,
                    })
                    .await
                }
                Action::Echo => {
                    self.ensure_media().await;
                    self.media.set_echo(true);
                    let event = self.wait(Wait::Echo).await;
                    self.media.set_echo(false);
                    event
                }
                Action::Dial {
                    targets, timeout, ..
                } => self.dial(targets, timeout).await,
                Action::Hangup { cause } => {
                    self.hangup(cause).await;
                    Event::Hangup
                }
                Action::Finished => break,
            };
        }
    }

    /// Answers with 200 and our SDP unless already answered.
    pub(super) async fn answer(&mut self) {
        if self.answered || self.final_sent || self.hung_up {
            return;
        }
        let response = self.response_to_invite(200, true);
        self.send_response(self.key.clone(), 200, response.clone())
            .await;
        let now = Instant::now();
        let t1 = Timers::default().t1;
        self.pending_ack = Some(PendingAck {
            key: self.key.clone(),
            response,
            next: now + t1,
            interval: t1,
            give_up: now + 64 * t1,
        });
        self.answered = true;
        self.final_sent = true;
        self.guard.update(|v| v.state = "answered".into());
        tracing::info!(call = self.id, "answered");
    }

    /// Media apps (Playback, Background, Echo) answer an unanswered call first, as Asterisk
    /// does, unless early media (Progress) is already flowing.
    async fn ensure_media(&mut self) {
        if !self.answered && !self.early_media {
            self.answer().await;
        }
    }

    pub(super) async fn provisional(&mut self, status: u16, with_sdp: bool) {
        let response = self.response_to_invite(status, with_sdp);
        self.send_response(self.key.clone(), status, response).await;
    }

    fn response_to_invite(&self, status: u16, with_sdp: bool) -> Bytes {
        self.leg_response(&self.invite, status, self.source, with_sdp)
    }

    /// A response on the caller's leg with our Contact, Allow and, when asked, our SDP.
    fn leg_response(
        &self,
        request: &SipMessage,
        status: u16,
        source: SocketAddr,
        with_sdp: bool,
    ) -> Bytes {
        let contact = format!(
            "<sip:{}@{}>",
            exten_of(&self.invite),
            self.shared.sip_address
        );
        let writer = MessageWriter::response(
            request,
            status,
            reason_phrase(status),
            Some(&self.local_tag),
            source,
        )
        .header("Contact", contact)
        .header("Allow", ALLOW)
        .header("Supported", "")
        .header("Server", &self.shared.user_agent);
        if with_sdp {
            writer.finish_with_body(Some("application/sdp"), self.answer_sdp.as_bytes())
        } else {
            writer.finish()
        }
    }

    pub(super) async fn send_response(&self, key: TransactionKey, status: u16, response: Bytes) {
        let _ = self
            .shared
            .commands
            .send(SipCommand::Respond {
                key,
                status,
                response,
                to: self.source,
            })
            .await;
    }

    async fn play(&mut self, sounds: &[String], interruptible: bool) -> Event {
        if self.hung_up {
            return Event::Hangup;
        }
        self.ensure_media().await;
        let mut loaded = Vec::with_capacity(sounds.len());
        for name in sounds {
            match self.shared.prompts.get(name) {
                Ok(sound) => loaded.push(sound),
                Err(error) => tracing::warn!(call = self.id, %error, "prompt not played"),
            }
        }
        if loaded.is_empty() {
            return Event::PlaybackDone;
        }
        self.media.play(loaded, Instant::now());
        let event = self.wait(Wait::Playback { interruptible }).await;
        self.media.stop_playback();
        event
    }

    /// Runs media and SIP until what `wait` waits for happens.
    async fn wait(&mut self, wait: Wait) -> Event {
        loop {
            if self.hung_up {
                return Event::Hangup;
            }
            let deadline = [
                self.media.poll_timeout(),
                self.pending_ack.as_ref().map(|p| p.next.min(p.give_up)),
                match wait {
                    Wait::Digit { until } | Wait::Sleep { until } => Some(until),
                    _ => None,
                },
                Some(self.last_stats + Duration::from_secs(1)),
            ]
            .into_iter()
            .flatten()
            .min();
            tokio::select! {
                event = self.events.recv() => {
                    match event {
                        Some(event) => {
                            if let Some(digit) = self.on_sip_event(event).await {
                                if let Some(result) = digit_result(wait, digit) {
                                    return result;
                                }
                            }
                        }
                        None => self.hung_up = true,
                    }
                }
                received = self.media.recv() => {
                    if let Ok((len, from)) = received {
                        if let Some(MediaEvent::Digit(digit)) = self.media.handle_datagram(len, from, Instant::now()) {
                            if let Some(result) = digit_result(wait, digit) {
                                return result;
                            }
                        }
                    }
                }
                _ = sleep_until(deadline) => {
                    let now = Instant::now();
                    self.on_timers(now).await;
                    match self.media.handle_timeout(now) {
                        Some(MediaEvent::PlaybackDone) if matches!(wait, Wait::Playback { .. }) => {
                            return Event::PlaybackDone;
                        }
                        Some(MediaEvent::Inactive) => {
                            tracing::warn!(call = self.id, "no RTP received: hanging up");
                            self.hangup(None).await;
                            return Event::Hangup;
                        }
                        _ => {}
                    }
                    if let Wait::Digit { until } | Wait::Sleep { until } = wait {
                        if now >= until {
                            return Event::Timeout;
                        }
                    }
                }
            }
        }
    }

    pub(super) async fn on_timers(&mut self, now: Instant) {
        if now >= self.last_stats + Duration::from_secs(1) {
            self.last_stats = now;
            let stats = self.media.stats();
            self.guard.update(|v| {
                v.packets_in = stats.packets_received;
                v.packets_out = stats.packets_sent;
                v.lost = stats.lost;
                v.jitter_ms = stats.jitter_ms;
            });
        }
        let Some(pending) = self.pending_ack.as_mut() else {
            return;
        };
        if now >= pending.give_up {
            self.pending_ack = None;
            tracing::warn!(call = self.id, "no ACK for our 200 OK: ending the call");
            self.hangup(None).await;
            return;
        }
        if now >= pending.next {
            let (key, response) = (pending.key.clone(), pending.response.clone());
            pending.interval = (pending.interval * 2).min(Timers::default().t2);
            pending.next = now + pending.interval;
            self.send_response(key, 200, response).await;
        }
    }

    /// Handles a SIP event; returns a digit received by SIP INFO.
    pub(super) async fn on_sip_event(&mut self, event: CallEvent) -> Option<char> {
        match event {
            CallEvent::Request {
                request,
                key,
                source,
            } => self.on_request(request, key, source).await,
            CallEvent::Cancelled => {
                if !self.final_sent {
                    tracing::info!(call = self.id, "cancelled by the caller");
                    let response = self.response_to_invite(487, false);
                    self.send_response(self.key.clone(), 487, response).await;
                    self.final_sent = true;
                    self.hung_up = true;
                }
                None
            }
            CallEvent::Response(_) | CallEvent::RequestTimeout(_) => None,
            CallEvent::Hangup => {
                self.hangup(None).await;
                None
            }
        }
    }

    pub(super) async fn on_request(
        &mut self,
        request: SipMessage,
        key: Option<TransactionKey>,
        source: SocketAddr,
    ) -> Option<char> {
        let method = request.method().unwrap_or(Method::Unknown);
        if method == Method::Ack {
            self.pending_ack = None;
            return None;
        }
        let key = key?;
        if self.dialog.accept_request(&request).is_err() {
            self.reply(&request, key, 500, source).await;
            return None;
        }
        match method {
            Method::Bye => {
                tracing::info!(call = self.id, "caller hung up");
                self.reply(&request, key, 200, source).await;
                self.hung_up = true;
                None
            }
            Method::Invite => {
                self.reinvite(&request, key, source).await;
                None
            }
            Method::Info => {
                self.reply(&request, key, 200, source).await;
                info_digit(&request)
            }
            Method::Options => {
                self.reply(&request, key, 200, source).await;
                None
            }
            _ => {
                self.reply(&request, key, 405, source).await;
                None
            }
        }
    }

    pub(super) async fn reply(
        &self,
        request: &SipMessage,
        key: TransactionKey,
        status: u16,
        source: SocketAddr,
    ) {
        let mut writer = MessageWriter::response(
            request,
            status,
            reason_phrase(status),
            Some(&self.local_tag),
            source,
        )
        .header("Server", &self.shared.user_agent);
        if status == 405 || request.method() == Some(Method::Options) {
            writer = writer.header("Allow", ALLOW);
        }
        self.send_response(key, status, writer.finish()).await;
    }

    /// Answers a re-INVITE (hold, unhold, session refresh) from the current media state.
    pub(super) async fn reinvite(
        &mut self,
        request: &SipMessage,
        key: TransactionKey,
        source: SocketAddr,
    ) {
        let body = std::str::from_utf8(request.body()).unwrap_or_default();
        if body.trim().is_empty() {
            let response = self.leg_response(request, 200, source, true);
            self.send_response(key, 200, response).await;
            return;
        }
        let offer = match negotiate::parse_offer(body) {
            Ok(offer) => offer,
            Err(_) => {
                self.reply(request, key, 488, source).await;
                return;
            }
        };
        self.local_media.session_version += 1;
        match negotiate::answer(&offer, &self.local_media) {
            Ok((sdp, negotiated)) => {
                tracing::info!(call = self.id, direction = ?negotiated.direction, "re-INVITE answered");
                self.answer_sdp = sdp;
                self.media.renegotiate(negotiated);
                let response = self.leg_response(request, 200, source, true);
                self.send_response(key.clone(), 200, response.clone()).await;
                let now = Instant::now();
                let t1 = Timers::default().t1;
                self.pending_ack = Some(PendingAck {
                    key,
                    response,
                    next: now + t1,
                    interval: t1,
                    give_up: now + 64 * t1,
                });
            }
            Err(_) => self.reply(request, key, 488, source).await,
        }
    }

    /// Ends the call from our side: BYE when answered, a final error response otherwise.
    pub(super) async fn hangup(&mut self, cause: Option<u16>) {
        if self.hung_up {
            return;
        }
        self.hung_up = true;
        self.guard.update(|v| v.state = "ending".into());
        if self.answered {
            send_bye(&self.shared, self.id, &mut self.dialog, self.source).await;
            tracing::info!(call = self.id, "hung up (BYE sent)");
        } else if !self.final_sent {
            let status = cause_to_status(cause);
            let response = self.response_to_invite(status, false);
            self.send_response(self.key.clone(), status, response).await;
            self.final_sent = true;
            tracing::info!(call = self.id, status, "call ended before answer");
        }
    }

    async fn finish(mut self) {
        if !self.hung_up {
            self.hangup(None).await;
        }
        let stats = self.media.stats();
        tracing::info!(
            call = self.id,
            packets_in = stats.packets_received,
            packets_out = stats.packets_sent,
            lost = stats.lost,
            "call ended"
        );
        let _ = self
            .shared
            .commands
            .send(SipCommand::Ended { call: self.id })
            .await;
        self.events.close();
    }
}

/// What a digit means for the current wait: interruptible playback and digit waits return it.
fn digit_result(wait: Wait, digit: char) -> Option<Event> {
    match wait {
        Wait::Playback {
            interruptible: true,
        }
        | Wait::Digit { .. } => Some(Event::Digit(digit)),
        _ => None,
    }
}

/// A digit from SIP INFO with `application/dtmf-relay` (`Signal=5`), as older phones send.
fn info_digit(request: &SipMessage) -> Option<char> {
    let content_type = request.header(HeaderName::ContentType)?;
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/dtmf-relay")
    {
        return None;
    }
    let body = std::str::from_utf8(request.body()).ok()?;
    body.lines()
        .filter_map(|line| line.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("signal"))
        .and_then(|(_, value)| value.trim().chars().next())
        .filter(|c| c.is_ascii_digit() || "*#ABCD".contains(*c))
}

/// Maps a Hangup cause to the final response of an unanswered call: SIP codes (400-699) are
/// used as they are; Q.850 causes map as RFC 3398 §8.2.6.1 says; none gives 480.
pub fn cause_to_status(cause: Option<u16>) -> u16 {
    match cause {
        Some(code @ 400..=699) => code,
        Some(1) | Some(3) => 404,
        Some(17) => 486,
        Some(18) => 408,
        Some(19) | Some(20) => 480,
        Some(21) => 403,
        Some(22) => 410,
        Some(27) => 502,
        Some(28) => 484,
        Some(34) | Some(38) | Some(41) | Some(42) => 503,
        Some(58) | Some(65) | Some(88) => 488,
        Some(127) => 500,
        _ => 480,
    }
}

/// Sends BYE on `dialog` to `to` in a new client transaction owned by `call`.
pub(super) async fn send_bye(
    shared: &CallShared,
    call: CallId,
    dialog: &mut Dialog,
    to: SocketAddr,
) {
    let branch = format!("z9hG4bK{}", random_tag());
    let request = dialog
        .request(Method::Bye, shared.sip_address, &branch)
        .header("User-Agent", &shared.user_agent)
        .finish();
    let key = TransactionKey::for_request(&branch, Method::Bye);
    let _ = shared
        .commands
        .send(SipCommand::Request {
            key,
            to,
            request,
            call,
        })
        .await;
}

pub(super) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_map_to_rfc3398_statuses() {
        assert_eq!(cause_to_status(None), 480);
        assert_eq!(cause_to_status(Some(17)), 486);
        assert_eq!(cause_to_status(Some(486)), 486);
        assert_eq!(cause_to_status(Some(1)), 404);
        assert_eq!(cause_to_status(Some(34)), 503);
    }
}
