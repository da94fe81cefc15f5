//! Where recordings are stored: one directory (`[dialplan] recordings_dir`), a recording named
//! `greeting` or `msgs/6001` is the file `<dir>/<name>.wav`. Names follow the prompt-name rule
//! (safe relative parts), so no name can leave the directory.

use std::path::{Path, PathBuf};

use super::prompts::validate;

/// The file name extension of every recording (its only format).
pub const FORMAT: &str = "wav";

/// The recordings directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingStore {
    dir: PathBuf,
}

/// A recording name that could leave the directory (absolute, `..`, odd characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad recording name {0:?}: use names like greeting or msgs/6001")]
pub struct BadRecordingName(pub String);

impl RecordingStore {
    /// The store in `dir` (created when the first recording is made).
    pub fn new(dir: impl Into<PathBuf>) -> RecordingStore {
        RecordingStore { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The names of the stored recordings, sorted (none when the directory is not there).
    pub fn list(&self) -> Vec<String> {
        let mut names = Vec::new();
        collect(&self.dir, "", &mut names);
        names.sort();
        names
    }

    /// The file of recording `name`.
    pub fn path(&self, name: &str) -> Result<PathBuf, BadRecordingName> {
        validate(name).map_err(|_| BadRecordingName(name.to_owned()))?;
        Ok(self.dir.join(format!("{name}.{FORMAT}")))
    }
}

/// Adds the recordings under `dir` (named with `prefix`) to `names`, descending into
/// sub-directories.
fn collect(dir: &Path, prefix: &str, names: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let path = entry.path();
        if path.is_dir() {
            collect(&path, &format!("{prefix}{file_name}/"), names);
        } else if let Some(stem) = file_name.strip_suffix(&format!(".{FORMAT}")) {
            let name = format!("{prefix}{stem}");
            if validate(&name).is_ok() {
                names.push(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_into_the_directory_and_never_out_of_it() {
        let store = RecordingStore::new("/data/rec");
        assert_eq!(
            store.path("msgs/6001").unwrap(),
            Path::new("/data/rec/msgs/6001.wav")
        );
        for bad in ["../etc/passwd", "/abs", "a//b", "", "a b"] {
            assert_eq!(store.path(bad), Err(BadRecordingName(bad.into())), "{bad}");
        }
    }

    #[test]
    fn the_list_holds_every_wav_file_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = RecordingStore::new(dir.path().join("rec"));
        assert!(store.list().is_empty());
        std::fs::create_dir_all(dir.path().join("rec/msgs")).unwrap();
        for file in ["rec/b.wav", "rec/msgs/6001.wav", "rec/notes.txt"] {
            std::fs::write(dir.path().join(file), b"").unwrap();
        }
        assert_eq!(store.list(), ["b", "msgs/6001"]);
    }
}
