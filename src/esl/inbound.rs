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
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::channel_data::{stamp_headers, ChannelFacts, Core, Phase, Times};
use super::command::Command;
use super::event::EslEvent;
use super::frame;
use super::inbound_api::{api, kill, uptime};
use super::names::translate;
use super::outbound::now_micros;
use super::request::RequestBuffer;
use super::sendmsg::CallCommand;
use super::subscription::Subscription;
use crate::call::ControlCommand;
use crate::channel::{ChannelRegistry, ChannelSnapshot};
use crate::events::{EventBus, Read};

/// Clients served at once; more are closed at once.
pub const MAX_CONNECTIONS: usize = 128;

/// How often HEARTBEAT is sent (FreeSWITCH's default).
pub const HEARTBEAT: Duration = Duration::from_secs(20);

/// How long a client may take to authenticate.
const AUTH_TIMEOUT: Duration = Duration::from_secs(30);

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
