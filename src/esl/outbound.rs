//! One outbound event-socket session (edge): the connection `Socket(...)` opened to the
//! application, served by its own task. It answers the client's commands (`connect`,
//! `myevents`, `linger`, `getvar`, `filter`...), passes `sendmsg` call commands to the call
//! task over a bounded queue, and writes the channel's events: those the call task reports
//! itself (CHANNEL_EXECUTE / _COMPLETE, with the variables as they are then) and those of
//! the event stream that concern the channel, under FreeSWITCH's names ([`super::names`]).
//! When the channel hangs up it sends CHANNEL_HANGUP, then the disconnect notice, and
//! closes, or, after `linger`, stays until CHANNEL_HANGUP_COMPLETE or the linger time.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use super::channel_data::{stamp_headers, ChannelFacts, Core, Phase};
use super::command::Command;
use super::event::EslEvent;
use super::frame;
use super::names::translate;
use super::request::RequestBuffer;
use super::sendmsg::{CallCommand, Execute};
use super::subscription::Subscription;
use super::target::SocketTarget;
use crate::events::{Published, Read};

/// `sendmsg` messages one session can have waiting for the call task; beyond, a `sendmsg`
/// is answered `-ERR` and nothing is queued.
pub const CALL_QUEUE: usize = 64;

/// Reports the call task can have waiting for the session: two per queued message and two
/// more (hangup, release), so the call task never waits for a slow client.
pub const NOTICE_QUEUE: usize = 2 * CALL_QUEUE + 2;

/// How long `linger` without seconds keeps the socket open after the hangup, at most.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(600);

/// What the session asks of the call task.
#[derive(Debug)]
pub enum ToCall {
    /// Run an app; `done` is told when it has run (sessions without `async`).
    Execute {
        /// The app.
        execute: Execute,
        /// Told once it ran.
        done: Option<oneshot::Sender<()>>,
    },
    /// Hang up with a Q.850 cause.
    Hangup {
        /// The cause.
        cause: u16,
    },
    /// `resume`: go on in the dialplan when the session ends.
    Resume,
}

/// What the call task reports to the session.
#[derive(Debug)]
pub enum FromCall {
    /// An app started (CHANNEL_EXECUTE).
    Execute(Box<Execution>),
    /// An app ended (CHANNEL_EXECUTE_COMPLETE).
    Complete(Box<Execution>),
    /// The channel hung up.
    HungUp,
    /// The channel left the session without hanging up (`transfer`).
    Released,
}

/// One app run, as its events show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// `Application`.
    pub app: String,
    /// `Application-Data`.
    pub arg: String,
    /// `Application-UUID`.
    pub app_uuid: String,
    /// `Application-Response` (complete only).
    pub response: String,
    /// The channel's variables at that moment.
    pub variables: Vec<(String, String)>,
}

/// Everything a session starts with.
#[derive(Debug)]
pub struct Setup {
    /// The connection to the application.
    pub stream: TcpStream,
    /// How it was opened (`async`, `full`).
    pub target: SocketTarget,
    /// The channel as it is now.
    pub facts: ChannelFacts,
    /// This process's identity.
    pub core: Core,
    /// The event stream, read from before the session started.
    pub events: crate::events::Subscription,
    /// Messages to the call task.
    pub to_call: mpsc::Sender<ToCall>,
    /// Reports from it.
    pub from_call: mpsc::Receiver<FromCall>,
}

/// The session's own state.
struct Session {
    stream: TcpStream,
    target: SocketTarget,
    facts: ChannelFacts,
    core: Core,
    subscription: Subscription,
    linger: Option<Duration>,
    hangup_sent: bool,
    close_at: Option<Instant>,
    sequence: u64,
    current: Vec<(String, String)>,
    to_call: Option<mpsc::Sender<ToCall>>,
}

/// What ended a step of the loop.
enum Flow {
    Go,
    Close,
}

/// Serves one session to its end.
pub async fn run(setup: Setup) {
    let Setup {
        stream,
        target,
        facts,
        core,
        mut events,
        to_call,
        mut from_call,
    } = setup;
    let _ = stream.set_nodelay(true);
    let mut session = Session {
        stream,
        target,
        facts,
        core,
        subscription: Subscription::default(),
        linger: None,
        hangup_sent: false,
        close_at: None,
        sequence: 0,
        current: Vec::new(),
        to_call: Some(to_call),
    };
    let mut requests = RequestBuffer::default();
    let mut buf = vec![0u8; 16 * 1024];
    let mut call_gone = false;
    loop {
        let deadline = session
            .close_at
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
        let flow = tokio::select! {
            biased;
            read = events.next() => match read {
                Read::Event(published) => session.on_bus(&published).await,
                _ => Ok(Flow::Go),
            },
            notice = from_call.recv(), if !call_gone => match notice {
                Some(notice) => session.on_notice(notice).await,
                None => {
                    call_gone = true;
                    Ok(Flow::Go)
                }
            },
            read = session.stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => Ok(Flow::Close),
                Ok(n) => {
                    requests.extend(&buf[..n]);
                    session.on_bytes(&mut requests).await
                }
            },
            _ = tokio::time::sleep_until(deadline.into()) => Ok(Flow::Close),
        };
        match flow {
            Ok(Flow::Go) => {}
            Ok(Flow::Close) | Err(_) => break,
        }
    }
    let _ = session.stream.shutdown().await;
}

impl Session {
    async fn send(&mut self, text: &str) -> std::io::Result<()> {
        self.stream.write_all(text.as_bytes()).await
    }

    /// Handles every complete request received.
    async fn on_bytes(&mut self, requests: &mut RequestBuffer) -> std::io::Result<Flow> {
        loop {
            let request = match requests.next_request() {
                Ok(Some(request)) => request,
                Ok(None) => return Ok(Flow::Go),
                Err(error) => {
                    tracing::warn!(%error, "event socket: closing a session");
                    return Ok(Flow::Close);
                }
            };
            let flow = match Command::parse(&request) {
                Ok(command) => self.on_command(command).await?,
                Err(error) => {
                    self.send(&frame::command_reply(&error.to_string())).await?;
                    Flow::Go
                }
            };
            if let Flow::Close = flow {
                return Ok(Flow::Close);
            }
        }
    }

    async fn on_command(&mut self, command: Command) -> std::io::Result<Flow> {
        let reply = match command {
            Command::Connect => {
                let mut data = EslEvent::new("CHANNEL_DATA");
                data.extend(&self.stamps());
                data.extend(&self.facts.headers());
                frame::connect_reply(&data, self.target.async_mode, self.target.full)
            }
            Command::MyEvents { format, .. } => {
                let uuid = self.facts.uuid.clone();
                self.subscription.my_events(format, &uuid);
                frame::command_reply("+OK Events Enabled")
            }
            Command::Event { format, names } => {
                let uuid = self.facts.uuid.clone();
                self.subscription.add(format, &names);
                // An outbound session only ever sees its own channel.
                self.subscription.my_events(format, &uuid);
                frame::command_reply(&format!("+OK event listener enabled {}", format.as_str()))
            }
            Command::NixEvent(names) => {
                self.subscription.remove(&names);
                frame::command_reply("+OK events nixed")
            }
            Command::NoEvents => {
                self.subscription.clear();
                frame::command_reply("+OK no longer listening for events")
            }
            Command::Linger(seconds) => {
                self.linger = Some(seconds.map_or(DEFAULT_LINGER, Duration::from_secs));
                match seconds {
                    Some(s) => frame::command_reply(&format!("+OK will linger {s} seconds")),
                    None => frame::command_reply("+OK will linger"),
                }
            }
            Command::NoLinger => {
                self.linger = None;
                frame::command_reply("+OK will not linger")
            }
            Command::GetVar(name) => {
                let value = self
                    .variables()
                    .into_iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v)
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "_undef_".to_owned());
                frame::command_reply(&value)
            }
            Command::Resume => {
                self.tell_call(ToCall::Resume);
                frame::command_reply("+OK")
            }
            Command::Filter { header, value } => {
                self.subscription.add_filter(&header, &value);
                frame::command_reply(&format!("+OK filter added. [{header}]=[{value}]"))
            }
            Command::FilterDelete { header, value } => {
                match self.subscription.delete_filter(&header, value.as_deref()) {
                    true => frame::command_reply(&format!(
                        "+OK filter deleted. [{header}]=[{}]",
                        value.unwrap_or_default()
                    )),
                    false => frame::command_reply("-ERR filter not found."),
                }
            }
            Command::Exit => {
                self.send(&frame::command_reply("+OK bye")).await?;
                let notice = frame::disconnect_notice(&self.facts.uuid, &self.facts.name, None);
                self.send(&notice).await?;
                return Ok(Flow::Close);
            }
            Command::SendMsg { uuid, command } => {
                if uuid.is_some_and(|u| u != self.facts.uuid) {
                    frame::command_reply("-ERR an outbound session controls only its own channel")
                } else {
                    self.sendmsg(command).await
                }
            }
            Command::Api(line) | Command::BgApi { command: line, .. } => {
                let word = line
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                frame::api_response(&format!(
                    "-ERR {word} Command not found! (api is served on the inbound event socket, [event_socket])\n"
                ))
            }
            Command::Auth(_) => frame::command_reply("-ERR an outbound session needs no auth"),
            Command::Unsupported(word) => {
                frame::command_reply(&format!("-ERR {word} is not supported by this PBX"))
            }
            Command::Unknown => frame::command_reply("-ERR command not found"),
        };
        self.send(&reply).await?;
        Ok(Flow::Go)
    }

    /// Passes a call command on; the reply once it is queued (`async`) or has run.
    async fn sendmsg(&mut self, command: CallCommand) -> String {
        let Some(to_call) = self.to_call.clone() else {
            return frame::command_reply("-ERR the channel is gone");
        };
        let (message, done) = match command {
            CallCommand::Hangup { cause } => (ToCall::Hangup { cause }, None),
            CallCommand::Execute(execute) if self.target.async_mode => (
                ToCall::Execute {
                    execute,
                    done: None,
                },
                None,
            ),
            CallCommand::Execute(execute) => {
                let (tell, done) = oneshot::channel();
                (
                    ToCall::Execute {
                        execute,
                        done: Some(tell),
                    },
                    Some(done),
                )
            }
        };
        match to_call.try_send(message) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                return frame::command_reply(&format!(
                    "-ERR {CALL_QUEUE} messages are waiting already"
                ))
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                return frame::command_reply("-ERR the channel is gone")
            }
        }
        if let Some(done) = done {
            let _ = done.await;
        }
        frame::command_reply("+OK")
    }

    fn tell_call(&mut self, message: ToCall) {
        if let Some(to_call) = &self.to_call {
            let _ = to_call.try_send(message);
        }
    }

    /// The channel's variables, with the current app's.
    fn variables(&self) -> Vec<(String, String)> {
        let mut vars = self.facts.standard_variables();
        vars.extend(self.current.iter().cloned());
        vars
    }

    fn stamps(&mut self) -> Vec<(String, String)> {
        self.sequence += 1;
        stamp_headers(&self.core, now_micros(), self.sequence)
    }

    /// An event about the session's channel: stamps, the channel's headers, then `extra`.
    fn channel_event(&mut self, name: &str, extra: &[(String, String)]) -> EslEvent {
        let mut event = EslEvent::new(name);
        event.extend(&self.stamps());
        let mut facts = self.facts.clone();
        facts.variables.extend(self.current.iter().cloned());
        event.extend(&facts.headers());
        event.extend(extra);
        event
    }

    async fn deliver(&mut self, event: EslEvent) -> std::io::Result<()> {
        if self.subscription.wants(&event) {
            let framed = frame::event(&event, self.subscription.format());
            self.send(&framed).await?;
        }
        Ok(())
    }

    async fn on_notice(&mut self, notice: FromCall) -> std::io::Result<Flow> {
        match notice {
            FromCall::Execute(run) => {
                self.facts.variables = run.variables.clone();
                self.current = vec![
                    ("current_application".to_owned(), run.app.clone()),
                    ("current_application_data".to_owned(), run.arg.clone()),
                ];
                let event = self.channel_event("CHANNEL_EXECUTE", &execution_headers(&run, false));
                self.deliver(event).await?;
                Ok(Flow::Go)
            }
            FromCall::Complete(run) => {
                self.facts.variables = run.variables.clone();
                self.current = vec![
                    ("current_application".to_owned(), run.app.clone()),
                    ("current_application_data".to_owned(), run.arg.clone()),
                    (
                        "current_application_response".to_owned(),
                        run.response.clone(),
                    ),
                ];
                let event =
                    self.channel_event("CHANNEL_EXECUTE_COMPLETE", &execution_headers(&run, true));
                self.deliver(event).await?;
                Ok(Flow::Go)
            }
            FromCall::HungUp => self.hung_up(crate::channel::NORMAL_CLEARING, None).await,
            FromCall::Released => {
                self.to_call = None;
                let notice = frame::disconnect_notice(&self.facts.uuid, &self.facts.name, None);
                self.send(&notice).await?;
                Ok(Flow::Close)
            }
        }
    }

    /// The channel hung up: CHANNEL_HANGUP (unless the event stream's came first), then the
    /// disconnect notice; the socket closes unless it lingers.
    async fn hung_up(&mut self, cause: u16, event: Option<EslEvent>) -> std::io::Result<Flow> {
        if self.hangup_sent {
            return Ok(Flow::Go);
        }
        self.hangup_sent = true;
        self.to_call = None;
        if self.facts.times.hangup == 0 {
            self.facts.times.hangup = now_micros();
        }
        self.facts.phase = Phase::Hangup;
        let event = match event {
            Some(event) => event,
            None => self.channel_event(
                "CHANNEL_HANGUP",
                &[(
                    "Hangup-Cause".to_owned(),
                    super::cause::name(cause).to_owned(),
                )],
            ),
        };
        self.deliver(event).await?;
        let linger = self.linger;
        let notice = frame::disconnect_notice(
            &self.facts.uuid,
            &self.facts.name,
            linger.map(|l| l.as_secs()),
        );
        self.send(&notice).await?;
        match linger {
            Some(linger) => {
                self.close_at = Some(Instant::now() + linger);
                Ok(Flow::Go)
            }
            None => Ok(Flow::Close),
        }
    }

    async fn on_bus(&mut self, published: &Published) -> std::io::Result<Flow> {
        for translated in translate(&published.event) {
            if translated.channel.as_ref().map(|c| c.0.as_str()) != Some(self.facts.uuid.as_str()) {
                continue;
            }
            if let Some(snapshot) = translated.snapshot {
                self.facts.state = snapshot.state;
                if snapshot.state == crate::channel::ChannelState::Up
                    && self.facts.times.answered == 0
                {
                    self.facts.times.answered = now_micros();
                }
            }
            match translated.name {
                "CHANNEL_HANGUP" => {
                    self.facts.phase = Phase::Hangup;
                    self.facts.times.hangup = now_micros();
                    let event = self.channel_event(translated.name, &translated.headers);
                    if let Flow::Close = self.hung_up(0, Some(event)).await? {
                        return Ok(Flow::Close);
                    }
                }
                "CHANNEL_HANGUP_COMPLETE" => {
                    if !self.hangup_sent {
                        let cause = translated
                            .headers
                            .iter()
                            .find(|(n, _)| n == "Hangup-Cause")
                            .and_then(|(_, v)| super::cause::parse(v))
                            .unwrap_or(crate::channel::NORMAL_CLEARING);
                        if let Flow::Close = self.hung_up(cause, None).await? {
                            return Ok(Flow::Close);
                        }
                    }
                    self.facts.phase = Phase::Reported;
                    let event = self.channel_event(translated.name, &translated.headers);
                    self.deliver(event).await?;
                }
                "CHANNEL_DESTROY" => {
                    let event = self.channel_event(translated.name, &translated.headers);
                    self.deliver(event).await?;
                    return Ok(Flow::Close);
                }
                name => {
                    if name == "CHANNEL_STATE" {
                        self.facts.phase = Phase::Hangup;
                    }
                    let event = self.channel_event(name, &translated.headers);
                    self.deliver(event).await?;
                }
            }
        }
        Ok(Flow::Go)
    }
}

/// `Application`, `Application-Data`, `Application-UUID` (and `-Response` when complete).
fn execution_headers(run: &Execution, complete: bool) -> Vec<(String, String)> {
    let mut headers = vec![
        ("Application".to_owned(), run.app.clone()),
        ("Application-Data".to_owned(), run.arg.clone()),
    ];
    if complete {
        headers.push(("Application-Response".to_owned(), run.response.clone()));
    }
    headers.push(("Application-UUID".to_owned(), run.app_uuid.clone()));
    headers
}

/// Microseconds since the epoch, now.
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}
