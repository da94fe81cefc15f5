//! The admin API's recordings. Live ones (made by applications on channels in `Stasis`):
//! `POST /api/channels/{id}/record` (`{"name", "max_duration_seconds", "max_silence_seconds",
//! "if_exists": "fail|overwrite", "beep", "terminate_on"}`, 201 with the recording),
//! `GET /api/recordings/live/{name}`, `POST /api/recordings/live/{name}/{operation}`
//! (stop, cancel, pause, unpause, mute, unmute) and `DELETE /api/recordings/live/{name}`
//! (cancel). Stored ones (files in the recordings directory): `GET /api/recordings/stored`,
//! `GET|DELETE /api/recordings/stored/{name}` and `GET /api/recordings/stored/{name}/file`
//! (the WAV). A name with `/` is written `%2F`. 404 for an unknown recording, 409 when a
//! recording of that name exists or the channel refuses, 422 for a name that is not allowed.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::api::ApiState;
use super::channel_commands::{command, ApiError};
use crate::call::command::{AppRecordRequest, ChannelCommand, RecordingOperation};
use crate::call::live::Owner;
use crate::events::RecordingSnapshot;
use crate::media::recordings::FORMAT;

/// A stored recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRecording {
    /// Its name.
    pub name: String,
    /// Its format.
    pub format: String,
}

fn not_found(name: &str) -> ApiError {
    (StatusCode::NOT_FOUND, format!("no recording {name}"))
}

/// `POST /api/channels/{id}/record`.
pub async fn record(
    State(state): State<ApiState>,
    Path(key): Path<String>,
    Json(request): Json<AppRecordRequest>,
) -> Result<(StatusCode, Json<RecordingSnapshot>), ApiError> {
    if let Err(error) = state.recordings.path(&request.name) {
        return Err((StatusCode::UNPROCESSABLE_ENTITY, error.to_string()));
    }
    let started = command(&state, &key, |reply| ChannelCommand::Record {
        request,
        reply,
    })
    .await?;
    Ok((StatusCode::CREATED, Json(started)))
}

/// `GET /api/recordings/live/{name}`.
pub async fn live(
    State(state): State<ApiState>,
    Path(name): Path<String>,
) -> Result<Json<RecordingSnapshot>, ApiError> {
    let (_, snapshot) = state
        .live_recordings
        .get(&name)
        .ok_or_else(|| not_found(&name))?;
    Ok(Json(snapshot))
}

/// Applies `operation` to live recording `name`.
async fn apply(
    state: &ApiState,
    name: String,
    operation: RecordingOperation,
) -> Result<Json<crate::control::api::TextReply>, ApiError> {
    let Some((Owner::Channel(channel), _)) = state.live_recordings.get(&name) else {
        return Err(not_found(&name));
    };
    command(state, &channel.0, |reply| {
        ChannelCommand::ControlRecording {
            name: name.clone(),
            operation,
            reply,
        }
    })
    .await
    .map_err(|(status, text)| match status {
        StatusCode::NOT_FOUND => not_found(&name),
        _ => (status, text),
    })?;
    Ok(Json(crate::control::api::TextReply {
        text: format!("recording {name}: {operation:?}"),
    }))
}

/// `POST /api/recordings/live/{name}/{operation}`.
pub async fn control(
    State(state): State<ApiState>,
    Path((name, operation)): Path<(String, String)>,
) -> Result<Json<crate::control::api::TextReply>, ApiError> {
    let operation: RecordingOperation =
        serde_json::from_value(serde_json::Value::String(operation.clone())).map_err(|_| {
            let text = format!(
                "no recording operation {operation:?}: stop, cancel, pause, unpause, mute, unmute"
            );
            (StatusCode::NOT_FOUND, text)
        })?;
    apply(&state, name, operation).await
}

/// `DELETE /api/recordings/live/{name}`: cancel.
pub async fn cancel(
    State(state): State<ApiState>,
    Path(name): Path<String>,
) -> Result<Json<crate::control::api::TextReply>, ApiError> {
    apply(&state, name, RecordingOperation::Cancel).await
}

/// `GET /api/recordings/stored`.
pub async fn stored(State(state): State<ApiState>) -> Json<Vec<StoredRecording>> {
    let stored = state
        .recordings
        .list()
        .into_iter()
        .map(|name| StoredRecording {
            name,
            format: FORMAT.to_owned(),
        });
    Json(stored.collect())
}

/// The file of stored recording `name`, when there is one.
fn stored_path(state: &ApiState, name: &str) -> Result<std::path::PathBuf, ApiError> {
    let path = state
        .recordings
        .path(name)
        .map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let live = state.live_recordings.get(name).is_some();
    if live || !path.is_file() {
        return Err(not_found(name));
    }
    Ok(path)
}

/// `GET /api/recordings/stored/{name}`.
pub async fn stored_one(
    State(state): State<ApiState>,
    Path(name): Path<String>,
) -> Result<Json<StoredRecording>, ApiError> {
    stored_path(&state, &name)?;
    Ok(Json(StoredRecording {
        name,
        format: FORMAT.to_owned(),
    }))
}

/// `DELETE /api/recordings/stored/{name}`.
pub async fn delete_stored(
    State(state): State<ApiState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let path = stored_path(&state, &name)?;
    tokio::fs::remove_file(&path).await.map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{}: {e}", path.display()),
        )
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/recordings/stored/{name}/file`: the WAV file.
pub async fn stored_file(
    State(state): State<ApiState>,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let bytes = stored_bytes(&state, &name).await?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], bytes))
}

/// The WAV file of stored recording `name` (the admin API's and ARI's download).
pub async fn stored_bytes(state: &ApiState, name: &str) -> Result<Vec<u8>, (StatusCode, String)> {
    let path = stored_path(state, name)?;
    tokio::fs::read(&path).await.map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{}: {e}", path.display()),
        )
    })
}
