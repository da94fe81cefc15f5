//! An application's recording of a channel in `Stasis` (edge): the record command starts a
//! [`Recorder`] on the channel's media (after a beep when asked), key presses among the
//! request's terminators, silence or the maximum duration end it, and the control command
//! stops, cancels, pauses or mutes it. Each recording is listed in the live index while it
//! runs and published as `RecordingStarted`, then `RecordingFinished` (file complete) or
//! `RecordingFailed` (cancelled, or the file could not be written). A recording still running
//! when the channel leaves the application, enters a bridge or hangs up is finished there.

use std::time::{Duration, Instant};

use super::command::{AppRecordRequest, CommandError, RecordingOperation};
use super::task::Call;
use super::wait::Keys;
use crate::events::{PbxEvent, RecordingSnapshot, RecordingState};
use crate::media::prompts::BEEP;
use crate::media::recorder::{Ended, Limits, Recorder};
use crate::media::recordings::FORMAT;

/// The recording an application runs on its channel.
#[derive(Debug)]
pub(super) struct AppRecording {
    snapshot: RecordingSnapshot,
    terminators: Keys,
}

/// Seconds of `duration`, rounded down, as ARI reports them.
fn secs(duration: Duration) -> u64 {
    duration.as_secs()
}

impl Call {
    /// Starts recording `request` on the channel; `playing` says whether a playback is
    /// running (then no beep is played over it).
    pub(super) fn start_app_recording(
        &mut self,
        current: &mut Option<AppRecording>,
        request: AppRecordRequest,
        playing: bool,
    ) -> Result<RecordingSnapshot, CommandError> {
        if current.is_some() || self.shared.live_recordings.get(&request.name).is_some() {
            return Err(CommandError::RecordingExists(request.name));
        }
        let path = self
            .shared
            .recordings
            .path(&request.name)
            .map_err(|e| CommandError::CannotRecord(e.to_string()))?;
        let limit = |secs: u64| (secs > 0).then(|| Duration::from_secs(secs));
        let limits = Limits {
            max_duration: limit(request.max_duration_seconds),
            max_silence: limit(request.max_silence_seconds),
        };
        let recorder = Recorder::create(&path, request.if_exists, limits).map_err(|e| match e {
            crate::media::recorder::RecordError::Exists(_) => {
                CommandError::RecordingExists(request.name.clone())
            }
            other => CommandError::CannotRecord(other.to_string()),
        })?;
        let snapshot = RecordingSnapshot {
            name: request.name.clone(),
            format: FORMAT.to_owned(),
            target_uri: format!("channel:{}", self.channel.id()),
            state: RecordingState::Recording,
            duration: None,
            talking_duration: None,
            silence_duration: None,
            cause: None,
        };
        if !self
            .shared
            .live_recordings
            .insert(self.channel.id(), &snapshot)
        {
            recorder.cancel();
            return Err(CommandError::RecordingExists(request.name));
        }
        if request.beep && !playing {
            if let Ok(beep) = self.shared.prompts.get(BEEP) {
                self.media.play(vec![beep], Instant::now());
            }
        }
        self.media.start_recording(recorder);
        tracing::info!(call = self.id, name = %snapshot.name, "application recording");
        self.channel.events().publish(PbxEvent::RecordingStarted {
            recording: snapshot.clone(),
        });
        *current = Some(AppRecording {
            snapshot: snapshot.clone(),
            terminators: Keys::of(&request.terminate_on),
        });
        Ok(snapshot)
    }

    /// Carries out `operation` on recording `name`.
    pub(super) fn control_app_recording(
        &mut self,
        current: &mut Option<AppRecording>,
        name: &str,
        operation: RecordingOperation,
    ) -> Result<(), CommandError> {
        let Some(recording) = current.as_mut().filter(|r| r.snapshot.name == name) else {
            return Err(CommandError::NoSuchRecording(name.to_owned()));
        };
        let state = match operation {
            RecordingOperation::Stop => {
                self.end_app_recording(current, None);
                return Ok(());
            }
            RecordingOperation::Cancel => {
                self.cancel_app_recording(current);
                return Ok(());
            }
            RecordingOperation::Pause | RecordingOperation::Unpause => {
                let paused = operation == RecordingOperation::Pause;
                if let Some(recorder) = self.media.recording() {
                    recorder.set_paused(paused);
                }
                if paused {
                    RecordingState::Paused
                } else {
                    RecordingState::Recording
                }
            }
            RecordingOperation::Mute | RecordingOperation::Unmute => {
                if let Some(recorder) = self.media.recording() {
                    recorder.set_muted(operation == RecordingOperation::Mute);
                }
                recording.snapshot.state
            }
        };
        recording.snapshot.state = state;
        self.shared
            .live_recordings
            .update(name, |r| r.state = state);
        Ok(())
    }

    /// Ends the recording when `digit` is one of its terminators.
    pub(super) fn recording_digit(&mut self, current: &mut Option<AppRecording>, digit: char) {
        if current
            .as_ref()
            .is_some_and(|r| r.terminators.contains(digit))
        {
            self.end_app_recording(current, None);
        }
    }

    /// Finishes the running recording, if any: its file complete (`RecordingFinished`), or
    /// `RecordingFailed` when `failed` (the media could not write it) or finishing fails.
    pub(super) fn end_app_recording(
        &mut self,
        current: &mut Option<AppRecording>,
        failed: Option<String>,
    ) {
        let Some(AppRecording { mut snapshot, .. }) = current.take() else {
            return;
        };
        self.shared.live_recordings.remove(&snapshot.name);
        let finished = match (self.media.stop_recording(), failed) {
            (Some(recorder), None) => recorder.finish().map_err(|e| e.to_string()),
            (Some(recorder), Some(cause)) => {
                recorder.cancel();
                Err(cause)
            }
            (None, cause) => Err(cause.unwrap_or_else(|| "the recording was lost".into())),
        };
        match finished {
            Ok(recorded) => {
                snapshot.state = RecordingState::Done;
                snapshot.duration = Some(secs(recorded.duration));
                snapshot.talking_duration = Some(secs(recorded.talking));
                snapshot.silence_duration = Some(secs(recorded.duration - recorded.talking));
                self.channel.events().publish(PbxEvent::RecordingFinished {
                    recording: snapshot,
                });
            }
            Err(cause) => {
                tracing::warn!(call = self.id, name = %snapshot.name, %cause, "recording failed");
                snapshot.state = RecordingState::Failed;
                snapshot.cause = Some(cause);
                self.channel.events().publish(PbxEvent::RecordingFailed {
                    recording: snapshot,
                });
            }
        }
    }

    /// Ends the recording the media says is over: by itself (silence, maximum duration) or
    /// because its file could not be written.
    pub(super) fn app_recording_ended(
        &mut self,
        current: &mut Option<AppRecording>,
        ended: Option<Ended>,
    ) {
        let failed = ended
            .is_none()
            .then(|| "the file could not be written".to_owned());
        self.end_app_recording(current, failed);
    }

    /// Abandons the running recording and removes its file (`RecordingFailed`, `canceled`).
    fn cancel_app_recording(&mut self, current: &mut Option<AppRecording>) {
        let Some(AppRecording { mut snapshot, .. }) = current.take() else {
            return;
        };
        self.shared.live_recordings.remove(&snapshot.name);
        if let Some(recorder) = self.media.stop_recording() {
            recorder.cancel();
        }
        snapshot.state = RecordingState::Canceled;
        self.channel.events().publish(PbxEvent::RecordingFailed {
            recording: snapshot,
        });
    }
}
