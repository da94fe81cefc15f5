//! HTTP digest authentication for SIP: RFC 2617 / RFC 7616 (MD5, MD5-sess, `qop=auth`) as used by
//! RFC 3261 §22.4.
//!
//! Sans-IO core used by the registrar (`401` + `WWW-Authenticate`), by INVITE handling (`407` +
//! `Proxy-Authenticate`) and by trunks answering a provider's challenge. RFC 3261 §22.4: "a UAS
//! that receives a request [...] MAY challenge the originator to provide credentials by rejecting
//! the request with a 401 (Unauthorized) status code"; RFC 7616 §3.4.1 defines the response as
//! `KD(H(A1), nonce:nc:cnonce:qop:H(A2))`, or `KD(H(A1), nonce:H(A2))` without `qop`.
//!
//! Server nonces are `hex(id || mac)`: `id` is 128 random bits, `mac` the first 64 bits of
//! HMAC-MD5(per-instance secret, id). Live nonces sit in a bounded table (issue time, highest `nc`).
//! The MAC lets [`ServerAuth::verify`] recognise a nonce it issued after it left the table
//! (expired or evicted), so a correct response on it yields [`Verdict::Stale`] (RFC 7616 §3.3
//! `stale`: "the request was rejected because the nonce value was stale") instead of a rejection.

use md5::{Digest, Md5};
use rand::Rng;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Why a `WWW-Authenticate`/`Authorization`-style header value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The auth scheme is not `Digest` (e.g. `Basic`).
    #[error("auth scheme is not Digest")]
    NotDigest,
    /// The parameter list is not `name=value` items separated by commas.
    #[error("malformed parameter list, expected name=value, ...")]
    MalformedParam,
    /// A quoted-string has no closing quote.
    #[error("unterminated quoted-string")]
    UnterminatedQuote,
    /// A parameter appears twice.
    #[error("duplicate parameter {0}")]
    DuplicateParam(String),
    /// A required parameter is absent (`qop` counts as required with `MD5-sess`).
    #[error("missing parameter {0}")]
    MissingParam(&'static str),
    /// The `algorithm` is not one this module implements.
    #[error("unsupported digest algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// The `qop` offers or names no `auth` (e.g. only `auth-int`).
    #[error("unsupported qop {0}")]
    UnsupportedQop(String),
    /// `nc` is not 8 lowercase hex digits (RFC 7616 `nc-value = 8LHEX`).
    #[error("invalid nonce count {0}")]
    InvalidNonceCount(String),
    /// `response` is not a hex digest of the algorithm's length.
    #[error("invalid response digest")]
    InvalidResponse,
}

/// Digest hash algorithm. Unknown names (including SHA-256, not yet implemented) fail to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// `MD5`, the default when `algorithm` is absent (RFC 7616 §3.3).
    #[default]
    Md5,
    /// `MD5-sess`: H(A1) also covers nonce and cnonce (RFC 7616 §3.4.2); needs `qop=auth`.
    Md5Sess,
}

impl Algorithm {
    /// The token as written in headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
        }
    }

    /// Length of a response digest in hex characters.
    pub fn hex_len(self) -> usize {
        32
    }

    /// `H(a:b:...)` in lowercase hex.
    fn hash(self, parts: &[&str]) -> String {
        let mut h = Md5::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                h.update(b":");
            }
            h.update(p.as_bytes());
        }
        format!("{:032x}", u128::from_be_bytes(h.finalize().into()))
    }
}

/// Computes the digest `response` (lowercase hex), RFC 7616 §3.4.1. `qop` is `Some((nc, cnonce))`
/// for `qop=auth`, `None` for the RFC 2069 form. `MD5-sess` without `qop` (undefined by the RFCs and
/// refused by the parsers) hashes an empty cnonce.
#[allow(
    clippy::too_many_arguments,
    reason = "the eight RFC 7616 §3.4.1 inputs; a struct would only rename them"
)]
pub fn compute_response(
    algorithm: Algorithm,
    username: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<(u32, &str)>,
) -> String {
    let mut ha1 = algorithm.hash(&[username, realm, password]);
    if algorithm == Algorithm::Md5Sess {
        ha1 = algorithm.hash(&[&ha1, nonce, qop.map_or("", |q| q.1)]);
    }
    let ha2 = algorithm.hash(&[method, uri]);
    match qop {
        Some((nc, cnonce)) => {
            algorithm.hash(&[&ha1, nonce, &format!("{nc:08x}"), cnonce, "auth", &ha2])
        }
        None => algorithm.hash(&[&ha1, nonce, &ha2]),
    }
}

/// A fresh random client nonce (128 bits, hex) for [`DigestChallenge::answer`].
pub fn random_cnonce() -> String {
    format!("{:032x}", rand::thread_rng().gen::<u128>())
}

/// A digest challenge: the value of `WWW-Authenticate` (401) or `Proxy-Authenticate` (407).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestChallenge {
    /// Protection space shown to the user; part of H(A1).
    pub realm: String,
    /// Server nonce the client must hash.
    pub nonce: String,
    /// Opaque string the client returns unchanged.
    pub opaque: Option<String>,
    /// Hash algorithm.
    pub algorithm: Algorithm,
    /// Whether `qop="auth"` is offered.
    pub qop_auth: bool,
    /// `stale=true`: the previous credentials were right but the nonce was old; retry silently.
    pub stale: bool,
}

impl DigestChallenge {
    /// Parses a challenge header value (`Digest realm="...", nonce="...", ...`). Params are
    /// case-insensitive, quoted or not; unknown ones are ignored. A server offering several
    /// algorithms sends several headers: try each and keep the first that parses.
    pub fn parse(header_value: &str) -> Result<DigestChallenge, AuthError> {
        let params = Params::parse(header_value)?;
        let qop_auth = match params.get("qop") {
            None => false,
            Some(q) if q.split(',').any(|t| t.trim().eq_ignore_ascii_case("auth")) => true,
            Some(q) => return Err(AuthError::UnsupportedQop(q.to_owned())),
        };
        Ok(DigestChallenge {
            realm: params.required("realm")?,
            nonce: params.required("nonce")?,
            opaque: params.get("opaque").map(str::to_owned),
            algorithm: params.algorithm(qop_auth)?,
            qop_auth,
            stale: params.get("stale").is_some_and(is_true),
        })
    }

    /// Renders the header value, e.g.
    /// `Digest realm="pbx", nonce="...", opaque="...", algorithm=MD5, qop="auth", stale=true`.
    pub fn to_header_value(&self) -> String {
        render(&[
            ("realm", Some(&self.realm), true),
            ("nonce", Some(&self.nonce), true),
            ("opaque", self.opaque.as_deref(), true),
            ("algorithm", Some(self.algorithm.as_str()), false),
            ("qop", self.qop_auth.then_some("auth"), true),
            ("stale", self.stale.then_some("true"), false),
        ])
    }

    /// Client side (trunks): builds the `Authorization`/`Proxy-Authorization` credentials for a
    /// request. `cnonce` (see [`random_cnonce`]) and `nc` are used only when `qop=auth` is offered;
    /// the caller counts `nc` up from 1 for each request reusing this nonce.
    pub fn answer(
        &self,
        method: &str,
        uri: &str,
        username: &str,
        password: &str,
        cnonce: &str,
        nc: u32,
    ) -> DigestCredentials {
        let qop = self.qop_auth.then_some((nc, cnonce));
        let (realm, nonce) = (&self.realm, &self.nonce);
        let response = compute_response(
            self.algorithm,
            username,
            realm,
            password,
            method,
            uri,
            nonce,
            qop,
        );
        DigestCredentials {
            username: username.to_owned(),
            realm: realm.clone(),
            nonce: nonce.clone(),
            uri: uri.to_owned(),
            response,
            algorithm: self.algorithm,
            cnonce: qop.map(|q| q.1.to_owned()),
            nc: qop.map(|q| q.0),
            qop_auth: self.qop_auth,
            opaque: self.opaque.clone(),
        }
    }
}

/// Digest credentials: the value of `Authorization` or `Proxy-Authorization`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestCredentials {
    /// User name; the caller looks the password up by it.
    pub username: String,
    /// Realm from the challenge.
    pub realm: String,
    /// Nonce from the challenge.
    pub nonce: String,
    /// The digest-uri hashed into H(A2); the caller may check it against the Request-URI.
    pub uri: String,
    /// The response digest, lowercase hex.
    pub response: String,
    /// Hash algorithm.
    pub algorithm: Algorithm,
    /// Client nonce (with `qop=auth`).
    pub cnonce: Option<String>,
    /// Nonce count (with `qop=auth`), sent as 8 hex digits.
    pub nc: Option<u32>,
    /// Whether `qop=auth` was used.
    pub qop_auth: bool,
    /// Opaque string echoed from the challenge.
    pub opaque: Option<String>,
}

impl DigestCredentials {
    /// Parses a credentials header value (`Digest username="...", ...`). With `qop=auth`, `nc`
    /// (8 lowercase hex digits) and `cnonce` are required. `response` is lowercased.
    pub fn parse(header_value: &str) -> Result<DigestCredentials, AuthError> {
        let params = Params::parse(header_value)?;
        let qop_auth = match params.get("qop") {
            None => false,
            Some(q) if q.eq_ignore_ascii_case("auth") => true,
            Some(q) => return Err(AuthError::UnsupportedQop(q.to_owned())),
        };
        let algorithm = params.algorithm(qop_auth)?;
        let nc = params.get("nc").map(parse_nc).transpose()?;
        let cnonce = params.get("cnonce").map(str::to_owned);
        if qop_auth && nc.is_none() {
            return Err(AuthError::MissingParam("nc"));
        }
        if qop_auth && cnonce.is_none() {
            return Err(AuthError::MissingParam("cnonce"));
        }
        let response = params.required("response")?.to_ascii_lowercase();
        if response.len() != algorithm.hex_len() || !is_lhex(&response) {
            return Err(AuthError::InvalidResponse);
        }
        Ok(DigestCredentials {
            username: params.required("username")?,
            realm: params.required("realm")?,
            nonce: params.required("nonce")?,
            uri: params.required("uri")?,
            response,
            algorithm,
            cnonce,
            nc,
            qop_auth,
            opaque: params.get("opaque").map(str::to_owned),
        })
    }

    /// Renders the header value (RFC 7616 §3.4 quoting: `algorithm`, `qop`, `nc` unquoted).
    pub fn to_header_value(&self) -> String {
        let nc = self.nc.map(|n| format!("{n:08x}"));
        render(&[
            ("username", Some(&self.username), true),
            ("realm", Some(&self.realm), true),
            ("nonce", Some(&self.nonce), true),
            ("uri", Some(&self.uri), true),
            ("response", Some(&self.response), true),
            ("algorithm", Some(self.algorithm.as_str()), false),
            ("cnonce", self.cnonce.as_deref(), true),
            ("opaque", self.opaque.as_deref(), true),
            ("qop", self.qop_auth.then_some("auth"), false),
            ("nc", nc.as_deref(), false),
        ])
    }
}

/// Outcome of [`ServerAuth::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The response is right for a live nonce: let the request through.
    Authenticated,
    /// The response is right but the nonce expired or left the table: answer a new challenge with
    /// `stale=true` so the client retries without asking its user.
    Stale,
    /// Refused: answer a fresh challenge (identical for unknown user and wrong password).
    Rejected(RejectReason),
}

/// Why [`ServerAuth::verify`] refused credentials (for logs and metrics, never for the peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// No such user (the caller passed no password).
    UnknownUser,
    /// The response does not match the password.
    WrongPassword,
    /// This instance never issued the nonce (forged, or from before a restart).
    UnknownNonce,
    /// `nc` did not increase for this nonce: a replay.
    ReplayedNonceCount,
    /// The realm is not this server's.
    RealmMismatch,
    /// The algorithm is not the one this server challenges with (`MD5`).
    UnsupportedAlgorithm,
    /// The opaque value is not the one this server sent.
    OpaqueMismatch,
    /// `qop=auth` without `nc` or `cnonce`.
    IncompleteQop,
}

/// Password hashed for unknown users so both paths cost the same.
const DUMMY_PASSWORD: &str = "\u{0}unknown-user\u{0}";

/// Server side: issues nonces and verifies credentials for one realm (`MD5`, `qop=auth` offered).
///
/// The MAC secret and the `opaque` value are random per instance, so nonces issued before a
/// restart come back as [`RejectReason::UnknownNonce`] and the caller simply challenges again.
/// Credentials without `qop` (RFC 2069 form, some old phones) are accepted; they carry no `nc`, so
/// a captured request can be replayed until its nonce expires. A flood of challenges evicts live
/// nonces early; their owners then get [`Verdict::Stale`] and retry, they are not locked out.
#[derive(Debug, Clone)]
pub struct ServerAuth {
    realm: String,
    opaque: String,
    nonce_lifetime: Duration,
    max_nonces: usize,
    /// MD5 states that have absorbed `key ^ ipad` and `key ^ opad` (HMAC, RFC 2104).
    mac_keys: (Md5, Md5),
    /// Live nonce id -> (issue time, highest `nc` accepted).
    live: HashMap<u128, (Instant, u32)>,
    /// Live nonce ids in issue order, for O(1) eviction and expiry sweeps.
    order: VecDeque<u128>,
}

impl ServerAuth {
    /// Creates a server for `realm` whose nonces live `nonce_lifetime` and of which at most
    /// `max_nonces` (at least 1) are remembered; the oldest is evicted first.
    pub fn new(realm: impl Into<String>, nonce_lifetime: Duration, max_nonces: usize) -> Self {
        let mut rng = rand::thread_rng();
        let key: [u8; 16] = rng.gen();
        let (mut ipad, mut opad) = ([0x36u8; 64], [0x5cu8; 64]);
        for (i, k) in key.iter().enumerate() {
            ipad[i] ^= k;
            opad[i] ^= k;
        }
        ServerAuth {
            realm: realm.into(),
            opaque: format!("{:032x}", rng.gen::<u128>()),
            nonce_lifetime,
            max_nonces: max_nonces.max(1),
            mac_keys: (Md5::new_with_prefix(ipad), Md5::new_with_prefix(opad)),
            live: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Number of nonces currently remembered (for metrics and tests).
    pub fn live_nonces(&self) -> usize {
        self.live.len()
    }

    /// Issues a fresh nonce and returns the challenge to send; `stale` answers a [`Verdict::Stale`].
    /// Sweeps expired nonces and evicts the oldest when the table is full.
    pub fn challenge(&mut self, now: Instant, stale: bool) -> DigestChallenge {
        while let Some(id) = self.order.front() {
            let live = self.live.get(id).is_some_and(|s| self.is_live(s.0, now));
            if live && self.live.len() < self.max_nonces {
                break;
            }
            self.live.remove(id);
            self.order.pop_front();
        }
        let id: u128 = rand::thread_rng().gen();
        self.live.insert(id, (now, 0));
        self.order.push_back(id);
        DigestChallenge {
            realm: self.realm.clone(),
            nonce: format!("{id:032x}{:016x}", self.mac(id)),
            opaque: Some(self.opaque.clone()),
            algorithm: Algorithm::Md5,
            qop_auth: true,
            stale,
        }
    }

    /// Checks `creds` for a request with `method`; `password` is `None` for an unknown user. The
    /// response is always hashed and compared in constant time, so unknown users cost the same as
    /// known ones. The caller may also check `creds.uri` against the Request-URI.
    pub fn verify(
        &mut self,
        creds: &DigestCredentials,
        method: &str,
        password: Option<&str>,
        now: Instant,
    ) -> Verdict {
        use RejectReason::*;
        let c = creds;
        if c.algorithm != Algorithm::Md5 {
            return Verdict::Rejected(UnsupportedAlgorithm);
        }
        if c.realm != self.realm {
            return Verdict::Rejected(RealmMismatch);
        }
        if c.opaque.as_deref().is_some_and(|o| o != self.opaque) {
            return Verdict::Rejected(OpaqueMismatch);
        }
        let Some(id) = self.nonce_id(&c.nonce) else {
            return Verdict::Rejected(UnknownNonce);
        };
        let qop = match (c.qop_auth, c.nc, c.cnonce.as_deref()) {
            (false, _, _) => None,
            (true, Some(nc), Some(cnonce)) => Some((nc, cnonce)),
            (true, _, _) => return Verdict::Rejected(IncompleteQop),
        };
        let (user, pw) = (&c.username, password.unwrap_or(DUMMY_PASSWORD));
        let expected = compute_response(
            c.algorithm,
            user,
            &c.realm,
            pw,
            method,
            &c.uri,
            &c.nonce,
            qop,
        );
        let matches = ct_eq(expected.as_bytes(), c.response.as_bytes());
        if password.is_none() {
            return Verdict::Rejected(UnknownUser);
        }
        if !matches {
            return Verdict::Rejected(WrongPassword);
        }
        let state = self.live.get(&id).copied();
        let Some((issued, highest_nc)) = state.filter(|s| self.is_live(s.0, now)) else {
            return Verdict::Stale;
        };
        if let Some((nc, _)) = qop {
            if nc <= highest_nc {
                return Verdict::Rejected(ReplayedNonceCount);
            }
            self.live.insert(id, (issued, nc));
        }
        Verdict::Authenticated
    }

    /// Whether a nonce issued at `issued` is still within its lifetime at `now`.
    fn is_live(&self, issued: Instant, now: Instant) -> bool {
        now.saturating_duration_since(issued) < self.nonce_lifetime
    }

    /// First 64 bits of HMAC-MD5(secret, id).
    fn mac(&self, id: u128) -> u64 {
        let (inner, outer) = self.mac_keys.clone();
        let digest = outer.chain_update(inner.chain_update(id.to_be_bytes()).finalize());
        (u128::from_be_bytes(digest.finalize().into()) >> 64) as u64
    }

    /// The id of a nonce this instance issued, or `None` if it is malformed or its MAC is wrong.
    fn nonce_id(&self, nonce: &str) -> Option<u128> {
        if nonce.len() != 48 || !is_lhex(nonce) {
            return None;
        }
        let id = u128::from_str_radix(nonce.get(..32)?, 16).ok()?;
        let mac = u64::from_str_radix(nonce.get(32..)?, 16).ok()?;
        (self.mac(id) == mac).then_some(id)
    }
}

/// Parsed `name=value` params of a Digest header value, names as written, values unquoted.
struct Params<'a>(Vec<(&'a str, String)>);

impl<'a> Params<'a> {
    fn parse(value: &'a str) -> Result<Self, AuthError> {
        let s = value.trim_start();
        let (scheme, mut rest) = s.split_at(s.find(char::is_whitespace).unwrap_or(s.len()));
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(AuthError::NotDigest);
        }
        let mut params: Vec<(&str, String)> = Vec::new();
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
            if rest.is_empty() {
                return Ok(Params(params));
            }
            let end = rest.find(|c: char| c == '=' || c == ',' || c.is_whitespace());
            let (name, after) = rest.split_at(end.unwrap_or(rest.len()));
            let after = after
                .trim_start()
                .strip_prefix('=')
                .ok_or(AuthError::MalformedParam)?;
            let after = after.trim_start();
            let (val, after) = match after.strip_prefix('"') {
                Some(quoted) => unquote(quoted)?,
                None => {
                    let end = after.find(|c: char| c == ',' || c.is_whitespace());
                    let (token, after) = after.split_at(end.unwrap_or(after.len()));
                    (token.to_owned(), after)
                }
            };
            if params.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                return Err(AuthError::DuplicateParam(name.to_owned()));
            }
            rest = after.trim_start();
            if name.is_empty() || !(rest.is_empty() || rest.starts_with(',')) {
                return Err(AuthError::MalformedParam);
            }
            params.push((name, val));
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &'static str) -> Result<String, AuthError> {
        self.get(name)
            .map(str::to_owned)
            .ok_or(AuthError::MissingParam(name))
    }

    /// `algorithm` (default `MD5`); `MD5-sess` needs `qop=auth` for its cnonce (RFC 2617 §3.2.2.2).
    fn algorithm(&self, qop_auth: bool) -> Result<Algorithm, AuthError> {
        match self.get("algorithm") {
            None => Ok(Algorithm::Md5),
            Some(a) if a.eq_ignore_ascii_case("MD5") => Ok(Algorithm::Md5),
            Some(a) if a.eq_ignore_ascii_case("MD5-sess") && qop_auth => Ok(Algorithm::Md5Sess),
            Some(a) if a.eq_ignore_ascii_case("MD5-sess") => Err(AuthError::MissingParam("qop")),
            Some(a) => Err(AuthError::UnsupportedAlgorithm(a.to_owned())),
        }
    }
}

/// Reads a quoted-string body (after the opening quote): returns the unescaped value and the rest.
fn unquote(s: &str) -> Result<(String, &str), AuthError> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => out.push(chars.next().ok_or(AuthError::UnterminatedQuote)?.1),
            c => out.push(c),
        }
    }
    Err(AuthError::UnterminatedQuote)
}

/// Whether a boolean param value is `true` (any case; RFC 3261 examples write `stale=FALSE`).
fn is_true(s: &str) -> bool {
    s.eq_ignore_ascii_case("true")
}

/// Whether `s` is lowercase hex only (RFC 7616 `LHEX`).
fn is_lhex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn parse_nc(s: &str) -> Result<u32, AuthError> {
    if s.len() != 8 || !is_lhex(s) {
        return Err(AuthError::InvalidNonceCount(s.to_owned()));
    }
    u32::from_str_radix(s, 16).map_err(|_| AuthError::InvalidNonceCount(s.to_owned()))
}

/// Renders `Digest name=value, ...` for the present values; `true` quotes (escaping `"` and `\`).
fn render(params: &[(&str, Option<&str>, bool)]) -> String {
    let mut out = String::from("Digest");
    let mut sep = " ";
    for (name, value, quoted) in params {
        let Some(value) = value else { continue };
        out.push_str(sep);
        sep = ", ";
        out.push_str(name);
        out.push('=');
        if *quoted {
            out.push('"');
            for c in value.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        } else {
            out.push_str(value);
        }
    }
    out
}

/// Constant-time equality for equal-length inputs (lengths are public).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    a.len() == b.len() && std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::RejectReason::*;
    use super::Verdict::*;
    use super::*;

    const LIFETIME: Duration = Duration::from_secs(300);
    const HEX32: &str = "0123456789abcdef0123456789abcdef";

    /// A REGISTER answer to `ch` by user 6001.
    fn reg(ch: &DigestChallenge, password: &str, nc: u32) -> DigestCredentials {
        ch.answer("REGISTER", "sip:pbx", "6001", password, "0a4f113b", nc)
    }

    fn parse_creds(text: &str) -> DigestCredentials {
        let c = DigestCredentials::parse(text).unwrap();
        let again = DigestCredentials::parse(&c.to_header_value());
        assert_eq!(again.as_ref(), Ok(&c), "round trip of {text}");
        c
    }

    fn server() -> (ServerAuth, Instant, DigestChallenge) {
        let mut server = ServerAuth::new("pbx", LIFETIME, 16);
        let t0 = Instant::now();
        let ch = server.challenge(t0, false);
        (server, t0, ch)
    }

    #[test]
    fn rfc2617_section_3_5_example() {
        let (realm, pw) = ("testrealm@host.com", "Circle Of Life");
        let nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
        let qop = Some((1, "0a4f113b"));
        let uri = "/dir/index.html";
        let got = compute_response(Algorithm::Md5, "Mufasa", realm, pw, "GET", uri, nonce, qop);
        assert_eq!(got, "6629fae49393a05397450978507c4ef1");
        let c = parse_creds(
            "Digest username=\"Mufasa\",\r\n realm=\"testrealm@host.com\",\r\n \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n uri=\"/dir/index.html\",\r\n \
             qop=auth,\r\n nc=00000001,\r\n cnonce=\"0a4f113b\",\r\n \
             response=\"6629fae49393a05397450978507c4ef1\",\r\n \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        );
        assert_eq!((c.username.as_str(), c.uri.as_str()), ("Mufasa", uri));
        assert_eq!((c.nc, c.cnonce.as_deref()), (Some(1), Some("0a4f113b")));
        assert!(c.qop_auth);
        assert_eq!(c.response, got);
    }

    #[test]
    fn rfc7616_section_3_9_1_md5_example() {
        let ch = DigestChallenge::parse(
            "Digest\r\n realm=\"http-auth@example.org\",\r\n qop=\"auth, auth-int\",\r\n \
             algorithm=MD5,\r\n nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
        )
        .unwrap();
        assert!(ch.qop_auth && !ch.stale && ch.algorithm == Algorithm::Md5);
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let (user, pw) = ("Mufasa", "Circle of Life");
        let c = ch.answer("GET", "/dir/index.html", user, pw, cnonce, 1);
        assert_eq!(c.response, "8ca523f5e9506fed4657c9700eebdbec");
        assert_eq!((&c.opaque, c.nc), (&ch.opaque, Some(1)));
        let big_nc = ch.answer("GET", "/", user, pw, cnonce, 0xdead_beef);
        assert_eq!(parse_creds(&big_nc.to_header_value()), big_nc);
    }

    #[test]
    fn md5_sess_and_rfc2069_forms() {
        let md5 = |parts: &[&str]| Algorithm::Md5.hash(parts);
        let ha2 = md5(&["INVITE", "sip:x"]);
        let text = "Digest realm=r, nonce=n, algorithm=md5-SESS, qop=auth";
        let sess = DigestChallenge::parse(text).unwrap();
        let c = sess.answer("INVITE", "sip:x", "u", "p", "c", 1);
        let ha1 = md5(&[&md5(&["u", "r", "p"]), "n", "c"]);
        let want = md5(&[&ha1, "n", "00000001", "c", "auth", &ha2]);
        assert_eq!((c.algorithm, c.response), (Algorithm::Md5Sess, want));
        let plain = DigestChallenge::parse("Digest realm=r, nonce=n").unwrap();
        let c = plain.answer("INVITE", "sip:x", "u", "p", "ignored", 7);
        assert_eq!(c.response, md5(&[&md5(&["u", "r", "p"]), "n", &ha2]));
        assert_eq!((c.nc, c.cnonce.as_deref(), c.qop_auth), (None, None, false));
        assert_eq!(parse_creds(&c.to_header_value()), c);
    }

    #[test]
    fn softphone_authorization_shapes() {
        let linphone = parse_creds(
            "Digest realm=\"pbx\", nonce=\"abc123\", algorithm=MD5, opaque=\"0pq\", \
             username=\"6001\",  uri=\"sip:127.0.0.1\", \
             response=\"0123456789ABCDEF0123456789abcdef\", cnonce=\"Xy9\", nc=0000000a, qop=auth",
        );
        assert_eq!((linphone.nc, linphone.response.as_str()), (Some(10), HEX32));
        assert_eq!(linphone.uri, "sip:127.0.0.1");
        let zoiper = parse_creds(&format!(
            "digest username=\"6001\",realm=\"pbx\",nonce=\"abc123\",\
             uri=\"sip:127.0.0.1;transport=UDP\",response=\"{HEX32}\",cnonce=\"Xy9\",\
             nc=00000001,qop=\"auth\",algorithm=MD5,opaque=\"0pq\""
        ));
        assert_eq!(zoiper.uri, "sip:127.0.0.1;transport=UDP");
        assert_eq!(
            (zoiper.nc, zoiper.cnonce.as_deref()),
            (Some(1), Some("Xy9"))
        );
        let old = parse_creds(&format!(
            "Digest username=\"6001\", realm=\"pbx\", nonce=\"n\", uri=\"sip:pbx\", response={HEX32}"
        ));
        assert_eq!((old.qop_auth, old.nc, old.opaque), (false, None, None));
    }

    #[test]
    fn challenge_parse_is_tolerant_and_round_trips() {
        let text = "  DIGEST REALM = \"a \\\"b\\\\\" ,Nonce=xyz,,x-unknown=\"1,2\", Stale=TRUE";
        let ch = DigestChallenge::parse(text).unwrap();
        assert_eq!((ch.realm.as_str(), ch.nonce.as_str()), ("a \"b\\", "xyz"));
        assert!(ch.stale && !ch.qop_auth);
        let (opaque, qop_auth) = (Some("o".to_owned()), true);
        let ch = DigestChallenge {
            opaque,
            qop_auth,
            ..ch
        };
        let text = ch.to_header_value();
        let want = r#"Digest realm="a \"b\\", nonce="xyz", opaque="o", algorithm=MD5, qop="auth", stale=true"#;
        assert_eq!(text, want);
        assert_eq!(DigestChallenge::parse(&text), Ok(ch));
    }

    #[test]
    fn parse_errors() {
        use AuthError::*;
        let sha = || UnsupportedAlgorithm("SHA-256".into());
        let (int, sess) = (UnsupportedQop("auth-int".into()), MissingParam("qop"));
        let challenges = [
            ("Basic realm=\"x\"", NotDigest),
            ("Digest realm=\"x, nonce=y", UnterminatedQuote),
            ("Digest realm, nonce=y", MalformedParam),
            ("Digest realm=x y, nonce=y", MalformedParam),
            ("Digest =x, realm=x, nonce=y", MalformedParam),
            ("Digest nonce=y", MissingParam("realm")),
            ("Digest realm=x, Realm=y", DuplicateParam("Realm".into())),
            ("Digest realm=x, nonce=y, algorithm=SHA-256", sha()),
            ("Digest realm=x, nonce=y, qop=auth-int", int),
            ("Digest realm=x, nonce=y, algorithm=MD5-sess", sess),
        ];
        for (text, want) in challenges {
            assert_eq!(DigestChallenge::parse(text), Err(want), "{text}");
        }
        let bad_nc = |nc: &str| InvalidNonceCount(nc.into());
        let credentials = [
            ("qop=auth, cnonce=c, nc=1", bad_nc("1")),
            ("qop=auth, cnonce=c, nc=0000000A", bad_nc("0000000A")),
            ("qop=auth, cnonce=c", MissingParam("nc")),
            ("qop=auth, nc=00000001", MissingParam("cnonce")),
            ("qop=auth-int", UnsupportedQop("auth-int".into())),
            ("response=0123", DuplicateParam("response".into())),
        ];
        let base = format!("Digest username=u, realm=r, nonce=n, uri=s, response={HEX32}");
        for (extra, want) in credentials {
            let text = format!("{base}, {extra}");
            assert_eq!(DigestCredentials::parse(&text), Err(want), "{text}");
        }
        let bad_hex = base.replace("cdef\"", "cdeg\"").replace("cdef0", "cdeg0");
        assert_eq!(DigestCredentials::parse(&bad_hex), Err(InvalidResponse));
        let short = base.replace(HEX32, "0123");
        assert_eq!(DigestCredentials::parse(&short), Err(InvalidResponse));
        let missing = DigestCredentials::parse("Digest realm=r");
        assert_eq!(missing, Err(MissingParam("response")));
    }

    #[test]
    fn challenges_carry_fresh_nonces_and_a_fixed_opaque() {
        let (mut server, t0, ch) = server();
        assert_eq!((ch.realm.as_str(), ch.algorithm), ("pbx", Algorithm::Md5));
        assert!(ch.qop_auth && !ch.stale);
        assert_eq!(ch.nonce.len(), 48);
        let next = server.challenge(t0, true);
        assert!(next.stale && next.nonce != ch.nonce && next.opaque == ch.opaque);
        let other = ServerAuth::new("pbx", LIFETIME, 16).challenge(t0, false);
        assert_ne!(other.opaque, ch.opaque);
        assert_eq!(DigestChallenge::parse(&ch.to_header_value()), Ok(ch));
    }

    #[test]
    fn verify_nonce_counts_passwords_and_expiry() {
        let (mut server, t0, ch) = server();
        let (at, late) = (t0 + Duration::from_secs(1), t0 + LIFETIME);
        let steps = [
            (1, Some("wrong"), at, Rejected(WrongPassword)),
            (1, None, at, Rejected(UnknownUser)),
            (1, Some("secret"), at, Authenticated),
            (1, Some("secret"), at, Rejected(ReplayedNonceCount)),
            (3, Some("secret"), at, Authenticated),
            (2, Some("secret"), at, Rejected(ReplayedNonceCount)),
            (4, Some("secret"), late, Stale),
            (4, Some("bad"), late, Rejected(WrongPassword)),
            (4, None, late, Rejected(UnknownUser)),
        ];
        for (i, (nc, password, now, want)) in steps.into_iter().enumerate() {
            let creds = reg(&ch, "secret", nc);
            let got = server.verify(&creds, "REGISTER", password, now);
            assert_eq!(got, want, "step {i}");
        }
        let invite = server.verify(&reg(&ch, "secret", 9), "INVITE", Some("secret"), at);
        assert_eq!(invite, Rejected(WrongPassword));
    }

    #[test]
    fn verify_refuses_foreign_or_inconsistent_credentials() {
        use Algorithm::Md5Sess;
        let (mut server, t0, ch) = server();
        let flipped = if ch.nonce.starts_with('0') { "1" } else { "0" };
        let forged = format!("{flipped}{}", &ch.nonce[1..]);
        let foreign = ServerAuth::new("pbx", LIFETIME, 16).challenge(t0, true);
        let with = |f: &dyn Fn(&mut DigestChallenge)| {
            let mut c = ch.clone();
            f(&mut c);
            reg(&c, "pw", 1)
        };
        let rfc2069 = with(&|c| (c.qop_auth, c.opaque) = (false, None));
        let no_nc = DigestCredentials {
            nc: None,
            ..rfc2069.clone()
        };
        let no_nc = DigestCredentials {
            qop_auth: true,
            ..no_nc
        };
        let steps = [
            (with(&|c| c.nonce = forged.clone()), Rejected(UnknownNonce)),
            (
                with(&|c| c.nonce = foreign.nonce.clone()),
                Rejected(UnknownNonce),
            ),
            (with(&|c| c.nonce = "zz".into()), Rejected(UnknownNonce)),
            (with(&|c| c.realm = "other".into()), Rejected(RealmMismatch)),
            (
                with(&|c| c.opaque = foreign.opaque.clone()),
                Rejected(OpaqueMismatch),
            ),
            (
                with(&|c| c.algorithm = Md5Sess),
                Rejected(UnsupportedAlgorithm),
            ),
            (no_nc, Rejected(IncompleteQop)),
            (rfc2069.clone(), Authenticated),
            (rfc2069, Authenticated),
        ];
        for (i, (creds, want)) in steps.into_iter().enumerate() {
            let got = server.verify(&creds, "REGISTER", Some("pw"), t0);
            assert_eq!(got, want, "step {i}");
        }
    }

    #[test]
    fn table_is_bounded_and_swept() {
        let mut server = ServerAuth::new("pbx", LIFETIME, 2);
        let t0 = Instant::now();
        let issued = [(); 3].map(|_| server.challenge(t0, false));
        assert_eq!(server.live_nonces(), 2);
        let mut verify = |ch| server.verify(&reg(&ch, "pw", 1), "REGISTER", Some("pw"), t0);
        let verdicts = issued.map(&mut verify);
        assert_eq!(verdicts, [Stale, Authenticated, Authenticated]);
        let mut big = ServerAuth::new("pbx", LIFETIME, 100);
        for i in 0..10 {
            big.challenge(t0 + Duration::from_secs(i), false);
        }
        big.challenge(t0 + LIFETIME + Duration::from_secs(4), false);
        assert_eq!(big.live_nonces(), 6);
    }
}
