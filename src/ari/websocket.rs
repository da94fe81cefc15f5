//! `GET /ari/events?app=A[,B]&subscribeAll=&since=`: the WebSocket of an application (the
//! `ari` subprotocol is accepted). Connecting registers the apps ([`StasisApps`]); the socket
//! receives the events of the channels its apps control — from `StasisStart` until the
//! channel is destroyed — with the bridges they enter, or every event with
//! `subscribeAll=true`. When another socket connects for one of its apps it gets
//! `ApplicationReplaced` and no more of that app's events. pbx's extension: every event
//! carries `sequence`, and `since=N` first replays what followed event N (if the window
//! still holds it), so an app that reconnects misses nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Instant, SystemTime};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::events::{render, translate, AriEvent};
use super::json::timestamp;
use super::request::AriError;
use super::AriState;
use crate::channel::ChannelId;
use crate::events::{Read, Seq, Subscription};
use crate::stasis_apps::{AppName, Holding};

/// What one socket follows: the channels of its apps (and which app has each) and the
/// bridges they entered.
#[derive(Debug, Default)]
struct Following {
    channels: BTreeMap<ChannelId, String>,
    bridges: BTreeSet<String>,
}

/// Upgrades to the event WebSocket; 400 without `app`.
pub async fn events(
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
    State(state): State<AriState>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let param = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let apps: Vec<AppName> = param("app")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| AppName(a.to_owned()))
        .collect();
    if apps.is_empty() {
        return AriError::bad_request("Missing parameter app").into_response();
    }
    let Ok(ws) = ws else {
        return AriError::bad_request("Expected a WebSocket upgrade").into_response();
    };
    let subscribe_all = param("subscribeAll").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let since = match param("since").map(|s| s.parse::<u64>()) {
        None => None,
        Some(Ok(seq)) => Some(Seq(seq)),
        Some(Err(_)) => return AriError::bad_request("Invalid value for since").into_response(),
    };
    let subscription = state.api.events.subscribe(since);
    let mut following = Following::default();
    for channel in state.api.channels.snapshots(Instant::now()) {
        let app = channel
            .dialplan
            .app_data
            .split(',')
            .next()
            .unwrap_or("")
            .trim();
        if channel.dialplan.app_name == "Stasis" && apps.iter().any(|a| a.0 == app) {
            following.channels.insert(channel.id, app.to_owned());
        }
    }
    let holding = state.apps.register(apps);
    let socket = Socket {
        holding,
        following,
        subscribe_all,
        asterisk_id: state.asterisk_id.to_string(),
    };
    let shutdown = state.api.shutdown.clone();
    ws.protocols(["ari"])
        .on_upgrade(move |ws| socket.run(ws, subscription, shutdown))
}

struct Socket {
    holding: Holding,
    following: Following,
    subscribe_all: bool,
    asterisk_id: String,
}

impl Socket {
    async fn run(
        mut self,
        mut ws: WebSocket,
        mut events: Subscription,
        shutdown: CancellationToken,
    ) {
        loop {
            tokio::select! {
                read = events.next() => {
                    let Read::Event(published) = read else {
                        if let Read::Lost { count, .. } = read {
                            tracing::warn!(count, "ARI WebSocket fell behind the event window");
                        }
                        continue;
                    };
                    let Some(event) = translate(&published, &self.asterisk_id) else { continue };
                    if let Some(app) = self.receiver(&event) {
                        if ws.send(Message::Text(render(&event, &app).into())).await.is_err() {
                            return;
                        }
                    }
                }
                name = self.holding.replaced() => {
                    let text = json!({
                        "type": "ApplicationReplaced",
                        "application": name.0,
                        "timestamp": timestamp(SystemTime::now()),
                        "asterisk_id": self.asterisk_id,
                    })
                    .to_string();
                    self.following.channels.retain(|_, app| *app != name.0);
                    if ws.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                incoming = ws.recv() => match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(_)) => {}
                },
                _ = shutdown.cancelled() => {
                    let _ = ws.send(Message::Close(None)).await;
                    return;
                }
            }
        }
    }

    /// The application of this socket that receives `event`, if any: the one it names
    /// (`StasisStart`/`StasisEnd`), the one whose `Stasis` step its channels are on, or the
    /// one following them since their `StasisStart`; keeps what the socket follows current.
    fn receiver(&mut self, event: &AriEvent) -> Option<String> {
        let named = match &event.application {
            Some(app) if self.holding.holds(app) => Some(app.clone()),
            Some(_) => return self.everything(),
            None => event
                .stasis_apps
                .iter()
                .find(|a| self.holding.holds(a))
                .cloned(),
        };
        let followed = event
            .channels
            .iter()
            .find_map(|c| self.following.channels.get(c).cloned());
        let app = named.or(followed);
        for channel in &event.channels {
            match (&app, event.destroys) {
                (Some(app), false) => {
                    self.following.channels.insert(channel.clone(), app.clone());
                }
                _ => {
                    self.following.channels.remove(channel);
                }
            }
        }
        if let (Some(_), Some(bridge)) = (&app, &event.bridge) {
            self.following.bridges.insert(bridge.clone());
        }
        let bridged = event
            .bridge
            .as_ref()
            .filter(|b| self.following.bridges.contains(*b))
            .and_then(|_| self.holding.names().first().map(|a| a.0.clone()));
        if event
            .body
            .get("type")
            .is_some_and(|t| t == "BridgeDestroyed")
        {
            if let Some(bridge) = &event.bridge {
                self.following.bridges.remove(bridge);
            }
        }
        app.or(bridged).or_else(|| self.everything())
    }

    /// For `subscribeAll`: the socket's first app.
    fn everything(&self) -> Option<String> {
        self.subscribe_all
            .then(|| self.holding.names().first().map(|a| a.0.clone()))
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ari::json::tests::channel;
    use crate::events::{PbxEvent, PlaybackSnapshot, PlaybackState, Published};
    use crate::stasis_apps::StasisApps;

    fn socket(apps: &StasisApps, subscribe_all: bool) -> Socket {
        Socket {
            holding: apps.register(vec![AppName("demo".into())]),
            following: Following::default(),
            subscribe_all,
            asterisk_id: "id".into(),
        }
    }

    fn event(seq: u64, event: PbxEvent) -> AriEvent {
        let published = Published {
            seq: Seq(seq),
            timestamp: SystemTime::now(),
            node: None,
            event,
        };
        translate(&published, "id").unwrap()
    }

    fn playback() -> PbxEvent {
        PbxEvent::PlaybackStarted {
            playback: PlaybackSnapshot {
                id: "p".into(),
                media_uri: vec!["sound:hello-world".into()],
                target_uri: format!("channel:{}", channel().id),
                state: PlaybackState::Playing,
            },
        }
    }

    fn destroyed() -> PbxEvent {
        let mut gone = channel();
        gone.dialplan.app_name = "Hangup".into();
        PbxEvent::ChannelDestroyed {
            channel: gone,
            cause: 16,
            cause_txt: "Normal Clearing".into(),
        }
    }

    #[test]
    fn an_app_gets_its_channels_events_from_stasis_start_to_channel_destroyed() {
        let apps = StasisApps::default();
        let mut demo = socket(&apps, false);
        let created = PbxEvent::ChannelCreated { channel: channel() };
        let mut before = channel();
        before.dialplan.app_name = String::new();
        let ringing = PbxEvent::ChannelCreated { channel: before };
        assert_eq!(demo.receiver(&event(1, ringing)), None, "not yet in Stasis");
        let start = PbxEvent::StasisStart {
            channel: channel(),
            application: "demo".into(),
            args: vec![],
        };
        assert_eq!(demo.receiver(&event(2, start)).as_deref(), Some("demo"));
        assert_eq!(
            demo.receiver(&event(3, playback())).as_deref(),
            Some("demo")
        );
        assert_eq!(
            demo.receiver(&event(4, destroyed())).as_deref(),
            Some("demo")
        );
        assert_eq!(
            demo.receiver(&event(5, playback())),
            None,
            "forgotten once destroyed"
        );
        let other = PbxEvent::StasisStart {
            channel: channel(),
            application: "other".into(),
            args: vec![],
        };
        assert_eq!(demo.receiver(&event(6, other.clone())), None);
        let mut all = socket(&apps, true);
        assert_eq!(all.receiver(&event(7, other)).as_deref(), Some("demo"));
        assert_eq!(all.receiver(&event(8, created)).as_deref(), Some("demo"));
    }

    #[test]
    fn a_playback_to_a_bridge_reaches_the_app_whose_channel_is_in_it() {
        let apps = StasisApps::default();
        let mut demo = socket(&apps, false);
        let bridge_playback = || PbxEvent::PlaybackFinished {
            playback: PlaybackSnapshot {
                id: "bp".into(),
                media_uri: vec!["sound:hello-world".into()],
                target_uri: "bridge:b1".into(),
                state: PlaybackState::Done,
            },
        };
        assert_eq!(demo.receiver(&event(1, bridge_playback())), None);
        let start = PbxEvent::StasisStart {
            channel: channel(),
            application: "demo".into(),
            args: vec![],
        };
        demo.receiver(&event(2, start));
        let entered = PbxEvent::ChannelEnteredBridge {
            bridge: crate::events::BridgeSnapshot {
                id: "b1".into(),
                bridge_type: "holding".into(),
                name: String::new(),
                channels: vec![channel().id],
                creationtime: String::new(),
            },
            channel: channel(),
        };
        assert_eq!(demo.receiver(&event(3, entered)).as_deref(), Some("demo"));
        assert_eq!(
            demo.receiver(&event(4, bridge_playback())).as_deref(),
            Some("demo")
        );
    }
}
