//! Carrying out the actions that act on the PBX (edge): listings read the channel and bridge
//! registries; Getvar, Setvar and Hangup go to the task that owns the channel through the
//! SIP task's control queue, as the admin API's do, and their answers are awaited for at
//! most [`REPLY_TIMEOUT`]. A channel is named by its name (`PJSIP/6001-00000001`) or its
//! unique id.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot};

use super::action::Request;
use super::listing::{self, CoreFacts};
use super::message::Message;
use super::users::Users;
use crate::bridge::BridgeRegistry;
use crate::call::command::{ChannelCommand, CommandError};
use crate::call::ControlCommand;
use crate::channel::ChannelRegistry;
use crate::events::EventBus;

/// How long an action waits for the channel's task to answer.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Error texts of channel actions, as Asterisk words them.
pub mod texts {
    /// The channel does not exist (or ended meanwhile).
    pub const NO_SUCH_CHANNEL: &str = "No such channel";
    /// The control queue is full or the channel's task did not answer in time.
    pub const BUSY: &str = "The PBX is busy; retry";
    /// Hangup worked.
    pub const HUNG_UP: &str = "Channel Hungup";
    /// Setvar worked.
    pub const VARIABLE_SET: &str = "Variable Set";
}

/// What every AMI connection shares.
#[derive(Debug, Clone)]
pub struct AmiContext {
    /// The accounts.
    pub users: Users,
    /// Live channels.
    pub channels: ChannelRegistry,
    /// Live bridges.
    pub bridges: BridgeRegistry,
    /// Commands to the SIP task.
    pub control: mpsc::Sender<ControlCommand>,
    /// The event stream.
    pub events: EventBus,
    /// When the PBX started (monotonic, for uptime).
    pub started: Instant,
    /// When the PBX started (wall clock, for CoreStatus).
    pub started_wall: SystemTime,
    /// How long a connection may take to log in.
    pub auth_timeout: Duration,
}

fn error(action_id: Option<&str>, text: &str) -> Vec<Message> {
    vec![Message::response("Error", action_id).with("Message", text)]
}

fn success(action_id: Option<&str>, text: &str) -> Vec<Message> {
    vec![Message::response("Success", action_id).with("Message", text)]
}

/// Carries out `request` and returns the messages that answer it.
pub async fn perform(
    context: &Arc<AmiContext>,
    request: Request,
    action_id: Option<&str>,
) -> Vec<Message> {
    match request {
        Request::CoreSettings => vec![listing::core_settings(action_id)],
        Request::CoreStatus => vec![listing::core_status(
            CoreFacts {
                started: context.started_wall,
                reloaded: context.started_wall,
                current_calls: context.channels.calls_active(),
            },
            action_id,
        )],
        Request::CoreShowChannels => listing::core_show_channels(
            &context.channels.snapshots(Instant::now()),
            &context.bridges.snapshots(),
            action_id,
        ),
        Request::Status { channel } => {
            let mut channels = context.channels.snapshots(Instant::now());
            if let Some(key) = channel {
                channels.retain(|c| c.name == key || c.id.0 == key);
                if channels.is_empty() {
                    return error(action_id, texts::NO_SUCH_CHANNEL);
                }
            }
            listing::status(&channels, &context.bridges.snapshots(), action_id)
        }
        Request::Getvar {
            channel: None,
            variable,
        } => vec![Message::response("Success", action_id)
            .with("Variable", variable)
            .with("Value", "")],
        Request::Getvar {
            channel: Some(key),
            variable,
        } => {
            let name = variable.clone();
            match command(context, &key, |reply| ChannelCommand::GetVariable {
                name,
                reply,
            })
            .await
            {
                Ok(value) => vec![Message::response("Success", action_id)
                    .with("Variable", variable)
                    .with("Value", value.unwrap_or_default())],
                Err(text) => error(action_id, &text),
            }
        }
        Request::Setvar {
            channel,
            variable,
            value,
        } => {
            let made = |reply| ChannelCommand::SetVariable {
                name: variable,
                value,
                reply,
            };
            match command(context, &channel, made).await {
                Ok(()) => success(action_id, texts::VARIABLE_SET),
                Err(text) => error(action_id, &text),
            }
        }
        Request::Hangup { channel } => match hangup(context, &channel).await {
            Ok(()) => success(action_id, texts::HUNG_UP),
            Err(text) => error(action_id, text),
        },
    }
}

/// Sends the command `make` builds to channel `key` and waits for its answer.
async fn command<T>(
    context: &AmiContext,
    key: &str,
    make: impl FnOnce(oneshot::Sender<Result<T, CommandError>>) -> ChannelCommand,
) -> Result<T, String> {
    let (call, channel) = context
        .channels
        .find(key)
        .ok_or_else(|| texts::NO_SUCH_CHANNEL.to_string())?;
    let (reply, answer) = oneshot::channel();
    context
        .control
        .try_send(ControlCommand::Channel {
            call,
            channel,
            command: make(reply),
        })
        .map_err(|_| texts::BUSY.to_string())?;
    match tokio::time::timeout(REPLY_TIMEOUT, answer).await {
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(error))) => Err(error.to_string()),
        Ok(Err(_)) => Err(texts::NO_SUCH_CHANNEL.to_string()),
        Err(_) => Err(texts::BUSY.to_string()),
    }
}

async fn hangup(context: &AmiContext, key: &str) -> Result<(), &'static str> {
    let (call, channel) = context.channels.find(key).ok_or(texts::NO_SUCH_CHANNEL)?;
    let (reply, answer) = oneshot::channel();
    context
        .control
        .try_send(ControlCommand::Hangup {
            call,
            channel,
            cause: crate::channel::NORMAL_CLEARING,
            reply,
        })
        .map_err(|_| texts::BUSY)?;
    match tokio::time::timeout(REPLY_TIMEOUT, answer).await {
        Ok(Ok(true)) => Ok(()),
        Ok(_) => Err(texts::NO_SUCH_CHANNEL),
        Err(_) => Err(texts::BUSY),
    }
}
