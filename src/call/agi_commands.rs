//! The AGI commands a session runs on its channel (edge), each with Asterisk's result
//! semantics: answer, stream and say with escape digits, get data, wait for a digit, channel
//! variables and status, the AstDB, EXEC of a dialplan app, hangup. The session around them
//! (pipes, environment, dead-channel grace) is [`super::agi`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::task::Call;
use super::wait::Wait;
use crate::agi::command::{AgiCommand, EscapeDigits, Timeout};
use crate::agi::reply::AgiReply;
use crate::agi::session::Session;
use crate::dialplan::apps::record::RecordRequest;
use crate::dialplan::apps::{App, AppError, Outcome};
use crate::dialplan::{Event, RecordStatus};
use crate::media::say;
use crate::media::wav::Sound;

/// GET DATA's wait for each key when the command gives none (Asterisk's 6 s).
const GET_DATA_TIMEOUT: Duration = Duration::from_secs(6);

/// GET OPTION's wait after the prompt when the command gives none (Asterisk's 5 s).
const GET_OPTION_TIMEOUT: Duration = Duration::from_secs(5);

/// Samples per millisecond of the prompts (8 kHz), for `endpos`.
const SAMPLES_PER_MS: u64 = 8;

impl Call {
    /// Carries out one command with Asterisk's result semantics.
    pub(super) async fn agi_execute(
        &mut self,
        command: AgiCommand,
        session: &mut Session,
    ) -> AgiReply {
        match command {
            AgiCommand::Answer => {
                self.answer().await;
                AgiReply::result(if self.answered { 0 } else { -1 })
            }
            AgiCommand::Hangup { channel } => {
                if channel.is_some_and(|c| !self.is_own_channel(&c)) {
                    return AgiReply::result(-1);
                }
                self.request_hangup(16, "dialplan");
                self.hangup(None).await;
                AgiReply::result(1)
            }
            AgiCommand::StreamFile {
                file,
                escape,
                offset,
                ..
            } => match self.agi_stream(&[file], &escape, offset).await {
                Some((result, endpos)) => AgiReply::with_endpos(result, endpos),
                None => AgiReply::with_endpos(-1, offset),
            },
            AgiCommand::RecordFile {
                file,
                format,
                escape,
                timeout,
                beep,
                silence,
            } => {
                let request = RecordRequest {
                    name: file,
                    max_silence: silence,
                    max_duration: timeout,
                    terminators: escape.as_str().to_owned(),
                    beep,
                    keep_on_hangup: true,
                };
                self.agi_record(request, &format).await
            }
            AgiCommand::GetData {
                file,
                timeout,
                max_digits,
            } => {
                self.agi_get_data(&file, timeout.unwrap_or(GET_DATA_TIMEOUT), max_digits)
                    .await
            }
            AgiCommand::GetOption {
                file,
                escape,
                timeout,
            } => {
                let Some((result, endpos)) = self.agi_stream(&[file], &escape, 0).await else {
                    return AgiReply::with_endpos(-1, 0);
                };
                if result != 0 {
                    return AgiReply::with_endpos(result, endpos);
                }
                let until = Instant::now() + timeout.unwrap_or(GET_OPTION_TIMEOUT);
                AgiReply::with_endpos(self.agi_wait_digit(until).await, endpos)
            }
            AgiCommand::SayDigits { digits, escape } => {
                self.agi_say(say::digits(&digits), &escape).await
            }
            AgiCommand::SayNumber { number, escape } => {
                self.agi_say(say::number(number), &escape).await
            }
            AgiCommand::SayAlpha { text, escape } => self.agi_say(say::alpha(&text), &escape).await,
            AgiCommand::SayPhonetic { text, escape } => {
                self.agi_say(say::phonetic(&text), &escape).await
            }
            AgiCommand::WaitForDigit(timeout) => {
                let wait = match timeout {
                    Timeout::Forever => Duration::from_secs(86_400),
                    Timeout::After(wait) => wait,
                };
                AgiReply::result(self.agi_wait_digit(Instant::now() + wait).await)
            }
            AgiCommand::SetVariable { name, value } => {
                self.interpreter.set_var(&name, value);
                self.publish_notes();
                AgiReply::result(1)
            }
            AgiCommand::GetVariable(name) => match self.interpreter.get_var(&name) {
                Some(value) => AgiReply::with_data(1, value),
                None => AgiReply::result(0),
            },
            AgiCommand::GetFullVariable {
                expression,
                channel,
            } => {
                if channel.is_some_and(|c| !self.is_own_channel(&c)) {
                    return AgiReply::result(0);
                }
                match self.interpreter.expand(&expression) {
                    Ok(value) => AgiReply::with_data(1, value),
                    Err(_) => AgiReply::result(0),
                }
            }
            AgiCommand::SetContext(context) => {
                session.set_context(context);
                AgiReply::result(0)
            }
            AgiCommand::SetExtension(exten) => {
                session.set_extension(exten);
                AgiReply::result(0)
            }
            AgiCommand::SetPriority(priority) => {
                session.set_priority(priority);
                AgiReply::result(0)
            }
            AgiCommand::SetCallerId { name, number } => {
                self.interpreter.set_var("CALLERID(num)", number);
                self.interpreter.set_var("CALLERID(name)", name);
                self.publish_notes();
                AgiReply::result(1)
            }
            AgiCommand::SetAutohangup(after) => {
                session.autohangup = (!after.is_zero()).then(|| Instant::now() + after);
                AgiReply::result(0)
            }
            AgiCommand::ChannelStatus(channel) => {
                let snapshot = match channel {
                    None => self.channel.snapshot(),
                    Some(key) => self
                        .shared
                        .channels
                        .find(&key)
                        .and_then(|(_, id)| self.shared.channels.snapshot(&id)),
                };
                match snapshot {
                    Some(s) => AgiReply::result(crate::ami::fields::state_number(s.state).into()),
                    None => AgiReply::result(-1),
                }
            }
            AgiCommand::Exec { app, options } => {
                AgiReply::result(self.agi_exec(&app, &options).await)
            }
            AgiCommand::Verbose(message) => {
                tracing::info!(call = self.id, "AGI: {message}");
                AgiReply::result(1)
            }
            AgiCommand::Noop => AgiReply::result(0),
            AgiCommand::AsyncAgiBreak => {
                session.broken = true;
                AgiReply::result(0)
            }
            AgiCommand::DatabaseGet { family, key } => match self.shared.astdb.get(&family, &key) {
                Some(value) => AgiReply::with_data(1, value),
                None => AgiReply::result(0),
            },
            AgiCommand::DatabasePut { family, key, value } => {
                let saved = self.shared.astdb.put(&family, &key, &value);
                AgiReply::result(self.database_result(saved.map(|()| true)))
            }
            AgiCommand::DatabaseDel { family, key } => {
                let deleted = self.shared.astdb.del(&family, &key);
                AgiReply::result(self.database_result(deleted))
            }
            AgiCommand::DatabaseDelTree { family, prefix } => {
                let deleted = self.shared.astdb.del_tree(&family, prefix.as_deref());
                // Asterisk answers 0 when keys were deleted and 1 when none were: kept as is,
                // since programs written against it read it so.
                let result = match deleted {
                    Ok(n) if n > 0 => 0,
                    _ => 1,
                };
                AgiReply::result(result)
            }
        }
    }

    /// DATABASE PUT / DEL's result: 1 done, 0 not (the key was missing or saving failed).
    fn database_result(&self, done: Result<bool, crate::astdb::AstDbError>) -> i64 {
        match done {
            Ok(true) => 1,
            Ok(false) => 0,
            Err(error) => {
                tracing::warn!(call = self.id, %error, "AGI DATABASE");
                0
            }
        }
    }

    fn is_own_channel(&self, key: &str) -> bool {
        key == self.channel.id().0 || self.channel.snapshot().is_some_and(|s| s.name == key)
    }

    /// RECORD FILE: records into `request.name` until a key, the timeout, silence or the
    /// hangup; answers with what ended it and where the recording ends, in samples.
    async fn agi_record(&mut self, request: RecordRequest, format: &str) -> AgiReply {
        if format != crate::media::recordings::FORMAT {
            tracing::info!(call = self.id, %format, "AGI RECORD FILE: only wav is written");
            return AgiReply::with_data(-1, "writefile");
        }
        let (event, length) = self.record_file(request).await;
        let endpos = length.as_millis() as u64 * SAMPLES_PER_MS;
        match event {
            Event::Recorded(RecordStatus::Dtmf(key)) => {
                AgiReply::with_data_and_endpos(key as i64, "dtmf", endpos)
            }
            Event::Recorded(RecordStatus::Error) => AgiReply::with_data(-1, "writefile"),
            Event::Recorded(_) => AgiReply::with_data_and_endpos(0, "timeout", endpos),
            _ => AgiReply::with_data_and_endpos(-1, "hangup", endpos),
        }
    }

    /// Plays `names` from sample `offset`; a key in `escape` stops it. `None` when none of the
    /// sounds exist; else the result (the key's ASCII code, 0, or -1 on hangup) and where it
    /// stopped, in samples.
    async fn agi_stream(
        &mut self,
        names: &[String],
        escape: &EscapeDigits,
        offset: u64,
    ) -> Option<(i64, u64)> {
        let mut sounds = Vec::with_capacity(names.len());
        for name in names {
            match self.shared.prompts.get(name) {
                Ok(sound) => sounds.push(sound),
                Err(error) => tracing::info!(call = self.id, %error, "AGI: sound not played"),
            }
        }
        if sounds.is_empty() {
            return None;
        }
        let sounds = skip_samples(sounds, offset);
        let remaining: u64 = sounds.iter().map(|s| s.samples().len() as u64).sum();
        if !self.answered && !self.early_media && !self.final_sent {
            self.provisional(183, true).await;
            self.early_media = true;
        }
        let started = Instant::now();
        self.media.play(sounds, started);
        let result = loop {
            let event = self
                .wait(Wait::Playback {
                    interruptible: !escape.is_empty(),
                })
                .await;
            match event {
                Event::Digit(key) if escape.contains(key) => break key as i64,
                Event::Digit(_) => continue,
                Event::PlaybackDone => break 0,
                _ => break -1,
            }
        };
        self.media.stop_playback();
        let played = (started.elapsed().as_millis() as u64 * SAMPLES_PER_MS).min(remaining);
        Some((result, offset + played))
    }

    /// SAY DIGITS / NUMBER / ALPHA: the result of playing `sounds`, without `endpos`.
    async fn agi_say(&mut self, sounds: Vec<String>, escape: &EscapeDigits) -> AgiReply {
        if sounds.is_empty() {
            return AgiReply::result(0);
        }
        match self.agi_stream(&sounds, escape, 0).await {
            Some((result, _)) => AgiReply::result(result),
            None => AgiReply::result(-1),
        }
    }

    /// Waits for a key until `until`: its ASCII code, 0 on timeout, -1 on hangup.
    async fn agi_wait_digit(&mut self, until: Instant) -> i64 {
        match self.wait(Wait::Digit { until }).await {
            Event::Digit(key) => key as i64,
            Event::Timeout => 0,
            _ => -1,
        }
    }

    /// GET DATA: the prompt (any key stops it and counts), then keys until `max` of them,
    /// `#`, or `timeout` without a key (`(timeout)`).
    async fn agi_get_data(&mut self, file: &str, timeout: Duration, max: usize) -> AgiReply {
        let mut digits = String::new();
        match self
            .agi_stream(&[file.to_owned()], &EscapeDigits::all(), 0)
            .await
        {
            None | Some((-1, _)) => return AgiReply::result(-1),
            Some((0, _)) => {}
            Some((key, _)) => match char::from_u32(key as u32) {
                Some('#') => return AgiReply::result_text(digits, None),
                Some(key) => digits.push(key),
                None => {}
            },
        }
        while digits.len() < max {
            match self
                .wait(Wait::Digit {
                    until: Instant::now() + timeout,
                })
                .await
            {
                Event::Digit('#') => break,
                Event::Digit(key) => digits.push(key),
                Event::Timeout => return AgiReply::result_text(digits, Some("timeout")),
                _ => return AgiReply::result(-1),
            }
        }
        AgiReply::result_text(digits, None)
    }

    /// EXEC: runs dialplan app `name(options)` on the channel; its result as Asterisk gives
    /// it (0, -1 when it hung up or failed, -2 when there is no such app).
    async fn agi_exec(&mut self, name: &str, options: &str) -> i64 {
        let app = match App::parse(name, options) {
            Ok(app) => app,
            Err(AppError::UnknownApp(_)) => {
                tracing::warn!(call = self.id, app = %name, "AGI EXEC: no such application");
                return -2;
            }
            Err(error) => {
                tracing::warn!(call = self.id, app = %name, %error, "AGI EXEC: bad arguments");
                return -1;
            }
        };
        let outcome = self.interpreter.exec(&app);
        self.publish_notes();
        let event = match outcome {
            Outcome::Next => Event::Done,
            Outcome::Answer => {
                self.answer().await;
                Event::Done
            }
            Outcome::Ringing | Outcome::Progress if self.final_sent => Event::Done,
            Outcome::Ringing => {
                self.provisional(180, false).await;
                Event::Done
            }
            Outcome::Progress => {
                self.provisional(183, true).await;
                self.early_media = true;
                Event::Done
            }
            Outcome::Hangup(cause) => {
                self.request_hangup(cause.map(super::task::q850_cause).unwrap_or(16), "dialplan");
                self.hangup(cause).await;
                Event::Hangup
            }
            Outcome::Play { sounds, answer, .. } => {
                if answer {
                    self.ensure_media().await;
                }
                Box::pin(self.play(&sounds, false)).await
            }
            Outcome::Wait(duration) => {
                Box::pin(self.wait(Wait::Sleep {
                    until: Instant::now() + duration,
                }))
                .await
            }
            Outcome::WaitExten(timeout) => {
                Box::pin(self.wait(Wait::Digit {
                    until: Instant::now() + timeout,
                }))
                .await
            }
            Outcome::Echo => {
                self.ensure_media().await;
                self.media.set_echo(true);
                let event = Box::pin(self.wait(Wait::Echo)).await;
                self.media.set_echo(false);
                event
            }
            Outcome::Dial {
                targets, timeout, ..
            } => {
                let event = match Box::pin(self.dial(targets, timeout)).await {
                    Ok(bridged) => Box::pin(self.bridge(*bridged)).await,
                    Err(event) => event,
                };
                if let Event::DialResult(status) = event {
                    self.interpreter
                        .set_var("DIALSTATUS", status.as_str().to_owned());
                    self.publish_notes();
                }
                event
            }
            Outcome::ConfBridge(room) => Box::pin(self.conference(&room)).await,
            Outcome::Stasis { app, args } => Box::pin(self.stasis(app, args)).await,
            Outcome::Record {
                request,
                answer,
                skip_unanswered,
            } => {
                let event = if skip_unanswered && !self.answered {
                    Event::Recorded(RecordStatus::Skip)
                } else {
                    if answer {
                        self.answer().await;
                    }
                    Box::pin(self.record(request)).await
                };
                if let Event::Recorded(status) = event {
                    self.interpreter
                        .set_var("RECORD_STATUS", status.as_str().to_owned());
                    self.publish_notes();
                }
                event
            }
            Outcome::Speak { text, voice } => Box::pin(self.speak_step(&text, &voice)).await,
            Outcome::Goto(_) | Outcome::Read(_) | Outcome::Agi { .. } | Outcome::Socket(_) => {
                tracing::warn!(call = self.id, app = %name, "AGI EXEC: this app only runs as a dialplan step");
                return -1;
            }
        };
        match event {
            Event::Hangup => -1,
            _ => 0,
        }
    }
}

/// The sounds after their first `offset` samples (STREAM FILE's sample offset).
fn skip_samples(sounds: Vec<Arc<Sound>>, offset: u64) -> Vec<Arc<Sound>> {
    if offset == 0 {
        return sounds;
    }
    let mut skip = offset;
    let mut out = Vec::with_capacity(sounds.len());
    for sound in sounds {
        let len = sound.samples().len() as u64;
        if skip >= len {
            skip -= len;
            continue;
        }
        if skip == 0 {
            out.push(sound);
        } else {
            let rest = sound.samples()[skip as usize..].to_vec();
            out.push(Arc::new(Sound::new(sound.name(), rest)));
            skip = 0;
        }
    }
    out
}
