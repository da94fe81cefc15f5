//! The key/value database Asterisk calls AstDB (edge): `family/key` -> value, reached from AMI
//! (DBGet, DBPut, DBDel) and AGI (DATABASE GET / PUT / DEL / DELTREE). Saved as one JSON file
//! after every change (written aside and renamed, so a crash leaves the old or the new file,
//! never half of one); without a file it lives in memory for the process's life.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Why the database could not be read or saved.
#[derive(Debug, thiserror::Error)]
pub enum AstDbError {
    /// The file exists but could not be read.
    #[error("cannot read the database {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not the JSON object this module writes.
    #[error("the database {path} is not a JSON object of strings: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: serde_json::Error,
    },
    /// Saving failed; the change is kept in memory.
    #[error("cannot save the database {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A clonable handle on the database.
#[derive(Debug, Clone, Default)]
pub struct AstDb {
    inner: Arc<Mutex<BTreeMap<String, String>>>,
    file: Option<Arc<PathBuf>>,
}

/// The entry's name: `family/key`, as Asterisk stores it.
fn entry(family: &str, key: &str) -> String {
    format!("{family}/{key}")
}

impl AstDb {
    /// The database saved in `file` (created on the first change), or one in memory.
    pub fn open(file: Option<&Path>) -> Result<AstDb, AstDbError> {
        let Some(path) = file else {
            return Ok(AstDb::default());
        };
        let entries = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| AstDbError::Parse {
                path: path.to_owned(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => {
                return Err(AstDbError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        Ok(AstDb {
            inner: Arc::new(Mutex::new(entries)),
            file: Some(Arc::new(path.to_owned())),
        })
    }

    /// The entries; a panic elsewhere while holding them leaves a usable map.
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, String>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The value of `family/key`.
    pub fn get(&self, family: &str, key: &str) -> Option<String> {
        self.lock().get(&entry(family, key)).cloned()
    }

    /// Sets `family/key` to `value` and saves.
    pub fn put(&self, family: &str, key: &str, value: &str) -> Result<(), AstDbError> {
        let mut entries = self.lock();
        entries.insert(entry(family, key), value.to_owned());
        self.save(&entries)
    }

    /// Deletes `family/key`; `Ok(false)` when it did not exist.
    pub fn del(&self, family: &str, key: &str) -> Result<bool, AstDbError> {
        let mut entries = self.lock();
        if entries.remove(&entry(family, key)).is_none() {
            return Ok(false);
        }
        self.save(&entries).map(|()| true)
    }

    /// Every entry (`family/key`, value) whose `family/key` starts with `prefix` (all when
    /// `None`), in order.
    pub fn entries(&self, prefix: Option<&str>) -> Vec<(String, String)> {
        self.lock()
            .iter()
            .filter(|(name, _)| prefix.is_none_or(|p| name.starts_with(p)))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    /// Deletes every key of `family` (under `family/prefix` when `prefix` is given); how many.
    pub fn del_tree(&self, family: &str, prefix: Option<&str>) -> Result<usize, AstDbError> {
        let mut entries = self.lock();
        let under = match prefix {
            Some(prefix) => format!("{family}/{prefix}"),
            None => format!("{family}/"),
        };
        let before = entries.len();
        entries.retain(|name, _| !name.starts_with(&under));
        let removed = before - entries.len();
        if removed > 0 {
            self.save(&entries)?;
        }
        Ok(removed)
    }

    fn save(&self, entries: &BTreeMap<String, String>) -> Result<(), AstDbError> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let failed = |source| AstDbError::Write {
            path: path.to_path_buf(),
            source,
        };
        let json = serde_json::to_vec_pretty(entries).map_err(std::io::Error::other);
        let aside = path.with_extension("json.tmp");
        std::fs::write(&aside, json.map_err(failed)?).map_err(failed)?;
        std::fs::rename(&aside, path.as_path()).map_err(failed)
    }
}

/// The dialplan's `${DB(family/key)}` and `Set(DB(family/key)=value)`.
impl crate::dialplan::Database for AstDb {
    fn get(&self, family: &str, key: &str) -> Option<String> {
        AstDb::get(self, family, key)
    }

    fn put(&self, family: &str, key: &str, value: &str) -> bool {
        match AstDb::put(self, family, key, value) {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "AstDB write from the dialplan");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_a_reopen_and_trees_delete_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("astdb.json");
        let db = AstDb::open(Some(&path)).unwrap();
        db.put("cidname", "6001", "Alice").unwrap();
        db.put("cidname", "6002", "Bob").unwrap();
        db.put("blocked", "999", "1").unwrap();
        assert!(!db.del("cidname", "7000").unwrap());
        assert!(db.del("cidname", "6002").unwrap());
        let again = AstDb::open(Some(&path)).unwrap();
        assert_eq!(again.get("cidname", "6001").as_deref(), Some("Alice"));
        assert_eq!(again.get("cidname", "6002"), None);
        assert_eq!(again.del_tree("blocked", None).unwrap(), 1);
        assert_eq!(
            AstDb::open(Some(&path)).unwrap().get("blocked", "999"),
            None
        );
        std::fs::write(&path, b"[1,2]").unwrap();
        assert!(matches!(
            AstDb::open(Some(&path)),
            Err(AstDbError::Parse { .. })
        ));
        let memory = AstDb::open(None).unwrap();
        memory.put("a", "b", "c").unwrap();
        assert_eq!(memory.get("a", "b").as_deref(), Some("c"));
    }
}
