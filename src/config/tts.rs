//! `[tts]`: the text-to-speech engine `Speak(...)`, the event socket's `speak` and
//! `playback say:` use: an external command (`espeak-ng`, `flite`, or any program that writes
//! a WAV file), run without a shell with the text as one argument; its default voice; and
//! the cache of what it said. Empty `engine` (the default) leaves TTS off: a step that speaks
//! fails with a clear error. An engine named here that is not installed stops start-up.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// `[tts]`.
#[derive(Debug, Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TtsConfig {
    /// The engine's command: a name looked up in `PATH` or a path; empty disables TTS.
    #[serde(default)]
    pub engine: String,
    /// The voice used when a step names none; empty uses the engine's own default.
    #[serde(default)]
    pub voice: String,
    /// The engine's arguments, each one argument, with `{voice}`, `{text}` and `{out}` (the
    /// WAV file to write) replaced; empty uses the arguments known for espeak-ng and flite.
    #[serde(default)]
    pub args: Vec<String>,
    /// Where spoken phrases are kept as 8 kHz WAV files; unset keeps them in memory only.
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
    /// How many megabytes of speech the cache keeps (on disk, and as much in memory).
    #[serde(default = "default_cache_mb")]
    pub cache_size_mb: u64,
    /// Seconds one engine run may take.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

impl TtsConfig {
    /// The cache's size in bytes.
    pub fn cache_bytes(&self) -> u64 {
        self.cache_size_mb.saturating_mul(1 << 20)
    }

    /// How long one engine run may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    /// The cache directory, `None` when unset or empty.
    pub fn cache_dir(&self) -> Option<&std::path::Path> {
        self.cache_dir
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
    }
}

fn default_cache_mb() -> u64 {
    64
}

fn default_timeout() -> u64 {
    20
}
