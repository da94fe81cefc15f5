//! Dispatch of SIP (edge, but clock-free: `now` is passed in). Datagrams come in from the
//! transport, go through the transaction table, and new requests are answered by method in one
//! plain `match`: REGISTER -> [`Registration`], OPTIONS -> capabilities, INVITE, CANCEL and
//! in-dialog requests -> the call tasks (`invite`), anything else -> 405/501/481. Responses to
//! our own requests (calls, trunk registrations, qualify pings) come back through the table;
//! the calls' CANCELs follow RFC 3261 §9.1 (`cancel`). What must be sent is drained with
//! [`Router::poll_transmit`].

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::mpsc;

mod cancel;
mod endpoint_calls;
mod invite;
pub mod trusted_proxy;

use endpoint_calls::EndpointCalls;
use trusted_proxy::TrustedProxies;

use crate::call::routes::CallRoutes;
use crate::call::task::CallSetup;
use crate::call::{CallEvent, IncomingRequest, SipCommand};
use crate::channel::{ChannelId, ChannelRegistry};
use crate::media::codec::CodecKind;
use crate::sip::dialog::{ack_for_failure, DialogId};
use crate::trunk::registration::TrunkRegistrations;
use crate::trunk::{TrunkBoard, Trunks};

use crate::bans::Bans;
use crate::location::Location;
use crate::qualify::Qualifier;
use crate::registration::{random_tag, Registration};
use crate::sip::cancelled_invites::CancelledInvites;
use crate::sip::message::{reason_phrase, HeaderName, MessageWriter, SipMessage};
use crate::sip::method::Method;
use crate::sip::transaction::table::{RequestMatch, TableEvent, TransactionTable};
use crate::sip::transaction::{Reliability, ResponseDisposition, Timers, TransactionKey};
use crate::sip::validate::{self, validate, Rejection};
use crate::transport::TransportStats;

/// Every method this PBX handles, in or out of a dialog: the Allow of an OPTIONS answer
/// (RFC 3261 §11.2).
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, REGISTER";

/// Methods valid outside a dialog: the Allow of a 405 or 501 to such a request (§21.4.6).
/// BYE is there because the PBX answers it (481 when it matches no call).
pub const ALLOW_OUT_OF_DIALOG: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER";

/// What the router knows of an endpoint to start its calls.
#[derive(Debug, Clone)]
pub struct EndpointProfile {
    /// The dialplan context its calls start in.
    pub context: String,
    /// Its allowed codecs, by preference.
    pub codecs: Vec<CodecKind>,
    /// Calls it may have up at once (0: unlimited).
    pub max_concurrent_calls: u32,
    /// Trunks its calls may leave through (`None`: all).
    pub allowed_trunks: Option<Vec<String>>,
}

/// SIP dispatch state for one transport.
#[derive(Debug)]
pub struct Router {
    transactions: TransactionTable,
    registration: Registration,
    location: Location,
    stats: Arc<TransportStats>,
    /// Address written into our Via and Contact headers.
    advertised: SocketAddr,
    user_agent: String,
    max_message_size: usize,
    qualifier: Qualifier,
    endpoints: HashMap<String, EndpointProfile>,
    trunks: Trunks,
    registrations: TrunkRegistrations,
    calls: CallRoutes,
    registry: ChannelRegistry,
    new_calls: VecDeque<CallSetup>,
    direct: VecDeque<(SocketAddr, Bytes)>,
    /// Outgoing INVITEs the calls cancelled (§9.1).
    cancels: CancelledInvites<crate::call::CallId>,
    bans: Bans,
    scanners: Vec<String>,
    /// Live calls placed by each endpoint, for `max_concurrent_calls`.
    endpoint_calls: EndpointCalls,
    proxies: TrustedProxies,
    drain: crate::drain::Drain,
}

/// Settings the router needs besides its collaborators.
#[derive(Debug, Clone)]
pub struct RouterSettings {
    /// Address written into our Via and Contact headers.
    pub advertised: SocketAddr,
    /// User-Agent / Server header value.
    pub user_agent: String,
    /// Largest datagram accepted.
    pub max_message_size: usize,
    /// Endpoints by user.
    pub endpoints: HashMap<String, EndpointProfile>,
    /// SIP trunks, to recognise calls from providers and register to them.
    pub trunks: Trunks,
    /// Where trunk registration status is published.
    pub trunk_board: TrunkBoard,
    /// Banned sources, checked before a datagram is parsed.
    pub bans: Bans,
    /// User-Agent fragments of scanners whose requests are dropped unanswered.
    pub scanner_user_agents: Vec<String>,
    /// Proxies whose INVITEs are taken without a challenge.
    pub trusted_proxies: TrustedProxies,
    /// The drain switch: while on, OPTIONS and new INVITEs get 503.
    pub drain: crate::drain::Drain,
}

impl Router {
    /// A router answering REGISTER with `registration` and pinging contacts of `location`.
    pub fn new(
        settings: RouterSettings,
        registration: Registration,
        location: Location,
        stats: Arc<TransportStats>,
        registry: ChannelRegistry,
    ) -> Router {
        let registrations = TrunkRegistrations::new(
            &settings.trunks,
            settings.advertised,
            &settings.user_agent,
            settings.trunk_board,
        );
        Router {
            transactions: TransactionTable::new(Reliability::Unreliable, Timers::default())
                .with_counters(Arc::clone(&stats.messages)),
            registration,
            location,
            stats,
            advertised: settings.advertised,
            user_agent: settings.user_agent,
            max_message_size: settings.max_message_size,
            qualifier: Qualifier::default(),
            endpoints: settings.endpoints,
            registrations,
            trunks: settings.trunks,
            calls: CallRoutes::default(),
            registry,
            new_calls: VecDeque::new(),
            direct: VecDeque::new(),
            cancels: CancelledInvites::new(64 * Timers::default().t1),
            bans: settings.bans,
            scanners: settings.scanner_user_agents,
            endpoint_calls: EndpointCalls::default(),
            proxies: settings.trusted_proxies,
            drain: settings.drain,
        }
    }

    /// Handles one received datagram.
    pub fn handle_datagram(&mut self, data: Bytes, source: SocketAddr, now: Instant) {
        if self.bans.is_banned(source.ip(), now) {
            TransportStats::bump(&self.stats.dropped_banned);
            return;
        }
        if data.len() > self.max_message_size {
            TransportStats::bump(&self.stats.dropped_oversized);
            tracing::debug!(%source, len = data.len(), "oversized SIP datagram dropped");
            return;
        }
        if data.iter().all(u8::is_ascii_whitespace) {
            TransportStats::bump(&self.stats.keepalives);
            return;
        }
        let message = match SipMessage::parse(data) {
            Ok(message) => message,
            Err(error) => {
                TransportStats::bump(&self.stats.dropped_unparsable);
                tracing::debug!(%source, %error, "unparsable datagram dropped");
                return;
            }
        };
        if message.status().is_some() {
            self.handle_response(&message, source, now);
        } else if self.is_scanner(&message) {
            TransportStats::bump(&self.stats.dropped_scanners);
            tracing::debug!(%source, "request from a known scanner dropped");
        } else {
            self.handle_request(&message, source, now);
        }
    }

    /// Whether the request's User-Agent contains a scanner's name (ASCII case ignored).
    fn is_scanner(&self, request: &SipMessage) -> bool {
        let Some(agent) = request.header(HeaderName::UserAgent) else {
            return false;
        };
        self.scanners.iter().any(|scanner| {
            let needle = scanner.as_bytes();
            !needle.is_empty()
                && agent
                    .as_bytes()
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle))
        })
    }

    fn handle_request(&mut self, request: &SipMessage, source: SocketAddr, now: Instant) {
        let Ok(via) = request.top_via() else {
            TransportStats::bump(&self.stats.dropped_unparsable);
            tracing::debug!(%source, "request without a usable Via dropped");
            return;
        };
        let method = request.method().unwrap_or(Method::Unknown);
        let branch = match via.branch() {
            Some(b) if b.starts_with("z9hG4bK") => b.to_string(),
            // RFC 2543 peers: key on what identifies their transaction instead (§17.2.3).
            _ => format!(
                "rfc2543:{}:{}:{}",
                request.call_id().unwrap_or_default(),
                request.cseq().map(|c| c.seq).unwrap_or_default(),
                request
                    .from_header()
                    .ok()
                    .and_then(|f| f.tag())
                    .unwrap_or_default()
            ),
        };
        let sent_by = match via.port {
            Some(port) => format!("{}:{port}", via.host.to_ascii_lowercase()),
            None => via.host.to_ascii_lowercase(),
        };
        let key = TransactionKey::for_request(&branch, method).with_sent_by(&sent_by);
        match self.transactions.on_request(&key, method, source, now) {
            RequestMatch::New => {}
            RequestMatch::Retransmission | RequestMatch::AckMatched => return,
            RequestMatch::AckUnmatched => {
                let call =
                    DialogId::of_incoming_request(request).and_then(|d| self.calls.by_dialog(&d));
                match call {
                    Some(call) => {
                        self.calls.deliver(
                            call,
                            CallEvent::Request(Box::new(IncomingRequest {
                                request: request.clone(),
                                key: None,
                                source,
                            })),
                        );
                    }
                    None => {
                        tracing::debug!(%source, "ACK outside any transaction or dialog ignored")
                    }
                }
                return;
            }
        }
        if let Err(rejection) = validate(request, &validate::PBX) {
            self.reject(request, &key, &rejection, source, now);
            return;
        }
        let in_dialog = request.to_header().ok().and_then(|t| t.tag()).is_some();
        if in_dialog && method != Method::Cancel && method != Method::Register {
            self.route_in_dialog(request, key, source, now);
            return;
        }
        let (status, response) = match method {
            Method::Invite => {
                self.new_invite(request, key, source, now);
                return;
            }
            Method::Cancel => {
                self.cancel(request, key, source, now);
                return;
            }
            Method::Register if self.proxies.identify(source).is_some() => self
                .registration
                .handle_trusted_register(request, source, now),
            Method::Register => self.registration.handle_register(request, source, now),
            Method::Options if self.drain.is_draining() => (
                503,
                self.response(request, 503, "Service Unavailable (draining)", source)
                    .finish(),
            ),
            Method::Options => (
                200,
                self.response(request, 200, "OK", source)
                    .header("Allow", ALLOW)
                    .header("Accept", "application/sdp")
                    .header("Accept-Language", "en")
                    .header("Supported", "path")
                    .finish(),
            ),
            Method::Bye => (
                481,
                self.response(request, 481, reason_phrase(481), source)
                    .finish(),
            ),
            Method::Unknown => (
                501,
                self.response(request, 501, reason_phrase(501), source)
                    .header("Allow", ALLOW_OUT_OF_DIALOG)
                    .finish(),
            ),
            _ => (
                405,
                self.response(request, 405, reason_phrase(405), source)
                    .header("Allow", ALLOW_OUT_OF_DIALOG)
                    .finish(),
            ),
        };
        self.respond(&key, status, response, now);
    }

    /// Carries out a command from a call task.
    pub fn handle_command(&mut self, command: SipCommand, now: Instant) {
        match command {
            SipCommand::Respond {
                key,
                status,
                response,
                to,
            } => {
                if self
                    .transactions
                    .respond(&key, status, response.clone(), now)
                    .is_err()
                    && status >= 200
                {
                    // A 2xx retransmitted after its transaction ended (RFC 6026 timer L).
                    self.direct.push_back((to, response));
                }
            }
            SipCommand::Request {
                key,
                to,
                request,
                call,
            } if key.method == Method::Cancel => self.cancel_invite(key, to, request, call, now),
            SipCommand::Request {
                key,
                to,
                request,
                call,
            } => {
                if self
                    .transactions
                    .send_request(&key, to, request, now)
                    .is_ok()
                {
                    self.calls.own_request(key, call);
                }
            }
            SipCommand::Send { to, message } => self.direct.push_back((to, message)),
            SipCommand::Route {
                call,
                call_id,
                local_tag,
            } => self.calls.route_local(call, call_id, local_tag),
            SipCommand::Ended { call } => {
                self.endpoint_calls.ended(call);
                self.calls.remove(call);
            }
        }
    }

    /// The next call to start, for the SIP task to spawn.
    pub fn poll_new_call(&mut self) -> Option<CallSetup> {
        self.new_calls.pop_front()
    }

    /// Asks every live call to hang up (shutdown).
    pub fn hangup_all(&mut self) {
        for call in self.calls.ids() {
            self.calls.deliver(
                call,
                CallEvent::Hangup {
                    channel: None,
                    cause: 16,
                },
            );
        }
    }

    /// Asks call `call` to hang up its channel `channel` with Q.850 `cause` (`pbx ctl
    /// hangup`); false when no such call.
    pub fn hangup(&mut self, call: crate::call::CallId, channel: ChannelId, cause: u16) -> bool {
        let channel = Some(Box::new(channel));
        self.calls
            .deliver(call, CallEvent::Hangup { channel, cause })
    }

    /// Delivers `command` to channel `channel` of call `call`; when the call is gone the
    /// command is dropped, which its waiting reply sees.
    pub fn command(
        &mut self,
        call: crate::call::CallId,
        channel: ChannelId,
        command: crate::call::command::ChannelCommand,
    ) {
        self.calls
            .deliver(call, CallEvent::Command(Box::new((channel, command))));
    }

    /// Routes a call the PBX places itself (originate); its events go to `events`.
    pub fn originate(&mut self, events: mpsc::Sender<CallEvent>) -> crate::call::CallId {
        let id = self.registry.next_call_id();
        self.calls.insert_originated(id, events);
        id
    }

    /// Calls routed by the SIP task (for leak checks).
    pub fn routed_calls(&self) -> usize {
        self.calls.len()
    }

    fn response(
        &self,
        request: &SipMessage,
        status: u16,
        reason: &str,
        source: SocketAddr,
    ) -> MessageWriter {
        MessageWriter::response(request, status, reason, Some(&random_tag()), source)
            .header("Server", &self.user_agent)
    }

    /// Answers a request that failed validation (RFC 3261 §8.2) with its status and headers.
    fn reject(
        &mut self,
        request: &SipMessage,
        key: &TransactionKey,
        rejection: &Rejection,
        source: SocketAddr,
        now: Instant,
    ) {
        let status = rejection.status().as_u16();
        TransportStats::bump(&self.stats.bad_requests);
        tracing::info!(%source, %status, %rejection, "request refused before processing");
        let mut writer = self.response(request, status, &rejection.reason(), source);
        for (name, value) in rejection.headers(&validate::PBX) {
            writer = writer.header(name, value);
        }
        self.respond(key, status, writer.finish(), now);
    }

    fn respond(&mut self, key: &TransactionKey, status: u16, response: Bytes, now: Instant) {
        if let Err(error) = self.transactions.respond(key, status, response, now) {
            tracing::warn!(?key, %error, "response not accepted by its transaction");
        }
    }

    fn handle_response(&mut self, response: &SipMessage, source: SocketAddr, now: Instant) {
        let (Ok(via), Ok(cseq), Some(status)) =
            (response.top_via(), response.cseq(), response.status())
        else {
            TransportStats::bump(&self.stats.dropped_unparsable);
            return;
        };
        let Some(branch) = via.branch() else {
            return;
        };
        let key = TransactionKey::for_request(branch, cseq.method);
        match self.transactions.on_response(&key, status, now) {
            ResponseDisposition::Deliver => {}
            ResponseDisposition::DeliverAndAck => {
                let ack = self
                    .transactions
                    .invite_request(&key)
                    .and_then(|invite| SipMessage::parse(invite.clone()).ok())
                    .and_then(|invite| ack_for_failure(&invite, response));
                if let Some(ack) = ack {
                    if let Err(error) = self.transactions.send_ack(&key, ack) {
                        tracing::warn!(?key, %error, "ACK for a failure response not sent");
                    }
                }
            }
            ResponseDisposition::Absorb | ResponseDisposition::NoTransaction => return,
        }
        if status >= 200
            && self
                .registrations
                .on_response(&key, response, &mut self.transactions, now)
        {
            return;
        }
        if cseq.method == Method::Invite
            && self.on_invite_response(&key, response, status, source, now)
        {
            return;
        }
        // An INVITE's 2xx may come again (retransmissions, forks): its owner ACKs each one, so
        // the route stays until the call ends.
        let done = status >= 300 || (status >= 200 && cseq.method != Method::Invite);
        if let Some(call) = self.calls.request_owner(&key, done) {
            self.calls
                .deliver(call, CallEvent::Response(Box::new(response.clone())));
            return;
        }
        if status >= 200 {
            self.qualifier.on_response(&key, &self.location, now);
        }
    }

    /// Sends an OPTIONS ping to every registered contact that has none in flight (NAT
    /// keep-alive and reachability, Asterisk's `qualify_frequency`).
    pub fn qualify(&mut self, now: Instant) {
        self.qualifier.ping_all(
            &self.location,
            &mut self.transactions,
            self.advertised,
            &self.user_agent,
            now,
        );
    }

    /// The next instant [`Router::handle_timeout`] must run.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        [
            self.transactions.poll_timeout(),
            self.registrations.poll_timeout(),
            self.cancels.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Starts removing every trunk registration (shutdown).
    pub fn unregister_trunks(&mut self, now: Instant) {
        self.registrations.unregister(&mut self.transactions, now);
    }

    /// Whether no trunk registration still has a request in flight or due.
    pub fn trunks_settled(&self) -> bool {
        self.registrations.settled()
    }

    /// Runs transaction timers due at `now` and reacts to their events.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.transactions.handle_timeout(now);
        self.expire_cancelled(now);
        self.registrations.drive(&mut self.transactions, now);
        while let Some(event) = self.transactions.poll_event() {
            match event {
                TableEvent::ClientTimeout(key) => {
                    if self.registrations.on_timeout(&key, now) {
                        continue;
                    }
                    if key.method == Method::Invite {
                        self.cancels.forget(&key);
                    }
                    if let Some(call) = self.calls.request_owner(&key, true) {
                        self.calls
                            .deliver(call, CallEvent::RequestTimeout(Box::new(key.clone())));
                    }
                    self.qualifier.on_timeout(&key, &self.location);
                }
                TableEvent::ServerNoAck(key) => {
                    tracing::debug!(?key, "no ACK for a final response");
                }
            }
        }
    }

    /// The next message to send and where.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Bytes)> {
        self.direct
            .pop_front()
            .or_else(|| self.transactions.poll_transmit())
    }

    /// Live transactions (for leak checks).
    pub fn transaction_count(&self) -> usize {
        self.transactions.len()
    }

    /// Publishes how many transactions are alive to the shared counters (`/metrics`).
    pub fn publish_transaction_count(&self) {
        self.stats
            .messages
            .set_transactions(self.transactions.len());
    }
}
