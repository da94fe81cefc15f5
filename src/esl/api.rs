//! The `api` / `bgapi` commands of the inbound event socket (sans-IO): the command line
//! typed, as FreeSWITCH's `mod_commands` writes them. Those the PBX carries out are
//! [`ApiCommand`] variants; FreeSWITCH commands it does not carry out yet are
//! [`ApiCommand::NotSupported`] (answered `-ERR` with the reason), and any other word is
//! [`ApiCommand::Unknown`] (`-ERR NAME Command not found!`).

use super::cause;

/// One API command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiCommand {
    /// `status`.
    Status,
    /// `version`.
    Version,
    /// `show channels [as json]`.
    ShowChannels {
        /// `as json`.
        json: bool,
    },
    /// `show calls [as json]`.
    ShowCalls {
        /// `as json`.
        json: bool,
    },
    /// `originate`.
    Originate(Originate),
    /// `uuid_kill UUID [cause]`.
    UuidKill {
        /// The channel.
        uuid: String,
        /// Q.850 cause.
        cause: u16,
    },
    /// `hupall [cause]`.
    Hupall {
        /// Q.850 cause.
        cause: u16,
    },
    /// `reloadxml`: reload the dialplan.
    Reloadxml,
    /// `uuid_getvar UUID NAME`.
    UuidGetvar {
        /// The channel.
        uuid: String,
        /// The variable.
        name: String,
    },
    /// `uuid_setvar UUID NAME [VALUE]`.
    UuidSetvar {
        /// The channel.
        uuid: String,
        /// The variable.
        name: String,
        /// Its value (empty unsets it).
        value: String,
    },
    /// `uuid_send_dtmf UUID DIGITS[@MS]`.
    UuidSendDtmf {
        /// The channel.
        uuid: String,
        /// The keys.
        digits: String,
    },
    /// A FreeSWITCH command the PBX does not carry out.
    NotSupported(String),
    /// No such command.
    Unknown(String),
}

/// `originate {vars}URL EXTEN [dialplan] [context] [cid_name] [cid_num] [timeout]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Originate {
    /// What to call, as the PBX names it (`endpoint/6001`, `trunk/NAME/NUMBER`).
    pub endpoint: String,
    /// The extension the answered channel runs.
    pub exten: String,
    /// The context; `None` is the endpoint's own.
    pub context: Option<String>,
    /// Caller ID number presented.
    pub caller_number: Option<String>,
    /// Ring time in seconds.
    pub timeout_secs: Option<u64>,
    /// `{name=value,...}` channel variables.
    pub variables: Vec<(String, String)>,
    /// `origination_uuid`: the unique id the new channel gets.
    pub uuid: Option<String>,
}

/// Why an `originate` line is unusable: the text after `-ERR `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Too few arguments.
    #[error("-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n")]
    OriginateUsage,
    /// A URL naming neither a user nor a gateway.
    #[error("-ERR INVALID_URL {0}: use user/USER or sofia/gateway/TRUNK/NUMBER\n")]
    BadUrl(String),
    /// `&app(args)`: an app run outside the dialplan.
    #[error("-ERR originate to &application is not supported: give an extension\n")]
    Application,
}

/// FreeSWITCH commands the PBX knows but does not carry out yet.
const NOT_YET: &[&str] = &[
    "uuid_answer",
    "uuid_bridge",
    "uuid_transfer",
    "uuid_broadcast",
    "uuid_record",
    "uuid_break",
    "conference",
    "sofia",
    "show registrations",
];

impl ApiCommand {
    /// Types `line`.
    pub fn parse(line: &str) -> Result<ApiCommand, ApiError> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let json = line.trim_end().ends_with("as json");
        let cause_at = |i: usize| {
            words
                .get(i)
                .and_then(|c| cause::parse(c))
                .unwrap_or(cause::NORMAL_CLEARING)
        };
        Ok(match words.as_slice() {
            ["status", ..] => ApiCommand::Status,
            ["version", ..] => ApiCommand::Version,
            ["show", "channels", ..] => ApiCommand::ShowChannels { json },
            ["show", "calls", ..] => ApiCommand::ShowCalls { json },
            ["originate", rest @ ..] => ApiCommand::Originate(originate(rest)?),
            ["uuid_kill", uuid, ..] => ApiCommand::UuidKill {
                uuid: (*uuid).to_owned(),
                cause: cause_at(2),
            },
            ["hupall", ..] => ApiCommand::Hupall { cause: cause_at(1) },
            ["reloadxml", ..] => ApiCommand::Reloadxml,
            ["uuid_getvar", uuid, name, ..] => ApiCommand::UuidGetvar {
                uuid: (*uuid).to_owned(),
                name: (*name).to_owned(),
            },
            ["uuid_setvar", uuid, name, value @ ..] => ApiCommand::UuidSetvar {
                uuid: (*uuid).to_owned(),
                name: (*name).to_owned(),
                value: value.join(" "),
            },
            ["uuid_send_dtmf", uuid, digits, ..] => ApiCommand::UuidSendDtmf {
                uuid: (*uuid).to_owned(),
                digits: digits.split('@').next().unwrap_or(digits).to_owned(),
            },
            [word, next, ..] if NOT_YET.contains(&format!("{word} {next}").as_str()) => {
                ApiCommand::NotSupported(format!("{word} {next}"))
            }
            [word, ..] if NOT_YET.contains(word) => ApiCommand::NotSupported((*word).to_owned()),
            [word, ..] => ApiCommand::Unknown((*word).to_owned()),
            [] => ApiCommand::Unknown(String::new()),
        })
    }
}

fn originate(args: &[&str]) -> Result<Originate, ApiError> {
    let [url, exten, rest @ ..] = args else {
        return Err(ApiError::OriginateUsage);
    };
    if exten.starts_with('&') {
        return Err(ApiError::Application);
    }
    let (variables, url) = match url.strip_prefix('{') {
        Some(inner) => {
            let (vars, url) = inner.split_once('}').ok_or(ApiError::OriginateUsage)?;
            let vars: Vec<(String, String)> = vars
                .split(',')
                .filter_map(|v| v.split_once('='))
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .collect();
            (vars, url)
        }
        None => (Vec::new(), *url),
    };
    let mut variables = variables;
    let uuid = variables
        .iter()
        .position(|(n, _)| n == "origination_uuid")
        .map(|at| variables.remove(at).1);
    let parts: Vec<&str> = url.split('/').collect();
    let user = |u: &str| u.split('@').next().unwrap_or(u).to_owned();
    let endpoint = match parts.as_slice() {
        ["user", name] if !name.is_empty() => format!("endpoint/{}", user(name)),
        ["sofia", "gateway", trunk, number] => format!("trunk/{trunk}/{}", user(number)),
        ["endpoint", name] => format!("endpoint/{name}"),
        ["trunk", trunk, number] => format!("trunk/{trunk}/{number}"),
        _ => return Err(ApiError::BadUrl(url.to_owned())),
    };
    let arg = |i: usize| {
        rest.get(i)
            .map(|s| (*s).to_owned())
            .filter(|s| s != "undef")
    };
    Ok(Originate {
        endpoint,
        exten: (*exten).to_owned(),
        context: arg(1),
        caller_number: arg(3),
        timeout_secs: arg(4).and_then(|t| t.parse().ok()),
        variables,
        uuid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_as_freeswitch_writes_them() {
        assert_eq!(ApiCommand::parse("status").unwrap(), ApiCommand::Status);
        assert_eq!(
            ApiCommand::parse("show channels as json").unwrap(),
            ApiCommand::ShowChannels { json: true }
        );
        assert_eq!(
            ApiCommand::parse("uuid_kill 1.2 USER_BUSY").unwrap(),
            ApiCommand::UuidKill {
                uuid: "1.2".into(),
                cause: 17
            }
        );
        assert_eq!(
            ApiCommand::parse("uuid_bridge a b").unwrap(),
            ApiCommand::NotSupported("uuid_bridge".into())
        );
        assert_eq!(
            ApiCommand::parse("sofia status").unwrap(),
            ApiCommand::NotSupported("sofia".into())
        );
        assert_eq!(
            ApiCommand::parse("fly").unwrap(),
            ApiCommand::Unknown("fly".into())
        );
    }

    #[test]
    fn originate_urls_and_arguments() {
        let ApiCommand::Originate(o) = ApiCommand::parse(
            "originate {ignore_early_media=true}user/6001 8000 XML internal Bob 7000 20",
        )
        .unwrap() else {
            panic!("not originate");
        };
        assert_eq!(o.endpoint, "endpoint/6001");
        assert_eq!(o.exten, "8000");
        assert_eq!(o.context.as_deref(), Some("internal"));
        assert_eq!(o.caller_number.as_deref(), Some("7000"));
        assert_eq!(o.timeout_secs, Some(20));
        assert_eq!(
            o.variables,
            [("ignore_early_media".to_owned(), "true".to_owned())]
        );
        let ApiCommand::Originate(o) =
            ApiCommand::parse("originate sofia/gateway/provider/5551234 9000").unwrap()
        else {
            panic!("not originate");
        };
        assert_eq!(
            (o.endpoint.as_str(), o.context),
            ("trunk/provider/5551234", None)
        );
        assert_eq!(
            ApiCommand::parse("originate user/6001"),
            Err(ApiError::OriginateUsage)
        );
        assert_eq!(
            ApiCommand::parse("originate user/6001 &park()"),
            Err(ApiError::Application)
        );
        assert!(matches!(
            ApiCommand::parse("originate loopback/1 2"),
            Err(ApiError::BadUrl(_))
        ));
        match ApiCommand::parse("originate {origination_uuid=x,a=1}user/6001 8000") {
            Ok(ApiCommand::Originate(o)) => {
                assert_eq!(o.uuid.as_deref(), Some("x"));
                assert_eq!(o.variables, [("a".to_owned(), "1".to_owned())]);
            }
            other => panic!("{other:?}"),
        }
    }
}
