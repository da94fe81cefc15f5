//! The `pbx` command: runs the PBX, checks configs and talks to a running PBX (`pbx ctl`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

use pbx::config::Config;
use pbx::control::client::{CtlClient, CtlError, DEFAULT_API_URL};

#[derive(Debug, Parser)]
#[command(name = "pbx", version, about = "A single-binary SIP/RTP PBX")]
struct Cli {
    /// Log filter: error, warn, info, debug, trace, or a tracing filter such as `pbx=debug`.
    #[arg(long, global = true, env = "PBX_LOG_LEVEL", default_value = "info")]
    log_level: String,
    /// Log format.
    #[arg(long, global = true, env = "PBX_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the PBX (the default when no command is given).
    Run {
        /// Config file; without it the embedded default config is used.
        #[arg(long, short, env = "PBX_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Check a config file (the embedded default without FILE) and print OK or the errors.
    CheckConfig {
        /// The file to check.
        file: Option<PathBuf>,
    },
    /// Talk to a running PBX over its admin API.
    Ctl {
        /// Admin API base URL.
        #[arg(long, env = "PBX_API", default_value = DEFAULT_API_URL)]
        api: String,
        /// The admin API's `[api] token`, when it has one.
        #[arg(long, env = "PBX_API_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Print JSON for scripts instead of tables.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: Box<CtlCommand>,
    },
}

/// `pbx ctl bridge ...`.
#[derive(Debug, Subcommand)]
enum BridgeCommand {
    /// Create an empty bridge; prints its id.
    Create {
        /// `mixing` (members hear each other) or `holding` (they hear no one).
        #[arg(long = "type", default_value = "mixing")]
        bridge_type: String,
        /// A name for listings.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Move a channel in `Stasis` into the bridge.
    Add {
        /// The bridge's id.
        bridge: String,
        /// The channel's id or name.
        channel: String,
    },
    /// Take a channel out of the bridge.
    Remove {
        /// The bridge's id.
        bridge: String,
        /// The channel's id or name.
        channel: String,
    },
    /// Destroy the bridge; its members stay up.
    Destroy {
        /// The bridge's id.
        bridge: String,
    },
}

#[derive(Debug, Subcommand)]
enum CtlCommand {
    /// Registered contacts: AOR, contact, source address, user agent, expiry, reachability.
    Registrations,
    /// Whether the PBX is up (exit code 0) or not (3); says `draining` while it drains.
    Health,
    /// Refuse new calls (503, so a proxy sends them to another node), let the calls in
    /// progress end, then exit.
    Drain {
        /// Hang up calls still up after this many seconds (default: wait for them).
        #[arg(long)]
        grace: Option<u64>,
    },
    /// Server and client versions.
    Version,
    /// SIP, call and port counters.
    Stats,
    /// Live channels: id, name, state, caller, connected, dialplan position, duration, codec,
    /// packets, loss, jitter.
    Channels,
    /// Live bridges: id, type, name, member channels.
    Bridges,
    /// Follow the event stream as JSON lines.
    Events {
        /// First replay the events after this sequence number still held by the server.
        #[arg(long)]
        since: Option<u64>,
    },
    /// Trunks: registration state, since when, next attempt, last response.
    Trunks,
    /// Sources banned for failing authentication.
    Bans,
    /// Lift the ban of an address.
    Unban {
        /// The banned IP address.
        address: String,
    },
    /// Configured endpoints and how many devices each has registered.
    Endpoints,
    /// SIP message tracing to the log.
    Sip {
        #[command(subcommand)]
        command: SipCommand,
    },
    /// Call an endpoint (or a number through a trunk) and, on answer, run the dialplan there
    /// (`--exten`) or hand the channel to an outside application (`--app`).
    Originate {
        /// Whom to call: `endpoint/6001` or `trunk/NAME/NUMBER`.
        endpoint: String,
        /// The context the answered channel runs in.
        #[arg(long, default_value = "internal")]
        context: String,
        /// The extension it runs (another endpoint's extension connects the two).
        #[arg(long, required_unless_present = "app")]
        exten: Option<String>,
        /// The application the answered channel is handed to (`StasisStart`).
        #[arg(long)]
        app: Option<String>,
        /// An argument for the application (repeat for more).
        #[arg(long = "app-arg")]
        app_args: Vec<String>,
        /// Caller ID number shown to the called party (default: the extension).
        #[arg(long)]
        caller_id: Option<String>,
        /// Ring time in seconds.
        #[arg(long, default_value_t = pbx::call::originate::DEFAULT_RING_SECS)]
        timeout: u64,
        /// The id the called channel gets (as ARI's channelId); only the first contact rings.
        #[arg(long)]
        channel_id: Option<String>,
    },
    /// Make a channel leave its app and continue in the dialplan at CONTEXT,EXTEN,PRIORITY.
    Continue {
        /// The channel's id or name.
        channel: String,
        /// Context.
        context: String,
        /// Extension.
        exten: String,
        /// Step, counting from 1.
        #[arg(default_value_t = 1)]
        priority: usize,
    },
    /// Read a channel variable.
    Getvar {
        /// The channel's id or name.
        channel: String,
        /// The variable (`EXTEN`, `CALLERID(num)`, one set by `Set`...).
        name: String,
    },
    /// Set a channel variable.
    Setvar {
        /// The channel's id or name.
        channel: String,
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
    /// Send key presses (RFC 4733) to a channel's phone.
    Dtmf {
        /// The channel's id or name.
        channel: String,
        /// `0`-`9`, `*`, `#`, `A`-`D`.
        digits: String,
    },
    /// Answer a channel an application controls (`Stasis`).
    Answer {
        /// The channel's id or name.
        channel: String,
    },
    /// Tell the caller of a channel in `Stasis` that it rings (180).
    Ring {
        /// The channel's id or name.
        channel: String,
    },
    /// Start early media on a channel in `Stasis` (183).
    Progress {
        /// The channel's id or name.
        channel: String,
    },
    /// Play sounds to a channel in `Stasis`, after its queued playbacks.
    Play {
        /// The channel's id or name.
        channel: String,
        /// What to play, in order: `sound:NAME` or `NAME`.
        #[arg(required = true)]
        media: Vec<String>,
        /// The playback's id (made up when absent).
        #[arg(long)]
        id: Option<String>,
    },
    /// Stop, pause, unpause or restart a playback.
    Playback {
        /// `stop`, `pause`, `unpause` or `restart`.
        #[arg(value_parser = ["stop", "pause", "unpause", "restart"])]
        operation: String,
        /// The playback's id.
        id: String,
    },
    /// Create, fill, empty and destroy an application's bridges.
    Bridge {
        #[command(subcommand)]
        command: BridgeCommand,
    },
    /// Hang up a channel by its id or name (see `channels`).
    Hangup {
        /// The channel's id (`1764684060.1`) or name (`PJSIP/6001-00000000`).
        channel: String,
        /// Why: a Q.850 cause number (`17`) or its name (`normal`, `busy`, `congestion`,
        /// `no_answer`, `rejected`...); normal clearing when absent.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Show or reload the dialplan.
    Dialplan {
        #[command(subcommand)]
        command: DialplanCommand,
    },
}

#[derive(Debug, Subcommand)]
enum SipCommand {
    /// Log whole SIP messages while on.
    Trace {
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: String,
        /// Only messages naming this user, or exchanged with this IP address.
        #[arg(long)]
        filter: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum DialplanCommand {
    /// List the dialplan, or one context.
    Show {
        /// The context to list.
        context: Option<String>,
    },
    /// Re-read the dialplan file for new calls; calls in progress keep theirs.
    Reload,
    /// List the dialplan apps this pbx knows, with their syntax.
    Apps,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => run(&cli, None),
        Some(Command::Run { ref config }) => run(&cli, config.clone()),
        Some(Command::CheckConfig { file }) => check_config(file),
        Some(Command::Ctl {
            api,
            token,
            json,
            command,
        }) => ctl(&api, token, json, *command),
    }
}

fn init_tracing(cli: &Cli) -> Result<(), String> {
    // webrtc-sdp logs every SDP attribute it does not model (a=tool, a=minptime...) as a
    // warning; those are normal in real offers, so keep its noise down unless asked for.
    let directives = if cli.log_level.contains("webrtc_sdp") {
        cli.log_level.clone()
    } else {
        format!("{},webrtc_sdp=error", cli.log_level)
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .map_err(|e| format!("invalid --log-level `{}`: {e}", cli.log_level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .with_writer(std::io::stdout);
    match cli.log_format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

fn run(cli: &Cli, config_path: Option<PathBuf>) -> ExitCode {
    if let Err(e) = init_tracing(cli) {
        eprintln!("pbx: {e}");
        return ExitCode::from(2);
    }
    let config = match Config::load(config_path.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("pbx: refusing to start: {e}");
            return ExitCode::from(1);
        }
    };
    // SIP and the admin API run on this thread; calls on their own per-core threads
    // (`pbx::call::runtimes`), so no message waits for a work-stealing hand-off.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pbx: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    // Every log line of a node names it: the span is the current one of the SIP thread for
    // good, and the call threads enter it too (`pbx::call::runtimes`).
    let node = match config.node.name() {
        Some(name) => tracing::info_span!("node", node = %name),
        None => tracing::Span::none(),
    };
    let _node = node.enter();
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        let signal_token = shutdown.clone();
        // SIGTERM is the server's own (a drain, `[node] drain_grace_secs`); Ctrl-C stops now.
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::info!("shutdown requested");
                signal_token.cancel();
            }
        });
        match pbx::server::run(config, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("pbx: {e}");
                ExitCode::from(1)
            }
        }
    })
}

fn check_config(file: Option<PathBuf>) -> ExitCode {
    match Config::load(file.as_deref()) {
        Ok(config) => {
            let dialplan = match config.dialplan.file() {
                Some(path) => pbx::dialplan::Dialplan::load(path),
                None => pbx::dialplan::Dialplan::embedded(),
            };
            if let Err(e) = dialplan {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
            let name = file.map_or_else(
                || pbx::config::EMBEDDED_NAME.to_string(),
                |f| f.display().to_string(),
            );
            println!(
                "{name}: OK ({} endpoint(s), SIP on {})",
                config.endpoints.len(),
                config.sip.bind
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn ctl(api: &str, token: Option<String>, json: bool, command: CtlCommand) -> ExitCode {
    let client = CtlClient::new(api, token);
    let result = match command {
        CtlCommand::Registrations => client.registrations(),
        CtlCommand::Health => client.health(),
        CtlCommand::Drain { grace } => client.drain(grace),
        CtlCommand::Version => client.version(),
        CtlCommand::Stats => client.stats(),
        CtlCommand::Channels => client.channels(),
        CtlCommand::Bridges => client.bridges(),
        CtlCommand::Events { since } => {
            return match client.events(since, &mut std::io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => report_ctl_error(&e),
            }
        }
        CtlCommand::Trunks => client.trunks(),
        CtlCommand::Bans => client.bans(),
        CtlCommand::Unban { address } => client.unban(&address),
        CtlCommand::Endpoints => client.endpoints(),
        CtlCommand::Sip {
            command: SipCommand::Trace { state, filter },
        } => client.sip_trace(state == "on", filter),
        CtlCommand::Hangup { channel, reason } => client.hangup(&channel, reason.as_deref()),
        CtlCommand::Answer { channel } => client.signal(&channel, "answer"),
        CtlCommand::Ring { channel } => client.signal(&channel, "ring"),
        CtlCommand::Progress { channel } => client.signal(&channel, "progress"),
        CtlCommand::Play { channel, media, id } => client.play(&channel, &media, id.as_deref()),
        CtlCommand::Playback { operation, id } => {
            use pbx::call::command::PlaybackOperation;
            let operation = match operation.as_str() {
                "pause" => PlaybackOperation::Pause,
                "unpause" => PlaybackOperation::Unpause,
                "restart" => PlaybackOperation::Restart,
                _ => PlaybackOperation::Stop,
            };
            client.playback(&id, operation)
        }
        CtlCommand::Bridge { command } => match command {
            BridgeCommand::Create { bridge_type, name } => {
                client.bridge_create(&bridge_type, &name)
            }
            BridgeCommand::Add { bridge, channel } => {
                client.bridge_member(&bridge, "add", &channel)
            }
            BridgeCommand::Remove { bridge, channel } => {
                client.bridge_member(&bridge, "remove", &channel)
            }
            BridgeCommand::Destroy { bridge } => client.bridge_destroy(&bridge),
        },
        CtlCommand::Continue {
            channel,
            context,
            exten,
            priority,
        } => client.continue_at(
            &channel,
            &pbx::control::channel_commands::ContinueRequest {
                context,
                exten,
                priority,
            },
        ),
        CtlCommand::Getvar { channel, name } => client.variable(&channel, &name, None),
        CtlCommand::Setvar {
            channel,
            name,
            value,
        } => client.variable(&channel, &name, Some(&value)),
        CtlCommand::Dtmf { channel, digits } => client.dtmf(&channel, &digits),
        CtlCommand::Originate {
            endpoint,
            context,
            exten,
            app,
            app_args,
            caller_id,
            timeout,
            channel_id,
        } => client.originate(&pbx::call::originate::OriginateRequest {
            endpoint,
            context,
            exten: exten.unwrap_or_else(|| "s".into()),
            application: app,
            app_args,
            caller_id,
            timeout_secs: Some(timeout),
            priority: None,
            variables: Vec::new(),
            channel_id,
            app_step: None,
        }),
        CtlCommand::Dialplan {
            command: DialplanCommand::Show { context },
        } => client.dialplan_show(context.as_deref()),
        CtlCommand::Dialplan {
            command: DialplanCommand::Reload,
        } => client.dialplan_reload(),
        CtlCommand::Dialplan {
            command: DialplanCommand::Apps,
        } => Ok(pbx::control::client::dialplan_apps()),
    };
    match result {
        Ok(output) => {
            print!("{}", output.render(json));
            ExitCode::SUCCESS
        }
        Err(e) => report_ctl_error(&e),
    }
}

fn report_ctl_error(e: &CtlError) -> ExitCode {
    eprintln!("pbx ctl: {e}");
    ExitCode::from(e.exit_code() as u8)
}
