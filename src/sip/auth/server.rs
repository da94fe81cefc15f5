//! Server side of digest authentication (RFC 7616 §3.3, §3.4.1; RFC 3261 §22.4): issues
//! nonces in challenges and verifies the credentials that answer them, with `nc` replay
//! checks, constant-time comparison and a bounded nonce table.
//!
//! RFC 7616 §3.3 `stale`: "the request was rejected because the nonce value was stale"; a nonce
//! this instance issued is recognised by its MAC after it left the table, see the parent module.

use md5::{Digest, Md5};
use rand::Rng;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::{compute_response, is_lhex, Algorithm, DigestChallenge, DigestCredentials};

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

/// Constant-time equality for equal-length inputs (lengths are public).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    a.len() == b.len() && std::hint::black_box(diff) == 0
}
