//! Running `Record` (edge): the call task plays the beep, hands a [`Recorder`] to the
//! channel's media, waits for the recording to end (a key, silence, its maximum duration,
//! a hangup) and finishes the file, or removes it when the caller hung up and the request
//! does not keep it. AGI's RECORD FILE runs the same way and also reads the length.

use std::time::Duration;

use super::task::Call;
use super::wait::{Keys, Wait};
use crate::dialplan::apps::record::RecordRequest;
use crate::dialplan::{Event, RecordStatus};
use crate::media::prompts::BEEP;
use crate::media::recorder::{IfExists, Limits, Recorder};

impl Call {
    /// Records the caller as `request` says: `Recorded` with how it ended, or `Hangup`.
    pub(super) async fn record(&mut self, request: RecordRequest) -> Event {
        self.record_file(request).await.0
    }

    /// [`Call::record`], and how long the stored recording lasts (zero when none was kept).
    pub(super) async fn record_file(&mut self, request: RecordRequest) -> (Event, Duration) {
        if self.hung_up {
            return (Event::Hangup, Duration::ZERO);
        }
        self.ensure_media().await;
        if request.beep && self.play(&[BEEP.to_owned()], false).await == Event::Hangup {
            return (Event::Hangup, Duration::ZERO);
        }
        let limits = Limits {
            max_duration: request.max_duration,
            max_silence: request.max_silence,
        };
        let recorder = self
            .shared
            .recordings
            .path(&request.name)
            .map_err(|e| e.to_string())
            .and_then(|path| {
                Recorder::create(&path, IfExists::Overwrite, limits).map_err(|e| e.to_string())
            });
        let recorder = match recorder {
            Ok(recorder) => recorder,
            Err(error) => {
                tracing::warn!(call = self.id, %error, "Record: nothing recorded");
                return (Event::Recorded(RecordStatus::Error), Duration::ZERO);
            }
        };
        tracing::info!(call = self.id, path = %recorder.path().display(), "recording");
        self.media.start_recording(recorder);
        let terminators = Keys::of(&request.terminators);
        let event = Box::pin(self.wait(Wait::Record { terminators })).await;
        let Some(recorder) = self.media.stop_recording() else {
            return (event, Duration::ZERO);
        };
        if event == Event::Hangup && !request.keep_on_hangup {
            recorder.cancel();
            return (event, Duration::ZERO);
        }
        match recorder.finish() {
            Ok(recorded) => {
                tracing::info!(
                    call = self.id,
                    secs = recorded.duration.as_secs_f64(),
                    "recorded"
                );
                (event, recorded.duration)
            }
            Err(error) => {
                tracing::warn!(call = self.id, %error, "Record: the file is incomplete");
                if event == Event::Hangup {
                    (event, Duration::ZERO)
                } else {
                    (Event::Recorded(RecordStatus::Error), Duration::ZERO)
                }
            }
        }
    }
}
