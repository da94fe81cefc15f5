//! The admin API's bearer token (`[api] token`): when set, every `/api` request must carry
//! `Authorization: Bearer TOKEN`, or `?token=TOKEN` for WebSocket clients that cannot send
//! headers; otherwise 401 with a `WWW-Authenticate: Bearer` challenge.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The token requests must present.
#[derive(Debug, Clone)]
pub struct ApiToken(Arc<str>);

impl ApiToken {
    /// `token`, or `None` when it is empty (no token required).
    pub fn new(token: &str) -> Option<ApiToken> {
        (!token.is_empty()).then(|| ApiToken(token.into()))
    }

    /// Whether `presented` is the token, compared in time independent of where they differ.
    pub fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), presented.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
    }
}

/// The token a request presents: its `Authorization: Bearer` header, else `?token=`.
fn presented(request: &Request) -> Option<String> {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    bearer.or_else(|| {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(request.uri()).ok()?;
        pairs
            .into_iter()
            .find(|(name, _)| name == "token")
            .map(|(_, value)| value)
    })
}

/// Middleware: lets the request through only with the token.
pub async fn require(State(token): State<ApiToken>, request: Request, next: Next) -> Response {
    if presented(&request).is_some_and(|p| token.matches(&p)) {
        return next.run(request).await;
    }
    let mut response = (
        StatusCode::UNAUTHORIZED,
        "the admin API needs its token: Authorization: Bearer TOKEN (pbx ctl: PBX_API_TOKEN)",
    )
        .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"pbx\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_matches_and_an_empty_one_is_no_token() {
        assert!(ApiToken::new("").is_none());
        let token = ApiToken::new("s3cret").unwrap();
        assert!(token.matches("s3cret"));
        for wrong in ["", "s3cre", "s3cret!", "S3cret", "x3cret"] {
            assert!(!token.matches(wrong), "{wrong}");
        }
    }
}
