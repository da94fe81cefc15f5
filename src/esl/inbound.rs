//! The inbound event socket (edge): `[event_socket]`'s listener, as FreeSWITCH's
//! `mod_event_socket` serves operators. Each client gets `auth/request`, must answer with
//! `auth PASSWORD` (a wrong one gets `-ERR invalid` and the connection closes), and can then
//! subscribe to events (`event plain|json NAMES`, `myevents UUID`, `filter`, `nixevent`,
//! `noevents`), run `api` commands ([`super::api`]) or `bgapi` ones (answered with a
//! `Job-UUID`, the result coming as BACKGROUND_JOB), and hang channels up with `sendmsg
//! UUID` / `call-command: hangup`. Events come from the one event stream under FreeSWITCH's
//! names ([`super::names`]), plus HEARTBEAT every [`HEARTBEAT`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::api::{ApiCommand, Originate};
use super::channel_data::{stamp_headers, ChannelFacts, Core, Phase, Times};
use super::command::Command;
use super::event::EslEvent;
use super::frame;
use super::names::translate;
use super::outbound::now_micros;
use super::request::RequestBuffer;
use super::sendmsg::CallCommand;
use super::subscription::Subscription;
use crate::call::command::ChannelCommand;
use crate::call::originate::OriginateRequest;
use crate::call::ControlCommand;
use crate::channel::{ChannelRegistry, ChannelSnapshot};
use crate::events::{EventBus, Read};

/// Clients served at once; more are closed at once.
pub const MAX_CONNECTIONS: usize = 128;

/// How often HEARTBEAT is sent (FreeSWITCH's default).
pub const HEARTBEAT: Duration = Duration::from_secs(20);

/// How long a client may take to authenticate.
const AUTH_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a channel command may take to be answered.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an originate may ring when the command gives no timeout.
const ORIGINATE_TIMEOUT: Duration = Duration::from_secs(60);

/// What every inbound session shares.
#[derive(Debug, Clone)]
pub struct InboundContext {
    /// The password `auth` must give.
    pub password: String,
    /// Networks clients may come from.
    pub networks: Vec<IpNet>,
    /// Live channels.
    pub channels: ChannelRegistry,
    /// The event stream.
    pub events: EventBus,
    /// Commands to the SIP task (hangups, originates).
    pub control: mpsc::Sender<ControlCommand>,
    /// The dialplan, for `reloadxml`.
    pub dialplan: crate::call::dialplan_handle::DialplanHandle,
    /// Each endpoint's context, where an originate to it goes unless told otherwise.
    pub endpoint_contexts: Arc<HashMap<String, String>>,
    /// When the PBX started.
    pub started: Instant,
    /// This process's identity.
    pub core: Core,
}

/// Serves clients on `listener` until `shutdown`.
pub async fn run(listener: TcpListener, context: InboundContext, shutdown: CancellationToken) {
    let context = Arc::new(context);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) if connections.len() < MAX_CONNECTIONS => {
                    connections.spawn(serve(stream, peer, Arc::clone(&context), shutdown.clone()));
                }
                Ok((_, peer)) => tracing::warn!(%peer, "event socket: too many clients"),
                Err(error) => {
                    tracing::warn!(%error, "event socket accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    while connections.join_next().await.is_some() {}
}

/// One client's session.
struct Session {
    stream: TcpStream,
    context: Arc<InboundContext>,
    subscription: Subscription,
    sequence: u64,
    jobs: JoinSet<(String, String, String)>,
}

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    context: Arc<InboundContext>,
    shutdown: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let mut session = Session {
        stream,
        context,
        subscription: Subscription::default(),
        sequence: 0,
        jobs: JoinSet::new(),
    };
    if !session
        .context
        .networks
        .iter()
        .any(|n| n.contains(&peer.ip()))
    {
        tracing::warn!(%peer, "event socket: client from a network not allowed");
        let _ = session.send(&frame::rude_rejection()).await;
        return;
    }
    let mut requests = RequestBuffer::default();
    if session.authenticate(&mut requests).await.is_err() {
        return;
    }
    let mut events = session.context.events.subscribe(None);
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let step = tokio::select! {
            _ = shutdown.cancelled() => Ok(false),
            read = events.next() => match read {
                Read::Event(published) => session.on_bus(&published.event).await.map(|()| true),
                _ => Ok(true),
            },
            Some(Ok((job, command, body))) = session.jobs.join_next(), if !session.jobs.is_empty() => {
                session.background_job(&job, &command, &body).await.map(|()| true)
            }
            _ = heartbeat.tick() => session.heartbeat().await.map(|()| true),
            read = session.stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => Ok(false),
                Ok(n) => {
                    requests.extend(&buf[..n]);
                    session.on_requests(&mut requests).await
                }
            },
        };
        match step {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
    }
    let _ = session.stream.shutdown().await;
}

impl Session {
    async fn send(&mut self, text: &str) -> std::io::Result<()> {
        self.stream.write_all(text.as_bytes()).await
    }

    /// `auth/request`, then `auth PASSWORD` (other commands before it are refused).
    async fn authenticate(&mut self, requests: &mut RequestBuffer) -> Result<(), ()> {
        self.send(&frame::auth_request()).await.map_err(|_| ())?;
        let mut buf = vec![0u8; 4096];
        let deadline = tokio::time::Instant::now() + AUTH_TIMEOUT;
        loop {
            while let Ok(Some(request)) = requests.next_request() {
                match Command::parse(&request) {
                    Ok(Command::Auth(password)) if password == self.context.password => {
                        self.send(&frame::command_reply("+OK accepted"))
                            .await
                            .map_err(|_| ())?;
                        return Ok(());
                    }
                    Ok(Command::Auth(_)) => {
                        tracing::warn!("event socket: wrong password");
                        let _ = self.send(&frame::command_reply("-ERR invalid")).await;
                        let _ = self.send(&frame::bye_notice()).await;
                        return Err(());
                    }
                    Ok(Command::Exit) => return Err(()),
                    _ => {
                        self.send(&frame::command_reply("-ERR command not found"))
                            .await
                            .map_err(|_| ())?;
                    }
                }
            }
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await;
            match read {
                Ok(Ok(n)) if n > 0 => requests.extend(&buf[..n]),
                _ => return Err(()),
            }
        }
    }

    /// Handles the complete requests; false when the session ends.
    async fn on_requests(&mut self, requests: &mut RequestBuffer) -> std::io::Result<bool> {
        loop {
            let request = match requests.next_request() {
                Ok(Some(request)) => request,
                Ok(None) => return Ok(true),
                Err(_) => return Ok(false),
            };
            let reply = match Command::parse(&request) {
                Err(error) => frame::command_reply(&error.to_string()),
                Ok(Command::Exit) => {
                    self.send(&frame::command_reply("+OK bye")).await?;
                    self.send(&frame::bye_notice()).await?;
                    return Ok(false);
                }
                Ok(command) => self.on_command(command).await,
            };
            self.send(&reply).await?;
        }
    }

    async fn on_command(&mut self, command: Command) -> String {
        match command {
            Command::Auth(_) => frame::command_reply("-ERR already authenticated"),
            Command::Event { format, names } => {
                self.subscription.add(format, &names);
                frame::command_reply(&format!("+OK event listener enabled {}", format.as_str()))
            }
            Command::MyEvents { format, uuid } => match uuid {
                Some(uuid) => {
                    self.subscription.my_events(format, &uuid);
                    frame::command_reply("+OK Events Enabled")
                }
                None => frame::command_reply("-ERR myevents needs a channel UUID here"),
            },
            Command::NixEvent(names) => {
                self.subscription.remove(&names);
                frame::command_reply("+OK events nixed")
            }
            Command::NoEvents => {
                self.subscription.clear();
                frame::command_reply("+OK no longer listening for events")
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
            Command::Api(line) => frame::api_response(&api(&self.context, &line).await),
            Command::BgApi { command, job_uuid } => {
                let job = job_uuid.unwrap_or_else(crate::events::random_id);
                let context = Arc::clone(&self.context);
                let id = job.clone();
                self.jobs.spawn(async move {
                    let body = api(&context, &command).await;
                    (id, command, body)
                });
                frame::command_reply_with(
                    &format!("+OK Job-UUID: {job}"),
                    &[("Job-UUID", job.as_str())],
                )
            }
            Command::SendMsg {
                uuid: Some(uuid),
                command: CallCommand::Hangup { cause },
            } => match kill(&self.context, &uuid, cause).await {
                Ok(()) => frame::command_reply("+OK"),
                Err(error) => frame::command_reply(&format!("-ERR {error}")),
            },
            Command::SendMsg { uuid: Some(_), .. } => frame::command_reply(
                "-ERR sendmsg execute runs only on an outbound socket (Socket()) session",
            ),
            Command::SendMsg { uuid: None, .. } => {
                frame::command_reply("-ERR sendmsg needs a channel UUID here")
            }
            Command::Connect | Command::GetVar(_) | Command::Resume => {
                frame::command_reply("-ERR this command is for outbound sessions")
            }
            Command::Linger(_) | Command::NoLinger => {
                frame::command_reply("-ERR linger is for outbound sessions")
            }
            Command::Unsupported(word) => {
                frame::command_reply(&format!("-ERR {word} is not supported by this PBX"))
            }
            Command::Exit | Command::Unknown => frame::command_reply("-ERR command not found"),
        }
    }

    fn stamped(&mut self, name: &str) -> EslEvent {
        self.sequence += 1;
        let mut event = EslEvent::new(name);
        event.extend(&stamp_headers(
            &self.context.core,
            now_micros(),
            self.sequence,
        ));
        event
    }

    async fn deliver(&mut self, event: EslEvent) -> std::io::Result<()> {
        if self.subscription.wants(&event) {
            let framed = frame::event(&event, self.subscription.format());
            self.send(&framed).await?;
        }
        Ok(())
    }

    async fn on_bus(&mut self, event: &crate::events::PbxEvent) -> std::io::Result<()> {
        if !self.subscription.active() {
            return Ok(());
        }
        for translated in translate(event) {
            let mut out = self.stamped(translated.name);
            let snapshot = translated.snapshot.cloned().or_else(|| {
                translated
                    .channel
                    .as_ref()
                    .and_then(|id| self.context.channels.snapshot(id))
            });
            if let Some(snapshot) = snapshot {
                out.extend(&facts(&snapshot, translated.phase).headers());
            }
            out.extend(&translated.headers);
            self.deliver(out).await?;
        }
        Ok(())
    }

    async fn background_job(
        &mut self,
        job: &str,
        command: &str,
        body: &str,
    ) -> std::io::Result<()> {
        let mut event = self.stamped("BACKGROUND_JOB");
        let (name, arg) = command.split_once(' ').unwrap_or((command, ""));
        event.push("Job-UUID", job);
        event.push("Job-Command", name);
        event.push("Job-Command-Arg", arg);
        event.set_body(body);
        self.deliver(event).await
    }

    async fn heartbeat(&mut self) -> std::io::Result<()> {
        let mut event = self.stamped("HEARTBEAT");
        let up = self.context.started.elapsed();
        event.push("Event-Info", "System Ready");
        event.push("Up-Time", uptime(up));
        event.push("Uptime-msec", up.as_millis().to_string());
        event.push("Session-Count", self.context.channels.active().to_string());
        event.push(
            "Session-Since-Startup",
            self.context.channels.calls_total().to_string(),
        );
        event.push("Heartbeat-Interval", HEARTBEAT.as_secs().to_string());
        self.deliver(event).await
    }
}

/// The channel facts an inbound event carries (no variables: those live in the call task;
/// no answer time: the snapshot does not keep it). The hangup time of a hangup event is now.
fn facts(s: &ChannelSnapshot, phase: Phase) -> ChannelFacts {
    let now = now_micros();
    let created = now.saturating_sub(s.duration_secs * 1_000_000);
    ChannelFacts {
        uuid: s.id.0.clone(),
        name: s.name.clone(),
        state: s.state,
        phase,
        caller_number: s.caller.number.clone(),
        caller_name: s.caller.name.clone(),
        destination: s.dialplan.exten.clone(),
        context: s.dialplan.context.clone(),
        times: Times {
            created,
            answered: 0,
            hangup: match phase {
                Phase::Hangup | Phase::Reported => now,
                Phase::Ringing | Phase::Active => 0,
            },
        },
        variables: Vec::new(),
    }
}

/// `UP 0 years, 0 days, 0 hours, 1 minute, 5 seconds, ...` as `status` and HEARTBEAT say it.
fn uptime(up: Duration) -> String {
    let secs = up.as_secs();
    let (days, hours, minutes, seconds) = (
        secs / 86_400 % 365,
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60,
    );
    format!(
        "{} years, {days} days, {hours} hours, {minutes} minutes, {seconds} seconds, {} milliseconds, {} microseconds",
        secs / (365 * 86_400),
        up.subsec_millis(),
        up.subsec_micros() % 1000
    )
}

/// Runs one API command line; its response body.
async fn api(context: &InboundContext, line: &str) -> String {
    let command = match ApiCommand::parse(line) {
        Ok(command) => command,
        Err(error) => return error.to_string(),
    };
    match command {
        ApiCommand::Status => format!(
            "UP {}\npbx (Version {}) is ready\n{} session(s) since startup\n{} session(s)\n",
            uptime(context.started.elapsed()),
            env!("CARGO_PKG_VERSION"),
            context.channels.calls_total(),
            context.channels.active(),
        ),
        ApiCommand::Version => format!(
            "pbx Version {} (event socket compatible with FreeSWITCH 1.10)\n",
            env!("CARGO_PKG_VERSION")
        ),
        ApiCommand::ShowChannels { json } | ApiCommand::ShowCalls { json } => {
            show_channels(context, json)
        }
        ApiCommand::UuidKill { uuid, cause } => match kill(context, &uuid, cause).await {
            Ok(()) => "+OK\n".to_owned(),
            Err(error) => format!("-ERR {error}\n"),
        },
        ApiCommand::Hupall { cause } => {
            for channel in context.channels.snapshots(Instant::now()) {
                let _ = kill(context, &channel.id.0, cause).await;
            }
            "+OK hangup all channels\n".to_owned()
        }
        ApiCommand::Reloadxml => match context.dialplan.reload() {
            Ok(_) => "+OK [Success]\n".to_owned(),
            Err(error) => format!("-ERR [{error}]\n"),
        },
        ApiCommand::Originate(originate) => originate_call(context, originate).await,
        ApiCommand::UuidGetvar { uuid, name } => {
            match channel_command(context, &uuid, |reply| ChannelCommand::GetVariable {
                name,
                reply,
            })
            .await
            {
                Ok(Some(value)) if !value.is_empty() => value,
                Ok(_) => "_undef_".to_owned(),
                Err(error) => format!("-ERR {error}\n"),
            }
        }
        ApiCommand::UuidSetvar { uuid, name, value } => {
            match channel_command(context, &uuid, |reply| ChannelCommand::SetVariable {
                name,
                value,
                reply,
            })
            .await
            {
                Ok(()) => "+OK\n".to_owned(),
                Err(error) => format!("-ERR {error}\n"),
            }
        }
        ApiCommand::UuidSendDtmf { uuid, digits } => {
            match channel_command(context, &uuid, |reply| ChannelCommand::SendDtmf {
                digits,
                reply,
            })
            .await
            {
                Ok(()) => "+OK\n".to_owned(),
                Err(error) => format!("-ERR {error}\n"),
            }
        }
        ApiCommand::NotSupported(name) => {
            format!("-ERR {name} is not supported by this PBX yet\n")
        }
        ApiCommand::Unknown(name) => format!("-ERR {name} Command not found!\n"),
    }
}

fn show_channels(context: &InboundContext, json: bool) -> String {
    let channels = context.channels.snapshots(Instant::now());
    let now = now_micros() / 1_000_000;
    let rows: Vec<Vec<(&str, String)>> = channels
        .iter()
        .map(|c| {
            vec![
                ("uuid", c.id.0.clone()),
                ("direction", "inbound".to_owned()),
                ("created", c.creationtime.clone()),
                (
                    "created_epoch",
                    now.saturating_sub(c.duration_secs).to_string(),
                ),
                ("name", c.name.clone()),
                ("state", "CS_EXECUTE".to_owned()),
                ("cid_name", c.caller.name.clone()),
                ("cid_num", c.caller.number.clone()),
                ("dest", c.dialplan.exten.clone()),
                ("application", c.dialplan.app_name.clone()),
                ("application_data", c.dialplan.app_data.clone()),
                ("context", c.dialplan.context.clone()),
                ("read_codec", c.codec.clone().unwrap_or_default()),
                (
                    "callstate",
                    match c.state {
                        crate::channel::ChannelState::Up => "ACTIVE",
                        crate::channel::ChannelState::Ringing => "EARLY",
                        _ => "RINGING",
                    }
                    .to_owned(),
                ),
            ]
        })
        .collect();
    if json {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::Value::Object(
                    r.iter()
                        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone())))
                        .collect(),
                )
            })
            .collect();
        return serde_json::json!({ "row_count": rows.len(), "rows": rows }).to_string();
    }
    let header = "uuid,direction,created,created_epoch,name,state,cid_name,cid_num,dest,application,application_data,context,read_codec,callstate";
    let mut out = format!("{header}\n");
    for row in &rows {
        let line: Vec<&str> = row.iter().map(|(_, v)| v.as_str()).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out.push_str(&format!("\n{} total.\n", rows.len()));
    out
}

/// Sends a channel command to the task that owns channel `uuid`; its answer, or why none.
async fn channel_command<T>(
    context: &InboundContext,
    uuid: &str,
    make: impl FnOnce(oneshot::Sender<Result<T, crate::call::command::CommandError>>) -> ChannelCommand,
) -> Result<T, String> {
    let (call, channel) = context
        .channels
        .find(uuid)
        .ok_or_else(|| "No such channel!".to_owned())?;
    let (reply, answer) = oneshot::channel();
    context
        .control
        .try_send(ControlCommand::Channel {
            call,
            channel,
            command: make(reply),
        })
        .map_err(|_| "busy, try again".to_owned())?;
    match tokio::time::timeout(REPLY_TIMEOUT, answer).await {
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(error))) => Err(error.to_string()),
        Ok(Err(_)) => Err("No such channel!".to_owned()),
        Err(_) => Err("busy, try again".to_owned()),
    }
}

/// Hangs up channel `uuid` through the task that owns it.
async fn kill(context: &InboundContext, uuid: &str, cause: u16) -> Result<(), &'static str> {
    let (call, channel) = context.channels.find(uuid).ok_or("No such channel!")?;
    let (reply, answer) = oneshot::channel();
    context
        .control
        .try_send(ControlCommand::Hangup {
            call,
            channel,
            cause,
            reply,
        })
        .map_err(|_| "busy, try again")?;
    match tokio::time::timeout(REPLY_TIMEOUT, answer).await {
        Ok(Ok(true)) => Ok(()),
        Ok(_) => Err("No such channel!"),
        Err(_) => Err("busy, try again"),
    }
}

/// `originate`: rings the endpoint; once answered it runs `exten`. `+OK UUID` when it was
/// answered, `-ERR CAUSE` otherwise.
async fn originate_call(context: &InboundContext, o: Originate) -> String {
    let exten_context = o.context.clone().unwrap_or_else(|| {
        o.endpoint
            .strip_prefix("endpoint/")
            .and_then(|user| context.endpoint_contexts.get(user).cloned())
            .unwrap_or_else(|| "internal".to_owned())
    });
    let timeout = o
        .timeout_secs
        .map_or(ORIGINATE_TIMEOUT, Duration::from_secs);
    let request = OriginateRequest {
        endpoint: o.endpoint,
        context: exten_context,
        exten: o.exten,
        caller_id: o.caller_number,
        timeout_secs: Some(timeout.as_secs().max(1)),
        priority: None,
        variables: o.variables,
        application: None,
        app_args: Vec::new(),
    };
    let mut events = context.events.subscribe(Some(context.events.last()));
    let (reply, ringing) = oneshot::channel();
    if context
        .control
        .try_send(ControlCommand::Originate { request, reply })
        .is_err()
    {
        return "-ERR NORMAL_TEMPORARY_FAILURE\n".to_owned();
    }
    let channel = match ringing.await {
        Ok(Ok(channel)) => channel,
        Ok(Err(error)) => {
            tracing::info!(%error, "event socket originate refused");
            return "-ERR SUBSCRIBER_ABSENT\n".to_owned();
        }
        Err(_) => return "-ERR NORMAL_TEMPORARY_FAILURE\n".to_owned(),
    };
    let outcome = tokio::time::timeout(timeout + Duration::from_secs(10), async {
        loop {
            match events.next().await {
                Read::Event(published) => match &published.event {
                    crate::events::PbxEvent::ChannelStateChanged { channel: c }
                        if c.id == channel.id && c.state == crate::channel::ChannelState::Up =>
                    {
                        return Ok(());
                    }
                    crate::events::PbxEvent::ChannelDestroyed {
                        channel: c, cause, ..
                    } if c.id == channel.id => {
                        return Err(*cause);
                    }
                    _ => {}
                },
                _ => continue,
            }
        }
    })
    .await;
    match outcome {
        Ok(Ok(())) => format!("+OK {}\n", channel.id),
        Ok(Err(cause)) => format!("-ERR {}\n", super::cause::name(cause)),
        Err(_) => "-ERR NO_ANSWER\n".to_owned(),
    }
}
