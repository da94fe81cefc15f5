//! The actions this AMI knows (sans-IO): their names, the classes that may run them, the
//! one-line synopsis ListCommands shows, and the typed request each becomes once its
//! headers are read. Action names are matched without regard to case, as Asterisk does.
//!
//! A user may run an action when its write classes share one with the action's; actions of
//! no class (Login, Ping, ...) are open to every logged-in user.

use super::class::{Class, ClassSet};
use super::message::Message;

/// An action by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// `Login`: Username with Secret, or AuthType md5 with Key; Events.
    Login,
    /// `Challenge`: AuthType md5; answers a Challenge for an MD5 Login.
    Challenge,
    /// `Logoff`: ends the session.
    Logoff,
    /// `Ping`: keep-alive.
    Ping,
    /// `Events`: which event classes this session receives.
    Events,
    /// `ListCommands`: the actions the user may run.
    ListCommands,
    /// `CoreSettings`: versions and settings.
    CoreSettings,
    /// `CoreStatus`: start time and calls in progress.
    CoreStatus,
    /// `CoreShowChannels`: the live channels, as an event list.
    CoreShowChannels,
    /// `Status`: the live channels (or one), as an event list.
    Status,
    /// `Getvar`: a channel variable.
    Getvar,
    /// `Setvar`: sets a channel variable.
    Setvar,
    /// `Hangup`: hangs a channel up.
    Hangup,
    /// `AGI`: queues a command for a channel in AsyncAGI.
    Agi,
    /// `Redirect`: moves a channel elsewhere in the dialplan.
    Redirect,
    /// `PlayDTMF`: sends a key press to a channel's peer.
    PlayDtmf,
    /// `Originate`: calls a channel and runs the dialplan for it on answer.
    Originate,
    /// `UserEvent`: raises an event of the client's own.
    UserEvent,
    /// `DBGet`: reads an AstDB entry.
    DbGet,
    /// `DBPut`: writes an AstDB entry.
    DbPut,
    /// `DBDel`: deletes an AstDB entry.
    DbDel,
    /// `DBGetTree`: the AstDB entries of a family (or all), as an event list.
    DbGetTree,
    /// `DBDelTree`: deletes a family's entries (or those under a key).
    DbDelTree,
    /// `BridgeList`: the live bridges, as an event list.
    BridgeList,
    /// `BridgeInfo`: one bridge and its members, as an event list.
    BridgeInfo,
    /// `Reload`: re-reads the dialplan (module `pbx_config`, or all).
    Reload,
    /// `PJSIPShowEndpoints`: the endpoints with their contacts, as an event list.
    PjsipShowEndpoints,
    /// `PJSIPShowEndpoint`: one endpoint in detail (auth, AOR, contacts).
    PjsipShowEndpoint,
    /// `PJSIPShowContacts`: every registered contact.
    PjsipShowContacts,
    /// `PJSIPShowRegistrationsOutbound`: the trunks' registrations.
    PjsipShowRegistrationsOutbound,
    /// `ConfbridgeList`: a conference's members, as an event list.
    ConfbridgeList,
    /// `ConfbridgeKick`: hangs up a member of a conference (or all of them).
    ConfbridgeKick,
    /// `ConfbridgeMute`: the others stop hearing a member (or all of them).
    ConfbridgeMute,
    /// `ConfbridgeUnmute`: the others hear a muted member again.
    ConfbridgeUnmute,
    /// `Command`: runs a CLI command and returns its output.
    Command,
}

impl ActionKind {
    /// Every action, in the order ListCommands shows them.
    pub const ALL: [ActionKind; 35] = [
        ActionKind::Login,
        ActionKind::Challenge,
        ActionKind::Logoff,
        ActionKind::Ping,
        ActionKind::Events,
        ActionKind::ListCommands,
        ActionKind::CoreSettings,
        ActionKind::CoreStatus,
        ActionKind::CoreShowChannels,
        ActionKind::Status,
        ActionKind::Getvar,
        ActionKind::Setvar,
        ActionKind::Hangup,
        ActionKind::Agi,
        ActionKind::Redirect,
        ActionKind::PlayDtmf,
        ActionKind::Originate,
        ActionKind::UserEvent,
        ActionKind::DbGet,
        ActionKind::DbPut,
        ActionKind::DbDel,
        ActionKind::DbGetTree,
        ActionKind::DbDelTree,
        ActionKind::BridgeList,
        ActionKind::BridgeInfo,
        ActionKind::Reload,
        ActionKind::PjsipShowEndpoints,
        ActionKind::PjsipShowEndpoint,
        ActionKind::PjsipShowContacts,
        ActionKind::PjsipShowRegistrationsOutbound,
        ActionKind::ConfbridgeList,
        ActionKind::ConfbridgeKick,
        ActionKind::ConfbridgeMute,
        ActionKind::ConfbridgeUnmute,
        ActionKind::Command,
    ];

    /// The action's name.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Login => "Login",
            ActionKind::Challenge => "Challenge",
            ActionKind::Logoff => "Logoff",
            ActionKind::Ping => "Ping",
            ActionKind::Events => "Events",
            ActionKind::ListCommands => "ListCommands",
            ActionKind::CoreSettings => "CoreSettings",
            ActionKind::CoreStatus => "CoreStatus",
            ActionKind::CoreShowChannels => "CoreShowChannels",
            ActionKind::Status => "Status",
            ActionKind::Getvar => "Getvar",
            ActionKind::Setvar => "Setvar",
            ActionKind::Hangup => "Hangup",
            ActionKind::Agi => "AGI",
            ActionKind::Redirect => "Redirect",
            ActionKind::PlayDtmf => "PlayDTMF",
            ActionKind::Originate => "Originate",
            ActionKind::UserEvent => "UserEvent",
            ActionKind::DbGet => "DBGet",
            ActionKind::DbPut => "DBPut",
            ActionKind::DbDel => "DBDel",
            ActionKind::DbGetTree => "DBGetTree",
            ActionKind::DbDelTree => "DBDelTree",
            ActionKind::BridgeList => "BridgeList",
            ActionKind::BridgeInfo => "BridgeInfo",
            ActionKind::Reload => "Reload",
            ActionKind::PjsipShowEndpoints => "PJSIPShowEndpoints",
            ActionKind::PjsipShowEndpoint => "PJSIPShowEndpoint",
            ActionKind::PjsipShowContacts => "PJSIPShowContacts",
            ActionKind::PjsipShowRegistrationsOutbound => "PJSIPShowRegistrationsOutbound",
            ActionKind::ConfbridgeList => "ConfbridgeList",
            ActionKind::ConfbridgeKick => "ConfbridgeKick",
            ActionKind::ConfbridgeMute => "ConfbridgeMute",
            ActionKind::ConfbridgeUnmute => "ConfbridgeUnmute",
            ActionKind::Command => "Command",
        }
    }

    /// The action named `name` (any case).
    pub fn from_name(name: &str) -> Option<ActionKind> {
        ActionKind::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The classes that may run it (empty: everyone logged in).
    pub fn authority(self) -> ClassSet {
        use Class::*;
        match self {
            ActionKind::Login
            | ActionKind::Challenge
            | ActionKind::Logoff
            | ActionKind::Ping
            | ActionKind::Events
            | ActionKind::ListCommands => ClassSet::EMPTY,
            ActionKind::CoreSettings | ActionKind::CoreStatus | ActionKind::CoreShowChannels => {
                ClassSet::of(&[System, Reporting])
            }
            ActionKind::Status => ClassSet::of(&[System, Call, Reporting]),
            ActionKind::Getvar => ClassSet::of(&[Call, Reporting]),
            ActionKind::Setvar => ClassSet::of(&[Call]),
            ActionKind::Hangup => ClassSet::of(&[System, Call]),
            ActionKind::Agi => ClassSet::of(&[Agi]),
            ActionKind::Redirect | ActionKind::PlayDtmf => ClassSet::of(&[Call]),
            ActionKind::Originate => ClassSet::of(&[Originate]),
            ActionKind::UserEvent => ClassSet::of(&[User]),
            ActionKind::DbGet | ActionKind::DbGetTree => ClassSet::of(&[System, Reporting]),
            ActionKind::DbPut | ActionKind::DbDel | ActionKind::DbDelTree => {
                ClassSet::of(&[System])
            }
            ActionKind::BridgeList | ActionKind::BridgeInfo => ClassSet::of(&[Reporting]),
            ActionKind::Reload => ClassSet::of(&[System, Config]),
            ActionKind::PjsipShowEndpoints
            | ActionKind::PjsipShowEndpoint
            | ActionKind::PjsipShowContacts
            | ActionKind::PjsipShowRegistrationsOutbound => ClassSet::of(&[System]),
            ActionKind::ConfbridgeList => ClassSet::of(&[Reporting]),
            ActionKind::ConfbridgeKick
            | ActionKind::ConfbridgeMute
            | ActionKind::ConfbridgeUnmute => ClassSet::of(&[Call]),
            ActionKind::Command => ClassSet::of(&[Class::Command]),
        }
    }

    /// Whether a user with `write` classes may run it.
    pub fn allowed(self, write: ClassSet) -> bool {
        let authority = self.authority();
        authority.is_empty() || authority.intersects(write)
    }

    /// One line on what it does (ListCommands).
    pub fn synopsis(self) -> &'static str {
        match self {
            ActionKind::Login => "Log in to the manager.",
            ActionKind::Challenge => "Get a challenge for an MD5 login.",
            ActionKind::Logoff => "Log off the manager.",
            ActionKind::Ping => "Keep the connection alive.",
            ActionKind::Events => "Choose the event classes this session receives.",
            ActionKind::ListCommands => "List the actions you may run.",
            ActionKind::CoreSettings => "Show the PBX's versions and settings.",
            ActionKind::CoreStatus => "Show the PBX's start time and calls in progress.",
            ActionKind::CoreShowChannels => "List the live channels.",
            ActionKind::Status => "List the live channels, or one, with their status.",
            ActionKind::Getvar => "Read a channel variable.",
            ActionKind::Setvar => "Set a channel variable.",
            ActionKind::Hangup => "Hang up a channel.",
            ActionKind::Agi => "Add an AGI command to execute by Async AGI.",
            ActionKind::Redirect => "Redirect (transfer) a call.",
            ActionKind::PlayDtmf => "Play DTMF signal on a specific channel.",
            ActionKind::Originate => "Originate a call.",
            ActionKind::UserEvent => "Send an arbitrary event.",
            ActionKind::DbGet => "Get DB Entry.",
            ActionKind::DbPut => "Put DB entry.",
            ActionKind::DbDel => "Delete DB entry.",
            ActionKind::DbGetTree => "Get DB entries, optionally at a particular family/key.",
            ActionKind::DbDelTree => "Delete DB Tree.",
            ActionKind::BridgeList => "Get a list of bridges in the system.",
            ActionKind::BridgeInfo => "Get information about a bridge.",
            ActionKind::Reload => "Send a reload event.",
            ActionKind::PjsipShowEndpoints => "Lists PJSIP endpoints.",
            ActionKind::PjsipShowEndpoint => "Detail listing of an endpoint and its objects.",
            ActionKind::PjsipShowContacts => "Lists PJSIP Contacts.",
            ActionKind::PjsipShowRegistrationsOutbound => "Lists PJSIP outbound registrations.",
            ActionKind::ConfbridgeList => "List participants in a conference.",
            ActionKind::ConfbridgeKick => "Kick a Confbridge user.",
            ActionKind::ConfbridgeMute => "Mute a Confbridge user.",
            ActionKind::ConfbridgeUnmute => "Unmute a Confbridge user.",
            ActionKind::Command => "Execute Asterisk CLI Command.",
        }
    }
}

/// An action that acts on the PBX's state, with its headers read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// CoreSettings.
    CoreSettings,
    /// CoreStatus.
    CoreStatus,
    /// CoreShowChannels.
    CoreShowChannels,
    /// Status, of every channel or of `channel`.
    Status {
        /// A channel name or unique id.
        channel: Option<String>,
    },
    /// Getvar `variable` of `channel` (no channel: a global variable, none of which exist).
    Getvar {
        /// A channel name or unique id.
        channel: Option<String>,
        /// The variable.
        variable: String,
    },
    /// Setvar `variable` = `value` on `channel`.
    Setvar {
        /// A channel name or unique id.
        channel: String,
        /// The variable.
        variable: String,
        /// Its value.
        value: String,
    },
    /// Hangup `channel`.
    Hangup {
        /// A channel name or unique id.
        channel: String,
    },
    /// AGI: queue `command` for `channel`'s AsyncAGI session.
    Agi {
        /// A channel name or unique id.
        channel: String,
        /// The AGI command line.
        command: String,
        /// Reported back in AsyncAGIExec.
        command_id: Option<String>,
    },
    /// Redirect `channel` to (context, exten, priority).
    Redirect {
        /// A channel name or unique id.
        channel: String,
        /// Context.
        context: String,
        /// Extension.
        exten: String,
        /// Step, counting from 1.
        priority: usize,
    },
    /// BridgeList, of one technology (`simple_bridge`, `softmix`...) when given.
    BridgeList {
        /// `BridgeType`: the technology to keep.
        technology: Option<String>,
    },
    /// PJSIPShowEndpoints.
    PjsipShowEndpoints,
    /// PJSIPShowEndpoint of `endpoint`.
    PjsipShowEndpoint {
        /// `Endpoint`.
        endpoint: String,
    },
    /// PJSIPShowContacts.
    PjsipShowContacts,
    /// PJSIPShowRegistrationsOutbound.
    PjsipShowRegistrationsOutbound,
    /// ConfbridgeList of conference `conference`.
    ConfbridgeList {
        /// The conference's name.
        conference: String,
    },
    /// ConfbridgeKick `channel` (a name, or `all`) out of `conference`.
    ConfbridgeKick {
        /// The conference's name.
        conference: String,
        /// The member's channel name, or `all`.
        channel: String,
    },
    /// ConfbridgeMute / ConfbridgeUnmute `channel` (a name, or `all`) of `conference`.
    ConfbridgeMute {
        /// The conference's name.
        conference: String,
        /// The member's channel name, or `all`.
        channel: String,
        /// Mute (ConfbridgeMute) or unmute.
        muted: bool,
    },
    /// Command: the CLI command line.
    Command {
        /// `Command`.
        line: String,
    },
    /// Reload `module` (all when absent).
    Reload {
        /// `Module`.
        module: Option<String>,
    },
    /// BridgeInfo of bridge `bridge`.
    BridgeInfo {
        /// `BridgeUniqueid`.
        bridge: String,
    },
    /// DBGet `family`/`key`.
    DbGet {
        /// The family.
        family: String,
        /// The key.
        key: String,
    },
    /// DBPut `family`/`key` = `value`.
    DbPut {
        /// The family.
        family: String,
        /// The key.
        key: String,
        /// The value (`Val`).
        value: String,
    },
    /// DBDel `family`/`key`.
    DbDel {
        /// The family.
        family: String,
        /// The key.
        key: String,
    },
    /// DBGetTree: every entry, or those of `family` (under `key` when given).
    DbGetTree {
        /// The family.
        family: Option<String>,
        /// A key prefix within it.
        key: Option<String>,
    },
    /// DBDelTree: the entries of `family` (under `key` when given).
    DbDelTree {
        /// The family.
        family: String,
        /// A key prefix within it.
        key: Option<String>,
    },
    /// UserEvent `name` with the action's other headers.
    UserEvent {
        /// The event's name.
        name: String,
        /// The other headers, in order.
        headers: Vec<(String, String)>,
    },
    /// Originate a call.
    Originate(Box<super::originate::OriginateAction>),
    /// PlayDTMF `digit` to `channel`'s peer.
    PlayDtmf {
        /// A channel name or unique id.
        channel: String,
        /// One DTMF key.
        digit: char,
    },
}

/// Texts of the errors about an action's headers, as Asterisk words them.
pub mod texts {
    /// Command without `Command`.
    pub const NO_COMMAND: &str = "No command provided";
    /// No `Variable` header.
    pub const NO_VARIABLE: &str = "No variable specified";
    /// No `Channel` header.
    pub const NO_CHANNEL: &str = "No channel specified";
    /// AGI without `Channel` or `Command`.
    pub const AGI_HEADERS: &str = "Both, Channel and Command are *required*";
    /// Redirect without `Channel`.
    pub const REDIRECT_NO_CHANNEL: &str = "Channel not specified";
    /// Redirect to a priority that is not a number from 1.
    pub const INVALID_PRIORITY: &str = "Invalid priority";
    /// Redirect without `Exten` or `Context`.
    pub const REDIRECT_NO_EXTEN: &str = "Context and Exten must be specified";
    /// PlayDTMF without `Channel`.
    pub const DTMF_NO_CHANNEL: &str = "Channel not specified";
    /// Confbridge* without `Conference`.
    pub const NO_CONFERENCE: &str = "No Conference name provided.";
    /// ConfbridgeKick without `Channel`.
    pub const NO_CONFERENCE_CHANNEL: &str = "No channel name provided.";
    /// BridgeInfo without `BridgeUniqueid`.
    pub const NO_BRIDGE: &str = "BridgeUniqueid must be provided";
    /// DBGet or DBDel without `Family` (DBPut's text has no full stop, as in Asterisk).
    pub const NO_FAMILY: &str = "No family specified.";
    /// DBGet or DBDel without `Key`.
    pub const NO_KEY: &str = "No key specified.";
    /// DBPut without `Family`.
    pub const PUT_NO_FAMILY: &str = "No family specified";
    /// DBPut without `Key`.
    pub const PUT_NO_KEY: &str = "No key specified";
    /// UserEvent without a `UserEvent` name.
    pub const NO_USER_EVENT: &str = "UserEvent header missing";
    /// PlayDTMF without a DTMF `Digit`.
    pub const NO_DIGIT: &str = "No digit specified";
    /// PJSIPShowEndpoint without `Endpoint`.
    pub const NO_ENDPOINT: &str = "Endpoint parameter missing.";
}

impl Request {
    /// Reads the headers of a `kind` action; `Err` holds the error text. `None` for actions
    /// the session itself answers.
    pub fn parse(kind: ActionKind, message: &Message) -> Option<Result<Request, &'static str>> {
        let header = |name: &str| {
            message
                .get(name)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Some(match kind {
            ActionKind::CoreSettings => Ok(Request::CoreSettings),
            ActionKind::CoreStatus => Ok(Request::CoreStatus),
            ActionKind::CoreShowChannels => Ok(Request::CoreShowChannels),
            ActionKind::Status => Ok(Request::Status {
                channel: header("Channel"),
            }),
            ActionKind::Getvar => match header("Variable") {
                Some(variable) => Ok(Request::Getvar {
                    channel: header("Channel"),
                    variable,
                }),
                None => Err(texts::NO_VARIABLE),
            },
            ActionKind::Setvar => match (header("Variable"), header("Channel")) {
                (None, _) => Err(texts::NO_VARIABLE),
                (_, None) => Err(texts::NO_CHANNEL),
                (Some(variable), Some(channel)) => Ok(Request::Setvar {
                    channel,
                    variable,
                    value: message.get("Value").unwrap_or_default().to_string(),
                }),
            },
            ActionKind::Hangup => match header("Channel") {
                Some(channel) => Ok(Request::Hangup { channel }),
                None => Err(texts::NO_CHANNEL),
            },
            ActionKind::Agi => match (header("Channel"), header("Command")) {
                (Some(channel), Some(command)) => Ok(Request::Agi {
                    channel,
                    command,
                    command_id: header("CommandID"),
                }),
                _ => Err(texts::AGI_HEADERS),
            },
            ActionKind::Redirect => {
                let Some(channel) = header("Channel") else {
                    return Some(Err(texts::REDIRECT_NO_CHANNEL));
                };
                let (Some(context), Some(exten)) = (header("Context"), header("Exten")) else {
                    return Some(Err(texts::REDIRECT_NO_EXTEN));
                };
                match header("Priority").map_or(Some(1), |p| p.trim().parse().ok()) {
                    Some(priority) if priority >= 1 => Ok(Request::Redirect {
                        channel,
                        context,
                        exten,
                        priority,
                    }),
                    _ => Err(texts::INVALID_PRIORITY),
                }
            }
            ActionKind::PjsipShowEndpoints => Ok(Request::PjsipShowEndpoints),
            ActionKind::PjsipShowEndpoint => match header("Endpoint") {
                Some(endpoint) => Ok(Request::PjsipShowEndpoint { endpoint }),
                None => Err(texts::NO_ENDPOINT),
            },
            ActionKind::PjsipShowContacts => Ok(Request::PjsipShowContacts),
            ActionKind::PjsipShowRegistrationsOutbound => {
                Ok(Request::PjsipShowRegistrationsOutbound)
            }
            ActionKind::ConfbridgeList => match header("Conference") {
                Some(conference) => Ok(Request::ConfbridgeList { conference }),
                None => Err(texts::NO_CONFERENCE),
            },
            ActionKind::ConfbridgeKick => match (header("Conference"), header("Channel")) {
                (None, _) => Err(texts::NO_CONFERENCE),
                (_, None) => Err(texts::NO_CONFERENCE_CHANNEL),
                (Some(conference), Some(channel)) => Ok(Request::ConfbridgeKick {
                    conference,
                    channel,
                }),
            },
            ActionKind::ConfbridgeMute | ActionKind::ConfbridgeUnmute => {
                match (header("Conference"), header("Channel")) {
                    (None, _) => Err(texts::NO_CONFERENCE),
                    (_, None) => Err(texts::NO_CONFERENCE_CHANNEL),
                    (Some(conference), Some(channel)) => Ok(Request::ConfbridgeMute {
                        conference,
                        channel,
                        muted: kind == ActionKind::ConfbridgeMute,
                    }),
                }
            }
            ActionKind::Command => match header("Command") {
                Some(line) => Ok(Request::Command { line }),
                None => Err(texts::NO_COMMAND),
            },
            ActionKind::Reload => Ok(Request::Reload {
                module: header("Module"),
            }),
            ActionKind::BridgeList => Ok(Request::BridgeList {
                technology: header("BridgeType"),
            }),
            ActionKind::BridgeInfo => match header("BridgeUniqueid") {
                Some(bridge) => Ok(Request::BridgeInfo { bridge }),
                None => Err(texts::NO_BRIDGE),
            },
            ActionKind::DbGet | ActionKind::DbDel => match (header("Family"), header("Key")) {
                (None, _) => Err(texts::NO_FAMILY),
                (_, None) => Err(texts::NO_KEY),
                (Some(family), Some(key)) if kind == ActionKind::DbGet => {
                    Ok(Request::DbGet { family, key })
                }
                (Some(family), Some(key)) => Ok(Request::DbDel { family, key }),
            },
            ActionKind::DbGetTree => Ok(Request::DbGetTree {
                family: header("Family"),
                key: header("Key"),
            }),
            ActionKind::DbDelTree => match header("Family") {
                Some(family) => Ok(Request::DbDelTree {
                    family,
                    key: header("Key"),
                }),
                None => Err(texts::NO_FAMILY),
            },
            ActionKind::DbPut => match (header("Family"), header("Key")) {
                (None, _) => Err(texts::PUT_NO_FAMILY),
                (_, None) => Err(texts::PUT_NO_KEY),
                (Some(family), Some(key)) => Ok(Request::DbPut {
                    family,
                    key,
                    value: message.get("Val").unwrap_or_default().to_string(),
                }),
            },
            ActionKind::UserEvent => match header("UserEvent") {
                Some(name) => Ok(Request::UserEvent {
                    name,
                    headers: message
                        .headers()
                        .iter()
                        .filter(|(name, _)| {
                            !["Action", "ActionID", "UserEvent"]
                                .iter()
                                .any(|n| name.eq_ignore_ascii_case(n))
                        })
                        .map(|(name, value)| (name.to_string(), value.clone()))
                        .collect(),
                }),
                None => Err(texts::NO_USER_EVENT),
            },
            ActionKind::Originate => super::originate::OriginateAction::parse(message)
                .map(|action| Request::Originate(Box::new(action))),
            ActionKind::PlayDtmf => {
                let Some(channel) = header("Channel") else {
                    return Some(Err(texts::DTMF_NO_CHANNEL));
                };
                let digit = header("Digit").and_then(|d| {
                    let mut keys = d.chars();
                    let key = keys.next()?.to_ascii_uppercase();
                    let dtmf = key.is_ascii_digit() || "*#ABCD".contains(key);
                    (dtmf && keys.next().is_none()).then_some(key)
                });
                match digit {
                    Some(digit) => Ok(Request::PlayDtmf { channel, digit }),
                    None => Err(texts::NO_DIGIT),
                }
            }
            ActionKind::Login
            | ActionKind::Challenge
            | ActionKind::Logoff
            | ActionKind::Ping
            | ActionKind::Events
            | ActionKind::ListCommands => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_in_any_case() {
        assert_eq!(
            ActionKind::from_name("coreshowchannels"),
            Some(ActionKind::CoreShowChannels)
        );
        assert_eq!(ActionKind::from_name("Frobnicate"), None);
    }

    #[test]
    fn hangup_needs_call_or_system_and_ping_needs_nothing() {
        let reporting = ClassSet::of(&[Class::Reporting]);
        assert!(!ActionKind::Hangup.allowed(reporting));
        assert!(ActionKind::Hangup.allowed(ClassSet::of(&[Class::Call])));
        assert!(ActionKind::CoreShowChannels.allowed(reporting));
        assert!(ActionKind::Ping.allowed(ClassSet::EMPTY));
    }

    #[test]
    fn requests_read_their_headers_and_name_what_is_missing() {
        let m = Message::new()
            .with("Action", "Setvar")
            .with("Channel", "PJSIP/6001-00000001")
            .with("Variable", "FOO");
        assert_eq!(
            Request::parse(ActionKind::Setvar, &m),
            Some(Ok(Request::Setvar {
                channel: "PJSIP/6001-00000001".into(),
                variable: "FOO".into(),
                value: String::new()
            }))
        );
        let no_var = Message::new().with("Channel", "x");
        assert_eq!(
            Request::parse(ActionKind::Getvar, &no_var),
            Some(Err(texts::NO_VARIABLE))
        );
        assert_eq!(
            Request::parse(ActionKind::Hangup, &Message::new()),
            Some(Err(texts::NO_CHANNEL))
        );
        assert_eq!(Request::parse(ActionKind::Ping, &m), None);
    }

    #[test]
    fn user_event_keeps_its_own_headers_in_order() {
        let m = Message::new()
            .with("Action", "UserEvent")
            .with("ActionID", "9")
            .with("UserEvent", "Ding")
            .with("Room", "8002")
            .with("Who", "alice");
        assert_eq!(
            Request::parse(ActionKind::UserEvent, &m),
            Some(Ok(Request::UserEvent {
                name: "Ding".into(),
                headers: vec![
                    ("Room".into(), "8002".into()),
                    ("Who".into(), "alice".into())
                ]
            }))
        );
        assert_eq!(
            Request::parse(ActionKind::UserEvent, &Message::new()),
            Some(Err(texts::NO_USER_EVENT))
        );
    }

    #[test]
    fn agi_redirect_and_dtmf_read_their_headers() {
        let agi = Message::new()
            .with("Channel", "PJSIP/6001-00000001")
            .with("Command", "ANSWER")
            .with("CommandID", "c1");
        assert_eq!(
            Request::parse(ActionKind::from_name("agi").unwrap(), &agi),
            Some(Ok(Request::Agi {
                channel: "PJSIP/6001-00000001".into(),
                command: "ANSWER".into(),
                command_id: Some("c1".into())
            }))
        );
        assert_eq!(
            Request::parse(ActionKind::Agi, &Message::new().with("Channel", "x")),
            Some(Err(texts::AGI_HEADERS))
        );
        let redirect = Message::new()
            .with("Channel", "x")
            .with("Context", "internal")
            .with("Exten", "8000")
            .with("Priority", "zero");
        assert_eq!(
            Request::parse(ActionKind::Redirect, &redirect),
            Some(Err(texts::INVALID_PRIORITY))
        );
        let dtmf = Message::new().with("Channel", "x").with("Digit", "#");
        assert_eq!(
            Request::parse(ActionKind::from_name("playdtmf").unwrap(), &dtmf),
            Some(Ok(Request::PlayDtmf {
                channel: "x".into(),
                digit: '#'
            }))
        );
        let two = Message::new().with("Channel", "x").with("Digit", "12");
        assert_eq!(
            Request::parse(ActionKind::PlayDtmf, &two),
            Some(Err(texts::NO_DIGIT))
        );
    }
}
