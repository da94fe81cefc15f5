//! The registry of live channels (edge): what `GET /api/channels` lists, what operator
//! commands look channels up in, and where channel events come from. The task that owns a
//! channel holds its [`ChannelHandle`]; state changes go through the handle, which publishes
//! them, and dropping it (the leg ended, whichever way) removes the channel and publishes
//! `ChannelDestroyed` with the hangup cause.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::{
    cause_text, ChannelId, ChannelSnapshot, ChannelState, DialplanPosition, MediaStats, Party,
    NORMAL_CLEARING,
};
use crate::call::CallId;
use crate::events::{iso8601, EventBus, PbxEvent};

#[derive(Debug)]
struct Entry {
    snapshot: ChannelSnapshot,
    /// Creation order.
    n: u64,
    created: Instant,
    call: CallId,
    cause: u16,
}

#[derive(Debug, Default)]
struct Counters {
    /// Channels created: the `<n>` of ids and the sequence of names.
    channels: AtomicU64,
    /// Call tasks started (the router's call ids).
    calls: AtomicU64,
    /// Call tasks running.
    calls_active: AtomicUsize,
}

/// RTP packet and octet counts summed over channels ([`ChannelRegistry::media_totals`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaTotals {
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
    /// Payload octets received.
    pub bytes_in: u64,
    /// Payload octets sent.
    pub bytes_out: u64,
}

impl MediaTotals {
    fn add(&mut self, media: &MediaStats) {
        self.packets_in += media.packets_in;
        self.packets_out += media.packets_out;
        self.bytes_in += media.bytes_in;
        self.bytes_out += media.bytes_out;
    }
}

/// Clonable handle to the live-channel table.
#[derive(Debug, Clone, Default)]
pub struct ChannelRegistry {
    channels: Arc<Mutex<BTreeMap<ChannelId, Entry>>>,
    /// What the channels that ended had counted; locked only while `channels` is.
    ended_media: Arc<Mutex<MediaTotals>>,
    counters: Arc<Counters>,
    events: EventBus,
    /// `NAME-` of `[node] name`, prefixing generated ids; empty on a single box.
    id_prefix: Arc<str>,
}

/// What a new channel starts with.
#[derive(Debug, Clone)]
pub struct NewChannel {
    /// The id its creator chose (ARI's `channelId`); `None`, or an id taken meanwhile, gets
    /// a fresh `<epoch>.<n>`.
    pub id: Option<ChannelId>,
    /// The call task that owns the leg.
    pub call: CallId,
    /// The endpoint or trunk in the name (`6001` in `PJSIP/6001-00000000`).
    pub endpoint: String,
    /// Initial state: `Ring` for an incoming leg, `Down` for an outgoing one.
    pub state: ChannelState,
    /// Who called.
    pub caller: Party,
    /// Who it is connected to.
    pub connected: Party,
    /// Where it enters the dialplan (context and extension; priority 1).
    pub context: String,
    /// Extension.
    pub exten: String,
    /// SIP Call-ID of its dialog.
    pub sip_call_id: String,
    /// The linkedid of the channel it was created for (a Dial branch's caller); `None` when
    /// it starts a call of its own.
    pub linked: Option<ChannelId>,
}

/// The owner's handle on one channel; dropping it destroys the channel.
#[derive(Debug)]
pub struct ChannelHandle {
    registry: ChannelRegistry,
    id: ChannelId,
}

/// Counts a call task as running while it lives (`calls_active` in `/api/stats`).
#[derive(Debug)]
pub struct CallToken {
    counters: Arc<Counters>,
}

impl Drop for CallToken {
    fn drop(&mut self) {
        self.counters.calls_active.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ChannelRegistry {
    /// An empty registry publishing on `events`.
    pub fn new(events: EventBus) -> ChannelRegistry {
        ChannelRegistry {
            channels: Arc::default(),
            ended_media: Arc::default(),
            counters: Arc::default(),
            events,
            id_prefix: Arc::from(""),
        }
    }

    /// The same registry generating ids `NODE-<epoch>.<n>` (Asterisk's `systemname`), unique
    /// across the nodes of a cluster.
    pub fn with_node(mut self, node: Option<&str>) -> ChannelRegistry {
        self.id_prefix = node.map_or_else(|| Arc::from(""), |n| Arc::from(format!("{n}-")));
        self
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<ChannelId, Entry>> {
        self.channels.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The event stream channels publish on.
    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// A fresh call id (not yet running).
    pub fn next_call_id(&self) -> CallId {
        self.counters.calls.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Counts a call task as running until the token is dropped.
    pub fn call_started(&self) -> CallToken {
        self.counters.calls_active.fetch_add(1, Ordering::Relaxed);
        CallToken {
            counters: Arc::clone(&self.counters),
        }
    }

    /// Creates a channel and publishes `ChannelCreated`.
    pub fn create(&self, new: NewChannel, now: Instant, wall: SystemTime) -> ChannelHandle {
        let n = self.counters.channels.fetch_add(1, Ordering::Relaxed);
        let epoch = wall
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let generated = || ChannelId(format!("{}{epoch}.{}", self.id_prefix, n + 1));
        let id = match new.id {
            Some(chosen) if !self.lock().contains_key(&chosen) => chosen,
            Some(chosen) => {
                tracing::warn!(%chosen, "chosen channel id taken meanwhile; a fresh one is used");
                generated()
            }
            None => generated(),
        };
        let snapshot = ChannelSnapshot {
            linkedid: new.linked.unwrap_or_else(|| id.clone()),
            id: id.clone(),
            name: format!("PJSIP/{}-{n:08x}", new.endpoint),
            state: new.state,
            caller: new.caller,
            connected: new.connected,
            dialplan: DialplanPosition {
                context: new.context,
                exten: new.exten,
                priority: 1,
                ..DialplanPosition::default()
            },
            language: "en".into(),
            creationtime: iso8601(wall),
            duration_secs: 0,
            sip_call_id: new.sip_call_id,
            codec: None,
            media: MediaStats::default(),
        };
        self.events.publish(PbxEvent::ChannelCreated {
            channel: snapshot.clone(),
        });
        self.lock().insert(
            id.clone(),
            Entry {
                snapshot,
                n,
                created: now,
                call: new.call,
                cause: NORMAL_CLEARING,
            },
        );
        ChannelHandle {
            registry: self.clone(),
            id,
        }
    }

    /// RTP counts of every channel since start: the ended ones' final figures plus the live
    /// ones' latest (a channel publishes its figures once a second and when it ends), read
    /// under the table's lock so a channel that ends is never counted twice or not at all.
    pub fn media_totals(&self) -> MediaTotals {
        let channels = self.lock();
        let mut totals = *self.ended_media.lock().unwrap_or_else(|p| p.into_inner());
        for entry in channels.values() {
            totals.add(&entry.snapshot.media);
        }
        totals
    }

    /// Whether a live channel has id `id`.
    pub fn contains(&self, id: &ChannelId) -> bool {
        self.lock().contains_key(id)
    }

    /// Every live channel, oldest first.
    pub fn snapshots(&self, now: Instant) -> Vec<ChannelSnapshot> {
        let mut all: Vec<(u64, ChannelSnapshot)> = self
            .lock()
            .values()
            .map(|e| (e.n, with_duration(e, now)))
            .collect();
        all.sort_by_key(|(n, _)| *n);
        all.into_iter().map(|(_, s)| s).collect()
    }

    /// The channel `id` as it is now.
    pub fn snapshot(&self, id: &ChannelId) -> Option<ChannelSnapshot> {
        self.lock()
            .get(id)
            .map(|e| with_duration(e, Instant::now()))
    }

    /// The channel whose id or name is `key`, and the call task that owns it.
    pub fn find(&self, key: &str) -> Option<(CallId, ChannelId)> {
        let channels = self.lock();
        if let Some(entry) = channels.get(&ChannelId(key.to_string())) {
            return Some((entry.call, entry.snapshot.id.clone()));
        }
        channels
            .values()
            .find(|e| e.snapshot.name == key)
            .map(|e| (e.call, e.snapshot.id.clone()))
    }

    /// Live channels.
    pub fn active(&self) -> usize {
        self.lock().len()
    }

    /// Call tasks running.
    pub fn calls_active(&self) -> usize {
        self.counters.calls_active.load(Ordering::Relaxed)
    }

    /// Call tasks started since start.
    pub fn calls_total(&self) -> u64 {
        self.counters.calls.load(Ordering::Relaxed)
    }
}

fn with_duration(entry: &Entry, now: Instant) -> ChannelSnapshot {
    let mut snapshot = entry.snapshot.clone();
    snapshot.duration_secs = now.saturating_duration_since(entry.created).as_secs();
    snapshot
}

impl ChannelHandle {
    /// The channel's id.
    pub fn id(&self) -> &ChannelId {
        &self.id
    }

    /// The event stream the channel publishes on.
    pub fn events(&self) -> &EventBus {
        &self.registry.events
    }

    /// Changes what the channel shows without an event (codec, statistics, caller name).
    /// `update` runs under the registry's lock: it must not call into the registry.
    pub fn update(&self, update: impl FnOnce(&mut ChannelSnapshot)) {
        if let Some(entry) = self.registry.lock().get_mut(&self.id) {
            update(&mut entry.snapshot);
        }
    }

    /// The channel as it is now.
    pub fn snapshot(&self) -> Option<ChannelSnapshot> {
        self.registry.snapshot(&self.id)
    }

    /// Publishes the event `make` builds from the channel as it is now.
    pub fn publish(&self, make: impl FnOnce(ChannelSnapshot) -> PbxEvent) {
        if let Some(snapshot) = self.snapshot() {
            self.registry.events.publish(make(snapshot));
        }
    }

    /// Moves the channel to `state`; publishes `ChannelStateChanged` when it changed.
    pub fn set_state(&self, state: ChannelState) {
        let changed = {
            let mut channels = self.registry.lock();
            match channels.get_mut(&self.id) {
                Some(entry) if entry.snapshot.state != state => {
                    entry.snapshot.state = state;
                    true
                }
                _ => false,
            }
        };
        if changed {
            self.publish(|channel| PbxEvent::ChannelStateChanged { channel });
        }
    }

    /// Records the dialplan step the channel is on and publishes `ChannelDialplan`.
    pub fn dialplan_step(&self, position: DialplanPosition) {
        self.update(|s| s.dialplan = position);
        self.publish(|channel| PbxEvent::ChannelDialplan { channel });
    }

    /// Sets the Q.850 cause `ChannelDestroyed` will carry.
    pub fn set_cause(&self, cause: u16) {
        if let Some(entry) = self.registry.lock().get_mut(&self.id) {
            entry.cause = cause;
        }
    }
}

impl Drop for ChannelHandle {
    fn drop(&mut self) {
        let removed = {
            let mut channels = self.registry.lock();
            let removed = channels.remove(&self.id);
            if let Some(entry) = &removed {
                let mut ended = self
                    .registry
                    .ended_media
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                ended.add(&entry.snapshot.media);
            }
            removed
        };
        if let Some(entry) = removed {
            let channel = with_duration(&entry, Instant::now());
            self.registry.events.publish(PbxEvent::ChannelDestroyed {
                channel,
                cause: entry.cause,
                cause_txt: cause_text(entry.cause).to_string(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Read, Seq};

    fn new_channel(endpoint: &str) -> NewChannel {
        NewChannel {
            id: None,
            call: 7,
            endpoint: endpoint.into(),
            state: ChannelState::Ring,
            caller: Party {
                number: "6001".into(),
                name: "Alice".into(),
            },
            connected: Party::default(),
            context: "internal".into(),
            exten: "8000".into(),
            sip_call_id: "abc@host".into(),
            linked: None,
        }
    }

    #[test]
    fn a_node_prefixes_the_ids_it_generates() {
        let registry = ChannelRegistry::new(EventBus::default()).with_node(Some("pbx-b"));
        let handle = registry.create(new_channel("6001"), Instant::now(), UNIX_EPOCH);
        assert_eq!(handle.id().0, "pbx-b-0.1");
        let single = ChannelRegistry::new(EventBus::default());
        let handle = single.create(new_channel("6001"), Instant::now(), UNIX_EPOCH);
        assert_eq!(handle.id().0, "0.1");
    }

    fn types(bus: &EventBus) -> Vec<String> {
        let mut sub = bus.subscribe(Some(Seq(0)));
        let mut out = Vec::new();
        while let Read::Event(e) = sub.try_next() {
            out.push(
                serde_json::to_value(&*e).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        out
    }

    #[test]
    fn a_channels_life_is_published_in_order_and_it_leaves_the_registry_when_dropped() {
        let bus = EventBus::new(64);
        let registry = ChannelRegistry::new(bus.clone());
        let wall = UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let handle = registry.create(new_channel("6001"), Instant::now(), wall);
        assert_eq!(handle.id().0, "1700000000.1");
        let listed = registry.snapshots(Instant::now());
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "PJSIP/6001-00000000");
        assert_eq!(registry.find("PJSIP/6001-00000000").unwrap().0, 7);
        assert_eq!(registry.find("1700000000.1").unwrap().1, *handle.id());
        handle.set_state(ChannelState::Up);
        handle.set_state(ChannelState::Up);
        handle.set_cause(17);
        drop(handle);
        assert_eq!(registry.active(), 0);
        assert_eq!(
            types(&bus),
            ["ChannelCreated", "ChannelStateChanged", "ChannelDestroyed"]
        );
        let mut sub = bus.subscribe(Some(Seq(2)));
        let Read::Event(destroyed) = sub.try_next() else {
            panic!("no destroyed event");
        };
        let json = serde_json::to_value(&*destroyed).unwrap();
        assert_eq!(json["cause"], 17);
        assert_eq!(json["cause_txt"], "User busy");
        assert_eq!(json["channel"]["state"], "Up");
    }

    #[test]
    fn names_count_up_in_hex_across_endpoints() {
        let registry = ChannelRegistry::new(EventBus::new(64));
        let now = Instant::now();
        let handles: Vec<_> = (0..11)
            .map(|_| registry.create(new_channel("6002"), now, SystemTime::now()))
            .collect();
        let last = registry.snapshots(now).pop().unwrap();
        assert_eq!(last.name, "PJSIP/6002-0000000a");
        drop(handles);
        assert!(registry.snapshots(now).is_empty());
    }

    #[test]
    fn a_branch_carries_its_callers_linkedid_and_a_new_call_its_own() {
        let registry = ChannelRegistry::new(EventBus::new(64));
        let now = Instant::now();
        let caller = registry.create(new_channel("6001"), now, SystemTime::now());
        let branch = registry.create(
            NewChannel {
                id: None,
                linked: Some(caller.id().clone()),
                ..new_channel("6002")
            },
            now,
            SystemTime::now(),
        );
        assert_eq!(caller.snapshot().unwrap().linkedid, *caller.id());
        assert_eq!(branch.snapshot().unwrap().linkedid, *caller.id());
        assert_ne!(branch.id(), caller.id());
    }

    #[test]
    fn media_totals_keep_what_ended_channels_counted() {
        let registry = ChannelRegistry::new(EventBus::new(16));
        let now = Instant::now();
        let counted = |packets: u64| MediaStats {
            packets_in: packets,
            packets_out: packets + 1,
            bytes_in: packets * 160,
            bytes_out: (packets + 1) * 160,
            ..MediaStats::default()
        };
        let first = registry.create(new_channel("6001"), now, SystemTime::now());
        let second = registry.create(new_channel("6002"), now, SystemTime::now());
        first.update(|v| v.media = counted(10));
        second.update(|v| v.media = counted(5));
        drop(first);
        assert_eq!(
            registry.media_totals(),
            MediaTotals {
                packets_in: 15,
                packets_out: 17,
                bytes_in: 2400,
                bytes_out: 2720
            }
        );
        drop(second);
        assert_eq!(registry.media_totals().packets_in, 15);
    }

    #[test]
    fn call_tokens_count_running_calls() {
        let registry = ChannelRegistry::new(EventBus::new(4));
        let first = registry.call_started();
        let _second = registry.call_started();
        assert_eq!(registry.calls_active(), 2);
        drop(first);
        assert_eq!(registry.calls_active(), 1);
    }
}
