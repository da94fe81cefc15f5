//! `/channels`: list, get, originate, hangup, answer, ring, progress, continue, play,
//! record, music on hold, hold, mute, DTMF and variables, each one [`ChannelCommand`] (or the admin API's originate and
//! hangup) to the task that owns the channel.

use std::time::Instant;

use axum::http::StatusCode;
use tokio::sync::oneshot;

use super::{busy, channel_not_found, command, json, Handled, Reply};
use crate::ari::json::Channel;
use crate::ari::request::{AriError, AriRequest};
use crate::ari::AriState;
use crate::call::command::{AppRecordRequest, ChannelCommand};
use crate::call::media_io::MuteDirection;
use crate::call::originate::{OriginateError, OriginateRequest};
use crate::call::ControlCommand;
use crate::channel::{cause_of_reason, NORMAL_CLEARING};
use crate::media::media_uri::MediaUri;
use crate::media::recorder::IfExists;

/// `GET /channels`.
pub fn list(state: AriState, _: AriRequest) -> Handled {
    Box::pin(async move {
        let channels: Vec<Channel> = state
            .api
            .channels
            .snapshots(Instant::now())
            .iter()
            .map(Channel::from)
            .collect();
        json(channels)
    })
}

/// `GET /channels/{channelId}`.
pub fn get(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let id = request.path("channelId");
        let (_, channel) = state.api.channels.find(id).ok_or_else(channel_not_found)?;
        let snapshot = state
            .api
            .channels
            .snapshot(&channel)
            .ok_or_else(channel_not_found)?;
        json(Channel::from(&snapshot))
    })
}

/// `POST /channels` and `POST /channels/{channelId}`: calls `PJSIP/<endpoint>` (as channel
/// `channelId` when one is chosen) and, once it answers, hands it to `app`
/// (`StasisStart` with `appArgs`) or runs the dialplan at `context`, `extension`.
pub fn originate(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        if request.text("otherChannelId").is_some() {
            return Err(AriError::new(
                StatusCode::NOT_IMPLEMENTED,
                "pbx has no local channels: otherChannelId cannot be honoured",
            ));
        }
        let endpoint = request.required("endpoint")?;
        let endpoint = match endpoint.split_once('/') {
            Some((tech, user)) if tech.eq_ignore_ascii_case("PJSIP") && !user.is_empty() => {
                format!("endpoint/{user}")
            }
            _ => {
                return Err(AriError::bad_request(format!(
                    "Invalid endpoint {endpoint}: expected PJSIP/NAME"
                )))
            }
        };
        let application = request.text("app");
        if application.is_none() && request.text("extension").is_none() {
            return Err(AriError::bad_request(
                "Application or extension must be specified",
            ));
        }
        let timeout = request.number("timeout")?;
        let originate = OriginateRequest {
            endpoint,
            context: request.text("context").unwrap_or_else(|| "internal".into()),
            exten: request.text("extension").unwrap_or_else(|| "s".into()),
            app_args: request.list("appArgs"),
            application,
            caller_id: request.text("callerId"),
            timeout_secs: timeout.and_then(|t| u64::try_from(t).ok()),
            priority: match request.number("priority")? {
                Some(p) => Some(
                    usize::try_from(p).map_err(|_| AriError::bad_request("Invalid priority"))?,
                ),
                None => None,
            },
            variables: request.object("variables").into_iter().collect(),
            app_step: None,
            channel_id: Some(request.path("channelId"))
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .or_else(|| request.text("channelId")),
        };
        let (reply, answer) = oneshot::channel();
        state
            .api
            .control
            .try_send(ControlCommand::Originate {
                request: originate,
                reply,
            })
            .map_err(|_| busy())?;
        match answer.await {
            Ok(Ok(channel)) => json(Channel::from(&channel)),
            Ok(Err(error @ (OriginateError::NoPort | OriginateError::Draining))) => Err(
                AriError::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
            ),
            Ok(Err(OriginateError::ChannelExists(_))) => Err(AriError::conflict(
                "Channel with given unique ID already exists",
            )),
            Ok(Err(error)) => Err(AriError::bad_request(error.to_string())),
            Err(_) => Err(busy()),
        }
    })
}

/// The Q.850 cause of a hang-up: `reason_code` (a number), else `reason` (a name), else
/// normal clearing.
fn hangup_cause(request: &AriRequest) -> Result<u16, AriError> {
    if let Some(code) = request.number("reason_code")? {
        return u16::try_from(code)
            .map_err(|_| AriError::bad_request("Invalid reason for hangup provided"));
    }
    match request.text("reason") {
        None => Ok(NORMAL_CLEARING),
        Some(reason) => cause_of_reason(&reason)
            .ok_or_else(|| AriError::bad_request("Invalid reason for hangup provided")),
    }
}

/// `DELETE /channels/{channelId}?reason=`.
pub fn hangup(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let cause = hangup_cause(&request)?;
        let id = request.path("channelId");
        let (call, channel) = state.api.channels.find(id).ok_or_else(channel_not_found)?;
        let (reply, answer) = oneshot::channel();
        state
            .api
            .control
            .try_send(ControlCommand::Hangup {
                call,
                channel,
                cause,
                reply,
            })
            .map_err(|_| busy())?;
        match answer.await {
            Ok(true) => Ok(Reply::NoContent),
            _ => Err(channel_not_found()),
        }
    })
}

/// `POST /channels/{channelId}/continue`: at the given place, or the next priority.
pub fn continue_in_dialplan(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        if request.text("label").is_some() {
            return Err(AriError::new(
                StatusCode::NOT_IMPLEMENTED,
                "pbx cannot continue at a label yet; give a priority",
            ));
        }
        let id = request.path("channelId").to_owned();
        let (_, channel) = state.api.channels.find(&id).ok_or_else(channel_not_found)?;
        let here = state
            .api
            .channels
            .snapshot(&channel)
            .ok_or_else(channel_not_found)?
            .dialplan;
        let context = request.text("context").unwrap_or(here.context);
        let exten = request.text("extension");
        let priority = match request.number("priority")? {
            Some(p) => usize::try_from(p).map_err(|_| AriError::bad_request("Invalid priority"))?,
            None if exten.is_some() => 1,
            None => here.priority + 1,
        };
        let exten = exten.unwrap_or(here.exten);
        command(&state, &id, |reply| ChannelCommand::Continue {
            context,
            exten,
            priority,
            reply,
        })
        .await?;
        Ok(Reply::NoContent)
    })
}

/// Which signal [`signal`] sends.
#[derive(Debug, Clone, Copy)]
enum Signal {
    Answer,
    Ring,
    Progress,
    StartMoh,
    StopMoh,
}

async fn signal(state: AriState, request: AriRequest, signal: Signal) -> Result<Reply, AriError> {
    let make: fn(_) -> _ = match signal {
        Signal::Answer => |reply| ChannelCommand::Answer { reply },
        Signal::Ring => |reply| ChannelCommand::Ring { reply },
        Signal::Progress => |reply| ChannelCommand::Progress { reply },
        Signal::StartMoh => |reply| ChannelCommand::StartMoh { reply },
        Signal::StopMoh => |reply| ChannelCommand::StopMoh { reply },
    };
    command(&state, request.path("channelId"), make).await?;
    Ok(Reply::NoContent)
}

/// `POST /channels/{channelId}/answer`.
pub fn answer(state: AriState, request: AriRequest) -> Handled {
    Box::pin(signal(state, request, Signal::Answer))
}

/// `POST /channels/{channelId}/ring`.
pub fn ring(state: AriState, request: AriRequest) -> Handled {
    Box::pin(signal(state, request, Signal::Ring))
}

/// `POST /channels/{channelId}/progress`.
pub fn progress(state: AriState, request: AriRequest) -> Handled {
    Box::pin(signal(state, request, Signal::Progress))
}

/// `POST /channels/{channelId}/moh`: the default class (`mohClass` names the only one there is).
pub fn start_moh(state: AriState, request: AriRequest) -> Handled {
    Box::pin(signal(state, request, Signal::StartMoh))
}

/// `DELETE /channels/{channelId}/moh`.
pub fn stop_moh(state: AriState, request: AriRequest) -> Handled {
    Box::pin(signal(state, request, Signal::StopMoh))
}

/// The request's `direction` (`both` when absent).
fn direction(request: &AriRequest) -> Result<MuteDirection, AriError> {
    match request.text("direction").as_deref() {
        None | Some("both") => Ok(MuteDirection::Both),
        Some("in") => Ok(MuteDirection::In),
        Some("out") => Ok(MuteDirection::Out),
        Some(other) => Err(AriError::bad_request(format!("Invalid direction {other}"))),
    }
}

async fn mute(state: AriState, request: AriRequest, muted: bool) -> Result<Reply, AriError> {
    let direction = direction(&request)?;
    command(&state, request.path("channelId"), |reply| {
        ChannelCommand::Mute {
            direction,
            muted,
            reply,
        }
    })
    .await?;
    Ok(Reply::NoContent)
}

/// `POST /channels/{channelId}/mute?direction=`: silence replaces its audio that way.
pub fn mute_channel(state: AriState, request: AriRequest) -> Handled {
    Box::pin(mute(state, request, true))
}

/// `DELETE /channels/{channelId}/mute?direction=`.
pub fn unmute_channel(state: AriState, request: AriRequest) -> Handled {
    Box::pin(mute(state, request, false))
}

async fn hold(state: AriState, request: AriRequest, held: bool) -> Result<Reply, AriError> {
    command(&state, request.path("channelId"), |reply| {
        ChannelCommand::Hold { held, reply }
    })
    .await?;
    Ok(Reply::NoContent)
}

/// `POST /channels/{channelId}/hold`: it hears music on hold (`ChannelHold`).
pub fn hold_channel(state: AriState, request: AriRequest) -> Handled {
    Box::pin(hold(state, request, true))
}

/// `DELETE /channels/{channelId}/hold` (`ChannelUnhold`).
pub fn unhold_channel(state: AriState, request: AriRequest) -> Handled {
    Box::pin(hold(state, request, false))
}

/// The keys `terminateOn` names: `none`, `any`, `*` or `#`.
fn terminators(request: &AriRequest) -> Result<String, AriError> {
    match request.text("terminateOn").as_deref() {
        None | Some("none") => Ok(String::new()),
        Some("any") => Ok("0123456789*#ABCD".into()),
        Some(key @ ("*" | "#")) => Ok(key.into()),
        Some(other) => Err(AriError::bad_request(format!(
            "Invalid terminateOn {other}"
        ))),
    }
}

/// A non-negative number of seconds named `name`, 0 when absent.
fn seconds(request: &AriRequest, name: &str) -> Result<u64, AriError> {
    match request.number(name)? {
        None => Ok(0),
        Some(n) => u64::try_from(n).map_err(|_| AriError::bad_request(format!("Invalid {name}"))),
    }
}

/// `POST /channels/{channelId}/record`: 201 with the live recording.
pub fn record(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let name = request.required("name")?;
        let format = request.required("format")?;
        if format != crate::media::recordings::FORMAT {
            return Err(AriError::unprocessable(format!(
                "Recording format {format} is not supported: pbx records wav"
            )));
        }
        let if_exists = match request.text("ifExists").as_deref() {
            None | Some("fail") => IfExists::Fail,
            Some("overwrite") => IfExists::Overwrite,
            Some("append") => {
                return Err(AriError::new(
                    StatusCode::NOT_IMPLEMENTED,
                    "pbx cannot append to a recording yet",
                ))
            }
            Some(other) => return Err(AriError::bad_request(format!("Invalid ifExists {other}"))),
        };
        if let Err(error) = state.api.recordings.path(&name) {
            return Err(AriError::unprocessable(error.to_string()));
        }
        let record = AppRecordRequest {
            name,
            max_duration_seconds: seconds(&request, "maxDurationSeconds")?,
            max_silence_seconds: seconds(&request, "maxSilenceSeconds")?,
            if_exists,
            beep: request.flag("beep", false)?,
            terminate_on: terminators(&request)?,
        };
        let recording = command(&state, request.path("channelId"), |reply| {
            ChannelCommand::Record {
                request: record,
                reply,
            }
        })
        .await?;
        super::created(format!("/recordings/live/{}", recording.name), &recording)
    })
}

/// `POST /channels/{channelId}/dtmf`.
pub fn send_dtmf(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let digits = request
            .text("dtmf")
            .filter(|d| !d.is_empty())
            .ok_or_else(|| AriError::bad_request("DTMF is required"))?;
        command(&state, request.path("channelId"), |reply| {
            ChannelCommand::SendDtmf { digits, reply }
        })
        .await?;
        Ok(Reply::NoContent)
    })
}

/// The request's `media`: 400 when there is none or a URI does not parse (an unknown
/// scheme, `digits:` with letters, an unknown tone zone...).
pub(super) fn media_uris(request: &AriRequest) -> Result<Vec<String>, AriError> {
    let media = request.list("media");
    if media.is_empty() {
        return Err(AriError::bad_request("Missing parameter media"));
    }
    for uri in &media {
        MediaUri::parse(uri).map_err(|error| AriError::bad_request(error.to_string()))?;
    }
    Ok(media)
}

async fn play_as(state: AriState, request: AriRequest, id: String) -> Result<Reply, AriError> {
    let media = media_uris(&request)?;
    let playback = command(&state, request.path("channelId"), |reply| {
        ChannelCommand::Play {
            playback: id,
            media,
            reply,
        }
    })
    .await?;
    super::playback_created(&playback)
}

/// `POST /channels/{channelId}/play` and `/play/{playbackId}`: 201 with the playback the channel hears.
pub fn play(state: AriState, request: AriRequest) -> Handled {
    let id = super::playback_id(&request);
    Box::pin(play_as(state, request, id))
}

/// `GET /channels/{channelId}/variable?variable=`: 404 when it is unset.
pub fn get_variable(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let name = request.required("variable")?;
        let value = command(&state, request.path("channelId"), |reply| {
            ChannelCommand::GetVariable { name, reply }
        })
        .await?;
        let value = value.ok_or_else(|| AriError::not_found("Provided variable was not found"))?;
        json(serde_json::json!({ "value": value }))
    })
}

/// `POST /channels/{channelId}/variable`.
pub fn set_variable(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let name = request.required("variable")?;
        let value = request.text("value").unwrap_or_default();
        command(&state, request.path("channelId"), |reply| {
            ChannelCommand::SetVariable { name, value, reply }
        })
        .await?;
        Ok(Reply::NoContent)
    })
}
