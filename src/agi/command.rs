//! AGI command lines: split into words as Asterisk's `parse_args` does (blanks separate,
//! `"..."` groups, `\` makes the next character literal) and matched, case-insensitively, to
//! one [`AgiCommand`] with typed arguments. An unknown command is [`ParseError::Unknown`]
//! (answered 510); known words with unusable arguments are [`ParseError::Usage`] (520 with the
//! command's syntax).

use std::time::Duration;

/// The longest wait a command may ask for (one day), keeping conversions in range.
const MAX_WAIT_MS: i64 = 86_400_000;

/// Keys that stop a playback (`STREAM FILE`'s escape digits).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscapeDigits(String);

impl EscapeDigits {
    /// Keeps the DTMF keys of `text` (`0`-`9`, `*`, `#`, `A`-`D`); others are ignored, as in
    /// Asterisk, where `""` means no key stops the playback.
    pub fn parse(text: &str) -> EscapeDigits {
        EscapeDigits(
            text.chars()
                .map(|c| c.to_ascii_uppercase())
                .filter(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D'))
                .collect(),
        )
    }

    /// Every key stops it (GET DATA's prompt, whose key starts the input).
    pub fn all() -> EscapeDigits {
        EscapeDigits("0123456789*#ABCD".to_owned())
    }

    /// Whether `key` stops the playback.
    pub fn contains(&self, key: char) -> bool {
        self.0.contains(key.to_ascii_uppercase())
    }

    /// Whether no key stops it.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys, as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long a command waits; `Forever` for a negative timeout, as Asterisk reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// Wait until a key comes or the call ends.
    Forever,
    /// Wait at most this long.
    After(Duration),
}

impl Timeout {
    /// A timeout in milliseconds; negative waits forever.
    fn from_ms(ms: i64) -> Timeout {
        match ms {
            ms if ms < 0 => Timeout::Forever,
            ms => Timeout::After(Duration::from_millis(ms.min(MAX_WAIT_MS) as u64)),
        }
    }
}

/// One AGI command with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgiCommand {
    /// `ANSWER`.
    Answer,
    /// `HANGUP [channel]`.
    Hangup {
        /// Another channel's name (only the session's own channel can be hung up here).
        channel: Option<String>,
    },
    /// `STREAM FILE file escape [offset]`; `CONTROL STREAM FILE file escape [skipms...]`.
    StreamFile {
        /// The sound's name.
        file: String,
        /// Keys that stop it.
        escape: EscapeDigits,
        /// Where to start, in samples.
        offset: u64,
        /// `CONTROL STREAM FILE` (which answers without `endpos`).
        control: bool,
    },
    /// `RECORD FILE file format escape-digits timeout-ms [offset] [BEEP] [s=silence-secs]`.
    RecordFile {
        /// The recording's name (in the recordings directory).
        file: String,
        /// Its format (pbx writes `wav`).
        format: String,
        /// Keys that end it.
        escape: EscapeDigits,
        /// The longest it may last; `None` for no limit (`-1`).
        timeout: Option<Duration>,
        /// Beep first.
        beep: bool,
        /// Silence that ends it.
        silence: Option<Duration>,
    },
    /// `GET DATA file [timeout-ms [max-digits]]`.
    GetData {
        /// The prompt.
        file: String,
        /// How long to wait for each key (default 6 s when 0 or missing).
        timeout: Option<Duration>,
        /// At most this many keys.
        max_digits: usize,
    },
    /// `GET OPTION file escape [timeout-ms]`.
    GetOption {
        /// The prompt.
        file: String,
        /// Keys that stop it and are accepted afterwards.
        escape: EscapeDigits,
        /// How long to wait after the prompt (default 5 s when 0 or missing).
        timeout: Option<Duration>,
    },
    /// `SAY DIGITS number escape`.
    SayDigits {
        /// The digits.
        digits: String,
        /// Keys that stop it.
        escape: EscapeDigits,
    },
    /// `SAY NUMBER number escape [gender]`.
    SayNumber {
        /// The number.
        number: i64,
        /// Keys that stop it.
        escape: EscapeDigits,
    },
    /// `SAY ALPHA text escape`.
    SayAlpha {
        /// The characters.
        text: String,
        /// Keys that stop it.
        escape: EscapeDigits,
    },
    /// `SAY PHONETIC text escape`: letters in the spelling alphabet.
    SayPhonetic {
        /// The characters.
        text: String,
        /// Keys that stop it.
        escape: EscapeDigits,
    },
    /// `WAIT FOR DIGIT timeout-ms` (negative: forever).
    WaitForDigit(Timeout),
    /// `SET VARIABLE name value`.
    SetVariable {
        /// Its name.
        name: String,
        /// Its value.
        value: String,
    },
    /// `GET VARIABLE name`.
    GetVariable(String),
    /// `GET FULL VARIABLE expression [channel]`.
    GetFullVariable {
        /// Text with `${...}` to expand.
        expression: String,
        /// Another channel's name.
        channel: Option<String>,
    },
    /// `SET CONTEXT context`.
    SetContext(String),
    /// `SET EXTENSION exten`.
    SetExtension(String),
    /// `SET PRIORITY priority` (a number).
    SetPriority(usize),
    /// `SET CALLERID "Name" <number>`.
    SetCallerId {
        /// The name, possibly empty.
        name: String,
        /// The number, possibly empty.
        number: String,
    },
    /// `SET AUTOHANGUP seconds` (0 cancels).
    SetAutohangup(Duration),
    /// `CHANNEL STATUS [channel]`.
    ChannelStatus(Option<String>),
    /// `EXEC app [options]`.
    Exec {
        /// The dialplan app's name.
        app: String,
        /// Its arguments, as the dialplan would write them between the parentheses.
        options: String,
    },
    /// `VERBOSE message [level]`.
    Verbose(String),
    /// `NOOP`.
    Noop,
    /// `ASYNCAGI BREAK`: leave AsyncAGI, back to the dialplan.
    AsyncAgiBreak,
    /// `DATABASE GET family key`.
    DatabaseGet {
        /// The family.
        family: String,
        /// The key.
        key: String,
    },
    /// `DATABASE PUT family key value`.
    DatabasePut {
        /// The family.
        family: String,
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// `DATABASE DEL family key`.
    DatabaseDel {
        /// The family.
        family: String,
        /// The key.
        key: String,
    },
    /// `DATABASE DELTREE family [keytree]`.
    DatabaseDelTree {
        /// The family.
        family: String,
        /// Only keys under this prefix.
        prefix: Option<String>,
    },
}

/// Why a line is not a command that can run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// No command has these words (510).
    #[error("invalid or unknown AGI command")]
    Unknown,
    /// The command's arguments are missing or unusable (520 with this usage).
    #[error("bad AGI command syntax; {0}")]
    Usage(&'static str),
}

/// Splits a command line into words: blanks separate, `"` groups (and starts a word, even an
/// empty one), `\` makes the next character literal.
pub fn split_words(line: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let (mut quoted, mut escaped, mut blank) = (false, false, true);
    for c in line.chars() {
        match c {
            '"' if !escaped => {
                quoted = !quoted;
                if quoted && blank {
                    words.push(String::new());
                    blank = false;
                }
            }
            ' ' | '\t' if !quoted && !escaped => blank = true,
            '\\' if !escaped => {
                escaped = true;
                continue;
            }
            c => {
                if blank {
                    words.push(String::new());
                    blank = false;
                }
                if let Some(word) = words.last_mut() {
                    word.push(c);
                }
            }
        }
        escaped = false;
    }
    words
}

impl AgiCommand {
    /// Whether Asterisk allows the command once the channel has hung up (otherwise 511).
    pub fn allowed_when_dead(&self) -> bool {
        matches!(
            self,
            AgiCommand::AsyncAgiBreak
                | AgiCommand::DatabaseGet { .. }
                | AgiCommand::DatabasePut { .. }
                | AgiCommand::DatabaseDel { .. }
                | AgiCommand::DatabaseDelTree { .. }
                | AgiCommand::Exec { .. }
                | AgiCommand::GetFullVariable { .. }
                | AgiCommand::GetVariable(_)
                | AgiCommand::Noop
                | AgiCommand::SetVariable { .. }
                | AgiCommand::Verbose(_)
        )
    }

    /// Parses one command line.
    pub fn parse(line: &str) -> Result<AgiCommand, ParseError> {
        let words = split_words(line);
        let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
        let key: Vec<&str> = lower.iter().map(String::as_str).collect();
        let arg = |i: usize| words.get(i).cloned();
        match key.as_slice() {
            ["answer", ..] => Ok(AgiCommand::Answer),
            ["hangup", rest @ ..] if rest.len() <= 1 => Ok(AgiCommand::Hangup { channel: arg(1) }),
            ["hangup", ..] => Err(ParseError::Usage(HANGUP)),
            ["stream", "file", rest @ ..] => {
                let (file, escape) = file_and_escape(&words[2..], STREAM_FILE)?;
                let offset = match rest.get(2) {
                    Some(n) => n.parse().map_err(|_| ParseError::Usage(STREAM_FILE))?,
                    None => 0,
                };
                if rest.len() > 3 {
                    return Err(ParseError::Usage(STREAM_FILE));
                }
                Ok(AgiCommand::StreamFile {
                    file,
                    escape,
                    offset,
                    control: false,
                })
            }
            ["control", "stream", "file", ..] => {
                let (file, escape) = file_and_escape(&words[3..], CONTROL_STREAM_FILE)?;
                Ok(AgiCommand::StreamFile {
                    file,
                    escape,
                    offset: 0,
                    control: true,
                })
            }
            ["record", "file", _, _, _, timeout, rest @ ..] if rest.len() <= 3 => {
                let timeout = optional_ms(Some(timeout), RECORD_FILE)?;
                let (mut beep, mut silence) = (false, None);
                for (n, option) in rest.iter().enumerate() {
                    if option.eq_ignore_ascii_case("beep") {
                        beep = true;
                    } else if let Some(secs) = option.strip_prefix("s=") {
                        let secs: u64 = secs.parse().map_err(|_| ParseError::Usage(RECORD_FILE))?;
                        silence = (secs > 0).then(|| Duration::from_secs(secs));
                    } else if n != 0
                        || option
                            .parse::<u64>()
                            .map_err(|_| ParseError::Usage(RECORD_FILE))?
                            != 0
                    {
                        // An offset into an existing file (appending) pbx does not do.
                        return Err(ParseError::Usage(RECORD_FILE));
                    }
                }
                Ok(AgiCommand::RecordFile {
                    file: words[2].clone(),
                    format: words[3].to_ascii_lowercase(),
                    escape: EscapeDigits::parse(&words[4]),
                    timeout,
                    beep,
                    silence,
                })
            }
            ["record", "file", ..] => Err(ParseError::Usage(RECORD_FILE)),
            ["get", "data", rest @ ..] if (1..=3).contains(&rest.len()) => {
                let timeout = optional_ms(rest.get(1), GET_DATA)?;
                let max_digits = match rest.get(2) {
                    Some(n) => n
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=1024).contains(n))
                        .ok_or(ParseError::Usage(GET_DATA))?,
                    None => 1024,
                };
                Ok(AgiCommand::GetData {
                    file: words[2].clone(),
                    timeout,
                    max_digits,
                })
            }
            ["get", "data", ..] => Err(ParseError::Usage(GET_DATA)),
            ["get", "option", rest @ ..] if (2..=3).contains(&rest.len()) => {
                let (file, escape) = file_and_escape(&words[2..], GET_OPTION)?;
                let timeout = optional_ms(rest.get(2), GET_OPTION)?;
                Ok(AgiCommand::GetOption {
                    file,
                    escape,
                    timeout,
                })
            }
            ["get", "option", ..] => Err(ParseError::Usage(GET_OPTION)),
            ["say", "digits", _, _] => {
                let digits = words[2].clone();
                if !digits.chars().all(|c| c.is_ascii_digit()) {
                    return Err(ParseError::Usage(SAY_DIGITS));
                }
                Ok(AgiCommand::SayDigits {
                    digits,
                    escape: EscapeDigits::parse(&words[3]),
                })
            }
            ["say", "digits", ..] => Err(ParseError::Usage(SAY_DIGITS)),
            ["say", "number", _, _] | ["say", "number", _, _, _] => Ok(AgiCommand::SayNumber {
                number: words[2]
                    .parse()
                    .map_err(|_| ParseError::Usage(SAY_NUMBER))?,
                escape: EscapeDigits::parse(&words[3]),
            }),
            ["say", "number", ..] => Err(ParseError::Usage(SAY_NUMBER)),
            ["say", "alpha", _, _] => Ok(AgiCommand::SayAlpha {
                text: words[2].clone(),
                escape: EscapeDigits::parse(&words[3]),
            }),
            ["say", "alpha", ..] => Err(ParseError::Usage(SAY_ALPHA)),
            ["say", "phonetic", _, _] => Ok(AgiCommand::SayPhonetic {
                text: words[2].clone(),
                escape: EscapeDigits::parse(&words[3]),
            }),
            ["say", "phonetic", ..] => Err(ParseError::Usage(SAY_PHONETIC)),
            ["wait", "for", "digit", ms] => ms
                .parse::<i64>()
                .map(|ms| AgiCommand::WaitForDigit(Timeout::from_ms(ms)))
                .map_err(|_| ParseError::Usage(WAIT_FOR_DIGIT)),
            ["wait", "for", "digit", ..] => Err(ParseError::Usage(WAIT_FOR_DIGIT)),
            ["set", "variable", _, _] => Ok(AgiCommand::SetVariable {
                name: words[2].clone(),
                value: words[3].clone(),
            }),
            ["set", "variable", ..] => Err(ParseError::Usage(SET_VARIABLE)),
            ["get", "variable", _] => Ok(AgiCommand::GetVariable(words[2].clone())),
            ["get", "variable", ..] => Err(ParseError::Usage(GET_VARIABLE)),
            ["get", "full", "variable", rest @ ..] if (1..=2).contains(&rest.len()) => {
                Ok(AgiCommand::GetFullVariable {
                    expression: words[3].clone(),
                    channel: arg(4),
                })
            }
            ["get", "full", "variable", ..] => Err(ParseError::Usage(GET_FULL_VARIABLE)),
            ["set", "context", _] => Ok(AgiCommand::SetContext(words[2].clone())),
            ["set", "context", ..] => Err(ParseError::Usage(SET_CONTEXT)),
            ["set", "extension", _] => Ok(AgiCommand::SetExtension(words[2].clone())),
            ["set", "extension", ..] => Err(ParseError::Usage(SET_EXTENSION)),
            ["set", "priority", p] => p
                .parse::<usize>()
                .ok()
                .filter(|p| *p >= 1)
                .map(AgiCommand::SetPriority)
                .ok_or(ParseError::Usage(SET_PRIORITY)),
            ["set", "priority", ..] => Err(ParseError::Usage(SET_PRIORITY)),
            ["set", "callerid", _] => {
                let (name, number) = parse_caller_id(&words[2]);
                Ok(AgiCommand::SetCallerId { name, number })
            }
            ["set", "callerid", ..] => Err(ParseError::Usage(SET_CALLERID)),
            ["set", "autohangup", secs] => secs
                .parse::<u64>()
                .ok()
                .filter(|s| *s <= 86_400)
                .map(|s| AgiCommand::SetAutohangup(Duration::from_secs(s)))
                .ok_or(ParseError::Usage(SET_AUTOHANGUP)),
            ["set", "autohangup", ..] => Err(ParseError::Usage(SET_AUTOHANGUP)),
            ["channel", "status", rest @ ..] if rest.len() <= 1 => {
                Ok(AgiCommand::ChannelStatus(arg(2)))
            }
            ["channel", "status", ..] => Err(ParseError::Usage(CHANNEL_STATUS)),
            ["exec", _, ..] => Ok(AgiCommand::Exec {
                app: words[1].clone(),
                options: words[2..].join(" "),
            }),
            ["exec"] => Err(ParseError::Usage(EXEC)),
            ["verbose", _] | ["verbose", _, _] => Ok(AgiCommand::Verbose(words[1].clone())),
            ["verbose", ..] => Err(ParseError::Usage(VERBOSE)),
            ["noop", ..] => Ok(AgiCommand::Noop),
            ["asyncagi", "break", ..] => Ok(AgiCommand::AsyncAgiBreak),
            ["database", "get", _, _] => Ok(AgiCommand::DatabaseGet {
                family: words[2].clone(),
                key: words[3].clone(),
            }),
            ["database", "get", ..] => Err(ParseError::Usage(DATABASE_GET)),
            ["database", "put", _, _, _] => Ok(AgiCommand::DatabasePut {
                family: words[2].clone(),
                key: words[3].clone(),
                value: words[4].clone(),
            }),
            ["database", "put", ..] => Err(ParseError::Usage(DATABASE_PUT)),
            ["database", "del", _, _] => Ok(AgiCommand::DatabaseDel {
                family: words[2].clone(),
                key: words[3].clone(),
            }),
            ["database", "del", ..] => Err(ParseError::Usage(DATABASE_DEL)),
            ["database", "deltree", _] | ["database", "deltree", _, _] => {
                Ok(AgiCommand::DatabaseDelTree {
                    family: words[2].clone(),
                    prefix: arg(3),
                })
            }
            ["database", "deltree", ..] => Err(ParseError::Usage(DATABASE_DELTREE)),
            _ => Err(ParseError::Unknown),
        }
    }
}

/// The `file escape-digits` pair most playback commands start with.
fn file_and_escape(
    words: &[String],
    usage: &'static str,
) -> Result<(String, EscapeDigits), ParseError> {
    match words {
        [file, escape, ..] => Ok((file.clone(), EscapeDigits::parse(escape))),
        _ => Err(ParseError::Usage(usage)),
    }
}

/// An optional timeout in milliseconds, where 0 or none means the command's default.
fn optional_ms(word: Option<&&str>, usage: &'static str) -> Result<Option<Duration>, ParseError> {
    let Some(word) = word else {
        return Ok(None);
    };
    let ms: i64 = word.parse().map_err(|_| ParseError::Usage(usage))?;
    Ok(match Timeout::from_ms(ms) {
        Timeout::After(d) if !d.is_zero() => Some(d),
        _ => None,
    })
}

/// Splits `"Name" <number>`, `Name <number>` or a bare number, as Asterisk's
/// `ast_callerid_parse` does for the common forms.
fn parse_caller_id(text: &str) -> (String, String) {
    let text = text.trim();
    if let (Some(open), Some(close)) = (text.rfind('<'), text.rfind('>')) {
        if open < close {
            let name = text[..open].trim().trim_matches('"').trim().to_owned();
            return (name, text[open + 1..close].trim().to_owned());
        }
    }
    let number_like = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '*' | '#' | '-' | ' '));
    match number_like {
        true => (String::new(), text.replace([' ', '-'], "")),
        false => (text.trim_matches('"').to_owned(), String::new()),
    }
}

const HANGUP: &str = " Usage: HANGUP [<channelname>]";
const RECORD_FILE: &str = " Usage: RECORD FILE <filename> <format> <escape digits> <timeout> [offset samples] [BEEP] [s=silence]";
const STREAM_FILE: &str = " Usage: STREAM FILE <filename> <escape digits> [sample offset]";
const CONTROL_STREAM_FILE: &str = " Usage: CONTROL STREAM FILE <filename> <escape digits> [skipms] [ffchar] [rewchr] [pausechr] [offsetms]";
const GET_DATA: &str = " Usage: GET DATA <file to be streamed> [timeout] [maxdigits]";
const GET_OPTION: &str = " Usage: GET OPTION <filename> <escape_digits> [timeout]";
const SAY_DIGITS: &str = " Usage: SAY DIGITS <number> <escape digits>";
const SAY_NUMBER: &str = " Usage: SAY NUMBER <number> <escape digits> [gender]";
const SAY_ALPHA: &str = " Usage: SAY ALPHA <number> <escape digits>";
const SAY_PHONETIC: &str = " Usage: SAY PHONETIC <string> <escape digits>";
const WAIT_FOR_DIGIT: &str = " Usage: WAIT FOR DIGIT <timeout>";
const SET_VARIABLE: &str = " Usage: SET VARIABLE <variablename> <value>";
const GET_VARIABLE: &str = " Usage: GET VARIABLE <variablename>";
const GET_FULL_VARIABLE: &str = " Usage: GET FULL VARIABLE <variablename> [<channel name>]";
const SET_CONTEXT: &str = " Usage: SET CONTEXT <desired context>";
const SET_EXTENSION: &str = " Usage: SET EXTENSION <new extension>";
const SET_PRIORITY: &str = " Usage: SET PRIORITY <priority>";
const SET_CALLERID: &str = " Usage: SET CALLERID <number>";
const SET_AUTOHANGUP: &str = " Usage: SET AUTOHANGUP <time>";
const CHANNEL_STATUS: &str = " Usage: CHANNEL STATUS [<channelname>]";
const EXEC: &str = " Usage: EXEC <application> <options>";
const DATABASE_GET: &str = " Usage: DATABASE GET <family> <key>";
const DATABASE_PUT: &str = " Usage: DATABASE PUT <family> <key> <value>";
const DATABASE_DEL: &str = " Usage: DATABASE DEL <family> <key>";
const DATABASE_DELTREE: &str = " Usage: DATABASE DELTREE <family> [keytree]";
const VERBOSE: &str = " Usage: VERBOSE <message> <level>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_asterisk() {
        assert_eq!(
            split_words("STREAM FILE hello \"\""),
            ["STREAM", "FILE", "hello", ""]
        );
        assert_eq!(
            split_words("SET VARIABLE X \"two words\""),
            ["SET", "VARIABLE", "X", "two words"]
        );
        assert_eq!(split_words("VERBOSE a\\ b\\\"c"), ["VERBOSE", "a b\"c"]);
        assert_eq!(split_words("  NOOP\t "), ["NOOP"]);
        assert!(split_words("").is_empty());
    }

    #[test]
    fn commands_parse_to_typed_values() {
        assert_eq!(AgiCommand::parse("answer"), Ok(AgiCommand::Answer));
        assert_eq!(
            AgiCommand::parse("STREAM FILE hello-world \"#1\" 800"),
            Ok(AgiCommand::StreamFile {
                file: "hello-world".into(),
                escape: EscapeDigits::parse("#1"),
                offset: 800,
                control: false,
            })
        );
        assert_eq!(
            AgiCommand::parse("RECORD FILE \"msgs/6001\" WAV \"#\" 20000 0 beep s=3"),
            Ok(AgiCommand::RecordFile {
                file: "msgs/6001".into(),
                format: "wav".into(),
                escape: EscapeDigits::parse("#"),
                timeout: Some(Duration::from_secs(20)),
                beep: true,
                silence: Some(Duration::from_secs(3)),
            })
        );
        assert!(matches!(
            AgiCommand::parse("record file take wav # -1"),
            Ok(AgiCommand::RecordFile {
                timeout: None,
                beep: false,
                silence: None,
                ..
            })
        ));
        assert_eq!(
            AgiCommand::parse("record file take wav # 1000 8000"),
            Err(ParseError::Usage(RECORD_FILE)),
            "appending at an offset is refused"
        );
        assert_eq!(
            AgiCommand::parse("WAIT FOR DIGIT -1"),
            Ok(AgiCommand::WaitForDigit(Timeout::Forever))
        );
        assert_eq!(
            AgiCommand::parse("wait for digit 3000"),
            Ok(AgiCommand::WaitForDigit(Timeout::After(
                Duration::from_secs(3)
            )))
        );
        assert_eq!(
            AgiCommand::parse("GET DATA beep 0 4"),
            Ok(AgiCommand::GetData {
                file: "beep".into(),
                timeout: None,
                max_digits: 4
            })
        );
        assert_eq!(
            AgiCommand::parse("SET CALLERID \"Alice <6001>\""),
            Ok(AgiCommand::SetCallerId {
                name: "Alice".into(),
                number: "6001".into()
            })
        );
        assert_eq!(
            AgiCommand::parse("EXEC Playback hello-world"),
            Ok(AgiCommand::Exec {
                app: "Playback".into(),
                options: "hello-world".into()
            })
        );
        assert_eq!(
            AgiCommand::parse("asyncagi break"),
            Ok(AgiCommand::AsyncAgiBreak)
        );
        assert_eq!(
            AgiCommand::parse("DATABASE PUT cidname 6001 \"Alice B\""),
            Ok(AgiCommand::DatabasePut {
                family: "cidname".into(),
                key: "6001".into(),
                value: "Alice B".into()
            })
        );
        assert_eq!(
            AgiCommand::parse("DATABASE GET cidname"),
            Err(ParseError::Usage(DATABASE_GET))
        );
        assert!(AgiCommand::parse("GET VARIABLE X")
            .unwrap()
            .allowed_when_dead());
        assert!(!AgiCommand::Answer.allowed_when_dead());
    }

    #[test]
    fn unknown_and_malformed_lines() {
        assert_eq!(AgiCommand::parse("FROB"), Err(ParseError::Unknown));
        assert_eq!(AgiCommand::parse(""), Err(ParseError::Unknown));
        assert_eq!(AgiCommand::parse("STREAM"), Err(ParseError::Unknown));
        assert_eq!(
            AgiCommand::parse("STREAM FILE"),
            Err(ParseError::Usage(STREAM_FILE))
        );
        assert_eq!(
            AgiCommand::parse("WAIT FOR DIGIT soon"),
            Err(ParseError::Usage(WAIT_FOR_DIGIT))
        );
        assert_eq!(
            AgiCommand::parse("SAY DIGITS 12a \"\""),
            Err(ParseError::Usage(SAY_DIGITS))
        );
        assert_eq!(
            AgiCommand::parse("SET PRIORITY 0"),
            Err(ParseError::Usage(SET_PRIORITY))
        );
    }
}
