//! The inbound event socket's API commands carried out (edge): `status`, `version`,
//! `show channels`, `uuid_*` through the task that owns the channel, `hupall`, `reloadxml`
//! and `originate` through the one originate of `call::originate`. Each returns the
//! `api/response` body FreeSWITCH's `mod_commands` would (`+OK ...`, `-ERR ...`).

use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::api::{ApiCommand, Originate};
use super::inbound::InboundContext;
use super::outbound::now_micros;
use crate::call::command::ChannelCommand;
use crate::call::originate::OriginateRequest;
use crate::call::ControlCommand;
use crate::events::Read;

/// How long a channel command may take to be answered.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an originate may ring when the command gives no timeout.
const ORIGINATE_TIMEOUT: Duration = Duration::from_secs(60);

/// `UP 0 years, 0 days, 0 hours, 1 minute, 5 seconds, ...` as `status` and HEARTBEAT say it.
pub(super) fn uptime(up: Duration) -> String {
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
pub(super) async fn api(context: &InboundContext, line: &str) -> String {
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
pub(super) async fn kill(
    context: &InboundContext,
    uuid: &str,
    cause: u16,
) -> Result<(), &'static str> {
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
        app_step: None,
        channel_id: o.uuid,
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
