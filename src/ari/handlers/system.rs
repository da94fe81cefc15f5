//! The small resources: `/asterisk` (info, ping), `/endpoints` (the configured endpoints
//! and their registrations), `/applications` (the registered Stasis apps), `/sounds` (pbx's
//! prompts), and the empty lists of device states and mailboxes (pbx has neither yet).

use std::time::Instant;

use serde_json::{json as value, Value};

use super::{json, Handled, Reply};
use crate::ari::json::timestamp;
use crate::ari::request::{AriError, AriRequest};
use crate::ari::AriState;
use crate::channel::ChannelId;
use crate::events::PbxEvent;
use crate::media::prompts::PromptLibrary;

/// `GET /asterisk/info`.
pub fn info(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let only = request.list("only");
        let mut info = serde_json::Map::new();
        let parts = [
            (
                "build",
                value!({
                    "os": std::env::consts::OS, "kernel": "", "options": "",
                    "machine": std::env::consts::ARCH, "date": "", "user": "",
                }),
            ),
            (
                "system",
                value!({
                    "version": format!("pbx {}", env!("CARGO_PKG_VERSION")),
                    "entity_id": &*state.asterisk_id,
                }),
            ),
            (
                "config",
                value!({
                    "name": "pbx", "default_language": "en",
                    "setid": { "user": "", "group": "" },
                }),
            ),
            (
                "status",
                value!({
                    "startup_time": timestamp(state.started_wall),
                    "last_reload_time": timestamp(state.started_wall),
                }),
            ),
        ];
        for (name, part) in parts {
            if only.is_empty() || only.iter().any(|o| o == name) {
                info.insert(name.into(), part);
            }
        }
        json(info)
    })
}

/// `GET /asterisk/ping`.
pub fn ping(state: AriState, _: AriRequest) -> Handled {
    Box::pin(async move {
        json(value!({
            "asterisk_id": &*state.asterisk_id,
            "ping": "pong",
            "timestamp": timestamp(std::time::SystemTime::now()),
        }))
    })
}

/// The endpoints of technology `PJSIP` as ARI shows them.
fn all_endpoints(state: &AriState) -> Vec<Value> {
    let now = Instant::now();
    let channels = state.api.channels.snapshots(now);
    state
        .api
        .endpoints
        .iter()
        .map(|e| {
            let prefix = format!("PJSIP/{}-", e.user);
            let online = !state.api.location.contacts(&e.user, now).is_empty();
            value!({
                "technology": "PJSIP",
                "resource": e.user,
                "state": if online { "online" } else { "offline" },
                "channel_ids": channels
                    .iter()
                    .filter(|c| c.name.starts_with(&prefix))
                    .map(|c| c.id.0.clone())
                    .collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// `GET /endpoints`.
pub fn endpoints(state: AriState, _: AriRequest) -> Handled {
    Box::pin(async move { json(all_endpoints(&state)) })
}

/// `GET /endpoints/{tech}`.
pub fn endpoints_by_tech(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        if !request.path("tech").eq_ignore_ascii_case("PJSIP") {
            return Err(AriError::not_found("No endpoints found - invalid tech"));
        }
        json(all_endpoints(&state))
    })
}

/// `GET /endpoints/{tech}/{resource}`.
pub fn endpoint(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let endpoints = match request.path("tech").eq_ignore_ascii_case("PJSIP") {
            true => all_endpoints(&state),
            false => Vec::new(),
        };
        let found = endpoints
            .into_iter()
            .find(|e| e["resource"] == request.path("resource"));
        found
            .map(super::Reply::Json)
            .ok_or_else(|| AriError::not_found("Endpoint not found"))
    })
}

/// Application `name` as ARI shows it: the channels on its `Stasis` step and the bridges
/// they are in (pbx has no explicit subscriptions yet, so no endpoints or devices).
fn application(state: &AriState, name: &str) -> Value {
    let channels: Vec<String> = state
        .api
        .channels
        .snapshots(Instant::now())
        .into_iter()
        .filter(|c| {
            c.dialplan.app_name == "Stasis"
                && c.dialplan.app_data.split(',').next().map(str::trim) == Some(name)
        })
        .map(|c| c.id.0)
        .collect();
    let bridges: Vec<String> = state
        .api
        .bridges
        .snapshots()
        .into_iter()
        .filter(|b| b.channels.iter().any(|c| channels.contains(&c.0)))
        .map(|b| b.id)
        .collect();
    value!({
        "name": name,
        "channel_ids": channels,
        "bridge_ids": bridges,
        "endpoint_ids": [],
        "device_names": [],
        "events_allowed": [],
        "events_disallowed": [],
    })
}

/// `GET /applications`.
pub fn applications(state: AriState, _: AriRequest) -> Handled {
    Box::pin(async move {
        let apps: Vec<Value> = state
            .apps
            .names()
            .iter()
            .map(|n| application(&state, &n.0))
            .collect();
        json(apps)
    })
}

/// `GET /applications/{applicationName}`.
pub fn application_get(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let name = request.path("applicationName");
        match state.apps.is_registered(name) {
            true => json(application(&state, name)),
            false => Err(AriError::not_found("Application does not exist.")),
        }
    })
}

fn sound(name: &str) -> Value {
    value!({ "id": name, "formats": [{ "language": "en", "format": "wav" }] })
}

/// `GET /sounds`.
pub fn sounds(_: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let english = request.text("lang").is_none_or(|l| l == "en");
        let sounds: Vec<Value> = match english {
            true => PromptLibrary::builtin_names().map(sound).collect(),
            false => Vec::new(),
        };
        json(sounds)
    })
}

/// `GET /sounds/{soundId}`.
pub fn sound_get(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let id = request.path("soundId");
        match state.prompts.get(id) {
            Ok(_) => json(sound(id)),
            Err(_) => Err(AriError::not_found("Sound not found")),
        }
    })
}

/// `GET /deviceStates`, `GET /mailboxes`: pbx has none.
pub fn empty_list(_: AriState, _: AriRequest) -> Handled {
    Box::pin(async move { json(Vec::<Value>::new()) })
}

/// `POST /events/user/{eventName}?application=&source=&variables=`: sends
/// `ChannelUserevent` to the application (and `UserEvent` to AMI); 404 for an application
/// nobody holds, 400 for a source that is not `channel:ID` or `bridge:ID`, 422 for one that
/// does not exist.
pub fn user_event(state: AriState, request: AriRequest) -> Handled {
    Box::pin(async move {
        let application = request.required("application")?;
        if !state.apps.is_registered(&application) {
            return Err(AriError::not_found("Application not found"));
        }
        let (mut channel, mut bridge) = (None, None);
        for source in request.list("source") {
            let missing = || AriError::unprocessable(format!("Event source not found: {source}"));
            match source.split_once(':') {
                Some(("channel", id)) => {
                    let found = state.api.channels.snapshot(&ChannelId(id.to_owned()));
                    channel = Some(Box::new(found.ok_or_else(missing)?));
                }
                Some(("bridge", id)) => {
                    bridge = Some(Box::new(
                        state.api.bridges.snapshot(id).ok_or_else(missing)?,
                    ));
                }
                _ => {
                    return Err(AriError::bad_request(format!(
                        "Invalid event source URI scheme: {source}"
                    )))
                }
            }
        }
        state.api.events.publish(PbxEvent::UserEvent {
            name: request.path("eventName").to_owned(),
            headers: request.object("variables").into_iter().collect(),
            application: Some(application),
            channel,
            bridge,
        });
        Ok(Reply::NoContent)
    })
}
