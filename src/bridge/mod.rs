//! Bridges (edge): sets of channels exchanging media. Kinds: `simple` (two channels, same
//! codec, relayed without decoding), `transcoding` (two channels, different codecs),
//! `mixing` (a conference room: N members) and `holding` (no media between members). The
//! [`BridgeRegistry`] lists the live bridges (`pbx ctl bridges`) and publishes their life;
//! the task that runs a bridge's media holds its [`BridgeHandle`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use crate::channel::ChannelHandle;
use crate::events::{iso8601, random_id, BridgeSnapshot, EventBus, PbxEvent};

/// What a bridge does with its members' media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BridgeKind {
    /// Two channels with the same codec: packets relayed, never decoded.
    Simple,
    /// Two channels with different codecs.
    Transcoding,
    /// N channels, each hearing the sum of the others.
    Mixing,
    /// No media between members.
    Holding,
}

impl BridgeKind {
    /// Every kind.
    pub const ALL: [BridgeKind; 4] = [
        BridgeKind::Simple,
        BridgeKind::Transcoding,
        BridgeKind::Mixing,
        BridgeKind::Holding,
    ];

    /// The name listings and events use.
    pub fn as_str(self) -> &'static str {
        match self {
            BridgeKind::Simple => "simple",
            BridgeKind::Transcoding => "transcoding",
            BridgeKind::Mixing => "mixing",
            BridgeKind::Holding => "holding",
        }
    }

    /// The kind [`BridgeKind::as_str`] names.
    pub fn parse(name: &str) -> Option<BridgeKind> {
        BridgeKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// Clonable handle to the live-bridge table.
#[derive(Debug, Clone, Default)]
pub struct BridgeRegistry {
    bridges: Arc<Mutex<BTreeMap<String, BridgeSnapshot>>>,
    events: EventBus,
}

/// The owner's handle on one bridge; dropping it destroys the bridge.
#[derive(Debug)]
pub struct BridgeHandle {
    registry: BridgeRegistry,
    id: String,
}

impl BridgeRegistry {
    /// The event stream bridges publish on.
    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// An empty registry publishing on `events`.
    pub fn new(events: EventBus) -> BridgeRegistry {
        BridgeRegistry {
            bridges: Arc::default(),
            events,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, BridgeSnapshot>> {
        self.bridges.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates a bridge of `kind` named `name` and publishes `BridgeCreated`.
    pub fn create(&self, kind: BridgeKind, name: &str) -> BridgeHandle {
        match self.create_as(&random_id(), kind, name) {
            Some(bridge) => bridge,
            None => self.create(kind, name),
        }
    }

    /// Creates a bridge with the id `id` (chosen by an application); `None` when a live bridge
    /// has that id already.
    pub fn create_as(&self, id: &str, kind: BridgeKind, name: &str) -> Option<BridgeHandle> {
        let mut bridges = self.lock();
        if bridges.contains_key(id) {
            return None;
        }
        let id = id.to_owned();
        let bridge = BridgeSnapshot {
            id: id.clone(),
            bridge_type: kind.as_str().into(),
            name: name.into(),
            channels: Vec::new(),
            creationtime: iso8601(SystemTime::now()),
        };
        bridges.insert(id.clone(), bridge.clone());
        drop(bridges);
        self.events.publish(PbxEvent::BridgeCreated { bridge });
        Some(BridgeHandle {
            registry: self.clone(),
            id,
        })
    }

    /// Bridge `id`, when it lives.
    pub fn snapshot(&self, id: &str) -> Option<BridgeSnapshot> {
        self.lock().get(id).cloned()
    }

    /// Every live bridge.
    pub fn snapshots(&self) -> Vec<BridgeSnapshot> {
        self.lock().values().cloned().collect()
    }
}

impl BridgeHandle {
    /// The bridge's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Changes the bridge's kind (a two-party bridge that gains a third member mixes).
    pub fn set_kind(&self, kind: BridgeKind) {
        if let Some(bridge) = self.registry.lock().get_mut(&self.id) {
            kind.as_str().clone_into(&mut bridge.bridge_type);
        }
    }

    /// Adds `channel` to the members and publishes `ChannelEnteredBridge`.
    pub fn enter(&self, channel: &ChannelHandle) {
        let bridge = self.change(|b| b.channels.push(channel.id().clone()));
        if let (Some(bridge), Some(channel)) = (bridge, channel.snapshot()) {
            self.registry
                .events
                .publish(PbxEvent::ChannelEnteredBridge { bridge, channel });
        }
    }

    /// Removes `channel` from the members and publishes `ChannelLeftBridge`.
    pub fn leave(&self, channel: &ChannelHandle) {
        let bridge = self.change(|b| b.channels.retain(|c| c != channel.id()));
        if let (Some(bridge), Some(channel)) = (bridge, channel.snapshot()) {
            self.registry
                .events
                .publish(PbxEvent::ChannelLeftBridge { bridge, channel });
        }
    }

    fn change(&self, change: impl FnOnce(&mut BridgeSnapshot)) -> Option<BridgeSnapshot> {
        let mut bridges = self.registry.lock();
        let bridge = bridges.get_mut(&self.id)?;
        change(bridge);
        Some(bridge.clone())
    }
}

impl Drop for BridgeHandle {
    fn drop(&mut self) {
        let removed = self.registry.lock().remove(&self.id);
        if let Some(bridge) = removed {
            self.registry
                .events
                .publish(PbxEvent::BridgeDestroyed { bridge });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::channel::{ChannelRegistry, ChannelState, NewChannel, Party};
    use crate::events::{Read, Seq};

    #[test]
    fn a_bridges_members_and_life_are_published() {
        let bus = EventBus::new(64);
        let channels = ChannelRegistry::new(bus.clone());
        let bridges = BridgeRegistry::new(bus.clone());
        let channel = channels.create(
            NewChannel {
                id: None,
                call: 1,
                endpoint: "6001".into(),
                state: ChannelState::Up,
                caller: Party::default(),
                connected: Party::default(),
                context: "internal".into(),
                exten: "8002".into(),
                sip_call_id: "x".into(),
                linked: None,
            },
            Instant::now(),
            SystemTime::now(),
        );
        let bridge = bridges.create(BridgeKind::Mixing, "8002");
        assert_eq!(bridge.id().len(), 36);
        bridge.enter(&channel);
        assert_eq!(bridges.snapshots()[0].channels, vec![channel.id().clone()]);
        bridge.leave(&channel);
        drop(bridge);
        assert!(bridges.snapshots().is_empty());
        let mut sub = bus.subscribe(Some(Seq(0)));
        let mut types = Vec::new();
        while let Read::Event(e) = sub.try_next() {
            types.push(serde_json::to_value(&*e).unwrap()["type"].clone());
        }
        assert_eq!(
            types,
            [
                "ChannelCreated",
                "BridgeCreated",
                "ChannelEnteredBridge",
                "ChannelLeftBridge",
                "BridgeDestroyed"
            ]
        );
    }
}
