//! The admin API's channel commands: `POST /api/channels/{id}/continue` (`{"context",
//! "exten", "priority"}`), `GET|POST /api/channels/{id}/variable` (`?name=` / `{"name",
//! "value"}`) and `POST /api/channels/{id}/dtmf` (`{"digits"}`); for a channel in `Stasis`
//! also `POST /api/channels/{id}/answer|ring|progress`, `POST|DELETE /api/channels/{id}/moh`
//! (music on hold) and `POST /api/channels/{id}/play`
//! (`{"media": ["sound:NAME", ...], "playback_id"}`). `{id}` is a channel's id or name (`/`
//! written `%2F`). Each becomes one [`ChannelCommand`] to the task that owns the channel; 404
//! when there is no such channel, 409 when it refuses.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::api::{ApiState, TextReply};
use crate::call::command::{ChannelCommand, CommandError};
use crate::call::ControlCommand;
use crate::events::{random_id, PlaybackSnapshot};

/// `POST /api/channels/{id}/continue`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContinueRequest {
    /// Context.
    pub context: String,
    /// Extension.
    pub exten: String,
    /// Step, counting from 1 (default 1).
    #[serde(default = "first_priority")]
    pub priority: usize,
}

fn first_priority() -> usize {
    1
}

/// `POST /api/channels/{id}/variable`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetVariableRequest {
    /// The variable's name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// `GET /api/channels/{id}/variable?name=`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariableQuery {
    /// The variable's name.
    pub name: String,
}

/// A variable's value (`null` when unset).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VariableReply {
    /// The variable's name.
    pub name: String,
    /// Its value.
    pub value: Option<String>,
}

/// `POST /api/channels/{id}/dtmf`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DtmfRequest {
    /// Keys to send, in order.
    pub digits: String,
}

/// `POST /api/channels/{id}/play`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlayRequest {
    /// What to play, in order: `sound:NAME` (or just `NAME`).
    pub media: Vec<String>,
    /// The playback's id; one is made up when absent.
    pub playback_id: Option<String>,
}

/// An error answer: its status and text.
pub(super) type ApiError = (StatusCode, String);

/// Sends the command `make` builds to channel `key` and waits for its answer.
pub(super) async fn command<T>(
    state: &ApiState,
    key: &str,
    make: impl FnOnce(oneshot::Sender<Result<T, CommandError>>) -> ChannelCommand,
) -> Result<T, ApiError> {
    let not_found = || (StatusCode::NOT_FOUND, format!("no channel {key}"));
    let (call, channel) = state.channels.find(key).ok_or_else(not_found)?;
    let (reply, answer) = oneshot::channel();
    state
        .control
        .try_send(ControlCommand::Channel {
            call,
            channel,
            command: make(reply),
        })
        .map_err(|_| {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the SIP task is busy; retry".to_string(),
            )
        })?;
    match answer.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err((StatusCode::CONFLICT, error.to_string())),
        Err(_) => Err(not_found()),
    }
}

/// `POST /api/channels/{id}/continue`.
pub async fn continue_in_dialplan(
    State(state): State<ApiState>,
    Path(key): Path<String>,
    Json(request): Json<ContinueRequest>,
) -> Result<Json<TextReply>, ApiError> {
    let ContinueRequest {
        context,
        exten,
        priority,
    } = request;
    let text = format!("channel {key} continues at {context},{exten},{priority}");
    command(&state, &key, |reply| ChannelCommand::Continue {
        context,
        exten,
        priority,
        reply,
    })
    .await?;
    Ok(Json(TextReply { text }))
}

/// `POST /api/channels/{id}/variable`.
pub async fn set_variable(
    State(state): State<ApiState>,
    Path(key): Path<String>,
    Json(request): Json<SetVariableRequest>,
) -> Result<Json<VariableReply>, ApiError> {
    let SetVariableRequest { name, value } = request;
    let reply_value = Some(value.clone());
    let set_name = name.clone();
    command(&state, &key, |reply| ChannelCommand::SetVariable {
        name: set_name,
        value,
        reply,
    })
    .await?;
    Ok(Json(VariableReply {
        name,
        value: reply_value,
    }))
}

/// `GET /api/channels/{id}/variable?name=`.
pub async fn get_variable(
    State(state): State<ApiState>,
    Path(key): Path<String>,
    Query(query): Query<VariableQuery>,
) -> Result<Json<VariableReply>, ApiError> {
    let name = query.name;
    let asked = name.clone();
    let value = command(&state, &key, |reply| ChannelCommand::GetVariable {
        name: asked,
        reply,
    })
    .await?;
    Ok(Json(VariableReply { name, value }))
}

/// `POST /api/channels/{id}/dtmf`.
pub async fn send_dtmf(
    State(state): State<ApiState>,
    Path(key): Path<String>,
    Json(request): Json<DtmfRequest>,
) -> Result<Json<TextReply>, ApiError> {
    let text = format!("{} sent to channel {key}", request.digits);
    command(&state, &key, |reply| ChannelCommand::SendDtmf {
        digits: request.digits,
        reply,
    })
    .await?;
    Ok(Json(TextReply { text }))
}

/// `POST /api/channels/{id}/answer`, `/ring` and `/progress`: what [`signal`] sends.
#[derive(Debug, Clone, Copy)]
enum Signal {
    Answer,
    Ring,
    Progress,
    StartMoh,
    StopMoh,
}

/// Sends `signal` to channel `key`.
async fn signal(state: &ApiState, key: &str, signal: Signal) -> Result<Json<TextReply>, ApiError> {
    let (verb, make): (_, fn(_) -> _) = match signal {
        Signal::Answer => ("answered", |reply| ChannelCommand::Answer { reply }),
        Signal::Ring => ("ringing", |reply| ChannelCommand::Ring { reply }),
        Signal::Progress => ("in early media", |reply| ChannelCommand::Progress { reply }),
        Signal::StartMoh => ("hears music on hold", |reply| ChannelCommand::StartMoh {
            reply,
        }),
        Signal::StopMoh => ("no longer hears music on hold", |reply| {
            ChannelCommand::StopMoh { reply }
        }),
    };
    command(state, key, make).await?;
    Ok(Json(TextReply {
        text: format!("channel {key} {verb}"),
    }))
}

/// `POST /api/channels/{id}/answer`.
pub async fn answer(
    State(state): State<ApiState>,
    Path(key): Path<String>,
) -> Result<Json<TextReply>, ApiError> {
    signal(&state, &key, Signal::Answer).await
}

/// `POST /api/channels/{id}/moh`: music on hold to the channel.
pub async fn start_moh(
    State(state): State<ApiState>,
    Path(key): Path<String>,
) -> Result<Json<TextReply>, ApiError> {
    signal(&state, &key, Signal::StartMoh).await
}

/// `DELETE /api/channels/{id}/moh`.
pub async fn stop_moh(
    State(state): State<ApiState>,
    Path(key): Path<String>,
) -> Result<Json<TextReply>, ApiError> {
    signal(&state, &key, Signal::StopMoh).await
}

/// `POST /api/channels/{id}/ring`.
pub async fn ring(
    State(state): State<ApiState>,
    Path(key): Path<String>,
) -> Result<Json<TextReply>, ApiError> {
    signal(&state, &key, Signal::Ring).await
}

/// `POST /api/channels/{id}/progress`.
pub async fn progress(
    State(state): State<ApiState>,
    Path(key): Path<String>,
) -> Result<Json<TextReply>, ApiError> {
    signal(&state, &key, Signal::Progress).await
}

/// `POST /api/channels/{id}/play`: answered with the playback (`playing`, or `queued` behind
/// the channel's other playbacks).
pub async fn play(
    State(state): State<ApiState>,
    Path(key): Path<String>,
    Json(request): Json<PlayRequest>,
) -> Result<Json<PlaybackSnapshot>, ApiError> {
    if request.media.is_empty() {
        return Err((StatusCode::BAD_REQUEST, "media: nothing to play".into()));
    }
    let playback = request.playback_id.unwrap_or_else(random_id);
    let snapshot = command(&state, &key, |reply| ChannelCommand::Play {
        playback,
        media: request.media,
        reply,
    })
    .await?;
    Ok(Json(snapshot))
}
