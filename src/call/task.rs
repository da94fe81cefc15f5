//! The call task (edge): one per incoming call. It owns the UAS leg (dialog, INVITE
//! transaction responses, media) and runs the dialplan interpreter, turning each
//! [`Action`] into SIP and media work and feeding back what happened as an [`Event`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;

use super::dialplan_handle::DialplanHandle;
use super::media_io::{open_socket, MediaError, MediaLeg};
use super::uas::cause_to_status;
use super::wait::Wait;
use super::{CallEvent, CallId, SipCommand};
use crate::bridge::BridgeRegistry;
use crate::channel::{
    cause_of_status, ChannelHandle, ChannelRegistry, ChannelState, DialplanPosition, MediaStats,
    NewChannel, Party,
};
use crate::dialplan::{Action, CallInfo, Event, Interpreter, Note, RunError};
use crate::events::PbxEvent;
use crate::media::codec::CodecKind;
use crate::media::dtmf::KeyPress;
use crate::media::ports::{PortError, PortPool};
use crate::media::prompts::PromptLibrary;
use crate::registration::random_tag;
use crate::sdp::negotiate::{self, Direction, LocalMedia, SdpError};
use crate::sip::dialog::Dialog;
use crate::sip::message::{reason_phrase, MessageWriter, SipMessage};
use crate::sip::method::Method;
use crate::sip::transaction::{Timers, TransactionKey};
use crate::sip::ua::answer_retransmission::{AnswerDue, AnswerRetransmission};

/// Methods a call leg accepts in its dialog, for Allow headers.
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER";

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
    /// Live channels (and the event stream they publish on).
    pub channels: ChannelRegistry,
    /// Live bridges.
    pub bridges: BridgeRegistry,
    /// Our SIP address, for Contact and Via.
    pub sip_address: SocketAddr,
    /// Registered contacts, for Dial.
    pub location: crate::location::Location,
    /// The proxy endpoints are reached through instead (`[location] mode = "proxy"`).
    pub location_proxy: Option<Arc<crate::location_proxy::LocationProxy>>,
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
    /// Conference rooms, for ConfBridge, and the bridges applications create.
    pub conferences: super::conference::ConferenceRooms,
    /// Applications' live playbacks, by id.
    pub playbacks: super::live::PlaybackIndex,
    /// Where recordings are written.
    pub recordings: crate::media::recordings::RecordingStore,
    /// Applications' live recordings, by name.
    pub live_recordings: super::live::RecordingIndex,
    /// `[agi]`: where AGI programs live, FastAGI's connect timeout.
    pub agi: Arc<crate::config::AgiConfig>,
    /// The AstDB (AGI's DATABASE commands).
    pub astdb: crate::astdb::AstDb,
    /// The Stasis applications an ARI WebSocket holds (`Stasis(app)` needs its app there).
    pub stasis_apps: crate::stasis_apps::StasisApps,
    /// Text to speech (`Speak`, the event socket's `speak` and `playback say:`).
    pub tts: crate::tts::Tts,
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
    /// The endpoint or trunk that placed it, for the channel's name.
    pub endpoint: String,
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

/// A 2xx being retransmitted until its ACK, on the schedule of [`AnswerRetransmission`].
#[derive(Debug)]
pub(super) struct PendingAck {
    key: TransactionKey,
    response: Bytes,
    schedule: AnswerRetransmission,
}

impl PendingAck {
    /// Starts retransmitting `response` on `key` from `now`.
    pub(super) fn new(key: TransactionKey, response: Bytes, now: Instant) -> PendingAck {
        PendingAck {
            key,
            response,
            schedule: AnswerRetransmission::new(now, Timers::default()),
        }
    }

    /// When the call task must next look at it.
    pub(super) fn deadline(&self) -> Instant {
        self.schedule.poll_timeout()
    }
}

/// Runs one call to its end.
pub async fn run(shared: CallShared, setup: CallSetup) {
    let _running = shared.channels.call_started();
    let channel = shared.channels.create(
        NewChannel {
            id: None,
            call: setup.id,
            endpoint: setup.endpoint.clone(),
            state: ChannelState::Ring,
            caller: Party {
                number: setup.caller.clone(),
                name: display_name(&setup.invite).unwrap_or_else(|| setup.caller.clone()),
            },
            connected: Party {
                number: setup.exten.clone(),
                name: String::new(),
            },
            context: setup.context.clone(),
            exten: setup.exten.clone(),
            sip_call_id: setup.invite.call_id().unwrap_or_default().to_string(),
            linked: None,
        },
        Instant::now(),
        std::time::SystemTime::now(),
    );
    let id = setup.id;
    // The phases are boxed so the task keeps only the live phase's state, not the largest.
    let mut call = match Box::pin(Call::start(shared, setup, channel)).await {
        Ok(call) => call,
        Err(()) => return,
    };
    Box::pin(call.run()).await;
    Box::pin(call.finish()).await;
    tracing::debug!(call = id, "call task ended");
}

/// The From header's display name, if it has one.
fn display_name(invite: &SipMessage) -> Option<String> {
    invite
        .from_header()
        .ok()
        .and_then(|f| f.display.map(str::to_string))
}

fn exten_of(invite: &SipMessage) -> String {
    invite
        .request_uri()
        .and_then(|u| crate::sip::header::SipUri::parse(u).ok())
        .and_then(|u| u.user.map(str::to_string))
        .unwrap_or_default()
}

/// The INVITE that placed a call, kept for the responses owed to it.
#[derive(Debug)]
pub(super) struct Inbound {
    pub(super) invite: SipMessage,
    pub(super) key: TransactionKey,
}

/// One call's state, shared with the Dial implementation in [`super::b2bua`].
pub(super) struct Call {
    pub(super) shared: CallShared,
    pub(super) id: CallId,
    /// The INVITE that placed the call and its server transaction; `None` when the PBX
    /// placed the call's leg itself (an originated call, a transferred callee).
    pub(super) inbound: Option<Box<Inbound>>,
    /// The user part of our Contact on the leg.
    pub(super) contact_user: String,
    pub(super) source: SocketAddr,
    pub(super) dialog: Dialog,
    pub(super) events: mpsc::Receiver<CallEvent>,
    pub(super) media: MediaLeg,
    pub(super) local_media: LocalMedia,
    pub(super) answer_sdp: String,
    pub(super) interpreter: Interpreter,
    pub(super) channel: ChannelHandle,
    pub(super) answered: bool,
    pub(super) early_media: bool,
    pub(super) final_sent: bool,
    pub(super) hung_up: bool,
    pub(super) pending_ack: Option<PendingAck>,
    pub(super) last_stats: Instant,
    pub(super) caller: String,
    pub(super) caller_name: String,
    /// A blind transfer accepted in the bridge, carried out when the bridge has ended.
    pub(super) transfer: Option<Box<super::transfer::Transfer>>,
    /// A command moved the call elsewhere in the dialplan: the current app stops.
    pub(super) redirected: bool,
    /// Application commands waiting, while an outside application drives the channel
    /// (`Stasis`); `None` otherwise, and such commands are refused.
    pub(super) stasis: Option<Box<super::stasis::AppCommands>>,
    /// AGI command lines queued by AMI's `AGI` action while the channel runs AsyncAGI;
    /// `None` otherwise, and the action is refused.
    pub(super) async_agi: Option<Box<crate::agi::session::AsyncQueue>>,
}

impl Call {
    /// Validates the INVITE, sets up media and the dialplan; answers the INVITE with an error
    /// and returns `Err` when the call cannot proceed.
    async fn start(
        shared: CallShared,
        setup: CallSetup,
        channel: ChannelHandle,
    ) -> Result<Call, ()> {
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
            ..
        } = setup;
        let reject = |status: u16, why: &str| {
            tracing::info!(call = id, status, why, "call rejected");
            channel.set_cause(cause_of_status(status));
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
        let caller_name = display_name(&invite).unwrap_or_else(|| caller.clone());
        let info = CallInfo {
            context: context.clone(),
            exten: exten.clone(),
            caller_num: caller.clone(),
            caller_name: caller_name.clone(),
        };
        let mut interpreter =
            match Interpreter::new(shared.dialplan.current(), info, |name: &str| {
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
        interpreter.set_database(Arc::new(shared.astdb.clone()));
        channel.update(|v| v.codec = Some(negotiated.codec.encoding_name().to_string()));
        tracing::info!(call = id, from = %caller, to = %exten, %context, codec = negotiated.codec.encoding_name(), rtp_port = media.port(), "call started");
        Ok(Call {
            shared,
            id,
            contact_user: exten_of(&invite),
            inbound: Some(Box::new(Inbound { invite, key })),
            source,
            dialog,
            events,
            media,
            local_media,
            answer_sdp,
            interpreter,
            channel,
            answered: false,
            early_media: false,
            final_sent: false,
            hung_up: false,
            pending_ack: None,
            last_stats: Instant::now(),
            caller,
            caller_name,
            transfer: None,
            redirected: false,
            stasis: None,
            async_agi: None,
        })
    }

    pub(super) async fn run(&mut self) {
        let mut event = Event::Started;
        loop {
            let action = self.interpreter.resume(event);
            self.publish_notes();
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
                } => Box::pin(self.play(&sounds, interruptible)).await,
                Action::WaitDigit { timeout } => {
                    Box::pin(self.wait(Wait::Digit {
                        until: Instant::now() + timeout,
                    }))
                    .await
                }
                Action::Wait { duration } => {
                    Box::pin(self.wait(Wait::Sleep {
                        until: Instant::now() + duration,
                    }))
                    .await
                }
                Action::Echo => {
                    self.ensure_media().await;
                    self.media.set_echo(true);
                    let event = Box::pin(self.wait(Wait::Echo)).await;
                    self.media.set_echo(false);
                    event
                }
                Action::Dial {
                    targets, timeout, ..
                } => match Box::pin(self.dial(targets, timeout)).await {
                    Ok(bridged) => Box::pin(self.bridge(*bridged)).await,
                    Err(event) => event,
                },
                Action::ConfBridge { room } => Box::pin(self.conference(&room)).await,
                Action::Stasis { app, args } => Box::pin(self.stasis(app, args)).await,
                Action::Record(request) => Box::pin(self.record(request)).await,
                Action::Agi {
                    request,
                    target,
                    args,
                } => Box::pin(self.agi(request, target, args)).await,
                Action::Socket(target) => Box::pin(self.socket(target)).await,
                Action::Speak { text, voice } => Box::pin(self.speak_step(&text, &voice)).await,
                Action::Hangup { cause } => {
                    self.request_hangup(cause.map(q850_cause).unwrap_or(16), "dialplan");
                    self.hangup(cause).await;
                    Event::Hangup
                }
                Action::Finished => break,
            };
            if std::mem::take(&mut self.redirected) {
                event = Event::Started;
            }
        }
    }

    /// Answers with 200 and our SDP unless already answered.
    pub(super) async fn answer(&mut self) {
        if self.answered || self.final_sent || self.hung_up {
            return;
        }
        let Some((key, response)) = self.response_to_invite(200, true) else {
            return;
        };
        self.send_response(key.clone(), 200, response.clone()).await;
        self.pending_ack = Some(PendingAck::new(key, response, Instant::now()));
        self.answered = true;
        self.final_sent = true;
        self.channel.set_state(ChannelState::Up);
        tracing::info!(call = self.id, "answered");
    }

    /// Media apps (Playback, Background, Echo) answer an unanswered call first, as Asterisk
    /// does, unless early media (Progress) is already flowing.
    pub(super) async fn ensure_media(&mut self) {
        if !self.answered && !self.early_media {
            self.answer().await;
        }
    }

    pub(super) async fn provisional(&mut self, status: u16, with_sdp: bool) {
        self.channel.set_state(ChannelState::Ringing);
        if let Some((key, response)) = self.response_to_invite(status, with_sdp) {
            self.send_response(key, status, response).await;
        }
    }

    /// A response to the INVITE that placed the call, with the transaction it goes on;
    /// `None` when the PBX placed the leg itself.
    pub(super) fn response_to_invite(
        &self,
        status: u16,
        with_sdp: bool,
    ) -> Option<(TransactionKey, Bytes)> {
        let inbound = self.inbound.as_ref()?;
        let response = self.leg_response(&inbound.invite, status, self.source, with_sdp);
        Some((inbound.key.clone(), response))
    }

    /// Ends an unanswered call with 403 whose reason phrase says why (a toll-fraud limit):
    /// `Forbidden (why)`.
    pub(super) async fn refuse(&mut self, why: &str) {
        if self.hung_up || self.answered || self.final_sent {
            return;
        }
        self.hung_up = true;
        self.final_sent = true;
        self.channel.set_cause(q850_cause(403));
        if let Some(inbound) = self.inbound.as_ref() {
            let reason = format!("{} ({why})", reason_phrase(403));
            let response =
                self.leg_response_with_reason(&inbound.invite, 403, &reason, self.source, false);
            let key = inbound.key.clone();
            self.send_response(key, 403, response).await;
        }
        tracing::info!(call = self.id, %why, "call refused with 403");
    }

    /// A response on the caller's leg with our Contact, Allow and, when asked, our SDP.
    pub(super) fn leg_response(
        &self,
        request: &SipMessage,
        status: u16,
        source: SocketAddr,
        with_sdp: bool,
    ) -> Bytes {
        self.leg_response_with_reason(request, status, reason_phrase(status), source, with_sdp)
    }

    /// [`Call::leg_response`] with its own reason phrase.
    fn leg_response_with_reason(
        &self,
        request: &SipMessage,
        status: u16,
        reason: &str,
        source: SocketAddr,
        with_sdp: bool,
    ) -> Bytes {
        let contact = format!("<sip:{}@{}>", self.contact_user, self.shared.sip_address);
        let writer = MessageWriter::response(
            request,
            status,
            reason,
            Some(&self.dialog.id().local_tag),
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

    pub(super) async fn on_timers(&mut self, now: Instant) {
        self.update_stats(now);
        if self.pending_ack.is_some() {
            self.retransmit_2xx(now).await;
        }
    }

    /// Publishes the media statistics to the registry (for `pbx ctl channels` and
    /// `/metrics`) once a second; true when it did now.
    pub(super) fn update_stats(&mut self, now: Instant) -> bool {
        let due = now >= self.last_stats + Duration::from_secs(1);
        if due {
            self.last_stats = now;
            let stats = self.media.stats();
            self.channel.update(|v| v.media = MediaStats::from(&stats));
        }
        due
    }

    /// Retransmits our 2xx until the ACK comes (RFC 3261 §13.3.1.4), or gives up on the call.
    pub(super) async fn retransmit_2xx(&mut self, now: Instant) {
        let Some(pending) = self.pending_ack.as_mut() else {
            return;
        };
        match pending.schedule.handle_timeout(now) {
            Some(AnswerDue::GiveUp) => {
                self.pending_ack = None;
                tracing::warn!(call = self.id, "no ACK for our 200 OK: ending the call");
                self.hangup(None).await;
            }
            Some(AnswerDue::Retransmit) => {
                let (key, response) = (pending.key.clone(), pending.response.clone());
                self.send_response(key, 200, response).await;
            }
            None => {}
        }
    }

    /// Publishes the dialplan steps run and variables set since the last look.
    pub(super) fn publish_notes(&mut self) {
        for note in self.interpreter.take_notes() {
            match note {
                Note::Step {
                    context,
                    exten,
                    priority,
                    app,
                    data,
                } => self.channel.dialplan_step(DialplanPosition {
                    context,
                    exten,
                    priority,
                    app_name: app,
                    app_data: data,
                }),
                Note::VarSet { name, value } => {
                    self.channel.publish(|channel| PbxEvent::ChannelVarset {
                        channel,
                        variable: name,
                        value,
                    })
                }
                Note::CallerId { number, value } => {
                    self.channel.update(|c| match number {
                        true => c.caller.number = value,
                        false => c.caller.name = value,
                    });
                    self.channel
                        .publish(|channel| PbxEvent::ChannelCallerId { channel });
                }
            }
        }
    }

    /// The earliest of `others` and the call's own housekeeping deadlines (the 2xx
    /// retransmission, the once-a-second media statistics): what a wait loop's timer is set to.
    pub(super) fn next_deadline<const N: usize>(
        &self,
        others: [Option<Instant>; N],
    ) -> Option<Instant> {
        others
            .into_iter()
            .chain([
                self.pending_ack.as_ref().map(PendingAck::deadline),
                Some(self.last_stats + Duration::from_secs(1)),
            ])
            .flatten()
            .min()
    }

    /// Publishes a key press received on this call's channel.
    pub(super) fn publish_digit(&self, key: KeyPress) {
        self.channel
            .publish(|channel| PbxEvent::ChannelDtmfReceived {
                channel,
                digit: key.digit,
                duration_ms: key.duration_ms,
            });
    }

    /// Publishes that a hangup of this call's channel was asked for, by whom and why.
    pub(super) fn request_hangup(&self, cause: u16, source: &str) {
        self.channel.set_cause(cause);
        self.channel
            .publish(|channel| PbxEvent::ChannelHangupRequest {
                channel,
                cause,
                source: source.to_string(),
            });
    }

    /// Ends the call from our side: BYE when answered, a final error response otherwise.
    pub(super) async fn hangup(&mut self, cause: Option<u16>) {
        if self.hung_up {
            return;
        }
        self.hung_up = true;
        if let Some(cause) = cause {
            self.channel.set_cause(q850_cause(cause));
        }
        if self.answered {
            send_bye(&self.shared, self.id, &mut self.dialog, self.source).await;
            tracing::info!(call = self.id, "hung up (BYE sent)");
        } else if !self.final_sent {
            let status = cause_to_status(cause);
            if let Some((key, response)) = self.response_to_invite(status, false) {
                self.send_response(key, status, response).await;
            }
            self.final_sent = true;
            tracing::info!(call = self.id, status, "call ended before answer");
        }
    }

    pub(super) async fn finish(mut self) {
        if !self.hung_up {
            self.hangup(None).await;
        }
        let stats = self.media.stats();
        // The channel ends with its last figures, not those of up to a second ago.
        self.channel.update(|v| v.media = MediaStats::from(&stats));
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

/// A dialplan Hangup cause as Q.850: SIP status codes (400-699) are mapped, Q.850 causes kept.
pub(super) fn q850_cause(cause: u16) -> u16 {
    if (400..700).contains(&cause) {
        cause_of_status(cause)
    } else {
        cause
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

/// Sends the ACK for a 2xx on `dialog` to `to` (no transaction, RFC 3261 §13.2.2.4) and
/// returns it for retransmitted 2xx.
pub(super) async fn send_ack(shared: &CallShared, dialog: &mut Dialog, to: SocketAddr) -> Bytes {
    let branch = format!("z9hG4bK{}", random_tag());
    let ack = dialog
        .request(Method::Ack, shared.sip_address, &branch)
        .finish();
    let message = ack.clone();
    let _ = shared.commands.send(SipCommand::Send { to, message }).await;
    ack
}

/// Moves `timer` to `deadline` only when that is sooner than where it stands (or it already
/// fired). A later deadline, such as the RTP inactivity limit pushed back by every packet, just
/// lets the timer fire early once and be set again, instead of re-registering a timer per
/// packet.
pub(super) fn rearm(timer: std::pin::Pin<&mut tokio::time::Sleep>, deadline: Option<Instant>) {
    let Some(deadline) = deadline else {
        return;
    };
    let deadline = tokio::time::Instant::from_std(deadline);
    if timer.is_elapsed() || deadline < timer.deadline() {
        timer.reset(deadline);
    }
}
