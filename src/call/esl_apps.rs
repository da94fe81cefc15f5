//! The apps an event-socket application runs (edge), carried out on the call task with
//! its own machinery, each answered by its `Application-Response` as FreeSWITCH words it
//! (`_none_` for apps that give none, `FILE PLAYED`, `FILE NOT FOUND`, or `-ERR reason`).
//! Also the dialplan's `Speak(...)`, which shares the text-to-speech path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::task::Call;
use super::wait::{Keys, Wait};
use crate::dialplan::apps::record::RecordRequest;
use crate::dialplan::{Event, RecordStatus};
use crate::esl::app::{DigitsRequest, EslApp, Speech};
use crate::esl::playback::Media;
use crate::media::tone;
use crate::media::wav::Sound;

/// The response of an app that gives none.
const NONE: &str = "_none_";

/// How long `bridge` rings when the application says nothing (FreeSWITCH's
/// `call_timeout` default).
const BRIDGE_TIMEOUT: Duration = Duration::from_secs(60);

/// How a digit collection ended.
enum Collected {
    Digits(String),
    Hangup,
}

impl Call {
    /// Runs `app`; its response.
    pub(super) async fn esl_run(&mut self, app: &EslApp) -> String {
        match app {
            EslApp::Answer => {
                self.answer().await;
                NONE.to_owned()
            }
            EslApp::PreAnswer => {
                if !self.final_sent && !self.early_media {
                    self.provisional(183, true).await;
                    self.early_media = true;
                }
                NONE.to_owned()
            }
            EslApp::RingReady => {
                if !self.final_sent {
                    self.provisional(180, false).await;
                }
                NONE.to_owned()
            }
            EslApp::Hangup(cause) => {
                self.request_hangup(*cause, "dialplan");
                self.hangup(Some(*cause)).await;
                NONE.to_owned()
            }
            EslApp::Playback(media) => match self.esl_sounds(media).await {
                Err(error) => error,
                Ok((sounds, uris)) => {
                    self.early_media_for_playback().await;
                    match self.play_loaded(sounds, uris, false).await {
                        Event::Hangup => "PLAYBACK ERROR".to_owned(),
                        _ => "FILE PLAYED".to_owned(),
                    }
                }
            },
            EslApp::Speak(speech) => {
                let (engine, voice) = self.tts_choice(speech);
                match self.speak(&engine, &voice, &speech.text).await {
                    Ok(_) => NONE.to_owned(),
                    Err(error) => error,
                }
            }
            EslApp::PlayAndGetDigits(request) => {
                match self.esl_collect(request).await {
                    Collected::Digits(digits) => {
                        self.esl_set(&request.var, digits);
                    }
                    Collected::Hangup => {}
                }
                NONE.to_owned()
            }
            EslApp::Read(request) => {
                let result = match self.esl_collect(request).await {
                    Collected::Digits(digits) => {
                        self.esl_set(&request.var, digits);
                        "success"
                    }
                    Collected::Hangup => "failure",
                };
                let result = match self.interpreter.get_var(&request.var) {
                    Some(v) if v.is_empty() && result == "success" => "timeout",
                    _ => result,
                };
                self.esl_set("read_result", result.to_owned());
                NONE.to_owned()
            }
            EslApp::Set { name, value } | EslApp::Export { name, value } => {
                self.esl_set(name, value.clone());
                NONE.to_owned()
            }
            EslApp::Unset(name) => {
                self.esl_set(name, String::new());
                NONE.to_owned()
            }
            EslApp::Sleep(duration) => {
                self.wait(Wait::Sleep {
                    until: Instant::now() + *duration,
                })
                .await;
                NONE.to_owned()
            }
            EslApp::SendDtmf(digits) => {
                let now = Instant::now();
                let keys = digits.split('@').next().unwrap_or_default();
                match keys
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .all(|d| self.media.send_digit(d, now))
                {
                    true => NONE.to_owned(),
                    false => format!("-ERR cannot send {keys} (no telephone-event on this call)"),
                }
            }
            EslApp::Bridge(targets) => {
                let event = match Box::pin(self.dial(targets.clone(), BRIDGE_TIMEOUT)).await {
                    Ok(bridged) => Box::pin(self.bridge(*bridged)).await,
                    Err(event) => event,
                };
                match event {
                    Event::DialResult(status) => {
                        self.esl_set("DIALSTATUS", status.as_str().to_owned());
                        status.as_str().to_owned()
                    }
                    _ => NONE.to_owned(),
                }
            }
            EslApp::Transfer { exten, context } => {
                let context = context
                    .clone()
                    .unwrap_or_else(|| self.interpreter.location().0.to_owned());
                match self.interpreter.redirect(&context, exten, 1) {
                    Ok(()) => {
                        self.redirected = true;
                        NONE.to_owned()
                    }
                    Err(error) => format!("-ERR {error}"),
                }
            }
            EslApp::Park => NONE.to_owned(),
            EslApp::Record { name, limit } => {
                self.ensure_media().await;
                let event = Box::pin(self.record(RecordRequest {
                    name: name.clone(),
                    max_silence: None,
                    max_duration: *limit,
                    terminators: "#".to_owned(),
                    beep: false,
                    keep_on_hangup: true,
                }))
                .await;
                match event {
                    Event::Recorded(RecordStatus::Error) => "-ERR recording failed".to_owned(),
                    _ => NONE.to_owned(),
                }
            }
            EslApp::Conference(room) => {
                Box::pin(self.conference(room)).await;
                NONE.to_owned()
            }
            EslApp::Echo => {
                self.ensure_media().await;
                self.media.set_echo(true);
                Box::pin(self.wait(Wait::Echo)).await;
                self.media.set_echo(false);
                NONE.to_owned()
            }
            EslApp::Log(message) => {
                tracing::info!(call = self.id, "event socket log: {message}");
                NONE.to_owned()
            }
        }
    }

    /// FreeSWITCH plays to an unanswered channel with early media.
    async fn early_media_for_playback(&mut self) {
        if !self.answered && !self.early_media && !self.final_sent {
            self.provisional(183, true).await;
            self.early_media = true;
        }
    }

    fn esl_set(&mut self, name: &str, value: String) {
        self.interpreter.set_var(name, value);
        self.publish_notes();
    }

    /// The engine and voice `speech` asks for, else `${tts_engine}` / `${tts_voice}`.
    fn tts_choice(&self, speech: &Speech) -> (String, String) {
        let var = |name: &str| self.interpreter.get_var(name).unwrap_or_default();
        (
            speech.engine.clone().unwrap_or_else(|| var("tts_engine")),
            speech.voice.clone().unwrap_or_else(|| var("tts_voice")),
        )
    }

    /// Says `text` (answering first is the caller's business); the sound said, or why not.
    pub(super) async fn speak(
        &mut self,
        engine: &str,
        voice: &str,
        text: &str,
    ) -> Result<Event, String> {
        let sound = self
            .shared
            .tts
            .speak(engine, voice, text)
            .await
            .map_err(|error| {
                tracing::warn!(call = self.id, %error, "text not spoken");
                format!("-ERR {error}")
            })?;
        self.early_media_for_playback().await;
        Ok(self
            .play_loaded(vec![sound], vec![format!("say:{text}")], false)
            .await)
    }

    /// The dialplan's `Speak(text[,voice])`.
    pub(super) async fn speak_step(&mut self, text: &str, voice: &str) -> Event {
        if self.hung_up {
            return Event::Hangup;
        }
        self.ensure_media().await;
        self.speak("", voice, text)
            .await
            .unwrap_or(Event::PlaybackDone)
    }

    /// The sounds of `media` and their URIs for the playback events; an error response when
    /// none can be played.
    async fn esl_sounds(
        &mut self,
        media: &[Media],
    ) -> Result<(Vec<Arc<Sound>>, Vec<String>), String> {
        let mut sounds = Vec::with_capacity(media.len());
        let mut uris = Vec::with_capacity(media.len());
        for item in media {
            let loaded = match item {
                Media::Prompt(name) => self
                    .shared
                    .prompts
                    .get(name)
                    .map(|s| (s, format!("sound:{name}")))
                    .map_err(|e| e.to_string()),
                Media::File(path) => match tokio::fs::read(path).await {
                    Ok(bytes) => Sound::from_wav_bytes(path, &bytes)
                        .map(|s| (Arc::new(s), path.clone()))
                        .map_err(|e| e.to_string()),
                    Err(error) => Err(format!("{path}: {error}")),
                },
                Media::Say(text) => {
                    let (engine, voice) = self.tts_choice(&Speech {
                        engine: None,
                        voice: None,
                        text: text.clone(),
                    });
                    self.shared
                        .tts
                        .speak(&engine, &voice, text)
                        .await
                        .map(|s| (s, format!("say:{text}")))
                        .map_err(|e| e.to_string())
                }
                Media::Silence(duration) => Ok((
                    Arc::new(Sound::new("silence", tone::silence(*duration))),
                    format!("silence_stream://{}", duration.as_millis()),
                )),
                Media::Tone(t) => Ok((
                    Arc::new(Sound::new(
                        "tone",
                        tone::tone(
                            &t.frequencies,
                            Duration::from_millis(t.on_ms.into()),
                            Duration::from_millis(t.off_ms.into()),
                            t.loops,
                        ),
                    )),
                    "tone_stream://".to_owned(),
                )),
            };
            match loaded {
                Ok((sound, uri)) => {
                    sounds.push(sound);
                    uris.push(uri);
                }
                Err(error) => {
                    tracing::warn!(call = self.id, %error, "event socket: media not played");
                    if media.len() == 1 {
                        return Err(match item {
                            Media::Say(_) => format!("-ERR {error}"),
                            _ => "FILE NOT FOUND".to_owned(),
                        });
                    }
                }
            }
        }
        match sounds.is_empty() {
            true => Err("FILE NOT FOUND".to_owned()),
            false => Ok((sounds, uris)),
        }
    }

    /// play_and_get_digits / read: up to `tries` times, the prompt (a key stops it and
    /// counts), then keys until `max`, a terminator or a timeout; accepted when at least
    /// `min` keys came and they match the regular expression. After a wrong try the invalid
    /// prompt plays. `Digits("")` when every try failed.
    async fn esl_collect(&mut self, request: &DigitsRequest) -> Collected {
        let terminators = Keys::of(&request.terminators);
        let regex = request
            .regex
            .as_deref()
            .and_then(|r| match regex::Regex::new(r) {
                Ok(regex) => Some(regex),
                Err(error) => {
                    tracing::warn!(call = self.id, %error, "event socket: bad digits regexp ignored");
                    None
                }
            });
        let prompt = self.esl_sounds(&request.prompt).await.ok();
        let invalid = match request.invalid.is_empty() {
            true => None,
            false => self.esl_sounds(&request.invalid).await.ok(),
        };
        for attempt in 0..request.tries {
            if self.hung_up {
                return Collected::Hangup;
            }
            let mut digits = String::new();
            let mut terminated = false;
            if let Some((sounds, uris)) = prompt.clone() {
                self.early_media_for_playback().await;
                match self.play_loaded(sounds, uris, true).await {
                    Event::Digit(key) if terminators.contains(key) => terminated = true,
                    Event::Digit(key) => digits.push(key),
                    Event::Hangup => return Collected::Hangup,
                    _ => {}
                }
            }
            while !terminated && digits.len() < request.max {
                let wait = match digits.is_empty() {
                    true => request.timeout,
                    false => request.digit_timeout,
                };
                match self
                    .wait(Wait::Digit {
                        until: Instant::now() + wait,
                    })
                    .await
                {
                    Event::Digit(key) if terminators.contains(key) => terminated = true,
                    Event::Digit(key) => digits.push(key),
                    Event::Hangup => return Collected::Hangup,
                    _ => break,
                }
            }
            let matches = regex.as_ref().is_none_or(|r| r.is_match(&digits));
            if digits.len() >= request.min && !digits.is_empty() && matches {
                return Collected::Digits(digits);
            }
            if attempt + 1 < request.tries {
                if let Some((sounds, uris)) = invalid.clone() {
                    if self.play_loaded(sounds, uris, false).await == Event::Hangup {
                        return Collected::Hangup;
                    }
                }
            }
        }
        Collected::Digits(String::new())
    }
}
