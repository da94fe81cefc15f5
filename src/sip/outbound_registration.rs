//! Outbound registration (sans-IO): the PBX registering itself to a SIP provider ("trunk") as a
//! UAC, RFC 3261 §10.2, like Asterisk's `outbound registration`. The edge owns one
//! [`OutboundRegistration`] per trunk, sends what [`OutboundRegistration::poll_request`] yields in
//! a new client transaction keyed by its branch, and feeds back final responses and transaction
//! timeouts; retransmissions and timer F belong to the transaction layer.
//!
//! RFC 3261 §10.2.4: "a UA SHOULD use the same Call-ID for all registrations during a single boot
//! cycle" and refreshes "by sending a REGISTER request [...] before the expiration interval has
//! elapsed"; §22.2: a 401/407 is answered by retrying "with the proper credentials".
//!
//! Rules kept here:
//! - One Call-ID and From tag per registration, CSeq counting up, a fresh `z9hG4bK` branch and
//!   `;rport` (RFC 3581) on every request, the interval in an `Expires` header.
//! - Digest challenges are cached and answered on later requests with `nc` counting up. A
//!   challenge is answered once; if that answer is challenged again without `stale=true` (wrong
//!   password, whatever the nonce), or a `stale=true` re-answer is challenged again, the outcome
//!   is [`RegistrationState::Rejected`]: the machine never loops on challenges.
//! - 2xx: the granted interval is our Contact's `expires` param, else `Expires`, else the one we
//!   asked for (a longer grant is capped at ours). The refresh is due after
//!   `max(1 s, min(90 % of granted, granted - 5 s))`: early enough for a slow round trip, late
//!   enough not to hammer a registrar granting very short intervals.
//! - 423 retries at once with `Min-Expires` if it is longer than what we asked.
//! - Other final responses and timeouts retry after 5 s, 10 s, 20 s ... capped at 5 min; a
//!   `Retry-After` (e.g. on 503) replaces the backoff delay; a 2xx resets the backoff.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::auth::{random_cnonce, DigestChallenge};
use super::header::NameAddr;
use super::message::{parse_delta_seconds, HeaderName, MessageWriter, SipMessage};
use super::method::Method;

/// First retry delay after a failure; doubles with each consecutive failure.
pub const BACKOFF_BASE: Duration = Duration::from_secs(5);
/// Longest retry delay after failures.
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// Shortest delay before a refresh or a `Retry-After` retry, so a registrar granting tiny
/// intervals cannot make us send back to back.
pub const MIN_DELAY: Duration = Duration::from_secs(1);
/// Margin kept before expiry when 90 % of the interval would leave less.
const REFRESH_MARGIN: Duration = Duration::from_secs(5);

/// What one trunk registers, and where (the trunk's config section). The config loader checks
/// that the URIs are SIP URIs and that no field holds CR or LF; they are written as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationConfig {
    /// Request-URI and digest-uri, e.g. `sip:sip.provider.example:5060`.
    pub registrar_uri: String,
    /// Address-of-record registered, the URI of To and From, e.g. `sip:4420@provider.example`.
    pub aor: String,
    /// Our Contact URI, where the provider sends calls, e.g. `sip:4420@198.51.100.7:5060`.
    pub contact: String,
    /// Digest user name.
    pub auth_username: String,
    /// Digest password.
    pub password: String,
    /// Interval asked for (whole seconds, at least 1; raised by 423 Min-Expires).
    pub expiry: Duration,
    /// Our address in the Via sent-by.
    pub local_sent_by: SocketAddr,
    /// User-Agent header value; empty for none.
    pub user_agent: String,
}

/// Where a registration stands. Refreshes and retries keep the last outcome (`Registered`,
/// `Rejected`, `Unreachable`) until their own answer arrives, so the display does not flap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationState {
    /// Created, first REGISTER not sent yet.
    Idle,
    /// First REGISTER (or its challenge answer) in flight.
    Registering,
    /// The registrar accepted the binding until `expires_at` (refreshes keep this state).
    Registered {
        /// When the binding lapses unless refreshed.
        expires_at: Instant,
    },
    /// The registrar refused with this final status and reason phrase; retried with backoff.
    Rejected {
        /// Status code.
        status: u16,
        /// The provider's reason phrase.
        reason: String,
    },
    /// The last REGISTER got no answer (transaction timeout); retried with backoff.
    Unreachable,
    /// Shutting down: the `Expires: 0` REGISTER is being sent.
    Unregistering,
    /// Terminal: the binding was removed (or never existed); nothing more is sent.
    Unregistered,
}

impl RegistrationState {
    /// Lowercase name for displays (`pbx ctl trunks`).
    pub fn name(&self) -> &'static str {
        match self {
            RegistrationState::Idle => "idle",
            RegistrationState::Registering => "registering",
            RegistrationState::Registered { .. } => "registered",
            RegistrationState::Rejected { .. } => "rejected",
            RegistrationState::Unreachable => "unreachable",
            RegistrationState::Unregistering => "unregistering",
            RegistrationState::Unregistered => "unregistered",
        }
    }
}

/// A REGISTER to send now in a new client transaction keyed by `branch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRegister {
    /// The top Via branch, which the edge reports back with the response or timeout.
    pub branch: String,
    /// The request datagram.
    pub request: Bytes,
}

/// A snapshot for the operator, like Asterisk's `pjsip show registrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationStatus {
    /// The current state.
    pub state: RegistrationState,
    /// When the registration entered this kind of state (refreshes do not reset it).
    pub since: Instant,
    /// When the next REGISTER is due (`None` while one is in flight or when done).
    pub next_action: Option<Instant>,
    /// Status and reason phrase of the last final response.
    pub last_response: Option<(u16, String)>,
    /// Consecutive failed exchanges (rejections, timeouts), which set the backoff.
    pub failures: u32,
}

/// Challenge header and credentials header, by index in `challenges`: 401 then 407.
const AUTH_HEADERS: [(HeaderName, &str); 2] = [
    (HeaderName::WwwAuthenticate, "Authorization"),
    (HeaderName::ProxyAuthenticate, "Proxy-Authorization"),
];

/// How far a cached challenge has got, which decides what a new challenge of its kind means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// A 2xx followed a request answering it: the credentials are good.
    Accepted,
    /// Just received; the next request is its one answer.
    Fresh,
    /// Received with `stale=true` after our answer; the next request is the last try.
    Stale,
}

/// A cached digest challenge and its nonce count.
#[derive(Debug, Clone)]
struct Challenge {
    digest: DigestChallenge,
    nc: u32,
    answer: Answer,
}

/// The client side of one trunk registration (RFC 3261 §10.2). See the module docs.
#[derive(Debug)]
pub struct OutboundRegistration {
    config: RegistrationConfig,
    call_id: String,
    from_tag: String,
    cseq: u32,
    /// Seconds asked for in `Expires`.
    expiry: u32,
    state: RegistrationState,
    since: Instant,
    due: Option<Instant>,
    /// Branch of the REGISTER in flight; responses to any other branch are ignored.
    in_flight: Option<String>,
    challenges: [Option<Challenge>; 2],
    failures: u32,
    last_response: Option<(u16, String)>,
}

impl OutboundRegistration {
    /// A registration whose first REGISTER is due at `now`, with a random Call-ID and From tag.
    pub fn new(config: RegistrationConfig, now: Instant) -> Self {
        OutboundRegistration {
            expiry: u32::try_from(config.expiry.as_secs().max(1)).unwrap_or(u32::MAX),
            config,
            call_id: format!("{:032x}", rand::random::<u128>()),
            from_tag: format!("{:016x}", rand::random::<u64>()),
            cseq: 0,
            state: RegistrationState::Idle,
            since: now,
            due: Some(now),
            in_flight: None,
            challenges: [None, None],
            failures: 0,
            last_response: None,
        }
    }

    /// The REGISTER to send now, if one is due and none is in flight.
    pub fn poll_request(&mut self, now: Instant) -> Option<OutgoingRegister> {
        if self.in_flight.is_some() || self.due.is_none_or(|due| due > now) {
            return None;
        }
        self.due = None;
        self.cseq = self.cseq.wrapping_add(1);
        let branch = format!("z9hG4bK{:016x}", rand::random::<u64>());
        let expires = match self.state {
            RegistrationState::Unregistering => 0,
            _ => self.expiry,
        };
        let c = &self.config;
        let mut writer = MessageWriter::request(Method::Register, &c.registrar_uri)
            .header(
                "Via",
                format!("SIP/2.0/UDP {};branch={branch};rport", c.local_sent_by),
            )
            .header("Max-Forwards", 70)
            .header("From", format!("<{}>;tag={}", c.aor, self.from_tag))
            .header("To", format!("<{}>", c.aor))
            .header("Call-ID", &self.call_id)
            .header("CSeq", format!("{} REGISTER", self.cseq))
            .header("Contact", format!("<{}>", c.contact))
            .header("Expires", expires);
        for (slot, (_, name)) in self.challenges.iter_mut().zip(AUTH_HEADERS) {
            if let Some(ch) = slot {
                ch.nc = ch.nc.wrapping_add(1);
                let (uri, user, pass) = (&c.registrar_uri, &c.auth_username, &c.password);
                let cnonce = random_cnonce();
                let creds = ch
                    .digest
                    .answer("REGISTER", uri, user, pass, &cnonce, ch.nc);
                writer = writer.header(name, creds.to_header_value());
            }
        }
        if !c.user_agent.is_empty() {
            writer = writer.header("User-Agent", &c.user_agent);
        }
        if self.state == RegistrationState::Idle {
            self.set_state(RegistrationState::Registering, now);
        }
        self.in_flight = Some(branch.clone());
        Some(OutgoingRegister {
            branch,
            request: writer.finish(),
        })
    }

    /// A final response to the REGISTER sent with `branch`; others (stale branches, 1xx) are
    /// ignored.
    pub fn handle_response(&mut self, branch: &str, response: &SipMessage, now: Instant) {
        let Some(status) = response.status().filter(|s| *s >= 200) else {
            return;
        };
        if self.in_flight.as_deref() != Some(branch) {
            return;
        }
        self.in_flight = None;
        let reason = response.reason().unwrap_or_default().to_owned();
        self.last_response = Some((status, reason.clone()));
        match status {
            200..=299 => self.accepted(response, now),
            401 | 407 if self.take_challenge(usize::from(status == 407), response) => {
                self.due = Some(now);
            }
            423 if self.take_min_expires(response) => self.due = Some(now),
            _ => {
                let retry_after = response
                    .other_header("Retry-After")
                    .and_then(|v| parse_delta_seconds(v.split([';', '(']).next().unwrap_or(v)))
                    .map(|s| Duration::from_secs(s.into()).max(MIN_DELAY));
                let rejected = RegistrationState::Rejected { status, reason };
                self.failed(rejected, retry_after, now);
            }
        }
    }

    /// The REGISTER sent with `branch` got no final response (timer F, or a transport error).
    pub fn handle_transaction_timeout(&mut self, branch: &str, now: Instant) {
        if self.in_flight.as_deref() == Some(branch) {
            self.in_flight = None;
            self.failed(RegistrationState::Unreachable, None, now);
        }
    }

    /// When [`Self::poll_request`] will next yield a REGISTER (refresh, retry); `None` while one
    /// is in flight or once unregistered.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.in_flight.is_none().then_some(self.due).flatten()
    }

    /// Shutdown: if registered (or a REGISTER is in flight, which may create the binding), the
    /// next [`Self::poll_request`] yields `Expires: 0` (abandoning the request in flight) and the
    /// state ends [`RegistrationState::Unregistered`] whatever its answer; otherwise unregistered
    /// at once.
    pub fn unregister(&mut self, now: Instant) {
        let bound = matches!(self.state, RegistrationState::Registered { .. });
        match self.state {
            RegistrationState::Unregistering | RegistrationState::Unregistered => {}
            _ if bound || self.in_flight.is_some() => {
                self.in_flight = None;
                self.set_state(RegistrationState::Unregistering, now);
                self.due = Some(now);
            }
            _ => self.finish_unregister(now),
        }
    }

    /// The current state.
    pub fn state(&self) -> &RegistrationState {
        &self.state
    }

    /// A snapshot for `pbx ctl trunks`.
    pub fn status(&self) -> RegistrationStatus {
        RegistrationStatus {
            state: self.state.clone(),
            since: self.since,
            next_action: self.poll_timeout(),
            last_response: self.last_response.clone(),
            failures: self.failures,
        }
    }

    fn finish_unregister(&mut self, now: Instant) {
        self.set_state(RegistrationState::Unregistered, now);
        self.due = None;
    }

    /// Changes the state; `since` moves only when the kind of state changes.
    fn set_state(&mut self, state: RegistrationState, now: Instant) {
        if std::mem::discriminant(&state) != std::mem::discriminant(&self.state) {
            self.since = now;
        }
        self.state = state;
    }

    fn accepted(&mut self, response: &SipMessage, now: Instant) {
        if self.state == RegistrationState::Unregistering {
            return self.finish_unregister(now);
        }
        for ch in self.challenges.iter_mut().flatten() {
            ch.answer = Answer::Accepted;
        }
        let ours = response
            .header_values(HeaderName::Contact)
            .filter_map(|v| NameAddr::parse(v).ok())
            .find(|c| c.uri.eq_ignore_ascii_case(&self.config.contact))
            .and_then(|c| c.param("expires").flatten().and_then(parse_delta_seconds));
        let header = response.expires().ok().flatten();
        let granted = ours.or(header).unwrap_or(self.expiry).min(self.expiry);
        let granted = Duration::from_secs(granted.into());
        let refresh = (granted * 9 / 10)
            .min(granted.saturating_sub(REFRESH_MARGIN))
            .max(MIN_DELAY);
        self.failures = 0;
        let expires_at = now + granted;
        self.set_state(RegistrationState::Registered { expires_at }, now);
        self.due = Some(now + refresh);
    }

    /// Caches the challenge of a 401 (`index` 0) or 407 (1) to answer it; false when it must
    /// not be answered (see the module docs) or has no usable Digest challenge.
    fn take_challenge(&mut self, index: usize, response: &SipMessage) -> bool {
        let Some(digest) = response
            .header_occurrences(AUTH_HEADERS[index].0)
            .find_map(|v| DigestChallenge::parse(v).ok())
        else {
            return false;
        };
        let slot = &mut self.challenges[index];
        let answer = match slot.as_ref().map(|c| c.answer) {
            None | Some(Answer::Accepted) => Answer::Fresh,
            Some(Answer::Fresh) if digest.stale => Answer::Stale,
            _ => return false,
        };
        *slot = Some(Challenge {
            digest,
            nc: 0,
            answer,
        });
        true
    }

    /// Takes a 423's `Min-Expires` if it raises our interval (not when unregistering).
    fn take_min_expires(&mut self, response: &SipMessage) -> bool {
        let min = response
            .other_header("Min-Expires")
            .and_then(parse_delta_seconds);
        match min {
            Some(min) if min > self.expiry && self.state != RegistrationState::Unregistering => {
                self.expiry = min;
                true
            }
            _ => false,
        }
    }

    /// A failed exchange: forget challenges and retry after `delay` or the backoff; during
    /// shutdown, stop.
    fn failed(&mut self, state: RegistrationState, delay: Option<Duration>, now: Instant) {
        self.challenges = [None, None];
        if self.state == RegistrationState::Unregistering {
            return self.finish_unregister(now);
        }
        self.failures = self.failures.saturating_add(1);
        let backoff = BACKOFF_BASE.saturating_mul(1 << (self.failures - 1).min(16));
        self.set_state(state, now);
        self.due = Some(now + delay.unwrap_or(backoff.min(BACKOFF_MAX)));
    }
}

#[cfg(test)]
mod tests;
