//! The cache of spoken phrases (sans-IO bookkeeping): keyed by (engine, voice, text), it
//! keeps the most recently used sounds in memory up to a byte budget, and names the file each
//! phrase is kept in on disk. Eviction is least recently used first.

use std::collections::HashMap;
use std::sync::Arc;

use md5::{Digest, Md5};

use crate::media::wav::Sound;

/// A phrase's key: a digest of engine, voice and text (also its file name on disk).
pub fn key(engine: &str, voice: &str, text: &str) -> String {
    let mut hasher = Md5::new();
    for part in [engine, voice, text] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sounds in memory, least recently used evicted past the budget.
#[derive(Debug)]
pub struct MemoryCache {
    budget: u64,
    used: u64,
    clock: u64,
    entries: HashMap<String, (Arc<Sound>, u64)>,
}

impl MemoryCache {
    /// A cache holding at most `budget` bytes of samples.
    pub fn new(budget: u64) -> MemoryCache {
        MemoryCache {
            budget,
            used: 0,
            clock: 0,
            entries: HashMap::new(),
        }
    }

    /// The sound under `key`, now the most recently used.
    pub fn get(&mut self, key: &str) -> Option<Arc<Sound>> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|(sound, used)| {
            *used = clock;
            Arc::clone(sound)
        })
    }

    /// Keeps `sound` under `key`, evicting the least recently used past the budget.
    pub fn insert(&mut self, key: String, sound: Arc<Sound>) {
        let size = bytes(&sound);
        if size > self.budget {
            return;
        }
        self.clock += 1;
        if let Some((old, _)) = self.entries.insert(key, (sound, self.clock)) {
            self.used -= bytes(&old);
        }
        self.used += size;
        while self.used > self.budget {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((gone, _)) = self.entries.remove(&oldest) {
                self.used -= bytes(&gone);
            }
        }
    }

    /// How many phrases it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn bytes(sound: &Sound) -> u64 {
    sound.samples().len() as u64 * 2
}

/// Which files of a disk cache to delete to come back under `budget` bytes: the oldest
/// (by modification time) first. `files` are (name, size, modified).
pub fn files_to_evict<T: Ord + Copy>(mut files: Vec<(String, u64, T)>, budget: u64) -> Vec<String> {
    let mut total: u64 = files.iter().map(|(_, size, _)| size).sum();
    files.sort_by_key(|(_, _, modified)| *modified);
    let mut evict = Vec::new();
    for (name, size, _) in files {
        if total <= budget {
            break;
        }
        total -= size;
        evict.push(name);
    }
    evict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sound(samples: usize) -> Arc<Sound> {
        Arc::new(Sound::new("s", vec![0; samples]))
    }

    #[test]
    fn keys_depend_on_engine_voice_and_text() {
        let k = key("espeak-ng", "en", "Hello");
        assert_eq!(k.len(), 32);
        assert_ne!(k, key("espeak-ng", "en-gb", "Hello"));
        assert_ne!(key("a", "bc", ""), key("ab", "c", ""));
        assert_eq!(k, key("espeak-ng", "en", "Hello"));
    }

    #[test]
    fn memory_evicts_the_least_recently_used() {
        let mut cache = MemoryCache::new(100);
        cache.insert("a".into(), sound(20));
        cache.insert("b".into(), sound(20));
        assert!(cache.get("a").is_some());
        cache.insert("c".into(), sound(20));
        assert!(cache.get("b").is_none());
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
        cache.insert("huge".into(), sound(1000));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn disk_eviction_removes_the_oldest_until_under_budget() {
        let files = vec![
            ("new".into(), 50, 3),
            ("old".into(), 50, 1),
            ("mid".into(), 50, 2),
        ];
        assert_eq!(files_to_evict(files.clone(), 100), ["old"]);
        assert_eq!(files_to_evict(files.clone(), 40), ["old", "mid", "new"]);
        assert!(files_to_evict(files, 150).is_empty());
    }
}
