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

use std::time::{Duration, Instant};

use super::task::Call;
use super::CallEvent;
use crate::agi::command::{AgiCommand, ParseError};
use crate::agi::env::{url_encode, AgiEnvironment};
use crate::agi::event::AgiEvent;
use crate::agi::reply::AgiReply;
use crate::agi::request::AgiRequest;
use crate::agi::session::{AgiStatus, Session};
use crate::agi::transport::{AgiPeer, TransportError};
use crate::dialplan::Event;
use crate::events::PbxEvent;

/// How long a FastAGI or program peer may go on with dead-channel commands after `HANGUP`.
pub const DEAD_GRACE: Duration = Duration::from_secs(10);

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
            Wake::Sip(event) => self.idle_sip_event(event).await,
            Wake::Media => self.idle_media(),
            Wake::Timer => {
                let now = Instant::now();
                self.idle_timers(now).await;
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
}
