//! The operations' handlers, one file per resource group, and what they share: the answer
//! types and the one way a command reaches a channel's task.

pub mod bridges;
pub mod channels;
pub mod playbacks;
pub mod recordings;
pub mod system;

use std::future::Future;
use std::pin::Pin;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::oneshot;

use super::json::Playback;
use super::request::{AriError, AriRequest};
use super::AriState;
use crate::call::command::{ChannelCommand, CommandError};
use crate::call::ControlCommand;
use crate::events::{random_id, PlaybackSnapshot};

/// What a successful operation answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// 200 with a JSON body.
    Json(Value),
    /// 201 with a JSON body and a `Location` (of the playback or recording made).
    Created {
        /// The new object's path under `/ari`.
        location: String,
        /// The new object.
        body: Value,
    },
    /// 204: void operations.
    NoContent,
    /// 200 with a file's bytes (a stored recording).
    File {
        /// Its media type.
        content_type: &'static str,
        /// Its bytes.
        body: Vec<u8>,
    },
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Reply::Json(body) => (StatusCode::OK, axum::Json(body)).into_response(),
            Reply::Created { location, body } => (
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                axum::Json(body),
            )
                .into_response(),
            Reply::NoContent => StatusCode::NO_CONTENT.into_response(),
            Reply::File { content_type, body } => {
                (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
            }
        }
    }
}

/// A handler's pending answer.
pub type Handled = Pin<Box<dyn Future<Output = Result<Reply, AriError>> + Send>>;

/// Serializes `value` as a 200 reply.
pub(super) fn json(value: impl serde::Serialize) -> Result<Reply, AriError> {
    serde_json::to_value(value)
        .map(Reply::Json)
        .map_err(|e| AriError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// A 201 reply with `body` at `location`.
pub(super) fn created(location: String, body: &impl serde::Serialize) -> Result<Reply, AriError> {
    let body = serde_json::to_value(body)
        .map_err(|e| AriError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Reply::Created { location, body })
}

/// 201 with `playback` at its `/playbacks/{id}`.
pub(super) fn playback_created(playback: &PlaybackSnapshot) -> Result<Reply, AriError> {
    created(
        format!("/playbacks/{}", playback.id),
        &Playback::from(playback),
    )
}

/// The id a play request gives its playback: the path's `playbackId` (playWithId), else the
/// query's, else a new one.
pub(super) fn playback_id(request: &AriRequest) -> String {
    Some(request.path("playbackId"))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .or_else(|| request.text("playbackId"))
        .unwrap_or_else(random_id)
}

/// "Channel not found", as Asterisk says it.
pub(super) fn channel_not_found() -> AriError {
    AriError::not_found("Channel not found")
}

/// Sends the command `make` builds to channel `id` and waits for its answer.
pub(super) async fn command<T>(
    state: &AriState,
    id: &str,
    make: impl FnOnce(oneshot::Sender<Result<T, CommandError>>) -> ChannelCommand,
) -> Result<T, AriError> {
    let (call, channel) = state.api.channels.find(id).ok_or_else(channel_not_found)?;
    let (reply, answer) = oneshot::channel();
    state
        .api
        .control
        .try_send(ControlCommand::Channel {
            call,
            channel,
            command: make(reply),
        })
        .map_err(|_| busy())?;
    match answer.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(refused(error)),
        Err(_) => Err(channel_not_found()),
    }
}

/// 503 when the SIP task's queue is full.
pub(super) fn busy() -> AriError {
    AriError::new(StatusCode::SERVICE_UNAVAILABLE, "The server is busy; retry")
}

/// A channel's refusal as Asterisk answers it.
fn refused(error: CommandError) -> AriError {
    match error {
        CommandError::NotInApplication(_) => {
            AriError::conflict("Channel not in Stasis application")
        }
        CommandError::NoSuchPlayback(_) => AriError::not_found("Playback not found"),
        CommandError::NoSuchBridge(_) => AriError::unprocessable("Channel not in this bridge"),
        CommandError::NoSuchMedia(uri) => {
            AriError::unprocessable(format!("Media not found: {uri}"))
        }
        CommandError::PlaybackExists(id) => {
            AriError::conflict(format!("A playback with id {id} exists already"))
        }
        CommandError::InBridge(_) => AriError::unprocessable("Channel is in a bridge"),
        other => AriError::conflict(other.to_string()),
    }
}
