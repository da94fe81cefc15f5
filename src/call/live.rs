//! The live playbacks and recordings of applications' channels (edge): which channel each
//! playback id or recording name belongs to and its latest snapshot, so
//! `/api/playbacks/{id}` and `/api/recordings/live/{name}` find the call task that owns it.
//! The call task keeps its entry current (queued, playing, paused, recording...) and removes
//! it when the playback or recording finishes. Its std mutex guards only the map, for one
//! lookup or update.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::channel::ChannelId;
use crate::events::{PlaybackSnapshot, RecordingSnapshot};

/// Something live on a channel, known by a key unique among the live ones.
pub trait Live: Clone {
    /// Its key: a playback's id, a recording's name.
    fn key(&self) -> &str;
}

impl Live for PlaybackSnapshot {
    fn key(&self) -> &str {
        &self.id
    }
}

impl Live for RecordingSnapshot {
    fn key(&self) -> &str {
        &self.name
    }
}

/// Clonable handle on the live items of one kind.
#[derive(Debug)]
pub struct LiveIndex<S> {
    items: Arc<Mutex<HashMap<String, (ChannelId, S)>>>,
}

impl<S> Clone for LiveIndex<S> {
    fn clone(&self) -> Self {
        LiveIndex {
            items: Arc::clone(&self.items),
        }
    }
}

impl<S> Default for LiveIndex<S> {
    fn default() -> Self {
        LiveIndex {
            items: Arc::default(),
        }
    }
}

/// The live playbacks, by id.
pub type PlaybackIndex = LiveIndex<PlaybackSnapshot>;
/// The live recordings, by name.
pub type RecordingIndex = LiveIndex<RecordingSnapshot>;

impl<S: Live> LiveIndex<S> {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (ChannelId, S)>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lists `item` as `channel`'s; false (and nothing changes) when a live one has its key
    /// already, on any channel.
    pub fn insert(&self, channel: &ChannelId, item: &S) -> bool {
        let mut items = self.lock();
        if items.contains_key(item.key()) {
            return false;
        }
        items.insert(item.key().to_owned(), (channel.clone(), item.clone()));
        true
    }

    /// Changes the snapshot of `key` with `change`.
    pub fn update(&self, key: &str, change: impl FnOnce(&mut S)) {
        if let Some((_, snapshot)) = self.lock().get_mut(key) {
            change(snapshot);
        }
    }

    /// Forgets `key` (it finished, or was dropped from its queue).
    pub fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    /// The channel that owns `key` and its latest snapshot.
    pub fn get(&self, key: &str) -> Option<(ChannelId, S)> {
        self.lock().get(key).cloned()
    }

    /// Every live item, in no particular order.
    pub fn all(&self) -> Vec<S> {
        self.lock().values().map(|(_, s)| s.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::PlaybackState;

    fn playback(id: &str) -> PlaybackSnapshot {
        PlaybackSnapshot {
            id: id.into(),
            media_uri: vec!["sound:hello-world".into()],
            target_uri: "channel:1.1".into(),
            state: PlaybackState::Queued,
        }
    }

    #[test]
    fn keys_are_unique_while_live_and_states_follow_the_owner() {
        let index = PlaybackIndex::default();
        let one = ChannelId("1.1".into());
        assert!(index.insert(&one, &playback("p")));
        assert!(!index.insert(&ChannelId("1.2".into()), &playback("p")));
        index.update("p", |p| p.state = PlaybackState::Playing);
        let (channel, snapshot) = index.get("p").unwrap();
        assert_eq!(
            (channel, snapshot.state),
            (one.clone(), PlaybackState::Playing)
        );
        assert_eq!(index.all().len(), 1);
        index.remove("p");
        assert!(index.get("p").is_none());
        assert!(
            index.insert(&one, &playback("p")),
            "a finished id can be used again"
        );
    }
}
