//! `sendmsg`'s call commands (sans-IO): `call-command: execute` runs an app on the channel
//! (`execute-app-name`, its argument in `execute-app-arg` or in a `text/plain` body,
//! `loops`, `event-lock`, `event-uuid`), `call-command: hangup` ends it (`hangup-cause`).
//! Header names are matched case-insensitively. FreeSWITCH's other call commands
//! (`unicast`, `nomedia`, `xferext`) are refused with a reason.

use super::cause;
use super::request::Request;

/// The most times one `sendmsg` may run its app (`loops`).
pub const MAX_LOOPS: u32 = 1_000;

/// What a `sendmsg` asks of the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallCommand {
    /// Run an app.
    Execute(Execute),
    /// Hang up with a Q.850 cause.
    Hangup {
        /// The cause (16 when none was given).
        cause: u16,
    },
}

/// One app to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execute {
    /// The app's name, lower-case.
    pub app: String,
    /// Its argument.
    pub arg: String,
    /// How many times to run it.
    pub loops: u32,
    /// `event-lock: true`: run it before any other message is looked at. The PBX runs every
    /// app of a session in order anyway, so this only documents the client's wish.
    pub event_lock: bool,
    /// The client's id for this execution (`Application-UUID` of its events).
    pub event_uuid: Option<String>,
}

/// Why a `sendmsg` is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendMsgError {
    /// No `call-command` header.
    #[error("-ERR sendmsg needs a call-command header")]
    MissingCallCommand,
    /// `execute` without `execute-app-name`.
    #[error("-ERR sendmsg execute needs an execute-app-name header")]
    MissingApp,
    /// A `loops` header that is not a number from 1 to [`MAX_LOOPS`].
    #[error("-ERR invalid loops {0:?}")]
    BadLoops(String),
    /// A call command the PBX does not carry out.
    #[error("-ERR call-command {0} is not supported")]
    Unsupported(String),
}

impl CallCommand {
    /// The call command of a `sendmsg` request.
    pub fn parse(request: &Request) -> Result<CallCommand, SendMsgError> {
        let command = request
            .header("call-command")
            .ok_or(SendMsgError::MissingCallCommand)?;
        match command.to_ascii_lowercase().as_str() {
            "execute" => {
                let app = request
                    .header("execute-app-name")
                    .filter(|a| !a.is_empty())
                    .ok_or(SendMsgError::MissingApp)?
                    .to_ascii_lowercase();
                let arg = match request.header("execute-app-arg") {
                    Some(arg) => arg.to_owned(),
                    None => request.body.trim_end_matches(['\r', '\n']).to_owned(),
                };
                let loops = match request.header("loops") {
                    None => 1,
                    Some(text) => text
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_LOOPS).contains(n))
                        .ok_or_else(|| SendMsgError::BadLoops(text.to_owned()))?,
                };
                Ok(CallCommand::Execute(Execute {
                    app,
                    arg,
                    loops,
                    event_lock: request
                        .header("event-lock")
                        .is_some_and(|v| v.eq_ignore_ascii_case("true")),
                    event_uuid: request.header("event-uuid").map(str::to_owned),
                }))
            }
            "hangup" => Ok(CallCommand::Hangup {
                cause: request
                    .header("hangup-cause")
                    .and_then(cause::parse)
                    .unwrap_or(cause::NORMAL_CLEARING),
            }),
            other => Err(SendMsgError::Unsupported(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            command: "sendmsg".into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_owned(),
        }
    }

    #[test]
    fn execute_takes_its_argument_from_the_header_or_the_body() {
        let header = request(
            &[
                ("Call-Command", "execute"),
                ("Execute-App-Name", "Playback"),
                ("execute-app-arg", "hello-world"),
                ("event-lock", "true"),
                ("loops", "2"),
            ],
            "",
        );
        assert_eq!(
            CallCommand::parse(&header).unwrap(),
            CallCommand::Execute(Execute {
                app: "playback".into(),
                arg: "hello-world".into(),
                loops: 2,
                event_lock: true,
                event_uuid: None,
            })
        );
        let body = request(
            &[("call-command", "execute"), ("execute-app-name", "speak")],
            "flite|kal|Hello there\n",
        );
        let CallCommand::Execute(execute) = CallCommand::parse(&body).unwrap() else {
            panic!("not an execute");
        };
        assert_eq!(execute.arg, "flite|kal|Hello there");
    }

    #[test]
    fn hangup_takes_a_cause_by_name_or_number() {
        let named = request(
            &[("call-command", "hangup"), ("hangup-cause", "USER_BUSY")],
            "",
        );
        assert_eq!(
            CallCommand::parse(&named).unwrap(),
            CallCommand::Hangup { cause: 17 }
        );
        let bare = request(&[("call-command", "hangup")], "");
        assert_eq!(
            CallCommand::parse(&bare).unwrap(),
            CallCommand::Hangup { cause: 16 }
        );
    }

    #[test]
    fn unusable_messages_are_refused() {
        assert_eq!(
            CallCommand::parse(&request(&[], "")),
            Err(SendMsgError::MissingCallCommand)
        );
        assert_eq!(
            CallCommand::parse(&request(&[("call-command", "execute")], "")),
            Err(SendMsgError::MissingApp)
        );
        assert_eq!(
            CallCommand::parse(&request(&[("call-command", "unicast")], "")),
            Err(SendMsgError::Unsupported("unicast".into()))
        );
        let loops = request(
            &[
                ("call-command", "execute"),
                ("execute-app-name", "answer"),
                ("loops", "0"),
            ],
            "",
        );
        assert_eq!(
            CallCommand::parse(&loops),
            Err(SendMsgError::BadLoops("0".into()))
        );
    }
}
