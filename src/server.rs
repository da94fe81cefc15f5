//! Start-up and shutdown (edge): binds the sockets, loads saved registrations, spawns the
//! long-lived tasks into one `JoinSet` under one `CancellationToken`, and on shutdown stops
//! them and saves the bindings.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket as StdUdpSocket};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::BytesMut;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use tokio::sync::mpsc;

use crate::bridge::BridgeRegistry;
use crate::call::dialplan_handle::{DialplanHandle, DialplanSource};
use crate::call::originate::{self, OriginateSetup};
use crate::call::runtimes::CallRuntimes;
use crate::call::task::{self as call_task, CallShared};
use crate::call::{
    ControlCommand, SipCommand, CALL_EVENT_CAPACITY, CONTROL_CAPACITY, SIP_COMMAND_CAPACITY,
};
use crate::channel::ChannelRegistry;
use crate::config::Config;
use crate::control::api::{self, ApiState, EndpointView};
use crate::control::trace::SipTrace;
use crate::dialplan::DialplanError;
use crate::drain::Drain;
use crate::events::EventBus;
use crate::location::{Location, LocationError};
use crate::media::ports::{PortError, PortPool};
use crate::media::prompts::PromptLibrary;
use crate::registration::Registration;
use crate::router::trusted_proxy::TrustedProxies;
use crate::router::{EndpointProfile, Router, RouterSettings};
use crate::transport::udp::UdpTransport;
use crate::transport::TransportStats;
use crate::trunk::{TrunkBoard, Trunks};

/// How often lapsed bindings are swept.
const SWEEP_INTERVAL: Duration = Duration::from_secs(5);
/// Bindings changes are saved at most this often (a registration storm writes once).
const SAVE_COALESCE: Duration = Duration::from_secs(1);
/// How long shutdown waits for calls to hang up before abandoning them.
const CALL_DRAIN: Duration = Duration::from_secs(3);

/// Why the server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The SIP socket could not be bound.
    #[error("cannot bind SIP on {addr}: {source}")]
    SipBind {
        /// The configured address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The admin API socket could not be bound.
    #[error("cannot bind the admin API on {addr}: {source}")]
    ApiBind {
        /// The configured address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The AMI socket could not be bound.
    #[error("cannot bind AMI on {addr}: {source}")]
    AmiBind {
        /// The configured address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The AstDB file could not be read.
    #[error("{0}")]
    AstDb(#[from] crate::astdb::AstDbError),
    /// Saved registrations could not be loaded.
    #[error("cannot load saved registrations: {0}")]
    Location(#[from] LocationError),
    /// The dialplan could not be loaded.
    #[error("{0}")]
    Dialplan(#[from] DialplanError),
    /// The RTP port range is unusable.
    #[error("{0}")]
    Ports(#[from] PortError),
    /// The threads that run calls could not be started.
    #[error("cannot start the call threads: {0}")]
    CallThreads(std::io::Error),
    /// `[event_socket]` is unusable (no password beyond loopback, a bad network).
    #[error("{0}")]
    EventSocket(#[from] crate::config::event_socket::EventSocketError),
    /// The event socket could not be bound.
    #[error("cannot bind the event socket on {addr}: {source}")]
    EventSocketBind {
        /// The configured address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// `[tts]` names an engine that is not installed, or its cache directory is unusable.
    #[error("[tts]: {0}")]
    Tts(#[from] crate::tts::TtsError),
    /// `[location] proxy` does not resolve.
    #[error("{0}")]
    LocationProxy(#[from] crate::location_proxy::LocationProxyError),
}

/// Runs the PBX until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), ServerError> {
    let started = Instant::now();
    let tts = crate::tts::Tts::new(&config.tts)?;
    let persist = config
        .registrar
        .persist_file
        .clone()
        .filter(|p| !p.as_os_str().is_empty());
    let location = match &persist {
        Some(path) => Location::load(path, Instant::now(), SystemTime::now())?,
        None => Location::new(),
    };
    if !location.is_empty() {
        tracing::info!(bindings = location.len(), "restored saved registrations");
    }
    let node = config.node.name();
    let events = EventBus::for_node(config.events.window, node);
    // Subscribed before anything is published, so the metrics miss no event.
    let metrics_events = events.subscribe(None);
    let location = location.with_events(events.clone());
    let stats = Arc::new(TransportStats::default());
    let transport = UdpTransport::bind(config.sip.bind, stats.clone())
        .await
        .map_err(|source| ServerError::SipBind {
            addr: config.sip.bind,
            source,
        })?;
    let api_listener = tokio::net::TcpListener::bind(*config.api.bind.get_ref())
        .await
        .map_err(|source| ServerError::ApiBind {
            addr: *config.api.bind.get_ref(),
            source,
        })?;
    let ami_listener = if config.ami.enabled {
        let listener = tokio::net::TcpListener::bind(config.ami.bind)
            .await
            .map_err(|source| ServerError::AmiBind {
                addr: config.ami.bind,
                source,
            })?;
        Some(listener)
    } else {
        None
    };
    let esl_listener = if config.event_socket.enabled {
        let password = config.event_socket.password()?;
        let networks = config.event_socket.networks()?;
        let listener = tokio::net::TcpListener::bind(config.event_socket.bind)
            .await
            .map_err(|source| ServerError::EventSocketBind {
                addr: config.event_socket.bind,
                source,
            })?;
        Some((listener, password, networks))
    } else {
        None
    };
    let dialplan = DialplanHandle::load(match config.dialplan.file() {
        Some(path) => DialplanSource::File(path.to_path_buf()),
        None => DialplanSource::Embedded,
    })?;
    let ports = PortPool::new(
        *config.rtp.port_min.get_ref(),
        *config.rtp.port_max.get_ref(),
    )?;
    let advertised = SocketAddr::new(advertised_ip(&config), transport.local_addr().port());
    let location_proxy = crate::location_proxy::LocationProxy::resolve(&config.location).await?;
    if let Some(proxy) = &location_proxy {
        tracing::info!(proxy = %proxy.send_to, "endpoints are reached through the location proxy");
    }
    let drain = Drain::default();
    tracing::info!(sip = %transport.local_addr(), %advertised, api = %config.api.bind.get_ref(), endpoints = config.endpoints.len(), rtp = %format!("{}-{}", config.rtp.port_min.get_ref(), config.rtp.port_max.get_ref()), "pbx started");

    let registry = ChannelRegistry::new(events.clone()).with_node(node);
    let bridges = BridgeRegistry::new(events.clone());
    let endpoints: std::collections::HashMap<String, EndpointProfile> = config
        .endpoints
        .iter()
        .map(|e| {
            (
                e.user.get_ref().clone(),
                EndpointProfile {
                    context: e.context.clone(),
                    codecs: e.codecs.clone(),
                    max_concurrent_calls: e.max_concurrent_calls,
                    allowed_trunks: e.allowed_trunks.clone(),
                },
            )
        })
        .collect();
    let trunks = Trunks::resolve(&config.trunks).await;
    let trunk_board = TrunkBoard::new(&trunks, events.clone());
    let bans = crate::bans::Bans::new(config.security.policy(), events.clone());
    let router = Router::new(
        RouterSettings {
            advertised,
            user_agent: config.sip.user_agent.clone(),
            max_message_size: config.sip.max_message_size,
            endpoints: endpoints.clone(),
            trunks: trunks.clone(),
            trunk_board: trunk_board.clone(),
            bans: bans.clone(),
            scanner_user_agents: config.security.scanner_user_agents.clone(),
            trusted_proxies: TrustedProxies::from_config(&config.trusted_proxies),
            drain: drain.clone(),
        },
        Registration::new(&config, location.clone(), bans.clone()),
        location.clone(),
        stats.clone(),
        registry.clone(),
    );
    let (commands, command_rx) = mpsc::channel(SIP_COMMAND_CAPACITY);
    let (control, control_rx) = mpsc::channel(CONTROL_CAPACITY);
    let trace = SipTrace::default();
    let playbacks = crate::call::live::PlaybackIndex::default();
    let conferences =
        crate::call::conference::ConferenceRooms::new(bridges.clone(), playbacks.clone());
    let live_recordings = crate::call::live::RecordingIndex::default();
    let prompts = Arc::new(
        PromptLibrary::new(config.dialplan.sounds_dir().map(Into::into)).with_recordings(
            crate::media::recordings::RecordingStore::new(config.dialplan.recordings_dir.clone()),
        ),
    );
    let astdb = crate::astdb::AstDb::open(config.agi.db_file())?;
    let stasis_apps = crate::stasis_apps::StasisApps::default();
    let metrics_trunks = trunks.clone();
    let ami_trunks = Arc::new(trunks.clone());
    let call_shared = CallShared {
        commands,
        ports: ports.clone(),
        prompts: Arc::clone(&prompts),
        dialplan: dialplan.clone(),
        channels: registry.clone(),
        bridges: bridges.clone(),
        location: location.clone(),
        location_proxy: location_proxy.map(Arc::new),
        endpoints: Arc::new(endpoints),
        trunks: Arc::new(trunks),
        sip_address: advertised,
        rtp_bind: config.sip.bind.ip(),
        media_address: advertised.ip(),
        user_agent: config.sip.user_agent.clone(),
        rtp_timeout: Duration::from_secs(config.rtp.inactivity_timeout_secs),
        conferences: conferences.clone(),
        playbacks: playbacks.clone(),
        live_recordings: live_recordings.clone(),
        recordings: crate::media::recordings::RecordingStore::new(
            config.dialplan.recordings_dir.clone(),
        ),
        agi: Arc::new(config.agi.clone()),
        astdb: astdb.clone(),
        stasis_apps: stasis_apps.clone(),
        tts,
    };
    let tally = crate::metrics::SharedTally::default();
    let metrics = crate::metrics::Sources {
        location: location.clone(),
        transport: stats.clone(),
        channels: registry.clone(),
        bridges: bridges.clone(),
        events: events.clone(),
        trunk_board: trunk_board.clone(),
        trunks: metrics_trunks,
        bans: bans.clone(),
        ports: ports.clone(),
        tally: tally.clone(),
        started: SystemTime::now(),
    };
    let qualify_every = Duration::from_secs(config.registrar.qualify_interval_secs);
    let call_runtimes = CallRuntimes::per_core().map_err(ServerError::CallThreads)?;

    let mut tasks = JoinSet::new();
    tasks.spawn(sip_loop(
        SipLoop {
            transport,
            router,
            commands: command_rx,
            control: control_rx,
            trace: trace.clone(),
            calls: call_shared,
            call_runtimes,
            qualify_every,
            drain: drain.clone(),
        },
        shutdown.clone(),
    ));
    tasks.spawn(reload_on_sighup(dialplan.clone(), shutdown.clone()));
    tasks.spawn(crate::metrics::tally::run(
        metrics_events,
        tally,
        shutdown.clone(),
    ));
    tasks.spawn(crate::drain::on_sigterm(
        drain.clone(),
        Duration::from_secs(config.node.drain_grace_secs),
        shutdown.clone(),
    ));
    tasks.spawn(sweep_loop(location.clone(), shutdown.clone()));
    if let Some(path) = persist.clone() {
        tasks.spawn(save_loop(location.clone(), path, shutdown.clone()));
    }
    if let Some(listener) = ami_listener {
        let users = crate::ami::users::Users::from_config(&config.ami);
        if users.usable() == 0 {
            tracing::warn!("AMI is enabled but no [[ami.user]] has a secret: nobody can log in");
        }
        tracing::info!(ami = %config.ami.bind, users = users.usable(), "AMI listening");
        let context = crate::ami::perform::AmiContext {
            users,
            channels: registry.clone(),
            bridges: bridges.clone(),
            control: control.clone(),
            events: events.clone(),
            started,
            started_wall: SystemTime::now(),
            auth_timeout: Duration::from_secs(config.ami.auth_timeout_secs),
            astdb: astdb.clone(),
            dialect: config.ami.dialect,
            dialplan: dialplan.clone(),
            endpoints: Arc::new(config.endpoints.clone()),
            trunks: ami_trunks,
            trunk_board: trunk_board.clone(),
            location: location.clone(),
            conferences: conferences.clone(),
        };
        tasks.spawn(crate::ami::listener::run(
            listener,
            context,
            shutdown.clone(),
        ));
    }
    if let Some((listener, password, networks)) = esl_listener {
        tracing::info!(event_socket = %config.event_socket.bind, "event socket listening");
        let context = crate::esl::inbound::InboundContext {
            password,
            networks,
            channels: registry.clone(),
            events: events.clone(),
            control: control.clone(),
            dialplan: dialplan.clone(),
            endpoint_contexts: Arc::new(
                config
                    .endpoints
                    .iter()
                    .map(|e| (e.user.get_ref().clone(), e.context.clone()))
                    .collect(),
            ),
            started,
            core: crate::call::esl_core().clone(),
        };
        tasks.spawn(crate::esl::inbound::run(
            listener,
            context,
            shutdown.clone(),
        ));
    }
    let api_state = ApiState {
        metrics,
        location: location.clone(),
        transport: stats,
        started,
        channels: registry,
        bridges,
        events,
        shutdown: shutdown.clone(),
        drain,
        ports,
        dialplan,
        control,
        trunks: trunk_board,
        bans,
        trace,
        conferences,
        playbacks,
        live_recordings,
        prompts: Arc::clone(&prompts),
        recordings: crate::media::recordings::RecordingStore::new(
            config.dialplan.recordings_dir.clone(),
        ),
        endpoints: Arc::new(
            config
                .endpoints
                .iter()
                .map(|e| EndpointView {
                    user: e.user.get_ref().clone(),
                    context: e.context.clone(),
                    codecs: e
                        .codecs
                        .iter()
                        .map(|c| c.encoding_name().to_string())
                        .collect(),
                    max_contacts: e.max_contacts,
                    registered: 0,
                })
                .collect(),
        ),
    };
    let mut app = api::router(api_state.clone());
    if let Some(token) = crate::control::auth::ApiToken::new(&config.api.token) {
        app = app.route_layer(axum::middleware::from_fn_with_state(
            token,
            crate::control::auth::require,
        ));
    }
    if config.ari.enabled {
        let users = crate::ari::auth::Users::from_config(&config.ari);
        if users.is_empty() {
            tracing::warn!("ARI is enabled but has no [[ari.user]]: every /ari request gets 401");
        }
        tracing::info!(users = users.len(), "ARI served under /ari");
        app = app.merge(crate::ari::router(crate::ari::AriState {
            api: api_state,
            apps: stasis_apps,
            users: Arc::new(users),
            asterisk_id: crate::ari::new_asterisk_id().into(),
            prompts,
            started_wall: SystemTime::now(),
        }));
    }
    let api_shutdown = shutdown.clone();
    tasks.spawn(async move {
        let served = axum::serve(api_listener, app)
            .with_graceful_shutdown(async move { api_shutdown.cancelled().await })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "admin API stopped");
        }
    });

    shutdown.cancelled().await;
    while tasks.join_next().await.is_some() {}
    if let Some(path) = persist {
        if let Err(error) = location.save(&path, Instant::now(), SystemTime::now()) {
            tracing::error!(%error, "saving registrations at shutdown failed");
        }
    }
    tracing::info!("pbx stopped");
    Ok(())
}

/// The address to advertise: `external_address`, else the bind address, else the address of
/// the interface holding the default route (found without sending anything), else loopback.
fn advertised_ip(config: &Config) -> IpAddr {
    if let Some(external) = &config.sip.external_address {
        return *external.get_ref();
    }
    let bind = config.sip.bind.ip();
    let ip = if bind.is_unspecified() {
        default_route_ip().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        bind
    };
    if is_private(ip) {
        tracing::warn!(%ip, "advertising a private address and [sip] external_address is unset: phones outside this network (or outside docker) will get one-way or no audio; set EXTERNAL_IP");
    }
    ip
}

fn default_route_ip() -> Option<IpAddr> {
    // connect() on UDP only selects a route and source address; no packet is sent.
    let socket = StdUdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// What the SIP task owns.
struct SipLoop {
    transport: UdpTransport,
    router: Router,
    commands: mpsc::Receiver<SipCommand>,
    control: mpsc::Receiver<ControlCommand>,
    trace: SipTrace,
    calls: CallShared,
    call_runtimes: CallRuntimes,
    qualify_every: Duration,
    drain: Drain,
}

/// The SIP task: datagrams, transaction timers, commands from calls, qualify; spawns and reaps
/// call tasks. While draining it shuts the server down once no call is left, or at the
/// drain's deadline. On shutdown it asks every call to hang up and lets them finish briefly.
async fn sip_loop(state: SipLoop, shutdown: CancellationToken) {
    let SipLoop {
        transport,
        mut router,
        mut commands,
        mut control,
        trace,
        calls: shared,
        call_runtimes,
        qualify_every,
        drain,
    } = state;
    let mut buf = BytesMut::with_capacity(65_536);
    let mut call_tasks = JoinSet::new();
    let mut qualify = (!qualify_every.is_zero()).then(|| {
        let mut interval = tokio::time::interval(qualify_every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });
    let mut drain_until: Option<Instant> = None;
    loop {
        let deadline = router.poll_timeout();
        tokio::select! {
            _ = shutdown.cancelled(), if drain_until.is_none() => {
                router.hangup_all();
                router.unregister_trunks(Instant::now());
                drain_until = Some(Instant::now() + CALL_DRAIN);
            }
            _ = sleep_until(drain_until), if drain_until.is_some() => break,
            _ = drain.started(), if drain_until.is_none() => {
                tracing::info!(calls = call_tasks.len(), deadline_in_secs = ?drain.deadline().map(|d| d.saturating_duration_since(Instant::now()).as_secs()), "draining: new calls refused, calls in progress go on");
            }
            _ = sleep_until(drain.deadline()), if !shutdown.is_cancelled() && drain.deadline().is_some() => {
                tracing::info!(calls = call_tasks.len(), "drain grace period over: hanging up");
                shutdown.cancel();
            }
            received = transport.recv(&mut buf) => match received {
                Ok((data, source)) => {
                    trace.record(true, source, &data);
                    router.handle_datagram(data, source, Instant::now());
                }
                Err(error) => tracing::debug!(%error, "SIP receive error"),
            },
            Some(command) = commands.recv() => {
                router.handle_command(command, Instant::now());
                while let Ok(command) = commands.try_recv() {
                    router.handle_command(command, Instant::now());
                }
            }
            Some(command) = control.recv() => match command {
                ControlCommand::Hangup { call, channel, cause, reply } => {
                    let _ = reply.send(router.hangup(call, channel, cause));
                }
                ControlCommand::Channel { call, channel, command } => {
                    router.command(call, channel, command);
                }
                ControlCommand::Originate { reply, .. } if drain.is_draining() => {
                    let _ = reply.send(Err(crate::call::originate::OriginateError::Draining));
                }
                ControlCommand::Originate { request, reply } => {
                    let (events, receiver) = mpsc::channel(CALL_EVENT_CAPACITY);
                    let setup = OriginateSetup {
                        id: router.originate(events),
                        request,
                        events: receiver,
                        reply,
                    };
                    call_tasks.spawn_on(originate::run(shared.clone(), setup), call_runtimes.next());
                }
            },
            Some(ended) = call_tasks.join_next(), if !call_tasks.is_empty() => {
                if let Err(error) = ended {
                    tracing::error!(%error, "call task failed");
                }
            }
            _ = sleep_until(deadline) => router.handle_timeout(Instant::now()),
            _ = tick(&mut qualify), if drain_until.is_none() => router.qualify(Instant::now()),
        }
        while let Some(setup) = router.poll_new_call() {
            call_tasks.spawn_on(call_task::run(shared.clone(), setup), call_runtimes.next());
        }
        while let Some((to, data)) = router.poll_transmit() {
            trace.record(false, to, &data);
            transport.send(&data, to);
        }
        router.publish_transaction_count();
        if drain_until.is_some() && call_tasks.is_empty() && router.trunks_settled() {
            break;
        }
        if !shutdown.is_cancelled() && drain.is_draining() && call_tasks.is_empty() {
            tracing::info!("drained: no call left, stopping");
            shutdown.cancel();
        }
    }
    // The last calls' final requests (their BYEs) may still be queued behind their end.
    while let Ok(command) = commands.try_recv() {
        router.handle_command(command, Instant::now());
    }
    while let Some((to, data)) = router.poll_transmit() {
        trace.record(false, to, &data);
        transport.send(&data, to);
    }
    call_tasks.shutdown().await;
    drop(call_runtimes);
}

/// Reloads the dialplan on SIGHUP, keeping the old one when the new one has errors.
async fn reload_on_sighup(dialplan: DialplanHandle, shutdown: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        return;
    };
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = hangups.recv() => match dialplan.reload() {
                Ok(_) => tracing::info!("dialplan reloaded (SIGHUP)"),
                Err(error) => tracing::error!(%error, "dialplan reload failed; keeping the current dialplan"),
            },
        }
    }
}

/// Sleeps until `deadline`, or forever when there is none (a `select!` branch that never fires).
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

async fn sweep_loop(location: Location, shutdown: CancellationToken) {
    let mut interval = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = interval.tick() => {
                let removed = location.sweep(Instant::now());
                if removed > 0 {
                    tracing::info!(removed, "expired registrations removed");
                }
            }
        }
    }
}

async fn save_loop(location: Location, path: PathBuf, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = location.changed() => {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(SAVE_COALESCE) => {}
                }
                // Serializing and writing thousands of bindings must not hold up SIP.
                let (snapshot, file) = (location.clone(), path.clone());
                let saved = tokio::task::spawn_blocking(move || {
                    snapshot.save(&file, Instant::now(), SystemTime::now())
                })
                .await;
                match saved {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => tracing::error!(%error, "saving registrations failed"),
                    Err(error) => tracing::error!(%error, "saving registrations failed"),
                }
            }
        }
    }
}
