//! The Asterisk REST Interface (edge): `/ari` on the admin API's HTTP server, so that
//! Stasis applications written for Asterisk 22 (ARI 10) with `ari-client` or `aioari` run
//! against pbx unchanged. A translation layer over the channel and bridge commands and the
//! one event stream; it holds no call state of its own.
//!
//! - [`routes`]: the route table (paths, nicknames, parameters, response classes), the one
//!   source of both the router and the Swagger documents ([`docs`]); [`models`] the models.
//! - [`auth`]: `[[ari.user]]` accounts by HTTP Basic or `api_key=user:pass`.
//! - [`handlers`]: the operations; [`request`] their parameters and Asterisk's errors.
//! - [`websocket`]: `/ari/events`, with [`events`] translating pbx's events.
//!
//! Quirks kept from Asterisk: parameters come in the query string or as JSON body fields
//! alike; void operations answer 204, play 201 with `Location`; errors are
//! `{"message": "..."}`; timestamps are `2026-12-03T08:22:17.123+0000`. Beyond Asterisk:
//! each event carries `sequence`, and `/ari/events?since=N` replays what followed event N.

pub mod auth;
pub mod docs;
pub mod events;
pub mod handlers;
pub mod json;
pub mod models;
pub mod request;
pub mod routes;
pub mod spec;
pub mod websocket;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Query, RawPathParams, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;

use self::auth::Users;
use self::request::{AriError, AriRequest};
use self::spec::{Handler, Method, Operation};
use crate::control::api::ApiState;
use crate::media::prompts::PromptLibrary;
use crate::stasis_apps::StasisApps;

/// What ARI's handlers read: the admin API's handles on the PBX, plus ARI's own.
#[derive(Debug, Clone)]
pub struct AriState {
    /// Channels, bridges, playbacks, events, the SIP task's commands...
    pub api: ApiState,
    /// The registered Stasis applications.
    pub apps: StasisApps,
    /// The accounts.
    pub users: Arc<Users>,
    /// The `asterisk_id` of events (a MAC-address-like id made at start-up).
    pub asterisk_id: Arc<str>,
    /// The prompts (`/sounds`).
    pub prompts: Arc<PromptLibrary>,
    /// When pbx started (`/asterisk/info`).
    pub started_wall: SystemTime,
}

/// A fresh `asterisk_id`: six random bytes written as Asterisk writes its entity id.
pub fn new_asterisk_id() -> String {
    let bytes: [u8; 6] = rand::random();
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The `/ari` router.
pub fn router(state: AriState) -> Router {
    let mut paths: BTreeMap<&'static str, MethodRouter<AriState>> = BTreeMap::new();
    for resource in routes::RESOURCES {
        for op in resource.operations {
            let filter = match op.method {
                Method::Get => MethodFilter::GET,
                Method::Post => MethodFilter::POST,
                Method::Put => MethodFilter::PUT,
                Method::Delete => MethodFilter::DELETE,
            };
            let route = match op.handler {
                Handler::WebSocket => on(filter, websocket::events),
                _ => on(filter, move |state, params, uri, body| {
                    serve(op, state, params, uri, body)
                }),
            };
            let merged = match paths.remove(op.path) {
                Some(existing) => existing.merge(route),
                None => route,
            };
            paths.insert(op.path, merged);
        }
    }
    let mut inner = Router::new()
        .route("/api-docs/{file}", axum::routing::get(api_docs))
        .fallback(|| async { AriError::not_found("Resource not found") })
        .method_not_allowed_fallback(|| async {
            AriError::new(StatusCode::METHOD_NOT_ALLOWED, "Invalid method")
        });
    for (path, route) in paths {
        inner = inner.route(path, route);
    }
    let users = Arc::clone(&state.users);
    let inner = inner
        .layer(axum::middleware::from_fn_with_state(users, auth::require))
        .with_state(state);
    Router::new().nest("/ari", inner)
}

/// Runs operation `op`: gathers and checks its parameters, then its handler.
async fn serve(
    op: &'static Operation,
    State(state): State<AriState>,
    params: RawPathParams,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let query = match Query::<Vec<(String, String)>>::try_from_uri(&uri) {
        Ok(Query(pairs)) => pairs,
        Err(_) => return AriError::bad_request("Malformed query string").into_response(),
    };
    let request = match AriRequest::gather(path, query, &body) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    if let Err(error) = request.check(op) {
        return error.into_response();
    }
    match op.handler {
        Handler::Rest(handler) => match handler(state, request).await {
            Ok(reply) => reply.into_response(),
            Err(error) => error.into_response(),
        },
        Handler::WebSocket | Handler::NotImplemented => AriError::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("{} is not implemented by pbx yet", op.nickname),
        )
        .into_response(),
    }
}

/// `GET /ari/api-docs/{resources|resource}.json`.
async fn api_docs(
    axum::extract::Path(file): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost:8088");
    let Some(name) = file.strip_suffix(".json") else {
        return AriError::not_found("Resource not found").into_response();
    };
    let document = match name {
        "resources" => Some(docs::resource_listing(host)),
        other => docs::declaration(other, host),
    };
    match document {
        Some(document) => axum::Json(document).into_response(),
        None => AriError::not_found("Resource not found").into_response(),
    }
}
