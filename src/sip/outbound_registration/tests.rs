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
