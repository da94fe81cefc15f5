//! Conference rooms (edge): the mixing bridge behind `ConfBridge(room)`.
//!
//! A room is a task created by its first member and gone when its last member leaves. While a
//! channel is a member, the room task owns that channel's [`MediaLeg`](super::media_io::MediaLeg):
//! every 20 ms it reads all members' sockets into their jitter buffers, mixes with
//! [`Mixer`](crate::media::mixer::Mixer) (each member hears everyone else) and sends each
//! member its mix in the member's own codec. Signalling stays with each channel's call task
//! (`member.rs`), which talks to the room over a bounded command channel.
//!
//! The same room task runs the bridges an outside application creates and fills with channel
//! commands (`mixing`, or `holding`: members exchange no audio). [`ConferenceRooms`] is the
//! small shared map from bridge id (and `ConfBridge` room name) to the room's command sender
//! and its entry in the [`BridgeRegistry`] (so `GET /api/bridges`, `pbx ctl bridges` and the
//! event stream show rooms and their members). Its std mutex guards only that map, for one
//! lookup or update, never across an `.await`.

mod member;
mod room;

pub(in crate::call) use member::{Membership, RoomEnd, RoomSignal};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot};

use super::live::{Owner, PlaybackIndex};
use super::media_io::MediaLeg;
use crate::bridge::{BridgeHandle, BridgeKind, BridgeRegistry};
use crate::channel::{ChannelHandle, ChannelId};
use crate::events::PlaybackSnapshot;
use crate::media::dtmf::KeyPress;
use crate::media::mixer::MemberId;
use crate::media::playlist::Playlist;
use crate::media::session::SessionStats;
use crate::sdp::negotiate::Negotiated;

/// Key presses (RFC 4733) a room keeps for one member's call task, which publishes them. When
/// full, the room drops the newest: the call task is that far behind only when it is stuck.
pub const MEMBER_DIGIT_CAPACITY: usize = 8;

/// Commands queued for one room (joins, leaves, renegotiations). When full, the member's call
/// task waits to send: these are rare, and the room drains them between two mixing periods.
pub const ROOM_COMMAND_CAPACITY: usize = 16;

/// What a member's call task asks of its room.
#[derive(Debug)]
enum RoomCommand {
    /// Mix this channel in from now on; the room owns `leg` until it leaves. `digits` gets
    /// the member's key presses; `ended` tells the member when the room lets it go.
    Join {
        member: MemberId,
        leg: Box<MediaLeg>,
        digits: mpsc::Sender<KeyPress>,
        ended: oneshot::Sender<MemberEnd>,
    },
    /// Stop mixing this channel and hand its leg back.
    Leave {
        member: MemberId,
        reply: oneshot::Sender<Box<MediaLeg>>,
    },
    /// The member's RTP statistics, for its channel's listing.
    Stats {
        member: MemberId,
        reply: oneshot::Sender<SessionStats>,
    },
    /// The member's dialog renegotiated its media (re-INVITE: hold, new address).
    Renegotiate {
        member: MemberId,
        negotiated: Negotiated,
    },
    /// The bridge is destroyed: hand every member its leg back ([`MemberEnd::Removed`]).
    Dissolve,
    /// Play `samples` to every member as `playback` (stopping the one playing), starting
    /// over at sample `loop_start` after the end when there is one (a repeating tone).
    Play {
        playback: PlaybackSnapshot,
        samples: Arc<[i16]>,
        loop_start: Option<usize>,
    },
    /// Stop playback `id` if it is the one playing.
    StopPlayback { id: String },
    /// Mute or unmute the member's audio `direction` (on the leg the room owns).
    Mute {
        member: MemberId,
        direction: crate::call::media_io::MuteDirection,
        muted: bool,
    },
}

/// Why a bridge could not play.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BridgePlayError {
    /// No such bridge (or it is being destroyed).
    #[error("no bridge {0}")]
    NoSuchBridge(String),
    /// A live playback has this id.
    #[error("playback {0} exists already")]
    PlaybackExists(String),
    /// The room's command queue is full.
    #[error("bridge {0} is busy; retry")]
    Busy(String),
}

/// Why a room let a member go on its own.
#[derive(Debug)]
enum MemberEnd {
    /// The room could not take the member (full): its leg, handed back.
    Refused(Box<MediaLeg>),
    /// The bridge was destroyed: the member's leg, handed back.
    Removed(Box<MediaLeg>),
    /// No RTP came from the member for the inactivity timeout.
    Inactive,
}

/// A room in the map: its task's commands, its bridge (destroyed with the entry) and members.
#[derive(Debug)]
struct RoomEntry {
    commands: mpsc::Sender<RoomCommand>,
    bridge: BridgeHandle,
    members: Vec<ChannelId>,
    /// The members whose own audio is muted (the others do not hear them).
    muted: Vec<ChannelId>,
    /// The `ConfBridge` name it is found by, if any; such a room ends with its last member.
    /// A room made by [`ConferenceRooms::create`] lives until [`ConferenceRooms::destroy`].
    conference: Option<String>,
    /// Destroyed while it had members: it takes no one new, and goes when the last member
    /// has taken its leg back (so each leaves the bridge before the bridge is destroyed).
    dissolving: bool,
}

#[derive(Debug, Default)]
struct Rooms {
    /// By bridge id.
    by_id: HashMap<String, RoomEntry>,
    /// `ConfBridge` room name to bridge id.
    by_name: HashMap<String, String>,
}

/// Clonable handle on the live rooms: the bridges whose task owns their members' media
/// (`ConfBridge` rooms, and the mixing and holding bridges applications create).
#[derive(Debug, Clone)]
pub struct ConferenceRooms {
    rooms: Arc<Mutex<Rooms>>,
    bridges: BridgeRegistry,
    playbacks: PlaybackIndex,
}

impl ConferenceRooms {
    /// No rooms yet; rooms are listed in `bridges` while they live, their playbacks in
    /// `playbacks`.
    pub fn new(bridges: BridgeRegistry, playbacks: PlaybackIndex) -> ConferenceRooms {
        ConferenceRooms {
            rooms: Arc::default(),
            bridges,
            playbacks,
        }
    }

    /// Plays `playlist` to every member of bridge `bridge` as `playback` (its `target_uri`
    /// `bridge:<id>`), stopping the bridge's playback before it, if any.
    pub fn play(
        &self,
        bridge: &str,
        playback: PlaybackSnapshot,
        playlist: &Playlist,
    ) -> Result<(), BridgePlayError> {
        let (samples, loop_start) = playlist.flatten();
        let rooms = self.lock();
        let Some(entry) = rooms.by_id.get(bridge).filter(|e| !e.dissolving) else {
            return Err(BridgePlayError::NoSuchBridge(bridge.to_owned()));
        };
        if !self
            .playbacks
            .insert_for(Owner::Bridge(bridge.to_owned()), &playback)
        {
            return Err(BridgePlayError::PlaybackExists(playback.id));
        }
        let id = playback.id.clone();
        if entry
            .commands
            .try_send(RoomCommand::Play {
                playback,
                samples,
                loop_start,
            })
            .is_err()
        {
            self.playbacks.remove(&id);
            return Err(BridgePlayError::Busy(bridge.to_owned()));
        }
        Ok(())
    }

    /// Stops playback `id` of bridge `bridge`; false when there is no such bridge.
    pub fn stop_playback(&self, bridge: &str, id: &str) -> bool {
        let rooms = self.lock();
        let Some(entry) = rooms.by_id.get(bridge) else {
            return false;
        };
        let stop = RoomCommand::StopPlayback { id: id.to_owned() };
        entry.commands.try_send(stop).is_ok()
    }

    fn lock(&self) -> MutexGuard<'_, Rooms> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a room's task (on the current runtime) for `bridge`; returns its entry.
    fn start(
        &self,
        kind: BridgeKind,
        bridge: BridgeHandle,
        name: &str,
        conference: Option<String>,
    ) -> RoomEntry {
        let (commands, receiver) = mpsc::channel(ROOM_COMMAND_CAPACITY);
        let spec = room::RoomSpec {
            id: bridge.id().to_owned(),
            name: name.to_owned(),
            kind,
            tones: conference.is_some(),
            events: self.bridges.events().clone(),
            playbacks: self.playbacks.clone(),
        };
        tokio::spawn(room::run(spec, receiver));
        RoomEntry {
            commands,
            bridge,
            members: Vec::new(),
            muted: Vec::new(),
            conference,
            dissolving: false,
        }
    }

    /// Creates an empty `mixing` or `holding` bridge named `name` that lives until
    /// [`ConferenceRooms::destroy`], with the id `id` when given; returns its id, `None` when
    /// a live bridge has that id already. Must run inside a tokio runtime.
    pub fn create(&self, kind: BridgeKind, name: &str, id: Option<&str>) -> Option<String> {
        let kind = match kind {
            BridgeKind::Holding => BridgeKind::Holding,
            _ => BridgeKind::Mixing,
        };
        let bridge = match id {
            Some(id) => self.bridges.create_as(id, kind, name)?,
            None => self.bridges.create(kind, name),
        };
        let entry = self.start(kind, bridge, name, None);
        let id = entry.bridge.id().to_owned();
        self.lock().by_id.insert(id.clone(), entry);
        Some(id)
    }

    /// Destroys bridge `id`: its members get their media back and stay up. False when there
    /// is no such bridge.
    pub fn destroy(&self, id: &str) -> bool {
        let mut rooms = self.lock();
        let Some(entry) = rooms.by_id.get_mut(id).filter(|e| !e.dissolving) else {
            return false;
        };
        let name = entry.conference.take();
        if entry.members.is_empty() {
            rooms.by_id.remove(id);
        } else {
            entry.dissolving = true;
            let _ = entry.commands.try_send(RoomCommand::Dissolve);
        }
        if let Some(name) = name {
            rooms.by_name.remove(&name);
        }
        true
    }

    /// Notes whether member `channel` of bridge `id` is muted (what it says), for listings.
    pub(in crate::call) fn note_muted(&self, id: &str, channel: &ChannelId, muted: bool) {
        if let Some(entry) = self.lock().by_id.get_mut(id) {
            entry.muted.retain(|m| m != channel);
            if muted {
                entry.muted.push(channel.clone());
            }
        }
    }

    /// Whether `channel` is a muted member of any room.
    pub fn is_muted(&self, channel: &ChannelId) -> bool {
        self.lock()
            .by_id
            .values()
            .any(|entry| entry.muted.contains(channel))
    }

    /// Whether bridge `id` is one of these rooms (and not being destroyed).
    pub fn contains(&self, id: &str) -> bool {
        self.lock().by_id.get(id).is_some_and(|e| !e.dissolving)
    }

    /// Enters `channel` in conference room `name`, creating the room (its bridge, and its task
    /// on the current runtime) when it does not exist; returns the bridge id and the room's
    /// command sender.
    fn enter(&self, name: &str, channel: &ChannelHandle) -> (String, mpsc::Sender<RoomCommand>) {
        let mut rooms = self.lock();
        let id = match rooms.by_name.get(name) {
            Some(id) => id.clone(),
            None => {
                let bridge = self.bridges.create(BridgeKind::Mixing, name);
                let entry = self.start(BridgeKind::Mixing, bridge, name, Some(name.to_owned()));
                let id = entry.bridge.id().to_owned();
                rooms.by_id.insert(id.clone(), entry);
                rooms.by_name.insert(name.to_owned(), id.clone());
                id
            }
        };
        let commands = rooms
            .by_id
            .get_mut(&id)
            .map(|entry| add_member(entry, channel))
            .expect("a named room is in the id map");
        (id, commands)
    }

    /// Enters `channel` in bridge `id`; `None` when there is no such bridge.
    fn enter_bridge(&self, id: &str, channel: &ChannelHandle) -> Option<mpsc::Sender<RoomCommand>> {
        self.lock()
            .by_id
            .get_mut(id)
            .filter(|entry| !entry.dissolving)
            .map(|entry| add_member(entry, channel))
    }

    /// Takes `channel` out of bridge `id`; the last member out of a conference room removes
    /// the room and destroys its bridge; its task ends once the leaving members have dropped
    /// their senders.
    fn forget(&self, id: &str, channel: &ChannelHandle) {
        let mut rooms = self.lock();
        let Some(entry) = rooms.by_id.get_mut(id) else {
            return;
        };
        entry.bridge.leave(channel);
        entry.members.retain(|m| m != channel.id());
        entry.muted.retain(|m| m != channel.id());
        if entry.members.is_empty() && (entry.conference.is_some() || entry.dissolving) {
            if let Some(name) = entry.conference.clone() {
                rooms.by_name.remove(&name);
            }
            rooms.by_id.remove(id);
        }
    }
}

/// Lists `channel` as a member of `entry`; returns the room's command sender.
fn add_member(entry: &mut RoomEntry, channel: &ChannelHandle) -> mpsc::Sender<RoomCommand> {
    entry.bridge.enter(channel);
    entry.members.push(channel.id().clone());
    entry.commands.clone()
}

#[cfg(test)]
mod tests {
    use std::time::{Instant, SystemTime};

    use super::*;
    use crate::channel::{ChannelRegistry, ChannelState, NewChannel, Party};
    use crate::events::EventBus;

    fn channel(channels: &ChannelRegistry, call: u64) -> ChannelHandle {
        let new = NewChannel {
            id: None,
            call,
            endpoint: format!("600{call}"),
            state: ChannelState::Up,
            caller: Party::default(),
            connected: Party::default(),
            context: "internal".into(),
            exten: "8002".into(),
            sip_call_id: format!("call-{call}"),
            linked: None,
        };
        channels.create(new, Instant::now(), SystemTime::now())
    }

    #[tokio::test]
    async fn rooms_are_mixing_bridges_from_first_join_to_last_leave() {
        let bus = EventBus::new(64);
        let channels = ChannelRegistry::new(bus.clone());
        let bridges = BridgeRegistry::new(bus);
        let rooms = ConferenceRooms::new(bridges.clone(), PlaybackIndex::default());
        let (one, two, three) = (
            channel(&channels, 1),
            channel(&channels, 2),
            channel(&channels, 3),
        );
        let (first, a) = rooms.enter("8002", &one);
        let (_, b) = rooms.enter("8002", &two);
        let (other, _c) = rooms.enter("other", &three);
        assert!(a.same_channel(&b));
        let mut listed = bridges.snapshots();
        listed.sort_by(|x, y| x.name.cmp(&y.name));
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].name, "8002");
        assert_eq!(listed[0].bridge_type, "mixing");
        assert_eq!(listed[0].channels, [one.id().clone(), two.id().clone()]);
        assert_eq!(listed[0].id, first);
        rooms.forget(&first, &one);
        let room = |name: &str| bridges.snapshots().into_iter().find(|b| b.name == name);
        assert_eq!(room("8002").unwrap().channels, [two.id().clone()]);
        rooms.forget(&first, &two);
        assert!(
            room("8002").is_none(),
            "the last member out destroys the bridge"
        );
        assert!(room("other").is_some() && rooms.contains(&other));
        // A new first member makes a new room.
        let (_, d) = rooms.enter("8002", &one);
        assert!(!d.same_channel(&a));
        assert_ne!(room("8002").unwrap().id, first);
    }

    #[tokio::test]
    async fn created_bridges_outlive_their_members_until_destroyed() {
        let bus = EventBus::new(64);
        let channels = ChannelRegistry::new(bus.clone());
        let bridges = BridgeRegistry::new(bus);
        let rooms = ConferenceRooms::new(bridges.clone(), PlaybackIndex::default());
        let holding = rooms.create(BridgeKind::Holding, "lobby", None).unwrap();
        let one = channel(&channels, 1);
        assert!(rooms.enter_bridge(&holding, &one).is_some());
        assert!(rooms.enter_bridge("no-such-bridge", &one).is_none());
        let listed = bridges.snapshots();
        assert_eq!(listed[0].bridge_type, "holding");
        assert_eq!(listed[0].channels, [one.id().clone()]);
        rooms.forget(&holding, &one);
        assert!(rooms.contains(&holding), "an empty created bridge stays");
        assert!(rooms.destroy(&holding));
        assert!(!rooms.destroy(&holding));
        assert!(bridges.snapshots().is_empty());
        // Destroyed with a member: it takes no one new and goes when the member is out.
        let mixing = rooms
            .create(BridgeKind::Mixing, "party", Some("my-bridge"))
            .unwrap();
        assert_eq!(mixing, "my-bridge");
        assert!(
            rooms
                .create(BridgeKind::Holding, "again", Some(&mixing))
                .is_none(),
            "ids are unique among live bridges"
        );
        assert!(rooms.enter_bridge(&mixing, &one).is_some());
        assert!(rooms.destroy(&mixing));
        assert!(!rooms.contains(&mixing));
        assert!(rooms
            .enter_bridge(&mixing, &channel(&channels, 2))
            .is_none());
        assert_eq!(bridges.snapshots().len(), 1, "listed until its member left");
        rooms.forget(&mixing, &one);
        assert!(bridges.snapshots().is_empty());
    }
}
