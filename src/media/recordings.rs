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

    /// The file of recording `name`.
    pub fn path(&self, name: &str) -> Result<PathBuf, BadRecordingName> {
        validate(name).map_err(|_| BadRecordingName(name.to_owned()))?;
        Ok(self.dir.join(format!("{name}.{FORMAT}")))
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
}
