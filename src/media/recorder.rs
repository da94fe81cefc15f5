//! Recording a channel's audio into a WAV file (8 kHz mono 16-bit PCM): what the dialplan's
//! `Record` and an application's record command write. The call task decodes what the peer
//! sends and hands the samples over; the recorder writes them through a buffer (one write
//! per few hundred milliseconds of audio), tells when the recording must end (maximum
//! duration, or silence after the last sound) and patches the RIFF sizes when it is finished.
//! A cancelled recording leaves no file.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Samples per second of every recording.
pub const RECORDING_RATE: u32 = 8_000;

/// Length of the RIFF/WAVE header written before the samples.
pub const HEADER_LEN: u32 = 44;

/// A frame whose mean absolute amplitude is below this counts as silence (Asterisk's default
/// silence threshold, `silencethreshold` 256, on 16-bit samples).
const SILENCE_THRESHOLD: u32 = 256;

/// Why a recording could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file exists and the recording may not replace it.
    #[error("recording {0} exists already")]
    Exists(PathBuf),
    /// Creating, writing or finishing the file failed.
    #[error("recording {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
}

/// What to do when the file is there already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IfExists {
    /// Refuse to record.
    #[default]
    Fail,
    /// Replace it.
    Overwrite,
}

/// When a recording stops by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// The longest it may last; `None` for no limit.
    pub max_duration: Option<Duration>,
    /// How much silence after the last sound ends it; `None` to keep recording.
    pub max_silence: Option<Duration>,
}

/// Why a recording has to end now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It reached its maximum duration.
    MaxDuration,
    /// The peer was silent for the allowed silence.
    Silence,
}

/// What a finished recording holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// All of it.
    pub duration: Duration,
    /// The part that was not silence.
    pub talking: Duration,
}

/// One recording being written.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    file: BufWriter<File>,
    limits: Limits,
    samples: u64,
    talking_samples: u64,
    silent_samples: u64,
    paused: bool,
    muted: bool,
}

impl Recorder {
    /// Creates the file at `path` (and its directory) and writes the header.
    pub fn create(
        path: &Path,
        if_exists: IfExists,
        limits: Limits,
    ) -> Result<Recorder, RecordError> {
        let io_error = |source| RecordError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_error)?;
        }
        let mut options = OpenOptions::new();
        options.write(true);
        match if_exists {
            IfExists::Fail => options.create_new(true),
            IfExists::Overwrite => options.create(true).truncate(true),
        };
        let file = options.open(path).map_err(|source| {
            if source.kind() == io::ErrorKind::AlreadyExists {
                RecordError::Exists(path.to_path_buf())
            } else {
                io_error(source)
            }
        })?;
        let mut file = BufWriter::with_capacity(8 * 1024, file);
        file.write_all(&header(0)).map_err(io_error)?;
        Ok(Recorder {
            path: path.to_path_buf(),
            file,
            limits,
            samples: 0,
            talking_samples: 0,
            silent_samples: 0,
            paused: false,
            muted: false,
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one frame the peer sent; `Some` when the recording must end now. A paused
    /// recording skips the frame; a muted one writes silence in its place.
    pub fn write(&mut self, frame: &[i16]) -> Result<Option<Ended>, RecordError> {
        if self.paused || frame.is_empty() {
            return Ok(None);
        }
        let mut bytes = [0u8; 2 * 480];
        for chunk in frame.chunks(480) {
            let out = &mut bytes[..2 * chunk.len()];
            for (pair, &sample) in out.chunks_exact_mut(2).zip(chunk) {
                let sample = if self.muted { 0 } else { sample };
                pair.copy_from_slice(&sample.to_le_bytes());
            }
            self.file.write_all(out).map_err(|source| RecordError::Io {
                path: self.path.clone(),
                source,
            })?;
        }
        let len = frame.len() as u64;
        self.samples += len;
        if self.muted || is_silent(frame) {
            self.silent_samples += len;
        } else {
            self.talking_samples += len;
            self.silent_samples = 0;
        }
        let reached = |limit: Option<Duration>, samples: u64| {
            limit.is_some_and(|limit| samples >= samples_in(limit))
        };
        if reached(self.limits.max_duration, self.samples) {
            return Ok(Some(Ended::MaxDuration));
        }
        if reached(self.limits.max_silence, self.silent_samples) {
            return Ok(Some(Ended::Silence));
        }
        Ok(None)
    }

    /// Stops or resumes taking frames (a paused recording's file has a gap, not silence).
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Writes silence instead of the peer's audio, or stops doing so.
    pub fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
    }

    /// How long the recording lasts so far.
    pub fn duration(&self) -> Duration {
        duration_of(self.samples)
    }

    /// How much of it was not silence.
    pub fn talking(&self) -> Duration {
        duration_of(self.talking_samples)
    }

    /// Completes the file: flushes it and writes the sizes into its header.
    pub fn finish(self) -> Result<Recorded, RecordError> {
        let recorded = Recorded {
            duration: self.duration(),
            talking: self.talking(),
        };
        let io_error = |source| RecordError::Io {
            path: self.path.clone(),
            source,
        };
        let data_len = u32::try_from(self.samples * 2).unwrap_or(u32::MAX - HEADER_LEN);
        let mut file = self
            .file
            .into_inner()
            .map_err(|e| io_error(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(io_error)?;
        file.write_all(&header(data_len)).map_err(io_error)?;
        Ok(recorded)
    }

    /// Abandons the recording and removes its file.
    pub fn cancel(self) {
        let Recorder { path, file, .. } = self;
        drop(file);
        if let Err(error) = std::fs::remove_file(&path) {
            tracing::warn!(path = %path.display(), %error, "cancelled recording not removed");
        }
    }
}

/// Whether a frame is below the silence threshold.
fn is_silent(frame: &[i16]) -> bool {
    let sum: u64 = frame.iter().map(|s| u64::from(s.unsigned_abs())).sum();
    sum < u64::from(SILENCE_THRESHOLD) * frame.len() as u64
}

fn samples_in(duration: Duration) -> u64 {
    (duration.as_millis() as u64) * u64::from(RECORDING_RATE) / 1_000
}

fn duration_of(samples: u64) -> Duration {
    Duration::from_millis(samples * 1_000 / u64::from(RECORDING_RATE))
}

/// The 44-byte header of a PCM WAV file of `data_len` bytes of 8 kHz mono 16-bit samples.
pub fn header(data_len: u32) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    let byte_rate = RECORDING_RATE * 2;
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(data_len.saturating_add(HEADER_LEN - 8)).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&1u16.to_le_bytes());
    h[24..28].copy_from_slice(&RECORDING_RATE.to_le_bytes());
    h[28..32].copy_from_slice(&byte_rate.to_le_bytes());
    h[32..34].copy_from_slice(&2u16.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_len.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::wav::Sound;

    fn tone(n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                ((i as f64 * 2.0 * std::f64::consts::PI * 440.0 / 8000.0).sin() * 8000.0) as i16
            })
            .collect()
    }

    #[test]
    fn a_finished_recording_is_a_wav_file_with_the_samples() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/take.wav");
        let mut recorder = Recorder::create(&path, IfExists::Fail, Limits::default()).unwrap();
        let audio = tone(1600);
        for frame in audio.chunks(160) {
            assert_eq!(recorder.write(frame).unwrap(), None);
        }
        recorder.write(&[0; 800]).unwrap();
        let recorded = recorder.finish().unwrap();
        assert_eq!(recorded.duration, Duration::from_millis(300));
        assert_eq!(recorded.talking, Duration::from_millis(200));
        let sound = Sound::from_wav_bytes("take", &std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(&sound.samples()[..1600], &audio[..]);
        assert_eq!(sound.samples().len(), 2400);
    }

    #[test]
    fn an_existing_file_is_kept_unless_it_may_be_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("take.wav");
        std::fs::write(&path, b"old").unwrap();
        let refused = Recorder::create(&path, IfExists::Fail, Limits::default());
        assert!(
            matches!(refused, Err(RecordError::Exists(_))),
            "{refused:?}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let recorder = Recorder::create(&path, IfExists::Overwrite, Limits::default()).unwrap();
        recorder.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap().len(), 44);
    }

    #[test]
    fn recordings_end_at_their_maximum_duration_or_after_silence() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_duration: Some(Duration::from_millis(100)),
            max_silence: None,
        };
        let mut short =
            Recorder::create(&dir.path().join("a.wav"), IfExists::Fail, limits).unwrap();
        assert_eq!(short.write(&tone(640)).unwrap(), None);
        assert_eq!(short.write(&tone(160)).unwrap(), Some(Ended::MaxDuration));
        let limits = Limits {
            max_duration: None,
            max_silence: Some(Duration::from_millis(40)),
        };
        let mut quiet =
            Recorder::create(&dir.path().join("b.wav"), IfExists::Fail, limits).unwrap();
        assert_eq!(quiet.write(&[0; 160]).unwrap(), None);
        assert_eq!(quiet.write(&tone(160)).unwrap(), None);
        assert_eq!(quiet.write(&[0; 160]).unwrap(), None);
        assert_eq!(quiet.write(&[0; 160]).unwrap(), Some(Ended::Silence));
    }

    #[test]
    fn paused_frames_are_skipped_muted_ones_silenced_and_a_cancelled_file_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.wav");
        let mut recorder = Recorder::create(&path, IfExists::Fail, Limits::default()).unwrap();
        recorder.set_paused(true);
        recorder.write(&tone(160)).unwrap();
        recorder.set_paused(false);
        recorder.set_muted(true);
        recorder.write(&tone(160)).unwrap();
        assert_eq!(recorder.duration(), Duration::from_millis(20));
        assert_eq!(recorder.talking(), Duration::ZERO);
        recorder.cancel();
        assert!(!path.exists());
    }
}
