//! Who holds a two-party bridge, and what changes when that changes (sans-IO).
//!
//! RFC 3264 §8.4: "If the stream to be placed on hold was previously a sendrecv media stream,
//! it is placed on hold by marking it sendonly"; an inactive stream, or the older
//! `c=0.0.0.0` (RFC 2543, which the SDP parser reads as sendonly), holds too. The PBX answers
//! each leg's offers itself, so a leg holds exactly when the direction negotiated with it
//! does not let the PBX send (recvonly or inactive on our side). A leg that holds must not
//! get the other leg's audio, and the other leg then hears music on hold instead of it. A
//! recvonly offer (a phone that only listens) lets the PBX send and is not a hold.

use crate::sdp::negotiate::Direction;

/// Which legs of a two-party bridge hold the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holds {
    /// The caller holds: the callee hears music, the caller's audio is not relayed.
    pub caller: bool,
    /// The callee holds: the caller hears music, the callee's audio is not relayed.
    pub callee: bool,
}

/// What a change of [`Holds`] asks of the bridge: `Some(true)` starts the music towards that
/// leg, `Some(false)` stops it, `None` leaves it as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MusicChanges {
    /// Music towards the caller (the callee started or stopped holding).
    pub to_caller: Option<bool>,
    /// Music towards the callee (the caller started or stopped holding).
    pub to_callee: Option<bool>,
}

impl Holds {
    /// The holds given the directions negotiated with each leg (our side's view).
    pub fn from_directions(caller: Direction, callee: Direction) -> Holds {
        Holds {
            caller: !caller.sends(),
            callee: !callee.sends(),
        }
    }

    /// Moves to `now` and returns the music to start or stop.
    pub fn update(&mut self, now: Holds) -> MusicChanges {
        let changed = |before: bool, after: bool| (before != after).then_some(after);
        let changes = MusicChanges {
            to_callee: changed(self.caller, now.caller),
            to_caller: changed(self.callee, now.callee),
        };
        *self = now;
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{Inactive, RecvOnly, SendOnly, SendRecv};

    #[test]
    fn a_hold_is_what_the_pbx_may_not_send_to() {
        let holds = |ours| Holds::from_directions(ours, SendRecv).caller;
        // Our answer to sendonly (or c=0.0.0.0) is recvonly; to inactive, inactive.
        assert!(holds(RecvOnly) && holds(Inactive));
        // A listening-only phone (its recvonly makes ours sendonly) is not on hold.
        assert!(!holds(SendRecv) && !holds(SendOnly));
    }

    #[test]
    fn hold_starts_the_music_towards_the_other_leg_and_unhold_stops_it() {
        let mut holds = Holds::default();
        let caller_holds = Holds::from_directions(RecvOnly, SendRecv);
        let change = holds.update(caller_holds);
        assert_eq!(
            change,
            MusicChanges {
                to_caller: None,
                to_callee: Some(true)
            }
        );
        // A re-INVITE that changes nothing (a session refresh while held) changes no music.
        assert_eq!(holds.update(caller_holds), MusicChanges::default());
        // The held callee holds too: the caller gets music (which it does not receive).
        let both = Holds::from_directions(RecvOnly, Inactive);
        let change = holds.update(both);
        assert_eq!(
            change,
            MusicChanges {
                to_caller: Some(true),
                to_callee: None
            }
        );
        let change = holds.update(Holds::default());
        let stop_both = MusicChanges {
            to_caller: Some(false),
            to_callee: Some(false),
        };
        assert_eq!(change, stop_both);
        assert_eq!(holds, Holds::default());
    }
}
