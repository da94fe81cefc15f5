//! pbx's events as ARI events: the type names, the objects they carry (in ARI's models) and
//! the channels and bridge each concerns, which decide which application receives it.
//! Events ARI has no type for here (transfers, trunks) are not sent.

use serde_json::{json, Map, Value};

use super::json::{timestamp, Bridge, Channel, Playback};
use crate::channel::ChannelId;
use crate::events::{PbxEvent, Published};

/// One event as ARI sends it, before it is addressed to an application.
#[derive(Debug, Clone, PartialEq)]
pub struct AriEvent {
    /// The JSON object without `application` (added per receiver).
    pub body: Map<String, Value>,
    /// The channels it concerns.
    pub channels: Vec<ChannelId>,
    /// The bridge it concerns.
    pub bridge: Option<String>,
    /// For `StasisStart`/`StasisEnd`: the application it belongs to.
    pub application: Option<String>,
    /// The applications whose `Stasis` step its channels are on (from their snapshots).
    pub stasis_apps: Vec<String>,
    /// Whether it is `StasisStart` (the receiver starts following the channel).
    pub starts: bool,
    /// Whether it is `ChannelDestroyed` (the receiver stops following it).
    pub destroys: bool,
}

/// The application of a channel on a `Stasis(app, ...)` step.
fn stasis_app(c: &crate::channel::ChannelSnapshot) -> Option<String> {
    let app = c.dialplan.app_data.split(',').next()?.trim();
    (c.dialplan.app_name == "Stasis" && !app.is_empty()).then(|| app.to_owned())
}

fn channel(c: &crate::channel::ChannelSnapshot) -> Value {
    serde_json::to_value(Channel::from(c)).unwrap_or(Value::Null)
}

fn bridge(b: &crate::events::BridgeSnapshot) -> Value {
    serde_json::to_value(Bridge::from(b)).unwrap_or(Value::Null)
}

/// The channel a playback's `target_uri` (`channel:<id>`) names.
fn target(uri: &str) -> Vec<ChannelId> {
    uri.strip_prefix("channel:")
        .map(|id| vec![ChannelId(id.to_owned())])
        .unwrap_or_default()
}

/// The bridge of a `bridge:ID` target URI.
fn target_bridge(uri: &str) -> Option<String> {
    uri.strip_prefix("bridge:").map(str::to_owned)
}

/// `published` as an ARI event sent by `asterisk_id`; `None` when ARI has no such event.
pub fn translate(published: &Published, asterisk_id: &str) -> Option<AriEvent> {
    let mut event = AriEvent {
        body: Map::new(),
        channels: Vec::new(),
        bridge: None,
        application: None,
        stasis_apps: Vec::new(),
        starts: false,
        destroys: false,
    };
    let (kind, fields) = match &published.event {
        PbxEvent::ChannelCreated { channel: c } => {
            event.channels.push(c.id.clone());
            ("ChannelCreated", json!({ "channel": channel(c) }))
        }
        PbxEvent::ChannelStateChanged { channel: c } => {
            event.channels.push(c.id.clone());
            ("ChannelStateChange", json!({ "channel": channel(c) }))
        }
        PbxEvent::ChannelDialplan { channel: c } => {
            event.channels.push(c.id.clone());
            let (app, data) = (&c.dialplan.app_name, &c.dialplan.app_data);
            (
                "ChannelDialplan",
                json!({ "channel": channel(c), "dialplan_app": app, "dialplan_app_data": data }),
            )
        }
        PbxEvent::ChannelDtmfReceived {
            channel: c,
            digit,
            duration_ms,
        } => {
            event.channels.push(c.id.clone());
            (
                "ChannelDtmfReceived",
                json!({ "channel": channel(c), "digit": digit.to_string(), "duration_ms": duration_ms }),
            )
        }
        PbxEvent::ChannelVarset {
            channel: c,
            variable,
            value,
        } => {
            event.channels.push(c.id.clone());
            (
                "ChannelVarset",
                json!({ "channel": channel(c), "variable": variable, "value": value }),
            )
        }
        PbxEvent::ChannelHangupRequest {
            channel: c, cause, ..
        } => {
            event.channels.push(c.id.clone());
            (
                "ChannelHangupRequest",
                json!({ "channel": channel(c), "cause": cause }),
            )
        }
        PbxEvent::StasisStart {
            channel: c,
            application,
            args,
        } => {
            event.channels.push(c.id.clone());
            event.application = Some(application.clone());
            event.starts = true;
            (
                "StasisStart",
                json!({ "channel": channel(c), "args": args }),
            )
        }
        PbxEvent::StasisEnd {
            channel: c,
            application,
        } => {
            event.channels.push(c.id.clone());
            event.application = Some(application.clone());
            ("StasisEnd", json!({ "channel": channel(c) }))
        }
        PbxEvent::ChannelDestroyed {
            channel: c,
            cause,
            cause_txt,
        } => {
            event.channels.push(c.id.clone());
            event.destroys = true;
            (
                "ChannelDestroyed",
                json!({ "channel": channel(c), "cause": cause, "cause_txt": cause_txt }),
            )
        }
        PbxEvent::BridgeCreated { bridge: b } => {
            event.bridge = Some(b.id.clone());
            ("BridgeCreated", json!({ "bridge": bridge(b) }))
        }
        PbxEvent::BridgeDestroyed { bridge: b } => {
            event.bridge = Some(b.id.clone());
            ("BridgeDestroyed", json!({ "bridge": bridge(b) }))
        }
        PbxEvent::ChannelEnteredBridge {
            bridge: b,
            channel: c,
        } => {
            event.bridge = Some(b.id.clone());
            event.channels.push(c.id.clone());
            (
                "ChannelEnteredBridge",
                json!({ "bridge": bridge(b), "channel": channel(c) }),
            )
        }
        PbxEvent::ChannelLeftBridge {
            bridge: b,
            channel: c,
        } => {
            event.bridge = Some(b.id.clone());
            event.channels.push(c.id.clone());
            (
                "ChannelLeftBridge",
                json!({ "bridge": bridge(b), "channel": channel(c) }),
            )
        }
        PbxEvent::PlaybackStarted { playback } => {
            event.channels = target(&playback.target_uri);
            event.bridge = target_bridge(&playback.target_uri);
            (
                "PlaybackStarted",
                json!({ "playback": Playback::from(playback) }),
            )
        }
        PbxEvent::PlaybackFinished { playback } => {
            event.channels = target(&playback.target_uri);
            event.bridge = target_bridge(&playback.target_uri);
            (
                "PlaybackFinished",
                json!({ "playback": Playback::from(playback) }),
            )
        }
        PbxEvent::DialBegin {
            caller,
            peer,
            dialstring,
        } => {
            event.channels = vec![caller.id.clone(), peer.id.clone()];
            (
                "Dial",
                json!({ "caller": channel(caller), "peer": channel(peer), "dialstring": dialstring, "dialstatus": "" }),
            )
        }
        PbxEvent::DialEnd {
            caller,
            peer,
            dialstatus,
        } => {
            event.channels = vec![caller.id.clone(), peer.id.clone()];
            (
                "Dial",
                json!({ "caller": channel(caller), "peer": channel(peer), "dialstatus": dialstatus }),
            )
        }
        PbxEvent::ChannelHold { channel: c } => {
            event.channels.push(c.id.clone());
            ("ChannelHold", json!({ "channel": channel(c) }))
        }
        PbxEvent::ChannelConnectedLine { channel: c } => {
            event.channels.push(c.id.clone());
            ("ChannelConnectedLine", json!({ "channel": channel(c) }))
        }
        PbxEvent::ChannelCallerId { channel: c } => {
            event.channels.push(c.id.clone());
            (
                "ChannelCallerid",
                json!({
                    "caller_presentation": 0,
                    "caller_presentation_txt": "Presentation Allowed, Not Screened",
                    "channel": channel(c),
                }),
            )
        }
        PbxEvent::ChannelUnhold { channel: c } => {
            event.channels.push(c.id.clone());
            ("ChannelUnhold", json!({ "channel": channel(c) }))
        }
        PbxEvent::ContactStatusChange { contact } => {
            // The contact's own change: a contact that appears or answers makes its endpoint
            // reachable, one that goes away or stops answering does not.
            let state = match contact.contact_status.as_str() {
                "Created" | "Reachable" => "online",
                _ => "offline",
            };
            let endpoint = json!({
                "technology": "PJSIP",
                "resource": contact.aor,
                "state": state,
                "channel_ids": [],
            });
            ("EndpointStateChange", json!({ "endpoint": endpoint }))
        }
        PbxEvent::RecordingStarted { recording } => {
            event.channels = target(&recording.target_uri);
            ("RecordingStarted", json!({ "recording": recording }))
        }
        PbxEvent::RecordingFinished { recording } => {
            event.channels = target(&recording.target_uri);
            ("RecordingFinished", json!({ "recording": recording }))
        }
        PbxEvent::RecordingFailed { recording } => {
            event.channels = target(&recording.target_uri);
            ("RecordingFailed", json!({ "recording": recording }))
        }
        PbxEvent::UserEvent {
            name,
            headers,
            application: Some(app),
            channel: source_channel,
            bridge: source_bridge,
        } => {
            event.application = Some(app.clone());
            let variables: Map<String, Value> = headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let mut fields = json!({ "eventname": name, "userevent": variables });
            if let Some(c) = source_channel {
                fields["channel"] = channel(c);
            }
            if let Some(b) = source_bridge {
                fields["bridge"] = bridge(b);
            }
            ("ChannelUserevent", fields)
        }
        PbxEvent::BlindTransfer { .. }
        | PbxEvent::TrunkStateChange { .. }
        | PbxEvent::Agi { .. }
        | PbxEvent::OriginateResponse(_)
        | PbxEvent::UserEvent {
            application: None, ..
        }
        | PbxEvent::ChannelMohStart { .. }
        | PbxEvent::ChannelMohStop { .. }
        | PbxEvent::SourceBanned { .. }
        | PbxEvent::CallRefused { .. }
        | PbxEvent::EventsLost { .. } => return None,
    };
    event.stasis_apps = snapshots(&published.event)
        .into_iter()
        .filter_map(stasis_app)
        .collect();
    event.body.insert("type".into(), json!(kind));
    if let Value::Object(fields) = fields {
        event.body.extend(fields);
    }
    event
        .body
        .insert("timestamp".into(), json!(timestamp(published.timestamp)));
    event.body.insert("asterisk_id".into(), json!(asterisk_id));
    event.body.insert("sequence".into(), json!(published.seq.0));
    Some(event)
}

/// The channel snapshots `event` carries.
fn snapshots(event: &PbxEvent) -> Vec<&crate::channel::ChannelSnapshot> {
    match event {
        PbxEvent::ChannelCreated { channel }
        | PbxEvent::ChannelStateChanged { channel }
        | PbxEvent::ChannelDialplan { channel }
        | PbxEvent::ChannelDtmfReceived { channel, .. }
        | PbxEvent::ChannelVarset { channel, .. }
        | PbxEvent::ChannelHangupRequest { channel, .. }
        | PbxEvent::StasisStart { channel, .. }
        | PbxEvent::StasisEnd { channel, .. }
        | PbxEvent::ChannelDestroyed { channel, .. }
        | PbxEvent::ChannelHold { channel }
        | PbxEvent::ChannelUnhold { channel }
        | PbxEvent::ChannelCallerId { channel }
        | PbxEvent::ChannelConnectedLine { channel }
        | PbxEvent::ChannelEnteredBridge { channel, .. }
        | PbxEvent::ChannelLeftBridge { channel, .. } => vec![channel],
        PbxEvent::DialBegin { caller, peer, .. } | PbxEvent::DialEnd { caller, peer, .. } => {
            vec![caller, peer]
        }
        _ => Vec::new(),
    }
}

/// The text of `event` addressed to `application`.
pub fn render(event: &AriEvent, application: &str) -> String {
    let mut body = event.body.clone();
    body.insert("application".into(), json!(application));
    Value::Object(body).to_string()
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::ari::json::tests::{assert_fits, channel as snapshot};
    use crate::events::Seq;

    #[test]
    fn stasis_start_renders_as_its_model_with_the_sequence_number() {
        let published = Published {
            seq: Seq(42),
            timestamp: SystemTime::now(),
            node: None,
            event: PbxEvent::StasisStart {
                channel: snapshot(),
                application: "demo".into(),
                args: vec!["one".into()],
            },
        };
        let event = translate(&published, "00:11:22:33:44:55").unwrap();
        assert!(event.starts);
        assert_eq!(event.application.as_deref(), Some("demo"));
        let value: Value = serde_json::from_str(&render(&event, "demo")).unwrap();
        assert_fits("StasisStart", &value);
        assert_eq!(value["sequence"], 42);
        assert_eq!(value["args"], json!(["one"]));
        assert!(value["timestamp"].as_str().unwrap().ends_with("+0000"));
        let lost = Published {
            seq: Seq(43),
            timestamp: SystemTime::now(),
            node: None,
            event: PbxEvent::EventsLost { count: 1 },
        };
        assert!(translate(&lost, "x").is_none());
    }
}
