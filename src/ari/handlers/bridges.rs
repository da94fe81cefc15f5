//! `/bridges`: list, create (with or without an id), get, destroy, and moving channels in
//! Stasis in and out, over the bridges applications create (the conference rooms' kind);
//! playing media to every member.

use axum::http::StatusCode;

use super::{command, json, Handled, Reply};
use crate::ari::json::Bridge;
use crate::ari::request::{AriError, AriRequest};
use crate::ari::AriState;
use crate::bridge::BridgeKind;
use crate::call::command::ChannelCommand;
use crate::control::bridge_commands::play_to_bridge;
use crate::control::channel_commands::PlayRequest;

fn not_found() -> AriError {
    AriError::not_found("Bridge not found")
}

/// `GET /bridges`.
pub fn list(state: AriState, _: AriRequest) -> Handled {
    Box::pin(async move {
        let bridges: Vec<Bridge> = state
            .api
            .bridges
            .snapshots()
            .iter()
            .map(Bridge::from)
            .collect();
        json(bridges)
    })
}

/// `GET /bridges/{bridgeId}`.
pub fn get(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let bridge = state
            .api
            .bridges
            .snapshot(request.path("bridgeId"))
            .ok_or_else(not_found)?;
        json(Bridge::from(&bridge))
    })
}

async fn create_as(
    state: AriState,
    request: AriRequest,
    id: Option<String>,
) -> Result<Reply, AriError> {
    let types = request.list("type");
    let kind = match types.iter().any(|t| t == "holding") {
        true => BridgeKind::Holding,
        false => BridgeKind::Mixing,
    };
    let name = request.text("name").unwrap_or_default();
    let created = state
        .api
        .conferences
        .create(kind, &name, id.as_deref())
        .ok_or_else(|| AriError::conflict("Bridge with the same bridgeId already exists"))?;
    let bridge = state.api.bridges.snapshot(&created).ok_or_else(|| {
        AriError::new(StatusCode::INTERNAL_SERVER_ERROR, "The bridge went at once")
    })?;
    json(Bridge::from(&bridge))
}

/// `POST /bridges`.
pub fn create(state: AriState, request: AriRequest) -> Handled {
    let id = request.text("bridgeId");
    Box::pin(create_as(state, request, id))
}

/// `POST /bridges/{bridgeId}`.
pub fn create_with_id(state: AriState, request: AriRequest) -> Handled {
    let id = Some(request.path("bridgeId").to_owned());
    Box::pin(create_as(state, request, id))
}

/// `DELETE /bridges/{bridgeId}`.
pub fn destroy(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        match state.api.conferences.destroy(request.path("bridgeId")) {
            true => Ok(Reply::NoContent),
            false => Err(not_found()),
        }
    })
}

/// Checks the bridge and channels of add/remove; the channel ids.
fn members(state: &AriState, request: &AriRequest) -> Result<Vec<String>, AriError> {
    if !state.api.conferences.contains(request.path("bridgeId")) {
        return Err(not_found());
    }
    let channels = request.list("channel");
    if channels.is_empty() {
        return Err(AriError::bad_request("Missing parameter channel"));
    }
    if channels
        .iter()
        .any(|c| state.api.channels.find(c).is_none())
    {
        return Err(AriError::bad_request("Channel not found"));
    }
    Ok(channels)
}

/// `POST /bridges/{bridgeId}/addChannel`.
pub fn add_channel(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let channels = members(&state, &request)?;
        for channel in channels {
            let bridge = request.path("bridgeId").to_owned();
            command(&state, &channel, |reply| ChannelCommand::EnterBridge {
                bridge,
                reply,
            })
            .await
            .map_err(|e| match e.status {
                StatusCode::CONFLICT => {
                    AriError::unprocessable("Channel not in Stasis application")
                }
                _ => e,
            })?;
        }
        Ok(Reply::NoContent)
    })
}

/// `POST /bridges/{bridgeId}/removeChannel`.
pub fn remove_channel(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let channels = members(&state, &request)?;
        for channel in channels {
            let bridge = request.path("bridgeId").to_owned();
            command(&state, &channel, |reply| ChannelCommand::LeaveBridge {
                bridge,
                reply,
            })
            .await?;
        }
        Ok(Reply::NoContent)
    })
}

async fn play_as(state: AriState, request: AriRequest, id: String) -> Result<Reply, AriError> {
    let media = super::channels::media_uris(&request)?;
    let bridge = request.path("bridgeId");
    let play = PlayRequest {
        media,
        playback_id: Some(id),
    };
    let playback =
        play_to_bridge(&state.api, bridge, play).map_err(|(status, text)| match status {
            StatusCode::NOT_FOUND => not_found(),
            StatusCode::CONFLICT if text.starts_with("no such media") => {
                AriError::unprocessable(text)
            }
            _ => AriError::new(status, text),
        })?;
    super::playback_created(&playback)
}

/// `POST /bridges/{bridgeId}/play` and `/play/{playbackId}`: 201 with the playback every member hears.
pub fn play(state: AriState, request: AriRequest) -> Handled {
    let id = super::playback_id(&request);
    Box::pin(play_as(state, request, id))
}
