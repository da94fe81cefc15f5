//! The admin API's playbacks (of channels in `Stasis`): `GET /api/playbacks/{id}`,
//! `POST /api/playbacks/{id}/control` (`{"operation": "stop|pause|unpause|restart"}`) and
//! `DELETE /api/playbacks/{id}` (stop). The [`PlaybackIndex`](crate::call::live) names
//! the channel that plays it; the command goes to that channel's task. 404 when there is no
//! such playback, 409 when the channel refuses (a queued playback can only be stopped).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::api::ApiState;
use super::channel_commands::{command, ApiError};
use crate::call::command::{ChannelCommand, PlaybackOperation};
use crate::events::PlaybackSnapshot;

/// `POST /api/playbacks/{id}/control`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ControlRequest {
    /// What to do with the playback.
    pub operation: PlaybackOperation,
}

fn not_found(id: &str) -> ApiError {
    (StatusCode::NOT_FOUND, format!("no playback {id}"))
}

/// `GET /api/playbacks/{id}`.
pub async fn get(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<PlaybackSnapshot>, ApiError> {
    let (_, snapshot) = state.playbacks.get(&id).ok_or_else(|| not_found(&id))?;
    Ok(Json(snapshot))
}

/// Applies `operation` to playback `id` and answers with what became of it.
async fn apply(
    state: &ApiState,
    id: String,
    operation: PlaybackOperation,
) -> Result<Json<PlaybackSnapshot>, ApiError> {
    let (channel, mut before) = state.playbacks.get(&id).ok_or_else(|| not_found(&id))?;
    command(state, &channel.0, |reply| ChannelCommand::ControlPlayback {
        playback: id.clone(),
        operation,
        reply,
    })
    .await
    .map_err(|(status, text)| match status {
        StatusCode::NOT_FOUND => not_found(&id),
        _ => (status, text),
    })?;
    Ok(Json(match state.playbacks.get(&id) {
        Some((_, now)) => now,
        None => {
            before.state = crate::events::PlaybackState::Stopped;
            before
        }
    }))
}

/// `POST /api/playbacks/{id}/control`.
pub async fn control(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Json(request): Json<ControlRequest>,
) -> Result<Json<PlaybackSnapshot>, ApiError> {
    apply(&state, id, request.operation).await
}

/// `DELETE /api/playbacks/{id}`.
pub async fn stop(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<PlaybackSnapshot>, ApiError> {
    apply(&state, id, PlaybackOperation::Stop).await
}
