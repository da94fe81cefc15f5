//! The admin API routes. JSON in and out; `/api/events` is a WebSocket ([`super::events_ws`]);
//! `/metrics` is the Prometheus text format ([`crate::metrics`]).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::trace::{SipTrace, TraceSettings};
use super::{bridge_commands, channel_commands, playback_commands, recording_commands};
use crate::bridge::BridgeRegistry;
use crate::call::conference::ConferenceRooms;
use crate::call::dialplan_handle::DialplanHandle;
use crate::call::live::{PlaybackIndex, RecordingIndex};
use crate::call::originate::{OriginateError, OriginateRequest};
use crate::call::ControlCommand;
use crate::channel::{cause_of_reason, ChannelRegistry, ChannelSnapshot, NORMAL_CLEARING};
use crate::events::{BridgeSnapshot, EventBus};
use crate::location::{Location, RegistrationView};
use crate::media::ports::PortPool;
use crate::media::prompts::PromptLibrary;
use crate::media::recordings::RecordingStore;
use crate::transport::{TransportStats, TransportStatsView};
use crate::trunk::{TrunkBoard, TrunkView};

/// What the API handlers read.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// What `GET /metrics` reports.
    pub metrics: crate::metrics::Sources,
    /// Registered contacts.
    pub location: Location,
    /// SIP transport counters.
    pub transport: Arc<TransportStats>,
    /// When the server started, for uptime.
    pub started: Instant,
    /// Live channels.
    pub channels: ChannelRegistry,
    /// Live bridges.
    pub bridges: BridgeRegistry,
    /// The event stream.
    pub events: EventBus,
    /// Cancelled at shutdown: event streams close then.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The drain switch (`POST /api/drain`, the health status).
    pub drain: crate::drain::Drain,
    /// RTP ports.
    pub ports: PortPool,
    /// The current dialplan.
    pub dialplan: DialplanHandle,
    /// Commands to the SIP task.
    pub control: tokio::sync::mpsc::Sender<ControlCommand>,
    /// Trunk registration status.
    pub trunks: TrunkBoard,
    /// Banned sources.
    pub bans: crate::bans::Bans,
    /// The SIP trace switch.
    pub trace: SipTrace,
    /// The configured endpoints.
    pub endpoints: Arc<Vec<EndpointView>>,
    /// The bridges applications create (and conference rooms).
    pub conferences: ConferenceRooms,
    /// Applications' live playbacks.
    pub playbacks: PlaybackIndex,
    /// Applications' live recordings.
    pub live_recordings: RecordingIndex,
    /// The prompts, for what applications play to bridges.
    pub prompts: Arc<PromptLibrary>,
    /// The stored recordings.
    pub recordings: RecordingStore,
}

/// One configured endpoint (`GET /api/endpoints`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EndpointView {
    /// User (AOR and digest user name).
    pub user: String,
    /// Dialplan context of its calls.
    pub context: String,
    /// Allowed codecs by preference.
    pub codecs: Vec<String>,
    /// Contacts allowed at once.
    pub max_contacts: usize,
    /// Contacts registered now.
    pub registered: usize,
}

/// `GET /api/health`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Health {
    /// `ok` while the node takes calls, `draining` while it refuses new ones.
    pub status: String,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// Crate version.
    pub version: String,
}

/// `GET /api/stats`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stats {
    /// SIP transport counters.
    pub sip: TransportStatsView,
    /// Live registered contacts.
    pub registrations: usize,
    /// Calls in progress (call tasks: a caller's leg with its Dial branches).
    pub calls_active: usize,
    /// Calls since start.
    pub calls_total: u64,
    /// Channels (legs) in progress.
    pub channels_active: usize,
    /// Bridges in progress.
    pub bridges_active: usize,
    /// RTP ports leased.
    pub rtp_ports_in_use: usize,
}

/// `GET /api/dialplan?context=NAME`.
#[derive(Debug, Clone, Deserialize)]
pub struct DialplanQuery {
    /// Only this context.
    pub context: Option<String>,
}

/// A human-readable answer: a dialplan listing, or the outcome of a reload or hangup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TextReply {
    /// The listing, or the reload outcome.
    pub text: String,
}

/// `POST /api/drain`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DrainRequest {
    /// Seconds calls in progress may go on before they are hung up; `None` waits for them.
    #[serde(default)]
    pub grace_secs: Option<u64>,
}

/// Builds the API router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/drain", post(drain))
        .route("/api/version", get(version))
        .route("/api/registrations", get(registrations))
        .route("/api/stats", get(stats))
        .route("/api/channels", get(channels))
        .route("/api/bridges", get(bridges).post(bridge_commands::create))
        .route("/api/bridges/{id}", delete(bridge_commands::destroy))
        .route("/api/bridges/{id}/add", post(bridge_commands::add))
        .route("/api/bridges/{id}/remove", post(bridge_commands::remove))
        .route("/api/bridges/{id}/play", post(bridge_commands::play))
        .route(
            "/api/playbacks/{id}",
            get(playback_commands::get).delete(playback_commands::stop),
        )
        .route(
            "/api/playbacks/{id}/control",
            post(playback_commands::control),
        )
        .route("/api/events", get(super::events_ws::events))
        .route("/api/trunks", get(trunks))
        .route("/api/bans", get(bans))
        .route("/api/bans/{address}", delete(unban))
        .route("/api/endpoints", get(endpoints))
        .route("/api/sip/trace", get(trace_get).post(trace_set))
        .route("/api/channels/{id}/hangup", post(hangup))
        .route("/api/originate", post(originate))
        .route(
            "/api/channels/{id}/continue",
            post(channel_commands::continue_in_dialplan),
        )
        .route(
            "/api/channels/{id}/variable",
            get(channel_commands::get_variable).post(channel_commands::set_variable),
        )
        .route("/api/channels/{id}/dtmf", post(channel_commands::send_dtmf))
        .route("/api/channels/{id}/answer", post(channel_commands::answer))
        .route("/api/channels/{id}/ring", post(channel_commands::ring))
        .route(
            "/api/channels/{id}/progress",
            post(channel_commands::progress),
        )
        .route("/api/channels/{id}/play", post(channel_commands::play))
        .route(
            "/api/channels/{id}/moh",
            post(channel_commands::start_moh).delete(channel_commands::stop_moh),
        )
        .route(
            "/api/channels/{id}/record",
            post(recording_commands::record),
        )
        .route(
            "/api/recordings/live/{name}",
            get(recording_commands::live).delete(recording_commands::cancel),
        )
        .route(
            "/api/recordings/live/{name}/{operation}",
            post(recording_commands::control),
        )
        .route("/api/recordings/stored", get(recording_commands::stored))
        .route(
            "/api/recordings/stored/{name}",
            get(recording_commands::stored_one).delete(recording_commands::delete_stored),
        )
        .route(
            "/api/recordings/stored/{name}/file",
            get(recording_commands::stored_file),
        )
        .route("/api/dialplan", get(dialplan_show))
        .route("/api/dialplan/reload", post(dialplan_reload))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn health(State(state): State<ApiState>) -> Json<Health> {
    Json(Health {
        status: state.drain.state().as_str().into(),
        uptime_secs: state.started.elapsed().as_secs(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// `GET /metrics`: the Prometheus text exposition ([`crate::metrics`]).
async fn metrics(State(state): State<ApiState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(Instant::now()),
    )
}

/// Starts draining: new calls get 503, the calls in progress go on (until `grace_secs`),
/// and the pbx exits once none is left.
async fn drain(
    State(state): State<ApiState>,
    Json(request): Json<DrainRequest>,
) -> Json<TextReply> {
    let deadline = request
        .grace_secs
        .map(|secs| Instant::now() + std::time::Duration::from_secs(secs));
    state.drain.begin(deadline);
    let calls = state.channels.calls_active();
    tracing::info!(calls, grace_secs = ?request.grace_secs, "drain requested (API)");
    let until = match request.grace_secs {
        Some(secs) => format!("they end or {secs} s have passed"),
        None => "they end".into(),
    };
    Json(TextReply {
        text: format!("draining: new calls are refused; {calls} call(s) in progress go on until {until}, then pbx exits\n"),
    })
}

async fn version() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "version": env!("CARGO_PKG_VERSION") }))
}

async fn registrations(State(state): State<ApiState>) -> Json<Vec<RegistrationView>> {
    Json(state.location.views(Instant::now()))
}

async fn stats(State(state): State<ApiState>) -> Json<Stats> {
    Json(Stats {
        sip: state.transport.view(),
        registrations: state.location.len(),
        calls_active: state.channels.calls_active(),
        calls_total: state.channels.calls_total(),
        channels_active: state.channels.active(),
        bridges_active: state.bridges.snapshots().len(),
        rtp_ports_in_use: state.ports.in_use(),
    })
}

async fn channels(State(state): State<ApiState>) -> Json<Vec<ChannelSnapshot>> {
    Json(state.channels.snapshots(Instant::now()))
}

async fn bridges(State(state): State<ApiState>) -> Json<Vec<BridgeSnapshot>> {
    Json(state.bridges.snapshots())
}

async fn endpoints(State(state): State<ApiState>) -> Json<Vec<EndpointView>> {
    let now = Instant::now();
    Json(
        state
            .endpoints
            .iter()
            .map(|e| EndpointView {
                registered: state.location.contacts(&e.user, now).len(),
                ..e.clone()
            })
            .collect(),
    )
}

async fn trace_get(State(state): State<ApiState>) -> Json<TraceSettings> {
    Json(state.trace.settings())
}

async fn trace_set(
    State(state): State<ApiState>,
    Json(settings): Json<TraceSettings>,
) -> Json<TraceSettings> {
    tracing::info!(on = settings.on, filter = ?settings.filter, "SIP trace switched");
    state.trace.set(settings);
    Json(state.trace.settings())
}

/// `GET /api/bans`: the sources banned for failing authentication.
async fn bans(State(state): State<ApiState>) -> Json<Vec<crate::events::SourceBan>> {
    Json(state.bans.list(Instant::now()))
}

/// `DELETE /api/bans/{address}`: lifts a ban (404 when the address is not banned).
async fn unban(
    State(state): State<ApiState>,
    Path(address): Path<String>,
) -> Result<Json<TextReply>, (StatusCode, String)> {
    let ip: std::net::IpAddr = address.parse().map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            format!("{address:?} is not an IP address"),
        )
    })?;
    if state.bans.unban(ip, Instant::now()) {
        Ok(Json(TextReply {
            text: format!("{ip} unbanned\n"),
        }))
    } else {
        Err((StatusCode::NOT_FOUND, format!("{ip} is not banned")))
    }
}

async fn trunks(State(state): State<ApiState>) -> Json<Vec<TrunkView>> {
    Json(state.trunks.views(Instant::now()))
}

/// Places a call; answers with the ringing channel (the dialplan runs once it answers), 404
/// when the endpoint cannot be called or the extension does not exist, 400 for a malformed
/// endpoint.
async fn originate(
    State(state): State<ApiState>,
    Json(request): Json<OriginateRequest>,
) -> Result<Json<ChannelSnapshot>, (StatusCode, String)> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    state
        .control
        .try_send(ControlCommand::Originate { request, reply })
        .map_err(|_| {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the SIP task is busy; retry".to_string(),
            )
        })?;
    match answer.await {
        Ok(Ok(channel)) => Ok(Json(channel)),
        Ok(Err(error @ OriginateError::BadEndpoint(_))) => {
            Err((StatusCode::BAD_REQUEST, error.to_string()))
        }
        Ok(Err(error @ (OriginateError::NoPort | OriginateError::Draining))) => {
            Err((StatusCode::SERVICE_UNAVAILABLE, error.to_string()))
        }
        Ok(Err(error @ OriginateError::ChannelExists(_))) => {
            Err((StatusCode::CONFLICT, error.to_string()))
        }
        Ok(Err(error)) => Err((StatusCode::NOT_FOUND, error.to_string())),
        Err(_) => Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "the call could not be started".to_string(),
        )),
    }
}

/// `?reason=` of `POST /api/channels/{id}/hangup`.
#[derive(Debug, Deserialize)]
struct HangupQuery {
    /// A Q.850 cause number or name ([`cause_of_reason`]); normal clearing when absent.
    reason: Option<String>,
}

/// Hangs up the channel whose id or name (`PJSIP/6001-00000000`, `/` written `%2F`) is `key`,
/// for `?reason=` (a Q.850 cause number or name; 400 for one that is neither).
async fn hangup(
    State(state): State<ApiState>,
    Path(key): Path<String>,
    Query(query): Query<HangupQuery>,
) -> Result<Json<TextReply>, (StatusCode, String)> {
    let cause = match query.reason.as_deref() {
        None => NORMAL_CLEARING,
        Some(reason) => reason
            .parse::<u16>()
            .ok()
            .filter(|cause| (1..=127).contains(cause))
            .or_else(|| cause_of_reason(reason))
            .ok_or_else(|| {
                let text = format!("reason {reason:?} is neither a Q.850 cause nor its name");
                (StatusCode::BAD_REQUEST, text)
            })?,
    };
    let Some((call, channel)) = state.channels.find(&key) else {
        return Err((StatusCode::NOT_FOUND, format!("no channel {key}")));
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    let id = channel.clone();
    state
        .control
        .try_send(ControlCommand::Hangup {
            call,
            channel,
            cause,
            reply,
        })
        .map_err(|_| {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the SIP task is busy; retry".to_string(),
            )
        })?;
    match answer.await {
        Ok(true) => Ok(Json(TextReply {
            text: format!("channel {id} hung up"),
        })),
        _ => Err((StatusCode::NOT_FOUND, format!("no channel {key}"))),
    }
}

async fn dialplan_show(
    State(state): State<ApiState>,
    Query(query): Query<DialplanQuery>,
) -> Result<Json<TextReply>, (StatusCode, String)> {
    state
        .dialplan
        .current()
        .describe(query.context.as_deref())
        .map(|text| Json(TextReply { text }))
        .map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))
}

async fn dialplan_reload(
    State(state): State<ApiState>,
) -> Result<Json<TextReply>, (StatusCode, String)> {
    match state.dialplan.reload() {
        Ok(dialplan) => {
            tracing::info!("dialplan reloaded (API)");
            Ok(Json(TextReply {
                text: format!(
                    "dialplan reloaded: {} context(s)",
                    dialplan.context_names().len()
                ),
            }))
        }
        Err(e) => {
            tracing::error!(error = %e, "dialplan reload failed; keeping the current dialplan");
            Err((StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
        }
    }
}
