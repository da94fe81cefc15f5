//! The live playbacks of applications' channels (edge): which channel each playback id
//! belongs to and its latest snapshot, so `GET|DELETE /api/playbacks/{id}` and
//! `POST /api/playbacks/{id}/control` find the call task that plays it. The call task that
//! owns a playback keeps its entry current (queued, playing, paused) and removes it when the
//! playback finishes. Its std mutex guards only the map, for one lookup or update.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::channel::ChannelId;
use crate::events::{PlaybackSnapshot, PlaybackState};

/// Clonable handle on the live playbacks.
#[derive(Debug, Clone, Default)]
pub struct PlaybackIndex {
    playbacks: Arc<Mutex<HashMap<String, (ChannelId, PlaybackSnapshot)>>>,
}

impl PlaybackIndex {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (ChannelId, PlaybackSnapshot)>> {
        self.playbacks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lists `playback` as played by `channel`; false (and nothing changes) when a live
    /// playback has this id already, on any channel.
    pub fn insert(&self, channel: &ChannelId, playback: &PlaybackSnapshot) -> bool {
        let mut playbacks = self.lock();
        if playbacks.contains_key(&playback.id) {
            return false;
        }
        playbacks.insert(playback.id.clone(), (channel.clone(), playback.clone()));
        true
    }

    /// Records that playback `id` is now in `state`.
    pub fn set_state(&self, id: &str, state: PlaybackState) {
        if let Some((_, snapshot)) = self.lock().get_mut(id) {
            snapshot.state = state;
        }
    }

    /// Forgets playback `id` (it finished, or was dropped from its queue).
    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// The channel playing `id` and the playback's latest snapshot.
    pub fn get(&self, id: &str) -> Option<(ChannelId, PlaybackSnapshot)> {
        self.lock().get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playback(id: &str) -> PlaybackSnapshot {
        PlaybackSnapshot {
            id: id.into(),
            media_uri: vec!["sound:hello-world".into()],
            target_uri: "channel:1.1".into(),
            state: PlaybackState::Queued,
        }
    }

    #[test]
    fn ids_are_unique_while_live_and_states_follow_the_owner() {
        let index = PlaybackIndex::default();
        let one = ChannelId("1.1".into());
        assert!(index.insert(&one, &playback("p")));
        assert!(!index.insert(&ChannelId("1.2".into()), &playback("p")));
        index.set_state("p", PlaybackState::Playing);
        let (channel, snapshot) = index.get("p").unwrap();
        assert_eq!(
            (channel, snapshot.state),
            (one.clone(), PlaybackState::Playing)
        );
        index.remove("p");
        assert!(index.get("p").is_none());
        assert!(
            index.insert(&one, &playback("p")),
            "a finished id can be used again"
        );
    }
}
