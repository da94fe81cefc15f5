//! `/recordings`: live recordings (get, stop, cancel, pause, mute) and stored ones (list,
//! get, delete, download), over the admin API's recording operations.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::{json, Handled, Reply};
use crate::ari::request::{AriError, AriRequest};
use crate::ari::AriState;
use crate::control::recording_commands as admin;

/// The admin API's refusal as ARI words it.
fn refused((status, text): (StatusCode, String)) -> AriError {
    match status {
        StatusCode::NOT_FOUND => AriError::not_found("Recording not found"),
        StatusCode::CONFLICT => AriError::conflict("Recording not in session"),
        _ => AriError::new(status, text),
    }
}

fn name(request: &AriRequest) -> String {
    request.path("recordingName").to_owned()
}

/// `GET /recordings/live/{recordingName}`.
pub fn get_live(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let axum::Json(recording) = admin::live(State(state.api.clone()), Path(name(&request)))
            .await
            .map_err(refused)?;
        json(recording)
    })
}

/// Applies `operation` (`stop`, `cancel`, `pause`, `unpause`, `mute`, `unmute`) to the live
/// recording the request names.
fn operate(state: AriState, request: AriRequest, operation: &'static str) -> Handled {
    Box::pin(async move {
        let target = (name(&request), operation.to_owned());
        admin::control(State(state.api.clone()), Path(target))
            .await
            .map(|_| Reply::NoContent)
            .map_err(refused)
    })
}

/// `POST /recordings/live/{recordingName}/stop`: the file is kept.
pub fn stop(state: AriState, request: AriRequest) -> Handled {
    operate(state, request, "stop")
}

/// `DELETE /recordings/live/{recordingName}`: stop and discard.
pub fn cancel(state: AriState, request: AriRequest) -> Handled {
    operate(state, request, "cancel")
}

/// `POST /recordings/live/{recordingName}/pause`.
pub fn pause(state: AriState, request: AriRequest) -> Handled {
    operate(state, request, "pause")
}

/// `DELETE /recordings/live/{recordingName}/pause`.
pub fn unpause(state: AriState, request: AriRequest) -> Handled {
    operate(state, request, "unpause")
}

/// `POST /recordings/live/{recordingName}/mute`: silence is written meanwhile.
pub fn mute(state: AriState, request: AriRequest) -> Handled {
    operate(state, request, "mute")
}

/// `DELETE /recordings/live/{recordingName}/mute`.
pub fn unmute(state: AriState, request: AriRequest) -> Handled {
    operate(state, request, "unmute")
}

/// `GET /recordings/stored`.
pub fn list_stored(state: AriState, _: AriRequest) -> Handled {
    Box::pin(async move {
        let axum::Json(stored) = admin::stored(State(state.api.clone())).await;
        json(stored)
    })
}

/// `GET /recordings/stored/{recordingName}`.
pub fn get_stored(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let axum::Json(stored) = admin::stored_one(State(state.api.clone()), Path(name(&request)))
            .await
            .map_err(refused)?;
        json(stored)
    })
}

/// `DELETE /recordings/stored/{recordingName}`.
pub fn delete_stored(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        admin::delete_stored(State(state.api.clone()), Path(name(&request)))
            .await
            .map_err(refused)?;
        Ok(Reply::NoContent)
    })
}

/// `GET /recordings/stored/{recordingName}/file`: the WAV file.
pub fn get_stored_file(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let body = admin::stored_bytes(&state.api, &name(&request))
            .await
            .map_err(refused)?;
        Ok(Reply::File {
            content_type: "audio/wav",
            body,
        })
    })
}
