//! Running a media app (edge): while Playback, Background, WaitExten, Wait, Echo or Record
//! runs, the call task waits on its RTP socket, its SIP events and its timers at once, and
//! stops when what the app waits for happens (end of playback, a digit, a deadline, the end
//! of a recording, a hangup).

use std::time::{Duration, Instant};

use super::media_io::MediaEvent;
use super::task::{rearm, Call};
use super::CallEvent;
use crate::dialplan::{Event, RecordStatus};
use crate::events::{random_id, PbxEvent, PlaybackSnapshot, PlaybackState};
use crate::media::recorder::Ended;

/// What a media wait is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    Playback {
        interruptible: bool,
    },
    Digit {
        until: Instant,
    },
    Sleep {
        until: Instant,
    },
    Echo,
    /// A recording runs until it ends by itself or one of these keys is pressed.
    Record {
        terminators: Keys,
    },
}

/// A set of DTMF keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Keys(u16);

impl Keys {
    /// The keys among `text` (`0`-`9`, `*`, `#`, `A`-`D`; anything else is ignored).
    pub(super) fn of(text: &str) -> Keys {
        Keys(
            text.chars()
                .filter_map(key_bit)
                .fold(0, |set, bit| set | bit),
        )
    }

    /// Whether `key` is one of them.
    pub(super) fn contains(self, key: char) -> bool {
        key_bit(key).is_some_and(|bit| self.0 & bit != 0)
    }
}

fn key_bit(key: char) -> Option<u16> {
    let index = "0123456789*#ABCD".find(key.to_ascii_uppercase())?;
    Some(1 << index)
}

impl Call {
    pub(super) async fn play(&mut self, sounds: &[String], interruptible: bool) -> Event {
        if self.hung_up {
            return Event::Hangup;
        }
        self.ensure_media().await;
        let mut loaded = Vec::with_capacity(sounds.len());
        for name in sounds {
            match self.shared.prompts.get(name) {
                Ok(sound) => loaded.push(sound),
                Err(error) => tracing::warn!(call = self.id, %error, "prompt not played"),
            }
        }
        if loaded.is_empty() {
            return Event::PlaybackDone;
        }
        let uris = sounds.iter().map(|s| format!("sound:{s}")).collect();
        self.play_loaded(loaded, uris, interruptible).await
    }

    /// Plays sounds already loaded (`uris` name them in the playback events) until they end,
    /// a digit stops them (when `interruptible`) or the call ends.
    pub(super) async fn play_loaded(
        &mut self,
        loaded: Vec<std::sync::Arc<crate::media::wav::Sound>>,
        uris: Vec<String>,
        interruptible: bool,
    ) -> Event {
        self.media.play(loaded, Instant::now());
        let mut playback = PlaybackSnapshot {
            id: random_id(),
            media_uri: uris,
            target_uri: format!("channel:{}", self.channel.id()),
            state: PlaybackState::Playing,
        };
        self.channel.events().publish(PbxEvent::PlaybackStarted {
            playback: playback.clone(),
        });
        let event = self.wait(Wait::Playback { interruptible }).await;
        self.media.stop_playback();
        playback.state = if event == Event::PlaybackDone {
            PlaybackState::Done
        } else {
            PlaybackState::Stopped
        };
        self.channel
            .events()
            .publish(PbxEvent::PlaybackFinished { playback });
        event
    }

    /// Runs media and SIP until what `wait` waits for happens.
    pub(super) async fn wait(&mut self, wait: Wait) -> Event {
        let timer = tokio::time::sleep(Duration::from_secs(86_400));
        tokio::pin!(timer);
        loop {
            if self.interrupted() {
                return Event::Hangup;
            }
            let until = match wait {
                Wait::Digit { until } | Wait::Sleep { until } => Some(until),
                _ => None,
            };
            let deadline = self.next_deadline([self.media.poll_timeout(), until]);
            rearm(timer.as_mut(), deadline);
            tokio::select! {
                event = self.events.recv() => {
                    match event {
                        Some(event) => {
                            if let Some(digit) = self.on_sip_event(event).await {
                                self.publish_digit(digit);
                                if let Some(result) = digit_result(wait, digit.digit) {
                                    return result;
                                }
                            }
                        }
                        None => self.hung_up = true,
                    }
                }
                Ok(()) = self.media.readable() => match self.media.receive(Instant::now()) {
                    Some(MediaEvent::Digit(digit)) => {
                        self.publish_digit(digit);
                        if let Some(result) = digit_result(wait, digit.digit) {
                            return result;
                        }
                    }
                    Some(MediaEvent::RecordingEnded(ended)) if matches!(wait, Wait::Record { .. }) => {
                        return Event::Recorded(match ended {
                            Some(Ended::MaxDuration) => RecordStatus::Timeout,
                            Some(Ended::Silence) => RecordStatus::Silence,
                            None => RecordStatus::Error,
                        });
                    }
                    _ => {}
                },
                _ = &mut timer => {
                    let now = Instant::now();
                    self.on_timers(now).await;
                    match self.media.handle_timeout(now) {
                        Some(MediaEvent::PlaybackDone) if matches!(wait, Wait::Playback { .. }) => {
                            return Event::PlaybackDone;
                        }
                        Some(MediaEvent::Inactive) => {
                            tracing::warn!(call = self.id, "no RTP received: hanging up");
                            self.hangup(None).await;
                            return Event::Hangup;
                        }
                        _ => {}
                    }
                    if let Wait::Digit { until } | Wait::Sleep { until } = wait {
                        if now >= until {
                            return Event::Timeout;
                        }
                    }
                }
            }
        }
    }
}

/// An outside program's session waiting for its next line (AGI, the event socket): the
/// dialog, the media and the timers are handled as every app handles them.
impl Call {
    /// A SIP event (`None`: the SIP task let the call go).
    pub(super) async fn idle_sip_event(&mut self, event: Option<CallEvent>) {
        match event {
            None => self.hung_up = true,
            Some(event) => {
                if let Some(digit) = Box::pin(self.on_sip_event(event)).await {
                    self.publish_digit(digit);
                }
            }
        }
    }

    /// Datagrams on the media socket: key presses are published.
    pub(super) fn idle_media(&mut self) {
        if let Some(MediaEvent::Digit(digit)) = self.media.receive(Instant::now()) {
            self.publish_digit(digit);
        }
    }

    /// The call's timers at `now`; no RTP for the inactivity timeout hangs up.
    pub(super) async fn idle_timers(&mut self, now: Instant) {
        self.on_timers(now).await;
        if let Some(MediaEvent::Inactive) = self.media.handle_timeout(now) {
            tracing::warn!(call = self.id, "no RTP received: hanging up");
            self.hangup(None).await;
        }
    }
}

/// What a digit means for the current wait: interruptible playback and digit waits return it.
fn digit_result(wait: Wait, digit: char) -> Option<Event> {
    match wait {
        Wait::Playback {
            interruptible: true,
        }
        | Wait::Digit { .. } => Some(Event::Digit(digit)),
        Wait::Record { terminators } if terminators.contains(digit) => {
            Some(Event::Recorded(RecordStatus::Dtmf(digit)))
        }
        _ => None,
    }
}
