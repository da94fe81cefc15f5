//! Text to speech (edge): turns text into an 8 kHz [`Sound`] by running the configured
//! engine ([`engine`]: which command, voice and arguments) as a child process without a
//! shell, decoding the WAV it writes at its own rate and resampling it
//! (`media::resample`), and caching the result by (engine, voice, text) in memory and,
//! with `[tts] cache_dir`, on disk ([`cache`]), so a repeated phrase costs no engine run.
//! Used by `Speak(...)` and the event socket's `speak` and `playback say:`.

pub mod cache;
pub mod engine;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::TtsConfig;
use crate::media::resample::resample;
use crate::media::wav::{decode_any_rate, Sound, WavError, SAMPLE_RATE};
use cache::MemoryCache;
use engine::EngineError;

/// Why text could not be spoken.
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    /// No usable engine for the request.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The configured engine's command does not exist.
    #[error("TTS engine {0:?} is not installed (not found in PATH)")]
    Missing(String),
    /// The engine could not be started.
    #[error("TTS engine {program:?} could not start: {source}")]
    Spawn {
        /// The command.
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The engine failed or wrote nothing usable.
    #[error("TTS engine {program:?} failed: {reason}")]
    Failed {
        /// The command.
        program: String,
        /// Its exit status and what it printed.
        reason: String,
    },
    /// It ran past `[tts] timeout_secs`.
    #[error("TTS engine {0:?} took too long")]
    Timeout(String),
    /// Its output is not a WAV file the PBX reads.
    #[error(transparent)]
    Wav(#[from] WavError),
    /// Nothing to say.
    #[error("nothing to say: the text is empty")]
    Empty,
    /// Reading or writing a file failed.
    #[error("TTS file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A clonable handle to the engine and its cache.
#[derive(Debug, Clone)]
pub struct Tts {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: TtsConfig,
    memory: Mutex<MemoryCache>,
}

impl Tts {
    /// The engine of `config`; an engine named there that is not installed is an error.
    pub fn new(config: &TtsConfig) -> Result<Tts, TtsError> {
        let engine = config.engine.trim();
        if !engine.is_empty() && find_program(engine).is_none() {
            return Err(TtsError::Missing(engine.to_owned()));
        }
        if let Some(dir) = config.cache_dir() {
            std::fs::create_dir_all(dir).map_err(|source| TtsError::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
        Ok(Tts {
            inner: Arc::new(Inner {
                config: config.clone(),
                memory: Mutex::new(MemoryCache::new(config.cache_bytes())),
            }),
        })
    }

    /// `text` spoken by the `engine` and `voice` asked for (empty: the configured ones;
    /// `flite` means the configured engine).
    pub async fn speak(
        &self,
        engine: &str,
        voice: &str,
        text: &str,
    ) -> Result<Arc<Sound>, TtsError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TtsError::Empty);
        }
        let config = &self.inner.config;
        let dir = config
            .cache_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        // The output name is only known once the voice is; build the run twice, cheaply.
        let probe = engine::invocation(
            &config.engine,
            &config.voice,
            &config.args,
            engine,
            voice,
            text,
            "",
        )?;
        let key = cache::key(engine::short_name(&probe.program), &probe.voice, text);
        if let Some(sound) = self.memory().get(&key) {
            return Ok(sound);
        }
        let cached = config.cache_dir().map(|d| d.join(format!("{key}.wav")));
        if let Some(path) = &cached {
            if let Ok(bytes) = tokio::fs::read(path).await {
                if let Ok(sound) = Sound::from_wav_bytes(&format!("tts:{key}"), &bytes) {
                    let sound = Arc::new(sound);
                    self.memory().insert(key, Arc::clone(&sound));
                    return Ok(sound);
                }
            }
        }
        let out = dir.join(format!("{key}.{}.engine.wav", rand::random::<u32>()));
        let run = engine::invocation(
            &config.engine,
            &config.voice,
            &config.args,
            engine,
            voice,
            text,
            &out.display().to_string(),
        )?;
        let result = self.run(&run, &out).await;
        let _ = tokio::fs::remove_file(&out).await;
        let (rate, samples) = result?;
        let sound = Arc::new(Sound::new(
            format!("tts:{key}"),
            resample(&samples, rate, SAMPLE_RATE),
        ));
        if let Some(path) = cached {
            self.save(&path, &sound).await;
        }
        self.memory().insert(key, Arc::clone(&sound));
        Ok(sound)
    }

    /// Runs the engine and decodes what it wrote.
    async fn run(&self, run: &engine::Invocation, out: &Path) -> Result<(u32, Vec<i16>), TtsError> {
        let child = tokio::process::Command::new(&run.program)
            .args(&run.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => TtsError::Missing(run.program.clone()),
                _ => TtsError::Spawn {
                    program: run.program.clone(),
                    source,
                },
            })?;
        let output = tokio::time::timeout(self.inner.config.timeout(), child.wait_with_output())
            .await
            .map_err(|_| TtsError::Timeout(run.program.clone()))?
            .map_err(|source| TtsError::Spawn {
                program: run.program.clone(),
                source,
            })?;
        if !output.status.success() {
            return Err(TtsError::Failed {
                program: run.program.clone(),
                reason: format!(
                    "{}: {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            });
        }
        let bytes = tokio::fs::read(out)
            .await
            .map_err(|source| TtsError::Failed {
                program: run.program.clone(),
                reason: format!("no output file {}: {source}", out.display()),
            })?;
        let (rate, samples) = decode_any_rate(&run.program, &bytes)?;
        if samples.is_empty() {
            return Err(TtsError::Failed {
                program: run.program.clone(),
                reason: "it wrote no samples".to_owned(),
            });
        }
        Ok((rate, samples))
    }

    /// Writes `sound` to the disk cache and trims the cache to its size; failures only cost
    /// a later engine run, so they are logged.
    async fn save(&self, path: &Path, sound: &Sound) {
        let data: Vec<u8> = sound
            .samples()
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let mut bytes = crate::media::recorder::header(data.len() as u32).to_vec();
        bytes.extend_from_slice(&data);
        let partial = path.with_extension("partial");
        let written = async {
            tokio::fs::write(&partial, &bytes).await?;
            tokio::fs::rename(&partial, path).await
        };
        if let Err(error) = written.await {
            tracing::warn!(path = %path.display(), %error, "TTS cache not written");
            return;
        }
        if let Some(dir) = path.parent() {
            trim_disk_cache(dir, self.inner.config.cache_bytes()).await;
        }
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, MemoryCache> {
        self.inner
            .memory
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Deletes the oldest cached phrases until the directory holds at most `budget` bytes.
async fn trim_disk_cache(dir: &Path, budget: u64) {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return;
    };
    let mut files = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".wav") || name.contains(".engine.") {
            continue;
        }
        if let Ok(meta) = entry.metadata().await {
            let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
            files.push((name, meta.len(), modified));
        }
    }
    for name in cache::files_to_evict(files, budget) {
        let _ = tokio::fs::remove_file(dir.join(name)).await;
    }
}

/// Where `program` is: itself when it names a path, else the first `PATH` entry holding an
/// executable of that name.
pub fn find_program(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |path: &Path| {
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return executable(&path).then_some(path);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| executable(path))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_engine_stops_start_up_and_none_is_fine() {
        let missing = TtsConfig {
            engine: "no-such-tts-engine-here".into(),
            ..TtsConfig::default()
        };
        assert!(matches!(Tts::new(&missing), Err(TtsError::Missing(_))));
        assert!(Tts::new(&TtsConfig::default()).is_ok());
        assert!(find_program("sh").is_some());
    }

    #[tokio::test]
    async fn without_an_engine_speaking_is_a_clear_error() {
        let tts = Tts::new(&TtsConfig::default()).unwrap();
        let error = tts.speak("", "", "Hello").await.unwrap_err();
        assert!(error.to_string().contains("[tts] engine"), "{error}");
        assert!(matches!(
            tts.speak("", "", "  ").await,
            Err(TtsError::Empty)
        ));
    }
}
