//! An event-socket session in control of a channel (edge): `Socket(...)` connects to the
//! application, starts the session's task (`esl::outbound`) and then carries out the
//! `sendmsg` messages it passes on, one at a time in order, with the call task's own
//! machinery (answer, playback, digit waits, Dial, Record, ConfBridge, the interpreter's
//! variables), reporting CHANNEL_EXECUTE / _COMPLETE for each. Between messages the task
//! handles the dialog, the media and its timers. The apps themselves are in
//! [`super::esl_apps`].

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::task::Call;
use super::CallEvent;
use crate::dialplan::Event;
use crate::esl::app::EslApp;
use crate::esl::channel_data::{ChannelFacts, Core, Phase, Times};
use crate::esl::outbound::{
    self, now_micros, Execution, FromCall, Setup, ToCall, CALL_QUEUE, NOTICE_QUEUE,
};
use crate::esl::sendmsg::Execute;
use crate::esl::target::SocketTarget;

/// What woke an idle session up.
enum Wake {
    Message(Option<ToCall>),
    Sip(Option<CallEvent>),
    Media,
    Timer,
}

/// This process's identity on the event socket, made once.
pub fn core() -> &'static Core {
    static CORE: OnceLock<Core> = OnceLock::new();
    CORE.get_or_init(|| Core {
        uuid: crate::events::random_id(),
        hostname: std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "pbx".to_owned()),
    })
}

impl Call {
    /// Runs `Socket(target)`: `Hangup` once the call has ended, else `Done`.
    pub(super) async fn socket(&mut self, target: SocketTarget) -> Event {
        if self.hung_up {
            return Event::Hangup;
        }
        let timeout = self.shared.agi.connect_timeout();
        let connected = tokio::time::timeout(
            timeout,
            tokio::net::TcpStream::connect((target.host.as_str(), target.port)),
        )
        .await;
        let stream = match connected {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                tracing::warn!(call = self.id, host = %target.host, port = target.port, %error, "Socket: cannot connect");
                return self.socket_failed();
            }
            Err(_) => {
                tracing::warn!(call = self.id, host = %target.host, port = target.port, "Socket: no answer in {timeout:?}");
                return self.socket_failed();
            }
        };
        let (to_call, mut messages) = mpsc::channel(CALL_QUEUE);
        let (notices, from_call) = mpsc::channel(NOTICE_QUEUE);
        let mut facts = self.esl_facts();
        let age = self
            .channel
            .snapshot()
            .map_or(0, |s| s.duration_secs * 1_000_000);
        let now = now_micros();
        facts.times = Times {
            created: now.saturating_sub(age),
            answered: if self.answered { now } else { 0 },
            hangup: 0,
        };
        tokio::spawn(outbound::run(Setup {
            stream,
            target,
            facts,
            core: core().clone(),
            events: self.channel.events().subscribe(None),
            to_call,
            from_call,
        }));
        let mut resume = false;
        loop {
            if self.hung_up {
                let _ = notices.try_send(FromCall::HungUp);
                return Event::Hangup;
            }
            if self.redirected {
                let _ = notices.try_send(FromCall::Released);
                return Event::Done;
            }
            match self.esl_wait(&mut messages).await {
                Wake::Message(Some(ToCall::Execute { execute, done })) => {
                    self.esl_execute(execute, &notices).await;
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                }
                Wake::Message(Some(ToCall::Hangup { cause })) => {
                    self.request_hangup(cause, "dialplan");
                    self.hangup(Some(cause)).await;
                }
                Wake::Message(Some(ToCall::Resume)) => resume = true,
                Wake::Message(None) if resume => return Event::Done,
                Wake::Message(None) => {
                    tracing::info!(
                        call = self.id,
                        "Socket: the application let go without resume: hanging up"
                    );
                    self.request_hangup(16, "dialplan");
                    self.hangup(None).await;
                    return Event::Hangup;
                }
                other => self.esl_on_wake(other).await,
            }
        }
    }

    fn socket_failed(&mut self) -> Event {
        self.interpreter
            .set_var("SOCKET_STATUS", "FAILURE".to_owned());
        self.publish_notes();
        Event::Done
    }

    /// The channel as the event socket shows it now.
    pub(super) fn esl_facts(&self) -> ChannelFacts {
        let snapshot = self.channel.snapshot();
        let (context, exten, _) = self.interpreter.location();
        let var = |name: &str| self.interpreter.get_var(name).unwrap_or_default();
        ChannelFacts {
            uuid: self.channel.id().0.clone(),
            name: snapshot
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            state: snapshot
                .as_ref()
                .map_or(crate::channel::ChannelState::Ring, |s| s.state),
            phase: match (self.hung_up, self.answered) {
                (true, _) => Phase::Hangup,
                (false, true) => Phase::Active,
                (false, false) => Phase::Ringing,
            },
            caller_number: var("CALLERID(num)"),
            caller_name: var("CALLERID(name)"),
            destination: exten.to_owned(),
            context: context.to_owned(),
            times: Times::default(),
            variables: self
                .interpreter
                .variables()
                .iter()
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect(),
        }
    }

    /// Runs one `sendmsg` execute: CHANNEL_EXECUTE, the app (`loops` times), then
    /// CHANNEL_EXECUTE_COMPLETE with its response. An app the PBX does not have, or bad
    /// arguments, complete at once with the `-ERR` reason as the response.
    async fn esl_execute(&mut self, execute: Execute, notices: &mpsc::Sender<FromCall>) {
        let mut run = Execution {
            app: execute.app.clone(),
            arg: execute.arg.clone(),
            app_uuid: execute
                .event_uuid
                .clone()
                .unwrap_or_else(crate::events::random_id),
            response: String::new(),
            variables: self.esl_facts().variables,
        };
        let _ = notices.try_send(FromCall::Execute(Box::new(run.clone())));
        run.response = match EslApp::parse(&execute.app, &execute.arg) {
            Err(error) => {
                tracing::warn!(call = self.id, app = %execute.app, %error, "Socket: app not run");
                error.to_string()
            }
            Ok(app) => {
                let mut response = String::new();
                for _ in 0..execute.loops {
                    response = Box::pin(self.esl_run(&app)).await;
                    if self.hung_up || self.redirected {
                        break;
                    }
                }
                response
            }
        };
        run.variables = self.esl_facts().variables;
        let _ = notices.try_send(FromCall::Complete(Box::new(run)));
    }

    /// Waits for a message, a SIP event, media or a deadline.
    async fn esl_wait(&mut self, messages: &mut mpsc::Receiver<ToCall>) -> Wake {
        let deadline = self
            .next_deadline([self.media.poll_timeout()])
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
        tokio::select! {
            message = messages.recv() => Wake::Message(message),
            event = self.events.recv() => Wake::Sip(event),
            Ok(()) = self.media.readable() => Wake::Media,
            _ = tokio::time::sleep_until(deadline.into()) => Wake::Timer,
        }
    }

    /// Handles what woke an idle session (not a message).
    async fn esl_on_wake(&mut self, wake: Wake) {
        match wake {
            Wake::Message(_) => {}
            Wake::Sip(event) => self.idle_sip_event(event).await,
            Wake::Media => self.idle_media(),
            Wake::Timer => {
                let now = Instant::now();
                self.idle_timers(now).await;
            }
        }
    }
}
