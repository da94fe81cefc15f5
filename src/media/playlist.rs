//! What a list of media URIs plays (sans-IO but for the prompt and recording files it reads):
//! [`PromptLibrary::media`] resolves `sound:`, `recording:`, `digits:`, `number:`,
//! `characters:` and `tone:` URIs ([`MediaUri`]) into one [`Playlist`] of decoded sounds, for a
//! channel's player or a bridge's mixer.
//!
//! A `tone:` whose cadence repeats (`tone:ring`) plays until the playback is stopped, as
//! Asterisk plays it: it becomes the playlist's last sound, looping, and URIs after it are
//! never reached, so they are not resolved. `digits:`, `number:` and `characters:` play the
//! built-in prompts [`super::say`] names.

use std::sync::Arc;

use thiserror::Error;

use super::indications::{self, IndicationError};
use super::media_uri::{MediaUri, MediaUriError};
use super::prompts::{PromptError, PromptLibrary};
use super::wav::{Sound, WavError};

/// Sounds to play in order; when `repeat_last`, the last one loops until stopped.
#[derive(Debug, Clone, Default)]
pub struct Playlist {
    /// The sounds, in order.
    pub sounds: Vec<Arc<Sound>>,
    /// Whether the last sound loops for ever (a repeating tone).
    pub repeat_last: bool,
}

impl Playlist {
    /// Whether there is nothing to play.
    pub fn is_empty(&self) -> bool {
        self.sounds.iter().all(|s| s.samples().is_empty())
    }

    /// Every sample in one buffer, and where the loop starts when the last sound repeats (for
    /// a bridge's mixer, which plays one buffer).
    pub fn flatten(&self) -> (Arc<[i16]>, Option<usize>) {
        let samples: Arc<[i16]> = self
            .sounds
            .iter()
            .flat_map(|s| s.samples().iter().copied())
            .collect();
        let loop_start = self
            .sounds
            .last()
            .filter(|_| self.repeat_last)
            .map(|last| samples.len() - last.samples().len());
        (samples, loop_start)
    }
}

/// Why a media URI cannot be played.
#[derive(Debug, Error)]
pub enum MediaError {
    /// The URI does not parse.
    #[error(transparent)]
    Uri(#[from] MediaUriError),
    /// A prompt it needs is missing or unreadable.
    #[error(transparent)]
    Prompt(#[from] PromptError),
    /// `recording:` of a recording that is not stored (or a bad name).
    #[error("no stored recording {0:?}")]
    NoSuchRecording(String),
    /// A stored recording that is not a playable WAV.
    #[error(transparent)]
    Wav(#[from] WavError),
    /// A tone that cannot be rendered.
    #[error(transparent)]
    Tone(#[from] IndicationError),
}

impl PromptLibrary {
    /// The playlist of media URIs, in order; the first URI that cannot be played is the
    /// error (logged with why).
    pub fn media(&self, uris: &[String]) -> Result<Playlist, String> {
        let mut playlist = Playlist::default();
        for uri in uris {
            if playlist.repeat_last {
                break;
            }
            self.add_media(uri, &mut playlist).map_err(|error| {
                tracing::info!(%uri, %error, "media not played");
                uri.clone()
            })?;
        }
        Ok(playlist)
    }

    fn add_media(&self, uri: &str, playlist: &mut Playlist) -> Result<(), MediaError> {
        let sounds = &mut playlist.sounds;
        match MediaUri::parse(uri)? {
            MediaUri::Sound(name) => sounds.push(self.get(&name)?),
            MediaUri::Recording(name) => sounds.push(self.stored_recording(&name)?),
            MediaUri::Tone(indication) => {
                let tone = indications::render(&indication)?;
                if !tone.once.is_empty() {
                    sounds.push(Arc::new(Sound::new(
                        format!("tone:{indication}"),
                        tone.once,
                    )));
                }
                if !tone.repeat.is_empty() {
                    sounds.push(Arc::new(Sound::new(
                        format!("tone:{indication}"),
                        tone.repeat,
                    )));
                    playlist.repeat_last = true;
                }
            }
            spoken => {
                for name in spoken.spoken().unwrap_or_default() {
                    sounds.push(self.get(&name)?);
                }
            }
        }
        Ok(())
    }

    /// Recording `name` as stored now (read each time: recordings change).
    fn stored_recording(&self, name: &str) -> Result<Arc<Sound>, MediaError> {
        let missing = || MediaError::NoSuchRecording(name.to_owned());
        let path = self
            .recordings()
            .ok_or_else(missing)?
            .path(name)
            .map_err(|_| missing())?;
        let bytes = std::fs::read(&path).map_err(|_| missing())?;
        Ok(Arc::new(Sound::from_wav_bytes(
            &path.display().to_string(),
            &bytes,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::recorder::header;
    use crate::media::recordings::RecordingStore;

    /// An 8 kHz mono PCM16 WAV file of `samples`.
    fn write_wav(samples: &[i16]) -> Vec<u8> {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut file = header(data.len() as u32).to_vec();
        file.extend_from_slice(&data);
        file
    }

    fn uris(list: &[&str]) -> Vec<String> {
        list.iter().map(|u| (*u).to_owned()).collect()
    }

    #[test]
    fn sounds_digits_and_numbers_resolve_to_prompts_in_order() {
        let library = PromptLibrary::new(None);
        let playlist = library
            .media(&uris(&["hello-world", "digits:12", "number:305"]))
            .unwrap();
        let names: Vec<&str> = playlist.sounds.iter().map(|s| s.name()).collect();
        assert_eq!(names.len(), 6, "{names:?}");
        assert!(!playlist.repeat_last);
        assert_eq!(names[3..], ["digits/3", "digits/hundred", "digits/5"]);
        assert_eq!(
            library
                .media(&uris(&["characters:a#"]))
                .unwrap()
                .sounds
                .len(),
            2
        );
    }

    #[test]
    fn a_repeating_tone_loops_last_and_ends_the_list() {
        let library = PromptLibrary::new(None);
        let playlist = library
            .media(&uris(&["hello-world", "tone:ring", "sound:nosuch"]))
            .unwrap();
        assert_eq!(playlist.sounds.len(), 2);
        assert!(playlist.repeat_last);
        let (samples, loop_start) = playlist.flatten();
        let hello = playlist.sounds[0].samples().len();
        assert_eq!(loop_start, Some(hello));
        assert_eq!(samples.len(), hello + 6 * 8_000);
        let beep = library.media(&uris(&["tone:!1000/100"])).unwrap();
        assert!(!beep.repeat_last);
        assert_eq!(beep.flatten(), (Arc::from(beep.sounds[0].samples()), None));
    }

    #[test]
    fn recordings_are_read_from_the_store_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let library = PromptLibrary::new(None).with_recordings(RecordingStore::new(dir.path()));
        let uri = uris(&["recording:greeting"]);
        assert_eq!(library.media(&uri).unwrap_err(), "recording:greeting");
        let path = dir.path().join("greeting.wav");
        std::fs::write(&path, write_wav(&[7; 800])).unwrap();
        assert_eq!(library.media(&uri).unwrap().sounds[0].samples().len(), 800);
        std::fs::write(&path, write_wav(&[7; 400])).unwrap();
        assert_eq!(library.media(&uri).unwrap().sounds[0].samples().len(), 400);
        assert!(library.media(&uris(&["recording:../x"])).is_err());
        assert!(PromptLibrary::new(None).media(&uri).is_err());
    }

    #[test]
    fn bad_uris_are_errors_naming_the_uri() {
        let library = PromptLibrary::new(None);
        for bad in [
            "video:x",
            "digits:1a",
            "tone:ring;tonezone=xx",
            "sound:../etc",
        ] {
            assert_eq!(library.media(&uris(&[bad])).unwrap_err(), bad);
        }
        assert!(library.media(&[]).unwrap().is_empty());
    }
}
