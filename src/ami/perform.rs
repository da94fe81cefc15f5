//! Carrying out the actions that act on the PBX (edge): listings read the channel and bridge
//! registries; Getvar, Setvar and Hangup go to the task that owns the channel through the
//! SIP task's control queue, as the admin API's do, and their answers are awaited for at
//! most [`REPLY_TIMEOUT`]. A channel is named by its name (`PJSIP/6001-00000001`) or its
//! unique id.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot};

use super::action::Request;
use super::cli::{self, CliCommand};
use super::listing::{self, CoreFacts};
use super::message::Message;
use super::pjsip;
use super::users::Users;
use crate::bridge::BridgeRegistry;
use crate::call::command::{ChannelCommand, CommandError};
use crate::call::media_io::MuteDirection;
use crate::call::ControlCommand;
use crate::channel::ChannelRegistry;
use crate::events::{EventBus, PbxEvent};
use crate::media::codec::CodecKind;

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
    /// AGI queued its command.
    pub const AGI_QUEUED: &str = "Added AGI command to queue";
    /// Redirect worked.
    pub const REDIRECTED: &str = "Redirect successful";
    /// Confbridge* while no conference runs.
    pub const NO_CONFERENCES: &str = "No active conferences.";
    /// Confbridge* naming a conference that does not run.
    pub const NO_SUCH_CONFERENCE: &str = "No Conference by that name found.";
    /// ConfbridgeKick of a channel not in the conference.
    pub const NOT_IN_CONFERENCE: &str = "No Channel by that name found in Conference.";
    /// ConfbridgeKick of one member worked.
    pub const KICKED: &str = "User kicked";
    /// ConfbridgeKick of `all` worked.
    pub const ALL_KICKED: &str = "All participants kicked";
    /// ConfbridgeMute worked.
    pub const MUTED: &str = "User muted";
    /// ConfbridgeUnmute worked.
    pub const UNMUTED: &str = "User unmuted";
    /// PJSIPShowEndpoints with no endpoint configured (Asterisk ends it with a newline).
    pub const NO_ENDPOINTS: &str = "No endpoints found";
    /// Reload worked.
    pub const RELOADED: &str = "Module Reloaded";
    /// Reload of a module other than the dialplan's (`pbx_config`).
    pub const NO_SUCH_MODULE: &str = "No such module";
    /// Reload found errors (logged) and kept the current dialplan.
    pub const RELOAD_FAILED: &str = "An unknown error occurred";
    /// BridgeInfo of a bridge that does not exist.
    pub const NO_SUCH_BRIDGE: &str = "Specified BridgeUniqueid not found";
    /// DBGet of a missing entry.
    pub const DB_NOT_FOUND: &str = "Database entry not found";
    /// DBPut worked.
    pub const DB_UPDATED: &str = "Updated database successfully";
    /// DBPut could not save.
    pub const DB_PUT_FAILED: &str = "Failed to update entry";
    /// DBDel worked.
    pub const DB_DELETED: &str = "Key deleted successfully";
    /// DBDelTree done.
    pub const DB_TREE_DELETED: &str = "Key tree deleted successfully";
    /// DBDel of a missing entry (or one that could not be saved).
    pub const DB_DEL_FAILED: &str = "Database entry could not be deleted";
    /// UserEvent was published.
    pub const EVENT_SENT: &str = "Event Sent";
    /// PlayDTMF worked.
    pub const DTMF_QUEUED: &str = "DTMF successfully queued";
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
    /// The AstDB (DBGet, DBPut, DBDel).
    pub astdb: crate::astdb::AstDb,
    /// Which Asterisk's event names clients get.
    pub dialect: super::dialect::Dialect,
    /// The dialplan, for Reload.
    pub dialplan: crate::call::dialplan_handle::DialplanHandle,
    /// The endpoints as configured, for the PJSIP listings.
    pub endpoints: Arc<Vec<crate::config::EndpointConfig>>,
    /// The trunks, for PJSIPShowRegistrationsOutbound.
    pub trunks: Arc<crate::trunk::Trunks>,
    /// The trunks' registration status.
    pub trunk_board: crate::trunk::TrunkBoard,
    /// Registered contacts, for PJSIPShowEndpoints.
    pub location: crate::location::Location,
    /// Conference rooms, for who is muted in ConfbridgeList.
    pub conferences: crate::call::conference::ConferenceRooms,
}

fn error(action_id: Option<&str>, text: &str) -> Vec<Message> {
    vec![Message::response("Error", action_id).with("Message", text)]
}

fn success(action_id: Option<&str>, text: &str) -> Vec<Message> {
    vec![Message::response("Success", action_id).with("Message", text)]
}

/// The `Command` action: the CLI command's output as `Output` lines.
fn run_cli(context: &Arc<AmiContext>, line: &str, action_id: Option<&str>) -> Vec<Message> {
    let output = match CliCommand::parse(line) {
        Ok(command) => cli_output(context, command),
        Err(text) => Err(text),
    };
    let (success, lines) = match output {
        Ok(lines) => (true, lines),
        Err(text) => (false, vec![text]),
    };
    vec![context.dialect.command_reply(success, action_id, lines)]
}

/// The output lines of `command`, or the CLI's error text.
fn cli_output(context: &Arc<AmiContext>, command: CliCommand) -> Result<Vec<String>, String> {
    let db_failed = |e: crate::astdb::AstDbError| format!("Failed to update database: {e}");
    Ok(match command {
        CliCommand::CoreShowVersion => vec![cli::version_line()],
        CliCommand::CoreShowUptime { seconds } => {
            let up = context.started_wall.elapsed().unwrap_or_default();
            let reloaded = context.dialplan.loaded_at().elapsed().unwrap_or(up);
            cli::uptime_lines(up, reloaded, seconds)
        }
        CliCommand::CoreShowChannels { format } => {
            let channels = context.channels.snapshots(Instant::now());
            let bridges = context.bridges.snapshots();
            let bridge_of = |c: &crate::channel::ChannelSnapshot| {
                bridges
                    .iter()
                    .find(|b| b.channels.contains(&c.id))
                    .map(|b| b.id.clone())
            };
            cli::channel_lines(
                &channels,
                bridge_of,
                context.channels.calls_active(),
                context.channels.calls_total(),
                format,
            )
        }
        CliCommand::DialplanReload => match context.dialplan.reload() {
            Ok(_) => {
                tracing::info!("dialplan reloaded (AMI Command)");
                vec!["Dialplan reloaded.".into()]
            }
            Err(e) => return Err(format!("Dialplan reload failed: {e}")),
        },
        CliCommand::DatabaseShow { family } => {
            let under = family.map(|f| format!("{}/", f.trim_matches('/')));
            cli::database_lines(&context.astdb.entries(under.as_deref()))
        }
        CliCommand::DatabaseGet { family, key } => match context.astdb.get(&family, &key) {
            Some(value) => vec![format!("Value: {value}")],
            None => return Err("Database entry not found.".into()),
        },
        CliCommand::DatabasePut { family, key, value } => {
            context
                .astdb
                .put(&family, &key, &value)
                .map_err(db_failed)?;
            vec!["Updated database successfully".into()]
        }
        CliCommand::DatabaseDel { family, key } => match context.astdb.del(&family, &key) {
            Ok(true) => vec!["Database entry removed.".into()],
            Ok(false) => return Err("Database entry does not exist.".into()),
            Err(e) => return Err(db_failed(e)),
        },
    })
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
                reloaded: context.dialplan.loaded_at(),
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
        Request::Agi {
            channel,
            command: line,
            command_id,
        } => {
            if context.channels.find(&channel).is_none() {
                return error(action_id, &format!("Channel {channel} does not exist."));
            }
            let made = |reply| ChannelCommand::Agi {
                command: line,
                command_id,
                reply,
            };
            match command(context, &channel, made).await {
                Ok(()) => success(action_id, texts::AGI_QUEUED),
                Err(_) => error(
                    action_id,
                    &format!("Failed to add AGI command to channel {channel} queue"),
                ),
            }
        }
        Request::Redirect {
            channel,
            context: dialplan_context,
            exten,
            priority,
        } => {
            let made = |reply| ChannelCommand::Continue {
                context: dialplan_context,
                exten,
                priority,
                reply,
            };
            match command(context, &channel, made).await {
                Ok(()) => success(action_id, texts::REDIRECTED),
                Err(text) => error(action_id, &text),
            }
        }
        Request::ConfbridgeList { conference } => match conference_members(context, &conference) {
            Ok(members) => {
                let muted: Vec<bool> = members
                    .iter()
                    .map(|m| context.conferences.is_muted(&m.id))
                    .collect();
                listing::confbridge_list(&conference, &members, &muted, action_id)
            }
            Err(text) => error(action_id, text),
        },
        Request::ConfbridgeKick {
            conference,
            channel,
        } => {
            let kicked = match chosen_members(context, &conference, &channel) {
                Ok(kicked) => kicked,
                Err(text) => return error(action_id, text),
            };
            let all = channel.eq_ignore_ascii_case("all");
            for member in kicked {
                if let Err(text) = hangup(context, &member.id.0).await {
                    return error(action_id, text);
                }
            }
            success(
                action_id,
                if all {
                    texts::ALL_KICKED
                } else {
                    texts::KICKED
                },
            )
        }
        Request::ConfbridgeMute {
            conference,
            channel,
            muted,
        } => match mute_members(context, &conference, &channel, muted).await {
            Ok(()) if muted => success(action_id, texts::MUTED),
            Ok(()) => success(action_id, texts::UNMUTED),
            Err(text) => error(action_id, &text),
        },
        Request::PjsipShowEndpoints => {
            let now = Instant::now();
            let channels = context.channels.snapshots(now);
            let items: Vec<_> = context
                .endpoints
                .iter()
                .map(|e| e.user.get_ref())
                .map(|name| {
                    let prefix = format!("PJSIP/{name}-");
                    listing::EndpointItem {
                        name: name.clone(),
                        contacts: context
                            .location
                            .contacts(name, now)
                            .into_iter()
                            .map(|b| b.contact)
                            .collect(),
                        active_channels: channels
                            .iter()
                            .filter(|c| c.name.starts_with(&prefix))
                            .count(),
                    }
                })
                .collect();
            listing::endpoint_list(&items, action_id)
                .unwrap_or_else(|| error(action_id, texts::NO_ENDPOINTS))
        }
        Request::PjsipShowEndpoint { endpoint } => match endpoint_facts(context, &endpoint) {
            Some(facts) => pjsip::endpoint_detail(&facts, action_id),
            None => error(
                action_id,
                &format!("Unable to retrieve endpoint {endpoint}"),
            ),
        },
        Request::PjsipShowContacts => pjsip::contact_list(&contact_facts(context, None), action_id),
        Request::PjsipShowRegistrationsOutbound => {
            pjsip::registrations_outbound(&registration_facts(context), action_id)
        }
        Request::Command { line } => run_cli(context, &line, action_id),
        Request::Reload { module } => {
            let dialplan = module
                .as_deref()
                .is_none_or(|m| m.trim_end_matches(".so").eq_ignore_ascii_case("pbx_config"));
            if !dialplan {
                return error(action_id, texts::NO_SUCH_MODULE);
            }
            match context.dialplan.reload() {
                Ok(_) => {
                    tracing::info!("dialplan reloaded (AMI)");
                    success(action_id, texts::RELOADED)
                }
                Err(e) => {
                    tracing::error!(error = %e, "dialplan reload failed; keeping the current dialplan");
                    error(action_id, texts::RELOAD_FAILED)
                }
            }
        }
        Request::BridgeList { technology } => listing::bridge_list(
            &context.bridges.snapshots(),
            technology.as_deref(),
            action_id,
        ),
        Request::BridgeInfo { bridge } => {
            let Some(found) = context
                .bridges
                .snapshots()
                .into_iter()
                .find(|b| b.id == bridge)
            else {
                return error(action_id, texts::NO_SUCH_BRIDGE);
            };
            let members: Vec<_> = context
                .channels
                .snapshots(Instant::now())
                .into_iter()
                .filter(|c| found.channels.contains(&c.id))
                .collect();
            listing::bridge_info(&found, &members, action_id)
        }
        Request::DbGet { family, key } => match context.astdb.get(&family, &key) {
            Some(value) => listing::db_get(&family, &key, &value, action_id),
            None => error(action_id, texts::DB_NOT_FOUND),
        },
        Request::DbPut { family, key, value } => match context.astdb.put(&family, &key, &value) {
            Ok(()) => success(action_id, texts::DB_UPDATED),
            Err(e) => {
                tracing::warn!(error = %e, "AMI DBPut");
                error(action_id, texts::DB_PUT_FAILED)
            }
        },
        Request::DbDel { family, key } => match context.astdb.del(&family, &key) {
            Ok(true) => success(action_id, texts::DB_DELETED),
            Ok(false) => error(action_id, texts::DB_DEL_FAILED),
            Err(e) => {
                tracing::warn!(error = %e, "AMI DBDel");
                error(action_id, texts::DB_DEL_FAILED)
            }
        },
        Request::DbGetTree { family, key } => {
            let under = family.map(|f| match key {
                Some(key) => format!("{f}/{key}"),
                None => format!("{f}/"),
            });
            let entries = context.astdb.entries(under.as_deref());
            if entries.is_empty() {
                return error(action_id, texts::DB_NOT_FOUND);
            }
            listing::db_get_tree(&entries, action_id)
        }
        Request::DbDelTree { family, key } => match context.astdb.del_tree(&family, key.as_deref())
        {
            Ok(0) => error(action_id, texts::DB_NOT_FOUND),
            Ok(_) => success(action_id, texts::DB_TREE_DELETED),
            Err(e) => {
                tracing::warn!(error = %e, "AMI DBDelTree");
                error(action_id, texts::DB_DEL_FAILED)
            }
        },
        Request::UserEvent { name, headers } => {
            context.events.publish(PbxEvent::UserEvent {
                name,
                headers,
                application: None,
                channel: None,
                bridge: None,
            });
            success(action_id, texts::EVENT_SENT)
        }
        Request::Originate(action) => {
            super::originate::originate(context, *action, action_id).await
        }
        Request::PlayDtmf { channel, digit } => {
            let made = |reply| ChannelCommand::SendDtmf {
                digits: digit.to_string(),
                reply,
            };
            match command(context, &channel, made).await {
                Ok(()) => success(action_id, texts::DTMF_QUEUED),
                Err(text) => error(action_id, &text),
            }
        }
        Request::Hangup { channel } => match hangup(context, &channel).await {
            Ok(()) => success(action_id, texts::HUNG_UP),
            Err(text) => error(action_id, text),
        },
    }
}

/// The members of conference `room` (the mixing bridge named after it), or the error text.
fn conference_members(
    context: &AmiContext,
    room: &str,
) -> Result<Vec<crate::channel::ChannelSnapshot>, &'static str> {
    let rooms: Vec<_> = context
        .bridges
        .snapshots()
        .into_iter()
        .filter(|b| b.bridge_type == "mixing" && !b.name.is_empty())
        .collect();
    if rooms.is_empty() {
        return Err(texts::NO_CONFERENCES);
    }
    let bridge = rooms
        .into_iter()
        .find(|b| b.name == room)
        .ok_or(texts::NO_SUCH_CONFERENCE)?;
    Ok(context
        .channels
        .snapshots(Instant::now())
        .into_iter()
        .filter(|c| bridge.channels.contains(&c.id))
        .collect())
}

/// Endpoint `name` as PJSIPShowEndpoint lists it; `None` when it is not configured.
fn endpoint_facts(context: &AmiContext, name: &str) -> Option<pjsip::EndpointFacts> {
    let endpoint = context
        .endpoints
        .iter()
        .find(|e| e.user.get_ref() == name)?;
    let prefix = format!("PJSIP/{name}-");
    Some(pjsip::EndpointFacts {
        name: name.to_owned(),
        context: endpoint.context.clone(),
        codecs: endpoint
            .codecs
            .iter()
            .map(|c| match c {
                CodecKind::Pcmu => "ulaw",
                CodecKind::Pcma => "alaw",
            })
            .collect(),
        max_contacts: endpoint.max_contacts,
        active_channels: context
            .channels
            .snapshots(Instant::now())
            .iter()
            .filter(|c| c.name.starts_with(&prefix))
            .count(),
        contacts: contact_facts(context, Some(name)),
    })
}

/// The registered contacts (of AOR `aor` only, if given).
fn contact_facts(context: &AmiContext, aor: Option<&str>) -> Vec<pjsip::ContactFacts> {
    let unix_now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    context
        .location
        .views(Instant::now())
        .into_iter()
        .filter(|v| aor.is_none_or(|aor| v.aor == aor))
        .map(|v| pjsip::ContactFacts {
            uri: v.contact,
            user_agent: v.user_agent.unwrap_or_default(),
            expires_unix: unix_now + u64::from(v.expires_in),
            via: v.source,
            call_id: v.call_id,
            status: match v.reachability.as_str() {
                "reachable" => "Reachable",
                "unreachable" => "Unreachable",
                _ => "Unknown",
            },
            rtt_usec: v.rtt_ms.map(|ms| ms * 1_000),
            aor: v.aor,
        })
        .collect()
}

/// The outbound registrations of the trunks that register.
fn registration_facts(context: &AmiContext) -> Vec<pjsip::RegistrationFacts> {
    let views = context.trunk_board.views(Instant::now());
    context
        .trunks
        .iter()
        .filter(|t| t.register)
        .map(|trunk| {
            let view = views.iter().find(|v| v.name == trunk.name);
            let state = view.map_or("", |v| v.state.as_str());
            let domain = match trunk.from_domain.is_empty() {
                true => trunk.host_port.as_str(),
                false => trunk.from_domain.as_str(),
            };
            pjsip::RegistrationFacts {
                name: trunk.name.clone(),
                server_uri: format!("sip:{}", trunk.host_port),
                client_uri: format!("sip:{}@{domain}", trunk.username),
                registered: state == "registered",
                status: match state {
                    "registered" => "Registered",
                    "rejected" | "unreachable" => "Rejected",
                    _ => "Unregistered",
                },
                next_reg_secs: view.and_then(|v| v.next_in_secs).unwrap_or(0),
                expiration_secs: trunk.expiry_secs,
            }
        })
        .collect()
}

/// The members of `conference` that `channel` names: the one of that channel name, or every
/// member for `all` (ConfbridgeKick, Mute, Unmute); an error text when it names none.
fn chosen_members(
    context: &AmiContext,
    conference: &str,
    channel: &str,
) -> Result<Vec<crate::channel::ChannelSnapshot>, &'static str> {
    let all = channel.eq_ignore_ascii_case("all");
    let chosen: Vec<_> = conference_members(context, conference)?
        .into_iter()
        .filter(|c| all || c.name == channel)
        .collect();
    match chosen.is_empty() {
        true => Err(texts::NOT_IN_CONFERENCE),
        false => Ok(chosen),
    }
}

/// Mutes or unmutes what member `channel` (a name, or `all`) of `conference` says.
async fn mute_members(
    context: &AmiContext,
    conference: &str,
    channel: &str,
    muted: bool,
) -> Result<(), String> {
    for member in chosen_members(context, conference, channel)? {
        command(context, &member.id.0, |reply| ChannelCommand::Mute {
            direction: MuteDirection::In,
            muted,
            reply,
        })
        .await?;
    }
    Ok(())
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
