//! The JSON objects ARI answers with and events carry, built from pbx's own snapshots:
//! Asterisk's property names, its state words and its timestamp format
//! (`2026-12-03T08:22:17.123+0000`).

use std::time::SystemTime;

use serde::Serialize;

use crate::channel::ChannelSnapshot;
use crate::events::{iso8601, BridgeSnapshot, PlaybackSnapshot, PlaybackState};

/// `time` as Asterisk writes timestamps: milliseconds and a `+0000` offset.
pub fn timestamp(time: SystemTime) -> String {
    from_iso(&iso8601(time))
}

/// An ISO 8601 UTC time of pbx's (`...Z`) in Asterisk's form (`...+0000`).
pub fn from_iso(iso: &str) -> String {
    match iso.strip_suffix('Z') {
        Some(base) => format!("{base}+0000"),
        None => iso.to_owned(),
    }
}

/// ARI's `CallerID`.
#[derive(Debug, Clone, Serialize)]
pub struct CallerId {
    /// Display name.
    pub name: String,
    /// Number.
    pub number: String,
}

/// ARI's `DialplanCEP`.
#[derive(Debug, Clone, Serialize)]
pub struct DialplanCep {
    /// Context.
    pub context: String,
    /// Extension.
    pub exten: String,
    /// Priority.
    pub priority: u64,
    /// The running app.
    pub app_name: String,
    /// Its arguments.
    pub app_data: String,
}

/// ARI's `Channel`.
#[derive(Debug, Clone, Serialize)]
pub struct Channel {
    /// Unique id.
    pub id: String,
    /// Name.
    pub name: String,
    /// State (Asterisk's words).
    pub state: &'static str,
    /// SIP Call-ID.
    pub protocol_id: String,
    /// Caller.
    pub caller: CallerId,
    /// Connected party.
    pub connected: CallerId,
    /// Account code (pbx has none).
    pub accountcode: String,
    /// Dialplan position.
    pub dialplan: DialplanCep,
    /// Creation time.
    pub creationtime: String,
    /// Language.
    pub language: String,
}

impl From<&ChannelSnapshot> for Channel {
    fn from(c: &ChannelSnapshot) -> Channel {
        Channel {
            id: c.id.0.clone(),
            name: c.name.clone(),
            state: c.state.as_str(),
            protocol_id: c.sip_call_id.clone(),
            caller: CallerId {
                name: c.caller.name.clone(),
                number: c.caller.number.clone(),
            },
            connected: CallerId {
                name: c.connected.name.clone(),
                number: c.connected.number.clone(),
            },
            accountcode: String::new(),
            dialplan: DialplanCep {
                context: c.dialplan.context.clone(),
                exten: c.dialplan.exten.clone(),
                priority: c.dialplan.priority as u64,
                app_name: c.dialplan.app_name.clone(),
                app_data: c.dialplan.app_data.clone(),
            },
            creationtime: from_iso(&c.creationtime),
            language: c.language.clone(),
        }
    }
}

/// ARI's `Bridge`.
#[derive(Debug, Clone, Serialize)]
pub struct Bridge {
    /// Unique id.
    pub id: String,
    /// Bridging technology.
    pub technology: &'static str,
    /// `mixing` or `holding` (a two-party bridge of the dialplan is `mixing` to ARI).
    pub bridge_type: &'static str,
    /// `stasis`, or `basic` for the dialplan's bridges.
    pub bridge_class: &'static str,
    /// Who created it.
    pub creator: &'static str,
    /// Its name.
    pub name: String,
    /// Member channel ids.
    pub channels: Vec<String>,
    /// Creation time.
    pub creationtime: String,
}

impl From<&BridgeSnapshot> for Bridge {
    fn from(b: &BridgeSnapshot) -> Bridge {
        let (technology, bridge_type) = match b.bridge_type.as_str() {
            "holding" => ("holding_bridge", "holding"),
            "simple" => ("simple_bridge", "mixing"),
            "transcoding" => ("simple_bridge", "mixing"),
            _ => ("softmix", "mixing"),
        };
        Bridge {
            id: b.id.clone(),
            technology,
            bridge_type,
            bridge_class: "stasis",
            creator: "Stasis",
            name: b.name.clone(),
            channels: b.channels.iter().map(|c| c.0.clone()).collect(),
            creationtime: from_iso(&b.creationtime),
        }
    }
}

/// ARI's `Playback`.
#[derive(Debug, Clone, Serialize)]
pub struct Playback {
    /// Unique id.
    pub id: String,
    /// The media being played.
    pub media_uri: String,
    /// The media after it, when a list is played.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_media_uri: Option<String>,
    /// `channel:<id>`.
    pub target_uri: String,
    /// Language of the media.
    pub language: String,
    /// `queued`, `playing`, `paused`, `done`, `failed`.
    pub state: &'static str,
}

impl From<&PlaybackSnapshot> for Playback {
    fn from(p: &PlaybackSnapshot) -> Playback {
        Playback {
            id: p.id.clone(),
            media_uri: p.media_uri.first().cloned().unwrap_or_default(),
            next_media_uri: p.media_uri.get(1).cloned(),
            target_uri: p.target_uri.clone(),
            language: "en".into(),
            state: match p.state {
                PlaybackState::Queued => "queued",
                PlaybackState::Playing => "playing",
                PlaybackState::Paused => "paused",
                PlaybackState::Done | PlaybackState::Stopped => "done",
            },
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::channel::{ChannelId, ChannelState, DialplanPosition, MediaStats, Party};

    /// A channel as the registry would show it.
    pub fn channel() -> ChannelSnapshot {
        ChannelSnapshot {
            id: ChannelId("1700000000.1".into()),
            name: "PJSIP/6001-00000000".into(),
            state: ChannelState::Ring,
            caller: Party {
                number: "6001".into(),
                name: "Alice".into(),
            },
            connected: Party::default(),
            dialplan: DialplanPosition {
                context: "internal".into(),
                exten: "8003".into(),
                priority: 1,
                app_name: "Stasis".into(),
                app_data: "demo".into(),
            },
            language: "en".into(),
            creationtime: "2026-12-03T08:22:17.123Z".into(),
            duration_secs: 0,
            sip_call_id: "abc@host".into(),
            linkedid: ChannelId("1700000000.1".into()),
            codec: None,
            media: MediaStats::default(),
        }
    }

    /// Asserts that `value` has every required property of model `id` and nothing else.
    pub fn assert_fits(id: &str, value: &serde_json::Value) {
        let model = super::super::models::find(id).unwrap();
        let object = value.as_object().unwrap();
        let base: &[super::super::models::Property] = match model.extends {
            Some(_) => super::super::models::EVENT_BASE,
            None => &[],
        };
        let props: Vec<_> = model.properties.iter().chain(base).collect();
        for p in &props {
            assert!(
                !p.required || object.contains_key(p.name),
                "{id}: {} missing in {value}",
                p.name
            );
        }
        for key in object.keys() {
            assert!(
                props.iter().any(|p| p.name == key),
                "{id}: {key} is not in the model"
            );
        }
    }

    #[test]
    fn objects_fit_their_models_and_times_are_asterisks() {
        let channel = serde_json::to_value(Channel::from(&channel())).unwrap();
        assert_fits("Channel", &channel);
        assert_eq!(channel["creationtime"], "2026-12-03T08:22:17.123+0000");
        assert_eq!(channel["state"], "Ring");
        assert_fits("CallerID", &channel["caller"]);
        assert_fits("DialplanCEP", &channel["dialplan"]);
        let bridge = BridgeSnapshot {
            id: "b".into(),
            bridge_type: "holding".into(),
            name: "n".into(),
            channels: vec![ChannelId("1.1".into())],
            creationtime: "2026-12-03T08:22:17.123Z".into(),
        };
        assert_fits(
            "Bridge",
            &serde_json::to_value(Bridge::from(&bridge)).unwrap(),
        );
        let playback = PlaybackSnapshot {
            id: "p".into(),
            media_uri: vec!["sound:hello-world".into()],
            target_uri: "channel:1.1".into(),
            state: PlaybackState::Stopped,
        };
        let playback = serde_json::to_value(Playback::from(&playback)).unwrap();
        assert_fits("Playback", &playback);
        assert_eq!(playback["media_uri"], "sound:hello-world");
    }
}
