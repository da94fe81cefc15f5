//! The commands a client sends (sans-IO), typed from a [`Request`]: the command word is
//! matched case-insensitively, as `mod_event_socket.c`'s `parse_command` does, and
//! everything after it is the command's own text.

use super::event::EventFormat;
use super::request::Request;
use super::sendmsg::{CallCommand, SendMsgError};

/// One client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `auth <password>` (inbound).
    Auth(String),
    /// `connect` (outbound): answered with the channel's data.
    Connect,
    /// `myevents [plain|json] [uuid]`: the events of one channel.
    MyEvents {
        /// How to render them.
        format: EventFormat,
        /// The channel (inbound); `None` is the controlled one (outbound).
        uuid: Option<String>,
    },
    /// `event [plain|json] NAME...` (`ALL`, `CUSTOM subclass...`).
    Event {
        /// How to render them.
        format: EventFormat,
        /// The names (and CUSTOM subclasses) asked for.
        names: Vec<String>,
    },
    /// `nixevent NAME...`.
    NixEvent(Vec<String>),
    /// `noevents`.
    NoEvents,
    /// `linger [seconds]`.
    Linger(Option<u64>),
    /// `nolinger`.
    NoLinger,
    /// `getvar NAME` (outbound).
    GetVar(String),
    /// `resume`: go on in the dialplan when the socket closes (outbound).
    Resume,
    /// `filter HEADER VALUE`.
    Filter {
        /// The header.
        header: String,
        /// The value it must have.
        value: String,
    },
    /// `filter delete HEADER [VALUE]` (`all` deletes every filter).
    FilterDelete {
        /// The header, or `all`.
        header: String,
        /// The value, when only that pair goes.
        value: Option<String>,
    },
    /// `exit`.
    Exit,
    /// `api COMMAND ARGS`.
    Api(String),
    /// `bgapi COMMAND ARGS`, with the client's own `Job-UUID` header if it sent one.
    BgApi {
        /// The API command line.
        command: String,
        /// The job's id chosen by the client.
        job_uuid: Option<String>,
    },
    /// `sendmsg [uuid]` with its call command.
    SendMsg {
        /// The channel (inbound); `None` is the controlled one.
        uuid: Option<String>,
        /// What to do with it.
        command: CallCommand,
    },
    /// A command FreeSWITCH has that the PBX does not carry out (`log`, `sendevent`,
    /// `divert_events`...), answered `-ERR` with a reason.
    Unsupported(String),
    /// Not a command at all: `-ERR command not found`.
    Unknown,
}

/// Why a request is not a usable command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// A command that needs an argument came without it.
    #[error("-ERR {0} needs an argument")]
    MissingArgument(&'static str),
    /// `linger` with something other than seconds.
    #[error("-ERR invalid linger time {0:?}")]
    BadLinger(String),
    /// A `sendmsg` whose call command is unusable.
    #[error(transparent)]
    SendMsg(#[from] SendMsgError),
}

impl Command {
    /// Types `request`.
    pub fn parse(request: &Request) -> Result<Command, CommandError> {
        let line = request.command.trim();
        let (word, rest) = match line.split_once(char::is_whitespace) {
            Some((word, rest)) => (word, rest.trim()),
            None => (line, ""),
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let command = match word.to_ascii_lowercase().as_str() {
            "auth" => Command::Auth(rest.to_owned()),
            "connect" => Command::Connect,
            "myevents" => {
                let mut format = EventFormat::Plain;
                let mut uuid = None;
                for w in &words {
                    match EventFormat::parse(w) {
                        Some(f) => format = f,
                        None => uuid = Some((*w).to_owned()),
                    }
                }
                Command::MyEvents { format, uuid }
            }
            "event" => {
                let (format, names) = match words.split_first() {
                    Some((first, rest)) if EventFormat::parse(first).is_some() => {
                        (EventFormat::parse(first).unwrap_or_default(), rest)
                    }
                    _ => (EventFormat::Plain, &words[..]),
                };
                Command::Event {
                    format,
                    names: names.iter().map(|n| (*n).to_owned()).collect(),
                }
            }
            "nixevent" => Command::NixEvent(words.iter().map(|n| (*n).to_owned()).collect()),
            "noevents" => Command::NoEvents,
            "linger" => match words.first() {
                None => Command::Linger(None),
                Some(secs) => Command::Linger(Some(
                    secs.parse()
                        .map_err(|_| CommandError::BadLinger((*secs).to_owned()))?,
                )),
            },
            "nolinger" => Command::NoLinger,
            "getvar" if rest.is_empty() => return Err(CommandError::MissingArgument("getvar")),
            "getvar" => Command::GetVar(rest.to_owned()),
            "resume" => Command::Resume,
            "filter" => match words.as_slice() {
                ["delete", header] => Command::FilterDelete {
                    header: (*header).to_owned(),
                    value: None,
                },
                ["delete", header, value @ ..] => Command::FilterDelete {
                    header: (*header).to_owned(),
                    value: Some(value.join(" ")),
                },
                [header, value @ ..] if !value.is_empty() => Command::Filter {
                    header: (*header).to_owned(),
                    value: value.join(" "),
                },
                _ => return Err(CommandError::MissingArgument("filter")),
            },
            "exit" => Command::Exit,
            "api" if rest.is_empty() => return Err(CommandError::MissingArgument("api")),
            "api" => Command::Api(rest.to_owned()),
            "bgapi" if rest.is_empty() => return Err(CommandError::MissingArgument("bgapi")),
            "bgapi" => Command::BgApi {
                command: rest.to_owned(),
                job_uuid: request.header("Job-UUID").map(str::to_owned),
            },
            "sendmsg" => Command::SendMsg {
                uuid: words.first().map(|u| (*u).to_owned()),
                command: CallCommand::parse(request)?,
            },
            "log" | "nolog" | "sendevent" | "divert_events" | "userauth" | "nixevents" => {
                Command::Unsupported(word.to_ascii_lowercase())
            }
            _ => Command::Unknown,
        };
        Ok(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esl::sendmsg::CallCommand;

    fn parse(command: &str) -> Result<Command, CommandError> {
        Command::parse(&Request {
            command: command.to_owned(),
            ..Request::default()
        })
    }

    #[test]
    fn event_commands_take_an_optional_format() {
        assert_eq!(
            parse("event plain ALL").unwrap(),
            Command::Event {
                format: EventFormat::Plain,
                names: vec!["ALL".into()]
            }
        );
        assert_eq!(
            parse("event json CHANNEL_ANSWER DTMF").unwrap(),
            Command::Event {
                format: EventFormat::Json,
                names: vec!["CHANNEL_ANSWER".into(), "DTMF".into()]
            }
        );
        assert_eq!(
            parse("myevents json").unwrap(),
            Command::MyEvents {
                format: EventFormat::Json,
                uuid: None
            }
        );
        assert_eq!(
            parse("MYEVENTS 1700.1 plain").unwrap(),
            Command::MyEvents {
                format: EventFormat::Plain,
                uuid: Some("1700.1".into())
            }
        );
    }

    #[test]
    fn the_session_commands() {
        assert_eq!(parse("linger").unwrap(), Command::Linger(None));
        assert_eq!(parse("linger 10").unwrap(), Command::Linger(Some(10)));
        assert!(matches!(
            parse("linger soon"),
            Err(CommandError::BadLinger(_))
        ));
        assert_eq!(parse("nolinger").unwrap(), Command::NoLinger);
        assert_eq!(
            parse("getvar caller_id_number").unwrap(),
            Command::GetVar("caller_id_number".into())
        );
        assert!(parse("getvar").is_err());
        assert_eq!(
            parse("auth ClueCon").unwrap(),
            Command::Auth("ClueCon".into())
        );
        assert_eq!(
            parse("api show channels as json").unwrap(),
            Command::Api("show channels as json".into())
        );
        assert_eq!(
            parse("filter Unique-ID 1700.1").unwrap(),
            Command::Filter {
                header: "Unique-ID".into(),
                value: "1700.1".into()
            }
        );
        assert_eq!(
            parse("filter delete all").unwrap(),
            Command::FilterDelete {
                header: "all".into(),
                value: None
            }
        );
        assert_eq!(parse("log 7").unwrap(), Command::Unsupported("log".into()));
        assert_eq!(parse("fly away").unwrap(), Command::Unknown);
    }

    #[test]
    fn sendmsg_with_a_trailing_space_and_a_uuid() {
        let request = Request {
            command: "sendmsg ".into(),
            headers: vec![("call-command".into(), "hangup".into())],
            body: String::new(),
        };
        assert!(matches!(
            Command::parse(&request).unwrap(),
            Command::SendMsg {
                uuid: None,
                command: CallCommand::Hangup { .. }
            }
        ));
        let bg = Request {
            command: "bgapi status".into(),
            headers: vec![("Job-UUID".into(), "j-1".into())],
            body: String::new(),
        };
        assert_eq!(
            Command::parse(&bg).unwrap(),
            Command::BgApi {
                command: "status".into(),
                job_uuid: Some("j-1".into())
            }
        );
    }
}
