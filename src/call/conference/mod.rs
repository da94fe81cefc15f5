//! Conference rooms (edge): the mixing bridge behind `ConfBridge(room)`.
//!
//! A room is a task created by its first member and gone when its last member leaves. While a
//! channel is a member, the room task owns that channel's [`MediaLeg`](super::media_io::MediaLeg):
//! every 20 ms it reads all members' sockets into their jitter buffers, mixes with
//! [`Mixer`](crate::media::mixer::Mixer) (each member hears everyone else) and sends each
//! member its mix in the member's own codec. Signalling stays with each channel's call task
//! (`member.rs`), which talks to the room over a bounded command channel.
//!
//! [`ConferenceRooms`] is the small shared map from room name to the room's command sender and
//! its entry in the [`BridgeRegistry`] (a `mixing` bridge named after the room, so `GET
//! /api/bridges`, `pbx ctl bridges` and the event stream show rooms and their members). Its std
//! mutex guards only that map, for one lookup or update, never across an `.await`.

mod member;
mod room;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot};

use super::media_io::MediaLeg;
use crate::bridge::{BridgeHandle, BridgeKind, BridgeRegistry};
use crate::channel::{ChannelHandle, ChannelId};
use crate::media::mixer::MemberId;
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
        digits: mpsc::Sender<char>,
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
}

/// Why a room let a member go on its own.
#[derive(Debug)]
enum MemberEnd {
    /// The room could not take the member (full): its leg, handed back.
    Refused(Box<MediaLeg>),
    /// No RTP came from the member for the inactivity timeout.
    Inactive,
}

/// A room in the map: its task's commands, its bridge (destroyed with the entry) and members.
#[derive(Debug)]
struct RoomEntry {
    commands: mpsc::Sender<RoomCommand>,
    bridge: BridgeHandle,
    members: Vec<ChannelId>,
}

/// Clonable handle on the live conference rooms.
#[derive(Debug, Clone)]
pub struct ConferenceRooms {
    rooms: Arc<Mutex<HashMap<String, RoomEntry>>>,
    bridges: BridgeRegistry,
}

impl ConferenceRooms {
    /// No rooms yet; rooms are listed in `bridges` while they live.
    pub fn new(bridges: BridgeRegistry) -> ConferenceRooms {
        ConferenceRooms {
            rooms: Arc::default(),
            bridges,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, RoomEntry>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Enters `channel` in room `name`, creating the room (its bridge, and its task on the
    /// current runtime) when it does not exist; returns the room's command sender.
    fn enter(&self, name: &str, channel: &ChannelHandle) -> mpsc::Sender<RoomCommand> {
        let mut rooms = self.lock();
        let entry = rooms.entry(name.to_owned()).or_insert_with(|| {
            let bridge = self.bridges.create(BridgeKind::Mixing, name);
            let (commands, receiver) = mpsc::channel(ROOM_COMMAND_CAPACITY);
            tokio::spawn(room::run(bridge.id().to_owned(), name.to_owned(), receiver));
            RoomEntry {
                commands,
                bridge,
                members: Vec::new(),
            }
        });
        entry.bridge.enter(channel);
        entry.members.push(channel.id().clone());
        entry.commands.clone()
    }

    /// Takes `channel` out of room `name`; the last member out removes the room and destroys
    /// its bridge; its task ends once the leaving members have dropped their senders.
    fn forget(&self, name: &str, channel: &ChannelHandle) {
        let mut rooms = self.lock();
        if let Some(entry) = rooms.get_mut(name) {
            entry.bridge.leave(channel);
            entry.members.retain(|m| m != channel.id());
            if entry.members.is_empty() {
                rooms.remove(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Instant, SystemTime};

    use super::*;
    use crate::channel::{ChannelRegistry, ChannelState, NewChannel, Party};
    use crate::events::EventBus;

    fn channel(channels: &ChannelRegistry, call: u64) -> ChannelHandle {
        let new = NewChannel {
            call,
            endpoint: format!("600{call}"),
            state: ChannelState::Up,
            caller: Party::default(),
            connected: Party::default(),
            context: "internal".into(),
            exten: "8002".into(),
            sip_call_id: format!("call-{call}"),
        };
        channels.create(new, Instant::now(), SystemTime::now())
    }

    #[tokio::test]
    async fn rooms_are_mixing_bridges_from_first_join_to_last_leave() {
        let bus = EventBus::new(64);
        let channels = ChannelRegistry::new(bus.clone());
        let bridges = BridgeRegistry::new(bus);
        let rooms = ConferenceRooms::new(bridges.clone());
        let (one, two, three) = (
            channel(&channels, 1),
            channel(&channels, 2),
            channel(&channels, 3),
        );
        let a = rooms.enter("8002", &one);
        let b = rooms.enter("8002", &two);
        let _c = rooms.enter("other", &three);
        assert!(a.same_channel(&b));
        let mut listed = bridges.snapshots();
        listed.sort_by(|x, y| x.name.cmp(&y.name));
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].name, "8002");
        assert_eq!(listed[0].bridge_type, "mixing");
        assert_eq!(listed[0].channels, [one.id().clone(), two.id().clone()]);
        let first = listed[0].id.clone();
        rooms.forget("8002", &one);
        let room = |name: &str| bridges.snapshots().into_iter().find(|b| b.name == name);
        assert_eq!(room("8002").unwrap().channels, [two.id().clone()]);
        rooms.forget("8002", &two);
        assert!(
            room("8002").is_none(),
            "the last member out destroys the bridge"
        );
        assert!(room("other").is_some());
        // A new first member makes a new room.
        let d = rooms.enter("8002", &one);
        assert!(!d.same_channel(&a));
        assert_ne!(room("8002").unwrap().id, first);
    }
}
