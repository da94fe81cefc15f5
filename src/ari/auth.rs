//! Who may use ARI: the `[[ari.user]]` accounts, presented as HTTP Basic credentials or as
//! Asterisk's `api_key=user:pass` query parameter (what both client libraries send on the
//! WebSocket). No valid credentials: 401 with a `WWW-Authenticate: Basic` challenge; a
//! `read_only` user sending anything but GET: 403.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::AriConfig;

/// One account.
#[derive(Debug, Clone, PartialEq, Eq)]
struct User {
    name: String,
    password: String,
    read_only: bool,
}

/// The accounts and the realm of the challenge.
#[derive(Debug, Clone)]
pub struct Users {
    users: Vec<User>,
    realm: String,
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No credentials, or wrong ones.
    #[error("Authentication required")]
    Unauthenticated,
    /// A read-only user asked for a change.
    #[error("Forbidden")]
    ReadOnly,
}

impl Users {
    /// The accounts of `[ari]` (those with a password).
    pub fn from_config(config: &AriConfig) -> Users {
        Users {
            users: config
                .users
                .iter()
                .filter(|u| !u.password.get_ref().is_empty())
                .map(|u| User {
                    name: u.username.get_ref().clone(),
                    password: u.password.get_ref().clone(),
                    read_only: u.read_only,
                })
                .collect(),
            realm: config.realm.clone(),
        }
    }

    /// How many accounts there are.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there is no account (nobody can use ARI).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Checks a request's credentials (`authorization` header, `api_key` parameter) for
    /// `method`.
    pub fn check(
        &self,
        authorization: Option<&str>,
        api_key: Option<&str>,
        method: &Method,
    ) -> Result<(), Denied> {
        let presented = authorization
            .and_then(basic_credentials)
            .or_else(|| api_key.map(str::to_owned))
            .ok_or(Denied::Unauthenticated)?;
        let (name, password) = presented.split_once(':').ok_or(Denied::Unauthenticated)?;
        let user = self
            .users
            .iter()
            .find(|u| u.name == name && u.password == password)
            .ok_or(Denied::Unauthenticated)?;
        if user.read_only && method != Method::GET && method != Method::HEAD {
            return Err(Denied::ReadOnly);
        }
        Ok(())
    }

    fn refuse(&self, denied: Denied) -> Response {
        let body = axum::Json(serde_json::json!({ "message": denied.to_string() }));
        match denied {
            Denied::ReadOnly => (StatusCode::FORBIDDEN, body).into_response(),
            Denied::Unauthenticated => {
                let challenge = format!("Basic realm=\"{}\"", self.realm.replace('"', "'"));
                let mut response = (StatusCode::UNAUTHORIZED, body).into_response();
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, value);
                }
                response
            }
        }
    }
}

/// The `user:pass` of a `Basic` authorization header.
fn basic_credentials(header: &str) -> Option<String> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    String::from_utf8(base64_decode(encoded.trim())?).ok()
}

/// Standard base64 (RFC 4648 §4), padding optional; `None` for anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn api_key(request: &Request) -> Option<String> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(request.uri()).ok()?;
    pairs
        .into_iter()
        .find(|(name, _)| name == "api_key")
        .map(|(_, value)| value)
}

/// Middleware: lets the request through only with valid credentials.
pub async fn require(State(users): State<Arc<Users>>, request: Request, next: Next) -> Response {
    let headers: &HeaderMap = request.headers();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let key = api_key(&request);
    match users.check(authorization.as_deref(), key.as_deref(), request.method()) {
        Ok(()) => next.run(request).await,
        Err(denied) => users.refuse(denied),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Users {
        Users {
            users: vec![
                User {
                    name: "app".into(),
                    password: "secret".into(),
                    read_only: false,
                },
                User {
                    name: "watch".into(),
                    password: "only".into(),
                    read_only: true,
                },
            ],
            realm: "pbx".into(),
        }
    }

    #[test]
    fn basic_and_api_key_credentials_are_checked_and_read_only_users_only_read() {
        let users = users();
        // "app:secret" in base64.
        assert_eq!(
            users.check(Some("Basic YXBwOnNlY3JldA=="), None, &Method::POST),
            Ok(())
        );
        assert_eq!(
            users.check(None, Some("app:secret"), &Method::DELETE),
            Ok(())
        );
        assert_eq!(
            users.check(None, Some("app:wrong"), &Method::GET),
            Err(Denied::Unauthenticated)
        );
        assert_eq!(
            users.check(None, None, &Method::GET),
            Err(Denied::Unauthenticated)
        );
        assert_eq!(
            users.check(Some("Basic !!"), None, &Method::GET),
            Err(Denied::Unauthenticated)
        );
        assert_eq!(users.check(None, Some("watch:only"), &Method::GET), Ok(()));
        assert_eq!(
            users.check(None, Some("watch:only"), &Method::POST),
            Err(Denied::ReadOnly)
        );
        assert_eq!(base64_decode("YQ").unwrap(), b"a");
    }
}
