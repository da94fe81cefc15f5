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
mod tests {
    use super::*;
    use crate::sip::auth::{compute_response, Algorithm::Md5, DigestCredentials};
    use std::collections::HashSet;
    use HeaderName as H;
    use RegistrationState::*;

    const URI: &str = "sip:sip.provider.example";
    const OK600: &str = "Contact: <sip:4420@198.51.100.7:5060>;expires=600\r\n";
    const WWW: &str = "WWW-Authenticate: Digest realm=\"prov\", nonce=\"n1\", qop=\"auth\"\r\n";
    const UNAUTHORIZED: &str = "401 Unauthorized";

    /// The 401 challenge header with `stale=true` and another nonce.
    fn stale(nonce: &str) -> String {
        WWW.replace("\"n1\"", &format!("\"{nonce}\", stale=true"))
    }

    fn rejected(status: u16, reason: &str) -> RegistrationState {
        let reason = reason.to_owned();
        Rejected { status, reason }
    }

    fn creds(req: &SipMessage, name: HeaderName) -> Option<DigestCredentials> {
        Some(DigestCredentials::parse(req.header(name)?).unwrap())
    }

    /// The digest response of 4420/s3cret for a REGISTER to [`URI`], computed independently.
    fn digest(realm: &str, nonce: &str, qop: Option<(u32, &str)>) -> String {
        compute_response(Md5, "4420", realm, "s3cret", "REGISTER", URI, nonce, qop)
    }

    /// A registration, the simulated clock's origin, and the requests sent (offset, message).
    struct Sim {
        reg: OutboundRegistration,
        t0: Instant,
        sent: Vec<(Duration, SipMessage)>,
    }

    impl Sim {
        fn new() -> Sim {
            let config = RegistrationConfig {
                registrar_uri: URI.into(),
                aor: "sip:4420@provider.example".into(),
                contact: "sip:4420@198.51.100.7:5060".into(),
                auth_username: "4420".into(),
                password: "s3cret".into(),
                expiry: Duration::from_secs(3600),
                local_sent_by: "198.51.100.7:5060".parse().unwrap(),
                user_agent: "pbx-test".into(),
            };
            let (t0, sent) = (Instant::now(), Vec::new());
            let reg = OutboundRegistration::new(config, t0);
            Sim { reg, t0, sent }
        }
        fn at(&self, secs: u64) -> Instant {
            self.t0 + Duration::from_secs(secs)
        }
        fn registered(&self, secs: u64) -> RegistrationState {
            let expires_at = self.at(secs);
            Registered { expires_at }
        }
        /// Asserts the state and when the next request is due (seconds from `t0`).
        fn expect(&self, state: RegistrationState, due: Option<u64>) {
            let due = due.map(|s| self.at(s));
            assert_eq!((self.reg.state(), self.reg.poll_timeout()), (&state, due));
        }
        /// Polls at the due time (not a millisecond earlier) and returns the request sent.
        fn send(&mut self) -> SipMessage {
            let due = self.reg.poll_timeout().expect("a request is due");
            assert_eq!(self.reg.poll_request(due - Duration::from_millis(1)), None);
            let out = self.reg.poll_request(due).expect("a request when due");
            let nothing_more = (self.reg.poll_request(due), self.reg.poll_timeout());
            assert_eq!(nothing_more, (None, None), "one request in flight");
            let msg = SipMessage::parse(out.request).unwrap();
            assert_eq!(msg.top_via().unwrap().branch(), Some(out.branch.as_str()));
            self.sent.push((due - self.t0, msg.clone()));
            msg
        }
        /// The last request's branch and send time.
        fn last(&self) -> (String, Instant) {
            let (at, req) = self.sent.last().unwrap();
            let branch = req.top_via().unwrap().branch().unwrap().to_owned();
            (branch, self.t0 + *at)
        }
        /// Answers the last request at its send time: `status` line, extra header lines.
        fn reply(&mut self, status: &str, extra: &str) {
            let req = &self.sent.last().unwrap().1;
            let mut text = format!("SIP/2.0 {status}\r\n");
            let copied = [H::Via, H::From, H::To, H::CallId, H::CSeq];
            for (h, name) in copied
                .into_iter()
                .zip(["Via", "From", "To", "Call-ID", "CSeq"])
            {
                text += &format!("{name}: {}\r\n", req.header(h).unwrap());
            }
            text += &format!("{extra}Content-Length: 0\r\n\r\n");
            let response = SipMessage::parse(Bytes::from(text)).unwrap();
            let (branch, at) = self.last();
            self.reg.handle_response(&branch, &response, at);
        }
        /// Sends the due request and answers it.
        fn round(&mut self, status: &str, extra: &str) -> SipMessage {
            let req = self.send();
            self.reply(status, extra);
            req
        }
        /// Sends the due request, which times out after 32 s.
        fn lost(&mut self) {
            self.send();
            let (branch, at) = self.last();
            let at = at + Duration::from_secs(32);
            self.reg.handle_transaction_timeout(&branch, at);
        }
        /// Seconds between successive requests.
        fn gaps(&self) -> Vec<u64> {
            let pairs = self.sent.windows(2);
            pairs.map(|w| (w[1].0 - w[0].0).as_secs()).collect()
        }
        fn register_with_401(&mut self) {
            self.round(UNAUTHORIZED, WWW);
            self.round("200 OK", OK600);
        }
    }

    #[test]
    fn happy_path_with_401_then_refresh() {
        let mut sim = Sim::new();
        let first = sim.send();
        sim.expect(Registering, None);
        let (branch, id) = (sim.last().0, first.call_id().unwrap());
        let tag = first.from_header().unwrap().tag().unwrap();
        assert!(branch.starts_with("z9hG4bK") && branch.len() > 20);
        let want = format!(
            "REGISTER sip:sip.provider.example SIP/2.0\r\n\
             Via: SIP/2.0/UDP 198.51.100.7:5060;branch={branch};rport\r\nMax-Forwards: 70\r\n\
             From: <sip:4420@provider.example>;tag={tag}\r\nTo: <sip:4420@provider.example>\r\n\
             Call-ID: {id}\r\nCSeq: 1 REGISTER\r\nContact: <sip:4420@198.51.100.7:5060>\r\n\
             Expires: 3600\r\nUser-Agent: pbx-test\r\nContent-Length: 0\r\n\r\n"
        );
        assert_eq!(std::str::from_utf8(first.raw()), Ok(want.as_str()));
        let with_opaque = WWW.replace("\"auth\"", "\"auth\", opaque=op");
        sim.reply(UNAUTHORIZED, &with_opaque);
        let c = creds(&sim.send(), H::Authorization).unwrap();
        let cnonce = c.cnonce.clone().unwrap();
        let fields = [&c.username, &c.realm, &c.uri, &c.nonce];
        assert_eq!(fields, ["4420", "prov", URI, "n1"]);
        assert_eq!((c.nc, c.opaque.as_deref()), (Some(1), Some("op")));
        assert_eq!(c.response, digest("prov", "n1", Some((1, &cnonce))));
        let other = "Contact: <sip:other@192.0.2.9>;expires=60\r\n";
        sim.reply("200 OK", &format!("{other}{OK600}Expires: 3600\r\n"));
        sim.expect(sim.registered(600), Some(540));
        let s = sim.reg.status();
        assert_eq!(
            (s.since, s.next_action, s.failures),
            (sim.t0, Some(sim.at(540)), 0)
        );
        assert_eq!(s.last_response, Some((200, "OK".into())));
        let again = creds(&sim.round("200 OK", OK600), H::Authorization).unwrap();
        assert_eq!((again.nonce.as_str(), again.nc), ("n1", Some(2)));
        assert_ne!(again.cnonce.unwrap(), cnonce);
        assert_eq!(sim.reg.status().since, sim.t0, "a refresh keeps `since`");
        sim.expect(sim.registered(540 + 600), Some(540 + 540));
        // §10.2.4: one Call-ID and From tag, CSeq counting up, a new branch each time.
        let msgs = || sim.sent.iter().map(|(_, m)| m);
        let ids: HashSet<_> = msgs().map(|m| (m.call_id(), m.header(H::From))).collect();
        let branches: HashSet<_> = msgs().map(|m| m.top_via().unwrap().branch()).collect();
        let seqs: Vec<_> = msgs().map(|m| m.cseq().unwrap().seq).collect();
        assert_eq!((ids.len(), branches.len(), seqs), (1, 3, vec![1, 2, 3]));
    }

    #[test]
    fn proxy_407_answered_with_proxy_authorization() {
        let mut sim = Sim::new();
        let challenge = "Proxy-Authenticate: Digest realm=\"px\", nonce=\"p1\"\r\n";
        sim.round("407 Proxy Authentication Required", challenge);
        let req = sim.round("200 OK", "Expires: 120\r\n");
        let c = creds(&req, H::ProxyAuthorization).unwrap();
        assert_eq!(creds(&req, H::Authorization), None);
        assert_eq!((c.response, c.nc), (digest("px", "p1", None), None));
        sim.expect(sim.registered(120), Some(108));
    }

    #[test]
    fn refresh_timing() {
        // (extra headers of the 200, granted, refresh after): our Contact's expires, else
        // Expires, else what we asked, capped at what we asked; refresh at 90 %, or 5 s before
        // the end, never under 1 s.
        let ours = "Contact: <sip:4420@198.51.100.7:5060>;expires=";
        let cases = [
            (format!("{ours}3600\r\n"), 3600, 3240),
            ("Expires: 30\r\n".to_owned(), 30, 25),
            ("Expires: 3\r\n".to_owned(), 3, 1),
            (String::new(), 3600, 3240),
            (format!("{ours}90\r\nExpires: 7200\r\n"), 90, 81),
            ("Expires: 7200\r\n".to_owned(), 3600, 3240),
        ];
        for (extra, granted, refresh) in cases {
            let mut sim = Sim::new();
            sim.round("200 OK", &extra);
            sim.expect(sim.registered(granted), Some(refresh));
        }
    }

    #[test]
    fn wrong_password_rejected_after_one_answer() {
        for second_nonce in ["n1", "n2"] {
            let mut sim = Sim::new();
            sim.round(UNAUTHORIZED, WWW);
            sim.round(UNAUTHORIZED, &WWW.replace("n1", second_nonce));
            sim.expect(rejected(401, "Unauthorized"), Some(5));
            assert_eq!(sim.sent.len(), 2);
            assert_eq!(
                creds(&sim.send(), H::Authorization),
                None,
                "a retry starts afresh"
            );
        }
    }

    #[test]
    fn stale_nonce_answered_again_but_only_once() {
        let mut sim = Sim::new();
        sim.round(UNAUTHORIZED, WWW);
        sim.round(UNAUTHORIZED, &stale("n2"));
        let c = creds(&sim.round(UNAUTHORIZED, &stale("n3")), H::Authorization).unwrap();
        assert_eq!((c.nonce.as_str(), c.nc), ("n2", Some(1)));
        sim.expect(rejected(401, "Unauthorized"), Some(5));
        assert_eq!(sim.sent.len(), 3);
        // A cached nonce going stale at a refresh is answered again.
        let mut sim = Sim::new();
        sim.register_with_401();
        sim.round(UNAUTHORIZED, &stale("n2"));
        let c = creds(&sim.round("200 OK", ""), H::Authorization).unwrap();
        assert_eq!((c.nonce.as_str(), c.nc), ("n2", Some(1)));
        sim.expect(sim.registered(540 + 3600), Some(540 + 3240));
    }

    #[test]
    fn backoff_on_rejections_is_capped() {
        let mut sim = Sim::new();
        for _ in 0..9 {
            sim.round("403 Forbidden", "");
        }
        assert_eq!(sim.gaps(), [5, 10, 20, 40, 80, 160, 300, 300]);
        sim.expect(rejected(403, "Forbidden"), Some(915 + 300));
        let status = sim.reg.status();
        assert_eq!((status.failures, status.since), (9, sim.t0));
    }

    #[test]
    fn timeouts_back_off_success_resets_retry_after_honoured() {
        let mut sim = Sim::new();
        (0..3).for_each(|_| sim.lost());
        sim.expect(Unreachable, Some(32 + 5 + 32 + 10 + 32 + 20));
        sim.register_with_401();
        assert_eq!(sim.reg.status().failures, 0);
        sim.lost();
        let retry_after = "Retry-After: 120 (maintenance);duration=60\r\n";
        sim.round("503 Service Unavailable", retry_after);
        sim.send();
        // Timer F fires after 32 s, then 5, 10, 20 s of backoff; the 401 round; the refresh
        // at 540 s times out: 5 s again; then Retry-After.
        assert_eq!(sim.gaps(), [37, 42, 52, 0, 540, 37, 120]);
    }

    #[test]
    fn interval_too_brief_raises_expiry() {
        let mut sim = Sim::new();
        sim.round("423 Interval Too Brief", "Min-Expires: 7200\r\n");
        let req = sim.round("423 Interval Too Brief", "Min-Expires: 7200\r\n");
        assert_eq!(req.expires(), Ok(Some(7200)));
        sim.expect(rejected(423, "Interval Too Brief"), Some(5));
        assert_eq!(sim.round("200 OK", "").expires(), Ok(Some(7200)));
        sim.expect(sim.registered(5 + 7200), Some(5 + 6480));
    }

    #[test]
    fn unregister_sends_expires_zero_with_credentials() {
        let mut sim = Sim::new();
        sim.register_with_401();
        sim.reg.unregister(sim.at(100));
        sim.expect(Unregistering, Some(100));
        let req = sim.round(UNAUTHORIZED, &stale("n9"));
        assert_eq!(req.expires(), Ok(Some(0)));
        assert_eq!(creds(&req, H::Authorization).unwrap().nc, Some(2));
        assert_eq!(sim.round("200 OK", "").expires(), Ok(Some(0)));
        sim.expect(Unregistered, None);
        assert_eq!(sim.reg.poll_request(sim.at(10_000)), None);
        // Nothing registered nor in flight: done at once.
        let mut idle = Sim::new();
        idle.reg.unregister(idle.t0);
        idle.expect(Unregistered, None);
        // A REGISTER in flight may create a binding: remove it; a refusal also ends.
        let mut busy = Sim::new();
        busy.send();
        busy.reg.unregister(busy.t0);
        assert_eq!(busy.round("403 Forbidden", "").expires(), Ok(Some(0)));
        busy.expect(Unregistered, None);
    }

    #[test]
    fn unknown_branches_and_provisionals_are_ignored() {
        let mut sim = Sim::new();
        let req = sim.round("100 Trying", "");
        sim.expect(Registering, None);
        let (branch, at) = sim.last();
        let text = String::from_utf8(req.raw().to_vec()).unwrap();
        let text = text.replace(&format!("REGISTER {URI}"), "SIP/2.0 200 OK\r\nX:");
        let stray = SipMessage::parse(Bytes::from(text.replace(&branch, "z9hG4bKx"))).unwrap();
        sim.reg.handle_response("z9hG4bKx", &stray, at);
        sim.reg.handle_transaction_timeout("z9hG4bKx", at);
        sim.expect(Registering, None);
        sim.reply("200 OK", "");
        sim.expect(sim.registered(3600), Some(3240));
    }
}
