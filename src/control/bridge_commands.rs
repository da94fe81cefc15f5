//! The admin API's bridges made by applications: `POST /api/bridges` (`{"type": "mixing" |
//! "holding", "name", "id"}`; 409 when the id is taken) creates an empty bridge that lives until `DELETE /api/bridges/{id}`
//! (its members get their media back and stay up); `POST /api/bridges/{id}/add` and
//! `/remove` (`{"channel": ID or name}`) move a channel in `Stasis` in and out. 400 for a
//! kind that cannot be created, 404 for no such bridge or channel, 409 when the channel
//! refuses. `POST /api/bridges/{id}/play` (`{"media": [...], "playback_id"}`) plays to every
//! member (a playback with `target_uri` `bridge:<id>`, replacing the bridge's playback before
//! it; it can be stopped, not paused).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::api::{ApiState, TextReply};
use super::channel_commands::PlayRequest;
use super::channel_commands::{command, ApiError};
use crate::bridge::BridgeKind;
use crate::call::command::ChannelCommand;
use crate::call::conference::BridgePlayError;
use crate::events::{random_id, BridgeSnapshot, PlaybackSnapshot, PlaybackState};
use crate::media::media_uri::display;

/// `POST /api/bridges`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateBridgeRequest {
    /// `mixing` (members hear each other; the default) or `holding` (they do not).
    #[serde(rename = "type", default = "mixing")]
    pub bridge_type: String,
    /// A name for listings.
    #[serde(default)]
    pub name: String,
    /// The bridge's id (unique among live bridges); one is made up when absent.
    #[serde(default)]
    pub id: Option<String>,
}

fn mixing() -> String {
    BridgeKind::Mixing.as_str().into()
}

/// `POST /api/bridges/{id}/add` and `/remove`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberRequest {
    /// The channel's id or name.
    pub channel: String,
}

/// `POST /api/bridges`: answered with the new bridge.
pub async fn create(
    State(state): State<ApiState>,
    Json(request): Json<CreateBridgeRequest>,
) -> Result<Json<BridgeSnapshot>, ApiError> {
    let kind = BridgeKind::parse(&request.bridge_type)
        .filter(|kind| matches!(kind, BridgeKind::Mixing | BridgeKind::Holding))
        .ok_or_else(|| {
            (
                StatusCode::BAD_REQUEST,
                format!(
                    "type: {:?} is not a bridge type to create (mixing, holding)",
                    request.bridge_type
                ),
            )
        })?;
    let id = state
        .conferences
        .create(kind, &request.name, request.id.as_deref())
        .ok_or_else(|| {
            (
                StatusCode::CONFLICT,
                format!("a bridge {} exists already", request.id.unwrap_or_default()),
            )
        })?;
    state.bridges.snapshot(&id).map(Json).ok_or_else(|| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("bridge {id} went at once"),
        )
    })
}

/// `DELETE /api/bridges/{id}`.
pub async fn destroy(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<TextReply>, ApiError> {
    if !state.conferences.destroy(&id) {
        return Err((StatusCode::NOT_FOUND, format!("no bridge {id}")));
    }
    Ok(Json(TextReply {
        text: format!("bridge {id} destroyed"),
    }))
}

/// `POST /api/bridges/{id}/add`.
pub async fn add(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Json(request): Json<MemberRequest>,
) -> Result<Json<TextReply>, ApiError> {
    if !state.conferences.contains(&id) {
        return Err((StatusCode::NOT_FOUND, format!("no bridge {id}")));
    }
    let bridge = id.clone();
    command(&state, &request.channel, |reply| {
        ChannelCommand::EnterBridge { bridge, reply }
    })
    .await?;
    Ok(Json(TextReply {
        text: format!("channel {} entered bridge {id}", request.channel),
    }))
}

/// `POST /api/bridges/{id}/remove`.
pub async fn remove(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Json(request): Json<MemberRequest>,
) -> Result<Json<TextReply>, ApiError> {
    let bridge = id.clone();
    command(&state, &request.channel, |reply| {
        ChannelCommand::LeaveBridge { bridge, reply }
    })
    .await?;
    Ok(Json(TextReply {
        text: format!("channel {} left bridge {id}", request.channel),
    }))
}

/// `POST /api/bridges/{id}/play`: answered with the playback.
pub async fn play(
    State(state): State<ApiState>,
    Path(bridge): Path<String>,
    Json(request): Json<PlayRequest>,
) -> Result<Json<PlaybackSnapshot>, ApiError> {
    play_to_bridge(&state, &bridge, request).map(Json)
}

/// Starts playing `request`'s media to every member of `bridge` (the admin API's and ARI's
/// bridge play): 404 for no such bridge, 409 for unknown media or a taken playback id.
pub fn play_to_bridge(
    state: &ApiState,
    bridge: &str,
    request: PlayRequest,
) -> Result<PlaybackSnapshot, (StatusCode, String)> {
    let playlist = state
        .prompts
        .media(&request.media)
        .map_err(|uri| (StatusCode::CONFLICT, format!("no such media: {uri}")))?;
    if playlist.is_empty() {
        return Err((StatusCode::BAD_REQUEST, "media: nothing to play".into()));
    }
    let playback = PlaybackSnapshot {
        id: request.playback_id.unwrap_or_else(random_id),
        media_uri: request.media.iter().map(|uri| display(uri)).collect(),
        target_uri: format!("bridge:{bridge}"),
        state: PlaybackState::Playing,
    };
    state
        .conferences
        .play(bridge, playback.clone(), &playlist)
        .map_err(|error| {
            let status = match error {
                BridgePlayError::NoSuchBridge(_) => StatusCode::NOT_FOUND,
                BridgePlayError::PlaybackExists(_) => StatusCode::CONFLICT,
                BridgePlayError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            };
            (status, error.to_string())
        })?;
    Ok(playback)
}
