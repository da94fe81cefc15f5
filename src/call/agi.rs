//! An AGI session in control of a channel (edge): `AGI(...)` opens the session's pipe (a
//! FastAGI connection, a program's stdin/stdout, or AsyncAGI's queue of AMI `AGI` actions),
//! sends the environment, then carries out one command line at a time with the call task's
//! own machinery (answer, the media loop's playback and digit waits, the interpreter's
//! variables and apps) and answers each with its result line. Between commands the task
//! handles the dialog, the media and its timers, as every app does.
//!
//! When the caller hangs up, a FastAGI or program peer is sent `HANGUP` once and may go on
//! with the commands Asterisk allows on a dead channel for [`DEAD_GRACE`]; others get 511.
//! The program is killed when the session ends. AsyncAGI ends at hangup or `ASYNCAGI BREAK`.
//! SET CONTEXT / EXTENSION / PRIORITY move the channel when the session ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::media_io::MediaEvent;
use super::task::Call;
use super::wait::Wait;
use super::CallEvent;
use crate::agi::command::{AgiCommand, EscapeDigits, ParseError, Timeout};
use crate::agi::env::{url_encode, AgiEnvironment};
use crate::agi::event::AgiEvent;
use crate::agi::reply::AgiReply;
use crate::agi::request::AgiRequest;
use crate::agi::say;
use crate::agi::session::{AgiStatus, Session};
use crate::agi::transport::{AgiPeer, TransportError};
use crate::dialplan::apps::{App, AppError, Outcome};
use crate::dialplan::{Event, RecordStatus};
use crate::events::PbxEvent;
use crate::media::wav::Sound;

/// How long a FastAGI or program peer may go on with dead-channel commands after `HANGUP`.
pub const DEAD_GRACE: Duration = Duration::from_secs(10);

/// GET DATA's wait for each key when the command gives none (Asterisk's 6 s).
const GET_DATA_TIMEOUT: Duration = Duration::from_secs(6);

/// GET OPTION's wait after the prompt when the command gives none (Asterisk's 5 s).
const GET_OPTION_TIMEOUT: Duration = Duration::from_secs(5);

/// Samples per millisecond of the prompts (8 kHz), for `endpos`.
const SAMPLES_PER_MS: u64 = 8;

/// What woke an idle session up.
enum Wake {
    Line(Result<Option<String>, TransportError>),
    Sip(Option<CallEvent>),
    Media,
    Timer,
}

impl Call {
    /// Runs `AGI(target, args)`: `Hangup` once the call has ended, else `Done` (the task then
    /// goes on with the next step, or where the program moved the channel).
    pub(super) async fn agi(
        &mut self,
        request: AgiRequest,
        target: String,
        args: Vec<String>,
    ) -> Event {
        if self.hung_up {
            self.set_agi_status(AgiStatus::Hangup);
            return Event::Hangup;
        }
        let env = self.agi_environment(&request, target, args.clone());
        let (context, exten, _) = self.interpreter.location();
        let mut session = Session::new(context, exten);
        let status = match request {
            AgiRequest::Async => self.async_agi(&env, &mut session).await,
            AgiRequest::Fast { host, port, script } => {
                let timeout = self.shared.agi.connect_timeout();
                match AgiPeer::connect(&host, port, timeout).await {
                    Ok(mut peer) => {
                        let mut opening = "agi_network: yes\n".to_owned();
                        if !script.is_empty() {
                            opening.push_str(&format!("agi_network_script: {script}\n"));
                        }
                        opening.push_str(&env.render());
                        self.serve_peer(&mut peer, &opening, &mut session).await
                    }
                    Err(error) => {
                        tracing::warn!(call = self.id, %error, "FastAGI failed");
                        AgiStatus::Failure
                    }
                }
            }
            AgiRequest::Program(name) => match self.shared.agi.dir() {
                None => {
                    tracing::warn!(call = self.id, program = %name, "AGI program refused: no [agi] dir configured");
                    AgiStatus::Failure
                }
                Some(dir) => match AgiPeer::spawn(&dir.join(&name), &args) {
                    Ok(mut peer) => {
                        self.serve_peer(&mut peer, &env.render(), &mut session)
                            .await
                    }
                    Err(error) => {
                        tracing::warn!(call = self.id, %error, "AGI program not run");
                        match error {
                            TransportError::NotFound(_) => AgiStatus::NotFound,
                            _ => AgiStatus::Failure,
                        }
                    }
                },
            },
        };
        self.set_agi_status(status);
        if self.hung_up {
            return Event::Hangup;
        }
        if let Some((context, exten, priority)) = session.destination().filter(|_| !self.redirected)
        {
            match self.interpreter.redirect(context, exten, priority) {
                Ok(()) => self.redirected = true,
                Err(error) => {
                    tracing::warn!(call = self.id, %error, "AGI moved the channel nowhere")
                }
            }
        }
        Event::Done
    }

    fn set_agi_status(&mut self, status: AgiStatus) {
        self.interpreter
            .set_var("AGISTATUS", status.as_str().to_owned());
        self.publish_notes();
    }

    /// The environment for this channel at its current step.
    fn agi_environment(
        &self,
        request: &AgiRequest,
        target: String,
        args: Vec<String>,
    ) -> AgiEnvironment {
        let snapshot = self.channel.snapshot();
        let name = snapshot
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let (context, exten, priority) = self.interpreter.location();
        AgiEnvironment {
            request: match request {
                AgiRequest::Async => "async".to_owned(),
                _ => target,
            },
            channel_type: name.split('/').next().unwrap_or_default().to_owned(),
            channel: name,
            language: snapshot.map(|s| s.language).unwrap_or_default(),
            unique_id: self.channel.id().0.clone(),
            caller_num: self
                .interpreter
                .get_var("CALLERID(num)")
                .unwrap_or_default(),
            caller_name: self
                .interpreter
                .get_var("CALLERID(name)")
                .unwrap_or_default(),
            dnid: self.contact_user.clone(),
            rdnis: String::new(),
            context: context.to_owned(),
            extension: exten.to_owned(),
            priority,
            account_code: String::new(),
            thread_id: self.id,
            args,
        }
    }

    fn publish_agi(&self, agi: AgiEvent) {
        self.channel
            .publish(|channel| PbxEvent::Agi { channel, agi });
    }

    /// A FastAGI or program session: the opening block, then line after line until the peer
    /// closes (or, after the hangup, [`DEAD_GRACE`] runs out).
    async fn serve_peer(
        &mut self,
        peer: &mut AgiPeer,
        opening: &str,
        session: &mut Session,
    ) -> AgiStatus {
        if let Err(error) = peer.send(opening).await {
            tracing::warn!(call = self.id, %error, "AGI peer gone before the environment");
            return AgiStatus::Failure;
        }
        let mut dead_until = None;
        loop {
            if self.redirected {
                return AgiStatus::Success;
            }
            if self.hung_up && dead_until.is_none() {
                dead_until = Some(Instant::now() + DEAD_GRACE);
                if peer.send("HANGUP\n").await.is_err() {
                    return AgiStatus::Hangup;
                }
            }
            if dead_until.is_some_and(|until| Instant::now() >= until) {
                return AgiStatus::Hangup;
            }
            let wake = self.agi_wait(Some(peer), session, dead_until).await;
            let line = match wake {
                Wake::Line(Ok(Some(line))) => line,
                Wake::Line(Ok(None)) => {
                    return match self.hung_up {
                        true => AgiStatus::Hangup,
                        false => AgiStatus::Success,
                    }
                }
                Wake::Line(Err(error)) => {
                    tracing::warn!(call = self.id, %error, "AGI session ended");
                    return AgiStatus::Failure;
                }
                other => {
                    self.agi_on_wake(other, session).await;
                    continue;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            let reply = self.agi_run_line(&line, session).await;
            if let Err(error) = peer.send(&reply.to_string()).await {
                tracing::info!(call = self.id, %error, "AGI peer gone");
                return match self.hung_up {
                    true => AgiStatus::Hangup,
                    false => AgiStatus::Failure,
                };
            }
        }
    }

    /// An AsyncAGI session: `AsyncAGIStart`, the queued commands with their results in
    /// `AsyncAGIExec`, then `AsyncAGIEnd`.
    async fn async_agi(&mut self, env: &AgiEnvironment, session: &mut Session) -> AgiStatus {
        self.async_agi = Some(Box::default());
        self.publish_agi(AgiEvent::AsyncStart {
            env: env.url_encoded(),
        });
        let status = loop {
            if self.hung_up {
                break AgiStatus::Hangup;
            }
            if self.redirected || session.broken {
                break AgiStatus::Success;
            }
            let next = self.async_agi.as_mut().and_then(|q| q.pop());
            if let Some((line, command_id)) = next {
                let reply = self.agi_run_line(&line, session).await;
                self.publish_agi(AgiEvent::AsyncExec {
                    command_id,
                    result: url_encode(&reply.to_string()),
                });
                continue;
            }
            let wake = self.agi_wait(None, session, None).await;
            self.agi_on_wake(wake, session).await;
        };
        self.async_agi = None;
        self.publish_agi(AgiEvent::AsyncEnd);
        status
    }

    /// Waits for a command line, a SIP event, media or a deadline (cancel-safe: what woke
    /// it is handled by the caller).
    async fn agi_wait(
        &mut self,
        peer: Option<&mut AgiPeer>,
        session: &Session,
        dead_until: Option<Instant>,
    ) -> Wake {
        let deadline =
            self.next_deadline([self.media.poll_timeout(), session.autohangup, dead_until]);
        let deadline = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
        let line = async {
            match peer {
                Some(peer) => peer.next_line().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            line = line => Wake::Line(line),
            event = self.events.recv() => Wake::Sip(event),
            Ok(()) = self.media.readable() => Wake::Media,
            _ = tokio::time::sleep_until(deadline.into()) => Wake::Timer,
        }
    }

    /// Handles what woke an idle session (not a command line).
    async fn agi_on_wake(&mut self, wake: Wake, session: &mut Session) {
        match wake {
            Wake::Line(_) => {}
            Wake::Sip(None) => self.hung_up = true,
            Wake::Sip(Some(event)) => {
                if let Some(digit) = Box::pin(self.on_sip_event(event)).await {
                    self.publish_digit(digit);
                }
            }
            Wake::Media => {
                if let Some(MediaEvent::Digit(digit)) = self.media.receive(Instant::now()) {
                    self.publish_digit(digit);
                }
            }
            Wake::Timer => {
                let now = Instant::now();
                self.on_timers(now).await;
                if let Some(MediaEvent::Inactive) = self.media.handle_timeout(now) {
                    tracing::warn!(call = self.id, "no RTP received: hanging up");
                    self.hangup(None).await;
                }
                if session.autohangup.is_some_and(|at| now >= at) && !self.hung_up {
                    session.autohangup = None;
                    tracing::info!(call = self.id, "AGI autohangup");
                    self.request_hangup(16, "timeout");
                    self.hangup(None).await;
                }
            }
        }
    }

    /// Parses and carries out one command line, publishing AGIExecStart/AGIExecEnd.
    async fn agi_run_line(&mut self, line: &str, session: &mut Session) -> AgiReply {
        let command_id = session.next_command_id();
        self.publish_agi(AgiEvent::ExecStart {
            command_id: command_id.clone(),
            command: line.to_owned(),
        });
        let reply = match AgiCommand::parse(line) {
            Err(ParseError::Unknown) => AgiReply::InvalidCommand,
            Err(ParseError::Usage(usage)) => AgiReply::Usage(usage),
            Ok(command) if self.hung_up && !command.allowed_when_dead() => AgiReply::DeadChannel,
            Ok(command) => Box::pin(self.agi_execute(command, session)).await,
        };
        tracing::debug!(call = self.id, command = %line, reply = %reply.to_string().trim_end(), "AGI");
        self.publish_agi(AgiEvent::ExecEnd {
            command_id,
            command: line.to_owned(),
            result_code: reply.code(),
            result: reply.summary().to_owned(),
        });
        reply
    }

    /// Carries out one command with Asterisk's result semantics.
    async fn agi_execute(&mut self, command: AgiCommand, session: &mut Session) -> AgiReply {
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
                let words = say::number(number);
                let sounds = match words.iter().all(|w| self.shared.prompts.get(w).is_ok()) {
                    true => words,
                    false => say::digits(&number.to_string()),
                };
                self.agi_say(sounds, &escape).await
            }
            AgiCommand::SayAlpha { text, escape } => self.agi_say(say::alpha(&text), &escape).await,
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
                self.interpreter.set_var("CALLERID(num)", number.clone());
                self.interpreter.set_var("CALLERID(name)", name.clone());
                self.publish_notes();
                self.channel.update(|c| {
                    c.caller.number = number;
                    c.caller.name = name;
                });
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
