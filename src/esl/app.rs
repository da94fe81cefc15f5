//! The apps a client can run with `sendmsg` / `execute` (sans-IO), named and written as
//! FreeSWITCH's `mod_dptools` names and writes them, typed here so the call task only
//! carries them out. Arguments are split on blanks (`play_and_get_digits`, `read`) or on
//! `=` (`set`, `export`) or `|` (`speak`) as FreeSWITCH splits them. An app the PBX does not
//! have is [`AppError::Unknown`]: the client gets a failed `CHANNEL_EXECUTE_COMPLETE`.

use std::time::Duration;

use super::cause;
use super::playback::{self, Media, PlaybackError};
use crate::dialplan::apps::dial::DialTarget;

/// The longest `sleep`, `record` limit or digit timeout accepted (one day).
const MAX_WAIT: Duration = Duration::from_secs(86_400);

/// One app with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EslApp {
    /// `answer`.
    Answer,
    /// `pre_answer`: early media (183).
    PreAnswer,
    /// `ring_ready`: 180.
    RingReady,
    /// `hangup [cause]`.
    Hangup(u16),
    /// `playback TARGET`.
    Playback(Vec<Media>),
    /// `speak [engine|voice|]text`.
    Speak(Speech),
    /// `play_and_get_digits ...`.
    PlayAndGetDigits(DigitsRequest),
    /// `read MIN MAX FILE VAR TIMEOUT TERMINATORS`.
    Read(DigitsRequest),
    /// `set NAME=VALUE`.
    Set {
        /// The variable.
        name: String,
        /// Its value (empty unsets it, as in FreeSWITCH).
        value: String,
    },
    /// `export NAME=VALUE`: as `set` (there is no other leg to copy it to yet).
    Export {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
    /// `unset NAME`.
    Unset(String),
    /// `sleep MS`.
    Sleep(Duration),
    /// `send_dtmf DIGITS[@MS]`.
    SendDtmf(String),
    /// `bridge user/6001` (`endpoint/6001`, `sofia/gateway/NAME/NUMBER`, `trunk/NAME/NUMBER`;
    /// several separated by `,` ring at once).
    Bridge(Vec<DialTarget>),
    /// `transfer EXTEN [dialplan] [context]`: continue the dialplan there.
    Transfer {
        /// The extension.
        exten: String,
        /// The context, when given.
        context: Option<String>,
    },
    /// `park`: hold the channel (silence) until the client does something else.
    Park,
    /// `record NAME[.wav] [LIMIT_SECS]`.
    Record {
        /// The recording's name, without `.wav`.
        name: String,
        /// The longest it may last.
        limit: Option<Duration>,
    },
    /// `conference ROOM[@profile]`.
    Conference(String),
    /// `echo`.
    Echo,
    /// `log [LEVEL] MESSAGE`.
    Log(String),
}

/// What `speak` says and with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Speech {
    /// The engine named (`flite`...), else `${tts_engine}`.
    pub engine: Option<String>,
    /// The voice named, else `${tts_voice}`.
    pub voice: Option<String>,
    /// The text.
    pub text: String,
}

/// What `play_and_get_digits` and `read` collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitsRequest {
    /// Fewest digits accepted.
    pub min: usize,
    /// Most digits collected.
    pub max: usize,
    /// Tries before giving up.
    pub tries: u32,
    /// Wait for the first digit after the prompt.
    pub timeout: Duration,
    /// Keys that end the input early (not stored).
    pub terminators: String,
    /// The prompt.
    pub prompt: Vec<Media>,
    /// Played after a wrong input, before the next try.
    pub invalid: Vec<Media>,
    /// The variable set to the digits.
    pub var: String,
    /// A regular expression the digits must match.
    pub regex: Option<String>,
    /// Wait between digits.
    pub digit_timeout: Duration,
}

/// Why an app cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// The PBX has no app of this name.
    #[error("-ERR unknown application {0}")]
    Unknown(String),
    /// The arguments are not what the app takes.
    #[error("-ERR {app} usage: {usage}")]
    Usage {
        /// The app.
        app: &'static str,
        /// How it is written.
        usage: &'static str,
    },
    /// A playback target that cannot be played.
    #[error("-ERR {0}")]
    Playback(#[from] PlaybackError),
}

const PAGD_USAGE: &str = "<min> <max> <tries> <timeout> <terminators> <file> <invalid_file> <var_name> <regexp> [<digit_timeout>]";
const READ_USAGE: &str = "<min> <max> <sound file> <variable name> <timeout> <terminators>";

impl EslApp {
    /// The app `name` with argument `arg`.
    pub fn parse(name: &str, arg: &str) -> Result<EslApp, AppError> {
        let arg = arg.trim();
        let usage = |app: &'static str, usage: &'static str| AppError::Usage { app, usage };
        Ok(match name.to_ascii_lowercase().as_str() {
            "answer" => EslApp::Answer,
            "pre_answer" => EslApp::PreAnswer,
            "ring_ready" => EslApp::RingReady,
            "hangup" => EslApp::Hangup(match arg {
                "" => cause::NORMAL_CLEARING,
                text => cause::parse(text).ok_or(usage("hangup", "[cause]"))?,
            }),
            "playback" => EslApp::Playback(playback::parse(arg)?),
            "speak" => EslApp::Speak(speech(arg).ok_or(usage("speak", "[engine|voice|]text"))?),
            "play_and_get_digits" => EslApp::PlayAndGetDigits(
                play_and_get_digits(arg).ok_or(usage("play_and_get_digits", PAGD_USAGE))?,
            ),
            "read" => EslApp::Read(read(arg).ok_or(usage("read", READ_USAGE))?),
            "set" => {
                let (name, value) = assignment(arg).ok_or(usage("set", "<name>=<value>"))?;
                EslApp::Set { name, value }
            }
            "export" => {
                let (name, value) = assignment(arg).ok_or(usage("export", "<name>=<value>"))?;
                let name = name.strip_prefix("nolocal:").unwrap_or(&name).to_owned();
                EslApp::Export { name, value }
            }
            "unset" if !arg.is_empty() => EslApp::Unset(arg.to_owned()),
            "unset" => return Err(usage("unset", "<name>")),
            "sleep" => EslApp::Sleep(millis(arg).ok_or(usage("sleep", "<milliseconds>"))?),
            "send_dtmf" if !arg.is_empty() => EslApp::SendDtmf(arg.to_owned()),
            "send_dtmf" => return Err(usage("send_dtmf", "<digits>[@<tone_duration>]")),
            "bridge" => EslApp::Bridge(bridge(arg).ok_or(usage(
                "bridge",
                "user/<user>|sofia/gateway/<trunk>/<number>[,...]",
            ))?),
            "transfer" => {
                let words: Vec<&str> = arg.split_whitespace().collect();
                match words.as_slice() {
                    [exten] | [exten, _] => EslApp::Transfer {
                        exten: (*exten).to_owned(),
                        context: None,
                    },
                    [exten, _, context] => EslApp::Transfer {
                        exten: (*exten).to_owned(),
                        context: Some((*context).to_owned()),
                    },
                    _ => return Err(usage("transfer", "<exten> [<dialplan>] [<context>]")),
                }
            }
            "park" => EslApp::Park,
            "record" => {
                let words: Vec<&str> = arg.split_whitespace().collect();
                let record_usage = usage("record", "<name>[.wav] [<time_limit_secs>]");
                let Some((path, rest)) = words.split_first() else {
                    return Err(record_usage);
                };
                let name = path.strip_suffix(".wav").unwrap_or(path);
                if name.is_empty() || name.starts_with('/') || name.split('/').any(|p| p == "..") {
                    return Err(record_usage);
                }
                let limit = match rest.first() {
                    None => None,
                    Some(secs) => Some(
                        secs.parse::<u64>()
                            .ok()
                            .map(Duration::from_secs)
                            .filter(|d| *d <= MAX_WAIT)
                            .ok_or(record_usage)?,
                    ),
                };
                EslApp::Record {
                    name: name.to_owned(),
                    limit,
                }
            }
            "conference" if !arg.is_empty() => {
                EslApp::Conference(arg.split('@').next().unwrap_or(arg).trim().to_owned())
            }
            "conference" => return Err(usage("conference", "<room>[@<profile>]")),
            "echo" => EslApp::Echo,
            "log" => EslApp::Log(arg.to_owned()),
            _ => return Err(AppError::Unknown(name.to_owned())),
        })
    }
}

fn speech(arg: &str) -> Option<Speech> {
    if arg.is_empty() {
        return None;
    }
    let parts: Vec<&str> = arg.splitn(3, '|').collect();
    let named = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    Some(match parts.as_slice() {
        [engine, voice, text] => Speech {
            engine: named(engine),
            voice: named(voice),
            text: (*text).to_owned(),
        },
        _ => Speech {
            engine: None,
            voice: None,
            text: arg.to_owned(),
        },
    })
}

fn millis(text: &str) -> Option<Duration> {
    let ms: u64 = text.trim().parse().ok()?;
    Some(Duration::from_millis(ms)).filter(|d| *d <= MAX_WAIT)
}

fn assignment(arg: &str) -> Option<(String, String)> {
    let (name, value) = arg.split_once('=')?;
    let name = name.trim();
    (!name.is_empty()).then(|| (name.to_owned(), value.to_owned()))
}

/// FreeSWITCH's "nothing here" placeholders for optional file arguments.
fn optional_media(text: &str) -> Result<Vec<Media>, PlaybackError> {
    match text {
        "" | "''" | "_undef_" | "silence_stream://0" => Ok(Vec::new()),
        text => playback::parse(text),
    }
}

/// Splits on blanks as FreeSWITCH's `switch_separate_string` does: text in single quotes
/// (`say:'two words'`) stays one argument, quotes kept.
fn words(arg: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in arg.char_indices() {
        match c {
            '\'' => {
                quoted = !quoted;
                start.get_or_insert(i);
            }
            c if c.is_whitespace() && !quoted => {
                if let Some(s) = start.take() {
                    out.push(&arg[s..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        out.push(&arg[s..]);
    }
    out
}

fn play_and_get_digits(arg: &str) -> Option<DigitsRequest> {
    let words = words(arg);
    if words.len() < 8 {
        return None;
    }
    let timeout = millis(words[3])?;
    Some(DigitsRequest {
        min: words[0].parse().ok()?,
        max: words[1].parse().ok().filter(|m| *m >= 1 && *m <= 128)?,
        tries: words[2].parse().ok().filter(|t| *t >= 1 && *t <= 100)?,
        timeout,
        terminators: terminators(words[4]),
        prompt: optional_media(words[5]).ok()?,
        invalid: optional_media(words[6]).ok()?,
        var: words[7].to_owned(),
        regex: words
            .get(8)
            .filter(|r| !matches!(**r, "" | "None" | "_undef_"))
            .map(|r| (*r).to_owned()),
        digit_timeout: match words.get(9) {
            Some(ms) if *ms != "None" => millis(ms)?,
            _ => timeout,
        },
    })
}

fn read(arg: &str) -> Option<DigitsRequest> {
    let words = words(arg);
    if words.len() < 4 {
        return None;
    }
    let timeout = match words.get(4) {
        Some(ms) => millis(ms)?,
        None => Duration::from_secs(5),
    };
    Some(DigitsRequest {
        min: words[0].parse().ok()?,
        max: words[1].parse().ok().filter(|m| *m >= 1 && *m <= 128)?,
        tries: 1,
        timeout,
        terminators: terminators(words.get(5).copied().unwrap_or("#")),
        prompt: optional_media(words[2]).ok()?,
        invalid: Vec::new(),
        var: words[3].to_owned(),
        regex: None,
        digit_timeout: timeout,
    })
}

/// `none` means no terminator, as in FreeSWITCH.
fn terminators(text: &str) -> String {
    match text {
        "none" | "None" | "''" => String::new(),
        keys => keys.to_owned(),
    }
}

fn bridge(arg: &str) -> Option<Vec<DialTarget>> {
    let arg = arg.trim();
    let arg = match arg.strip_prefix('{') {
        Some(rest) => rest.split_once('}')?.1,
        None => arg,
    };
    if arg.is_empty() || arg.contains('|') {
        return None;
    }
    arg.split(',').map(|t| target(t.trim())).collect()
}

fn target(text: &str) -> Option<DialTarget> {
    let parts: Vec<&str> = text.split('/').collect();
    let user = |u: &str| u.split('@').next().unwrap_or(u).to_owned();
    match parts.as_slice() {
        ["user" | "endpoint", name] if !name.is_empty() => Some(DialTarget::Endpoint(user(name))),
        ["sofia", "gateway", trunk, number] | ["trunk", trunk, number]
            if !trunk.is_empty() && !number.is_empty() =>
        {
            Some(DialTarget::Trunk {
                trunk: (*trunk).to_owned(),
                number: user(number),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn play_and_get_digits_as_greenswitch_sends_it() {
        let app = EslApp::parse(
            "play_and_get_digits",
            "1 1 3 5000 # hello-world invalid-option choice \\d 3000 None",
        )
        .unwrap();
        let EslApp::PlayAndGetDigits(request) = app else {
            panic!("not play_and_get_digits");
        };
        assert_eq!((request.min, request.max, request.tries), (1, 1, 3));
        assert_eq!(request.timeout, Duration::from_secs(5));
        assert_eq!(request.digit_timeout, Duration::from_secs(3));
        assert_eq!(request.terminators, "#");
        assert_eq!(request.prompt, [Media::Prompt("hello-world".into())]);
        assert_eq!(request.invalid, [Media::Prompt("invalid-option".into())]);
        assert_eq!(request.var, "choice");
        assert_eq!(request.regex.as_deref(), Some("\\d"));
        assert!(EslApp::parse("play_and_get_digits", "1 1").is_err());
    }

    #[test]
    fn read_set_speak_and_friends() {
        let EslApp::Read(read) =
            EslApp::parse("read", "1 4 say:'Enter your pin' pin 4000 #").unwrap()
        else {
            panic!("not read");
        };
        assert_eq!(read.prompt, [Media::Say("Enter your pin".into())]);
        assert_eq!((read.max, read.var.as_str()), (4, "pin"));
        assert_eq!(
            EslApp::parse("set", "tts_engine=flite").unwrap(),
            EslApp::Set {
                name: "tts_engine".into(),
                value: "flite".into()
            }
        );
        assert_eq!(
            EslApp::parse("export", "nolocal:x=1").unwrap(),
            EslApp::Export {
                name: "x".into(),
                value: "1".into()
            }
        );
        assert_eq!(
            EslApp::parse("speak", "flite|kal|Hello there").unwrap(),
            EslApp::Speak(Speech {
                engine: Some("flite".into()),
                voice: Some("kal".into()),
                text: "Hello there".into()
            })
        );
        assert_eq!(
            EslApp::parse("speak", "Just text").unwrap(),
            EslApp::Speak(Speech {
                engine: None,
                voice: None,
                text: "Just text".into()
            })
        );
        assert_eq!(
            EslApp::parse("hangup", "USER_BUSY").unwrap(),
            EslApp::Hangup(17)
        );
        assert_eq!(EslApp::parse("hangup", "").unwrap(), EslApp::Hangup(16));
        assert_eq!(
            EslApp::parse("sleep", "1500").unwrap(),
            EslApp::Sleep(Duration::from_millis(1500))
        );
        assert!(EslApp::parse("set", "novalue").is_err());
    }

    #[test]
    fn bridge_targets_in_freeswitch_and_pbx_spelling() {
        assert_eq!(
            EslApp::parse("bridge", "user/6001@127.0.0.1").unwrap(),
            EslApp::Bridge(vec![DialTarget::Endpoint("6001".into())])
        );
        assert_eq!(
            EslApp::parse(
                "bridge",
                "{ignore_early_media=true}sofia/gateway/provider/5551234,endpoint/6002"
            )
            .unwrap(),
            EslApp::Bridge(vec![
                DialTarget::Trunk {
                    trunk: "provider".into(),
                    number: "5551234".into()
                },
                DialTarget::Endpoint("6002".into())
            ])
        );
        assert!(EslApp::parse("bridge", "user/6001|user/6002").is_err());
        assert!(EslApp::parse("bridge", "loopback/9999").is_err());
    }

    #[test]
    fn an_unknown_app_is_named_in_the_error() {
        assert_eq!(
            EslApp::parse("valet_park", "lot 1"),
            Err(AppError::Unknown("valet_park".into()))
        );
        assert_eq!(
            AppError::Unknown("valet_park".into()).to_string(),
            "-ERR unknown application valet_park"
        );
    }
}
