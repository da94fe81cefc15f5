//! Digest challenge and credentials header values (RFC 7616 §3.3, §3.4; RFC 2617 §3.2.1,
//! §3.2.2): parsing and rendering of `WWW-Authenticate`/`Proxy-Authenticate` and
//! `Authorization`/`Proxy-Authorization`, and the client's answer to a challenge (trunks).
//!
//! Params are case-insensitive `name=value` pairs separated by commas, values quoted-strings or
//! tokens; unknown params are ignored, duplicates refused.

use super::{compute_response, is_lhex, Algorithm, AuthError};

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
    /// request. `cnonce` (see [`random_cnonce`](super::random_cnonce)) and `nc` are used only
    /// when `qop=auth` is offered; the caller counts `nc` up from 1 for each request reusing this
    /// nonce.
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
