//! `/playbacks/{playbackId}`: get, stop and control (pause, unpause, restart; forward and
//! reverse answer 501), through the channel that plays it; a playback to a bridge can only be
//! stopped.

use axum::http::StatusCode;

use super::{command, json, Handled, Reply};
use crate::ari::json::Playback;
use crate::ari::request::{AriError, AriRequest};
use crate::ari::AriState;
use crate::call::command::{ChannelCommand, PlaybackOperation};
use crate::call::live::Owner;

fn not_found() -> AriError {
    AriError::not_found("Playback not found")
}

/// `GET /playbacks/{playbackId}`.
pub fn get(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let (_, snapshot) = state
            .api
            .playbacks
            .get(request.path("playbackId"))
            .ok_or_else(not_found)?;
        json(Playback::from(&snapshot))
    })
}

async fn apply(
    state: AriState,
    id: String,
    operation: PlaybackOperation,
) -> Result<Reply, AriError> {
    let channel = match state.api.playbacks.get(&id).ok_or_else(not_found)?.0 {
        Owner::Channel(channel) => channel,
        Owner::Bridge(bridge) if operation == PlaybackOperation::Stop => {
            state.api.conferences.stop_playback(&bridge, &id);
            return Ok(Reply::NoContent);
        }
        Owner::Bridge(_) => {
            return Err(AriError::conflict(
                "Playback to a bridge can only be stopped",
            ))
        }
    };
    command(&state, &channel.0, |reply| {
        ChannelCommand::ControlPlayback {
            playback: id,
            operation,
            reply,
        }
    })
    .await
    .map_err(|e| match e.status {
        StatusCode::NOT_FOUND => not_found(),
        _ => e,
    })?;
    Ok(Reply::NoContent)
}

/// `DELETE /playbacks/{playbackId}`.
pub fn stop(state: AriState, request: AriRequest) -> Handled {
    let id = request.path("playbackId").to_owned();
    Box::pin(apply(state, id, PlaybackOperation::Stop))
}

/// `POST /playbacks/{playbackId}/control?operation=`.
pub fn control(state: AriState, request: AriRequest) -> Handled {
    let id = request.path("playbackId").to_owned();
    Box::pin(async move {
        let operation = match request.required("operation")?.as_str() {
            "pause" => PlaybackOperation::Pause,
            "unpause" => PlaybackOperation::Unpause,
            "restart" => PlaybackOperation::Restart,
            "forward" | "reverse" => {
                return Err(AriError::new(
                    StatusCode::NOT_IMPLEMENTED,
                    "pbx cannot skip within a playback yet",
                ))
            }
            other => return Err(AriError::bad_request(format!("Invalid operation {other}"))),
        };
        apply(state, id, operation).await
    })
}
