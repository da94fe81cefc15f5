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
//!
//! Parts: `header` parses and renders the challenge and credentials header values, `server`
//! issues nonces and verifies credentials ([`ServerAuth`], [`Verdict`]); the hash and the
//! response computation shared by both sides stay here.

use md5::{Digest, Md5};
use rand::Rng;

mod header;
mod server;

pub use header::{DigestChallenge, DigestCredentials};
pub use server::{RejectReason, ServerAuth, Verdict};

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

/// Whether `s` is lowercase hex only (RFC 7616 `LHEX`).
fn is_lhex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::RejectReason::*;
    use super::Verdict::*;
    use super::*;
    use std::time::{Duration, Instant};

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
