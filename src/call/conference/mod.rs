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
//! its member list, for joining and for operators ([`ConferenceRooms::views`]). Its std mutex
//! guards only that map, for one lookup or update, never across an `.await`.

mod member;
mod room;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::media_io::MediaLeg;
use super::CallId;
use crate::media::mixer::MemberId;
use crate::sdp::negotiate::Negotiated;

/// Commands queued for one room (joins, leaves, renegotiations). When full, the member's call
/// task waits to send: these are rare, and the room drains them between two mixing periods.
pub const ROOM_COMMAND_CAPACITY: usize = 16;

/// A bridge's id, unique within the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BridgeId(pub u64);

/// One member of a bridge as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// The member channel's call id.
    pub call: CallId,
    /// Its caller (endpoint user or trunk caller number).
    pub caller: String,
}

/// One live bridge as the operator sees it (`GET /api/bridges`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeView {
    /// The bridge's id.
    pub id: BridgeId,
    /// The kind of bridge: `mixing` for a conference room.
    pub kind: String,
    /// The conference room's name.
    pub room: String,
    /// Its members, in the order they joined.
    pub members: Vec<MemberView>,
    /// When the bridge was created, in seconds since the Unix epoch.
    pub created_unix: u64,
}

/// What a member's call task asks of its room.
#[derive(Debug)]
enum RoomCommand {
    /// Mix this channel in from now on; the room owns `leg` until it leaves. `ended` is
    /// fired when the member's media went silent for the inactivity timeout.
    Join {
        member: MemberId,
        leg: Box<MediaLeg>,
        ended: oneshot::Sender<()>,
    },
    /// Stop mixing this channel and hand its leg back.
    Leave {
        member: MemberId,
        reply: oneshot::Sender<Box<MediaLeg>>,
    },
    /// The member's dialog renegotiated its media (re-INVITE: hold, new address).
    Renegotiate {
        member: MemberId,
        negotiated: Negotiated,
    },
}

/// A room in the map.
#[derive(Debug)]
struct RoomEntry {
    id: BridgeId,
    commands: mpsc::Sender<RoomCommand>,
    created: SystemTime,
    members: Vec<MemberView>,
}

#[derive(Debug, Default)]
struct Rooms {
    by_name: HashMap<String, RoomEntry>,
    last_id: u64,
}

/// Clonable handle on the live conference rooms.
#[derive(Debug, Clone, Default)]
pub struct ConferenceRooms {
    rooms: Arc<Mutex<Rooms>>,
}

impl ConferenceRooms {
    /// No rooms yet.
    pub fn new() -> ConferenceRooms {
        ConferenceRooms::default()
    }

    fn lock(&self) -> MutexGuard<'_, Rooms> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lists `member` in room `name`, creating the room (and spawning its task on the current
    /// runtime) when it does not exist; returns the room's command sender.
    fn enter(&self, name: &str, member: MemberView) -> mpsc::Sender<RoomCommand> {
        let mut rooms = self.lock();
        let rooms = &mut *rooms;
        let entry = rooms.by_name.entry(name.to_owned()).or_insert_with(|| {
            rooms.last_id += 1;
            let id = BridgeId(rooms.last_id);
            let (commands, receiver) = mpsc::channel(ROOM_COMMAND_CAPACITY);
            tokio::spawn(room::run(id, name.to_owned(), receiver));
            RoomEntry {
                id,
                commands,
                created: SystemTime::now(),
                members: Vec::new(),
            }
        });
        entry.members.push(member);
        entry.commands.clone()
    }

    /// Unlists call `call` from room `name`; the last member out removes the room, whose task
    /// ends once the leaving members have dropped their senders.
    fn forget(&self, name: &str, call: CallId) {
        let mut rooms = self.lock();
        if let Some(entry) = rooms.by_name.get_mut(name) {
            entry.members.retain(|m| m.call != call);
            if entry.members.is_empty() {
                rooms.by_name.remove(name);
            }
        }
    }

    /// Every live room, ordered by bridge id.
    pub fn views(&self) -> Vec<BridgeView> {
        let rooms = self.lock();
        let mut views: Vec<BridgeView> = rooms
            .by_name
            .iter()
            .map(|(name, entry)| BridgeView {
                id: entry.id,
                kind: "mixing".to_owned(),
                room: name.clone(),
                members: entry.members.clone(),
                created_unix: entry
                    .created
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            })
            .collect();
        views.sort_by_key(|v| v.id.0);
        views
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(call: CallId) -> MemberView {
        MemberView {
            call,
            caller: format!("600{call}"),
        }
    }

    #[tokio::test]
    async fn rooms_live_from_first_join_to_last_leave() {
        let rooms = ConferenceRooms::new();
        let a = rooms.enter("8002", member(1));
        let b = rooms.enter("8002", member(2));
        let _c = rooms.enter("other", member(3));
        assert!(a.same_channel(&b));
        let views = rooms.views();
        assert_eq!(views.len(), 2);
        assert_eq!(views[0].room, "8002");
        assert_eq!(views[0].kind, "mixing");
        assert_eq!(views[0].members, [member(1), member(2)]);
        assert!(views[0].created_unix > 0);
        rooms.forget("8002", 1);
        assert_eq!(rooms.views()[0].members, [member(2)]);
        rooms.forget("8002", 2);
        let views = rooms.views();
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].room, "other");
        // A new first member makes a new room with a new id.
        let d = rooms.enter("8002", member(4));
        assert!(!d.same_channel(&a));
        assert_eq!(rooms.views()[1].id, BridgeId(3));
    }

    #[test]
    fn the_view_serializes_as_the_api_shows_it() {
        let view = BridgeView {
            id: BridgeId(7),
            kind: "mixing".into(),
            room: "8002".into(),
            members: vec![member(1)],
            created_unix: 1,
        };
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": 7, "kind": "mixing", "room": "8002",
                "members": [{"call": 1, "caller": "6001"}], "created_unix": 1
            })
        );
    }
}
