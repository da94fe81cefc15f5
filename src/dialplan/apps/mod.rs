//! Dialplan applications: one small struct per app, one file each, gathered in the [`App`] enum.
//!
//! Every app implements [`Application`]: `parse` checks its arguments once, when the dialplan is
//! loaded, and `run` is called each time a call reaches the step; it reads and writes the call's
//! variables through the [`CallCtx`] and returns an [`Outcome`] telling the interpreter what to
//! do next. Arguments are split on top-level commas (commas inside `${}`, `$[]` or parentheses
//! do not split) and trimmed; `${...}` is expanded when the step runs, not when it is loaded.
//! Adding an app means one new file here and one line in the `apps!` list below.

pub mod agi;
pub mod answer;
pub mod background;
pub mod confbridge;
pub mod dial;
pub mod echo;
pub mod goto;
pub mod goto_if;
pub mod hangup;
pub mod log;
pub mod noop;
pub mod playback;
pub mod progress;
pub mod read;
pub mod record;
pub mod ringing;
pub mod say_digits;
pub mod set;
pub mod socket;
pub mod speak;
pub mod stasis;
pub mod wait;
pub mod wait_exten;

use std::time::Duration;

use super::vars::{CallCtx, Template, VarError};
use dial::DialTarget;
use goto::{Destination, Jump};
use read::ReadRequest;
use record::RecordRequest;

/// Longest duration any app accepts, in seconds (one day): keeps conversions in range.
const MAX_SECONDS: f64 = 86_400.0;

/// Why a step's arguments were refused at load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// No app has this name.
    #[error("unknown app {0:?} (`pbx ctl dialplan apps` lists them)")]
    UnknownApp(String),
    /// More arguments than the app takes.
    #[error("{app} takes at most {max} argument(s); syntax: {syntax}")]
    TooManyArguments {
        /// The app.
        app: &'static str,
        /// How many it takes.
        max: usize,
        /// Its syntax line.
        syntax: &'static str,
    },
    /// A required argument is missing or empty.
    #[error("{app} needs {what}; syntax: {syntax}")]
    MissingArgument {
        /// The app.
        app: &'static str,
        /// What is missing.
        what: &'static str,
        /// Its syntax line.
        syntax: &'static str,
    },
    /// A number (seconds, digits, cause code) out of range or not a number.
    #[error("{what} must be {expected}, not {value:?}")]
    BadNumber {
        /// Which argument.
        what: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What was written.
        value: String,
    },
    /// A `${...}` or `$[...]` is malformed, or Set names something it cannot set.
    #[error(transparent)]
    Variable(#[from] VarError),
    /// A sound name that is empty, absolute, or climbs out with `..`.
    #[error("bad sound name {0:?}: use names like hello-world or digits/1")]
    BadSound(String),
    /// An option the app does not have.
    #[error("{app} has no option {option:?}")]
    BadOption {
        /// The app.
        app: &'static str,
        /// The option written.
        option: String,
    },
    /// A Dial target whose technology is neither `endpoint` nor `trunk`.
    #[error("unknown technology {0:?} in Dial target: use endpoint/USER or trunk/NAME/NUMBER")]
    UnknownTechnology(String),
    /// A Dial target with a missing part, like `trunk/provider` without a number.
    #[error("bad Dial target {0:?}: use endpoint/USER or trunk/NAME/NUMBER")]
    BadDialTarget(String),
    /// A Goto destination that is not `[[context,]exten,]step-or-label`.
    #[error("bad destination {0:?}: use [[context,]extension,]step-or-label")]
    BadDestination(String),
    /// A GotoIf without `?`.
    #[error("GotoIf needs condition?destination[:destination]")]
    MissingQuestionMark,
    /// Set without `=`.
    #[error("Set needs NAME=value")]
    MissingEquals,
    /// A Record file name without `.wav`.
    #[error("bad recording {0:?}: Record needs a name and its format, like greeting.wav")]
    BadRecording(String),
    /// An `AGI(...)` target that is not `agi:async`, `agi://host[:port]/script` or a safe
    /// program name.
    #[error("{0}")]
    BadAgiTarget(String),
    /// A `Socket(...)` target that is not `host:port[,async][,full]`.
    #[error("{0}")]
    BadSocketTarget(String),
    /// A Log level other than ERROR, WARNING, NOTICE, VERBOSE, DEBUG or DTMF.
    #[error("unknown log level {0:?}: use ERROR, WARNING, NOTICE, VERBOSE, DEBUG or DTMF")]
    BadLogLevel(String),
}

/// What running a step asks of the interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Go on with the next step, nothing to wait for.
    Next,
    /// Jump elsewhere (Goto, GotoIf), destination already expanded.
    Goto(Jump),
    /// Answer the call.
    Answer,
    /// Send ringing (180) to the caller.
    Ringing,
    /// Send progress (183, early media) to the caller.
    Progress,
    /// Hang up, with an optional Q.850 cause.
    Hangup(Option<u16>),
    /// Play prompts. `menu`: a digit interrupts and starts collecting an extension
    /// (Background). `answer`: answer first if the call is not answered yet.
    Play {
        /// Sound names, in order.
        sounds: Vec<String>,
        /// Interruptible by digits that select an extension.
        menu: bool,
        /// Answer the call first when needed.
        answer: bool,
    },
    /// Wait this long for the first digit of an extension (WaitExten).
    WaitExten(Duration),
    /// Wait this long, ignoring digits.
    Wait(Duration),
    /// Loop the caller's audio back until hangup.
    Echo,
    /// Join this conference room until hangup.
    ConfBridge(String),
    /// Hand the channel to outside application `app`, with `args`.
    Stasis {
        /// The application's name.
        app: String,
        /// Its arguments.
        args: Vec<String>,
    },
    /// Hand the channel to an AGI program (`AGI`).
    Agi {
        /// Where the commands come from.
        request: crate::agi::request::AgiRequest,
        /// The target as expanded (`agi_request`).
        target: String,
        /// The arguments (`agi_arg_N`).
        args: Vec<String>,
    },
    /// Hand the channel to an event-socket application (`Socket`).
    Socket(crate::esl::target::SocketTarget),
    /// Say text with the TTS engine (answering first when needed).
    Speak {
        /// The text.
        text: String,
        /// The voice; empty uses the configured one.
        voice: String,
    },
    /// Call out; the result lands in `${DIALSTATUS}`.
    Dial {
        /// Who to ring, all at once.
        targets: Vec<DialTarget>,
        /// How long to ring.
        timeout: Duration,
        /// Dial options, passed on (`g` is also read by the interpreter).
        options: String,
    },
    /// Collect digits into a variable (Read).
    Read(ReadRequest),
    /// Record the caller (Record); the result lands in `${RECORD_STATUS}`.
    Record {
        /// What to record and when to stop.
        request: RecordRequest,
        /// Answer the call first when needed.
        answer: bool,
        /// Skip the step (`SKIP`) when the call is not answered.
        skip_unanswered: bool,
    },
}

/// One dialplan application: its documentation, load-time parsing and run-time behaviour.
pub trait Application: Sized {
    /// The name used in the dialplan (matched case-insensitively).
    const NAME: &'static str;
    /// One-line syntax, as `pbx ctl dialplan apps` prints it.
    const SYNTAX: &'static str;
    /// What the app does.
    const DOC: &'static str;
    /// Parses the text between the parentheses.
    fn parse(args: &str) -> Result<Self, AppError>;
    /// Runs the step for one call.
    fn run(&self, ctx: &mut CallCtx) -> Outcome;
    /// Jump destinations, checked at load when they contain no variables.
    fn destinations(&self) -> Vec<&Destination> {
        Vec::new()
    }
}

macro_rules! apps {
    ($($variant:ident($ty:ty),)*) => {
        /// One step's application with its parsed arguments.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum App {
            $(
                #[doc = concat!("`", stringify!($variant), "`.")]
                $variant($ty),
            )*
        }

        impl App {
            /// Parses `name(args)` (name matched case-insensitively).
            pub fn parse(name: &str, args: &str) -> Result<App, AppError> {
                $(
                    if name.eq_ignore_ascii_case(<$ty as Application>::NAME) {
                        return <$ty as Application>::parse(args).map(App::$variant);
                    }
                )*
                Err(AppError::UnknownApp(name.to_owned()))
            }

            /// The app's canonical name.
            pub fn name(&self) -> &'static str {
                match self {
                    $(App::$variant(_) => <$ty as Application>::NAME,)*
                }
            }

            /// Runs the step for one call.
            pub fn run(&self, ctx: &mut CallCtx) -> Outcome {
                match self {
                    $(App::$variant(app) => app.run(ctx),)*
                }
            }

            /// Jump destinations of Goto-like apps.
            pub fn destinations(&self) -> Vec<&Destination> {
                match self {
                    $(App::$variant(app) => app.destinations(),)*
                }
            }

            /// `(name, syntax, doc)` of every app, for `pbx ctl dialplan apps`.
            pub fn help() -> Vec<(&'static str, &'static str, &'static str)> {
                vec![$((
                    <$ty as Application>::NAME,
                    <$ty as Application>::SYNTAX,
                    <$ty as Application>::DOC,
                ),)*]
            }
        }
    };
}

apps! {
    Agi(agi::Agi),
    Answer(answer::Answer),
    Background(background::Background),
    ConfBridge(confbridge::ConfBridge),
    Dial(dial::Dial),
    Echo(echo::Echo),
    Goto(goto::Goto),
    GotoIf(goto_if::GotoIf),
    Hangup(hangup::Hangup),
    Log(log::Log),
    NoOp(noop::NoOp),
    Playback(playback::Playback),
    Progress(progress::Progress),
    Read(read::Read),
    Record(record::Record),
    Ringing(ringing::Ringing),
    SayDigits(say_digits::SayDigits),
    Set(set::Set),
    Socket(socket::Socket),
    Speak(speak::Speak),
    Stasis(stasis::Stasis),
    Wait(wait::Wait),
    WaitExten(wait_exten::WaitExten),
}

/// The byte index of the first `sep` outside `()`, `[]` and `{}`.
pub(crate) fn find_top(text: &str, sep: char) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            c if c == sep && depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits on top-level `sep`, trimming each part; blank text gives no parts.
pub(crate) fn split_top(text: &str, sep: char) -> Vec<&str> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(i) = find_top(rest, sep) {
        parts.push(rest[..i].trim());
        rest = &rest[i + sep.len_utf8()..];
    }
    parts.push(rest.trim());
    parts
}

/// Splits an app's arguments, refusing more than `A::NAME` takes.
fn args<A: Application>(text: &str, max: usize) -> Result<Vec<&str>, AppError> {
    let parts = split_top(text, ',');
    if parts.len() > max {
        return Err(AppError::TooManyArguments {
            app: A::NAME,
            max,
            syntax: A::SYNTAX,
        });
    }
    Ok(parts)
}

/// The error for a missing argument of app `A`.
fn missing<A: Application>(what: &'static str) -> AppError {
    AppError::MissingArgument {
        app: A::NAME,
        what,
        syntax: A::SYNTAX,
    }
}

/// A numeric argument: checked at load when literal, else parsed after expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param<T> {
    /// Written as a literal value.
    Fixed(T),
    /// Contains variables; parsed each time the step runs.
    Dynamic(Template),
}

impl<T: Copy> Param<T> {
    /// Parses `text` with `conv`; a literal that does not convert is refused with `err`.
    fn parse(
        text: &str,
        conv: fn(&str) -> Option<T>,
        err: impl FnOnce() -> AppError,
    ) -> Result<Param<T>, AppError> {
        let template = Template::parse(text)?;
        if template.is_dynamic() {
            return Ok(Param::Dynamic(template));
        }
        conv(text).map(Param::Fixed).ok_or_else(err)
    }

    /// The value for this call; `None` (logged) when an expanded value does not convert.
    fn resolve(&self, ctx: &CallCtx, conv: fn(&str) -> Option<T>) -> Option<T> {
        match self {
            Param::Fixed(v) => Some(*v),
            Param::Dynamic(t) => {
                let text = ctx.expand(t);
                let value = conv(&text);
                if value.is_none() {
                    tracing::warn!(argument = %t, value = %text, "dialplan: unusable value");
                }
                value
            }
        }
    }
}

/// Seconds, fractions allowed, from 0 to one day.
fn seconds(text: &str) -> Option<Duration> {
    let s: f64 = text.trim().parse().ok()?;
    (s.is_finite() && (0.0..=MAX_SECONDS).contains(&s)).then(|| Duration::from_secs_f64(s))
}

/// The error for a seconds argument that is not usable.
fn bad_seconds(what: &'static str, value: &str) -> AppError {
    AppError::BadNumber {
        what,
        expected: "a number of seconds from 0 to 86400",
        value: value.to_owned(),
    }
}

/// Whether a sound name is safe to look up: relative, no `..`, plain characters.
fn sound_ok(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && name.split('/').all(|part| !part.is_empty() && part != "..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b'.'))
}

/// A `sound[&sound...]` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoundList(Template);

impl SoundList {
    /// Parses the argument; literal names are checked now, expanded ones when played.
    fn parse(text: &str) -> Result<SoundList, AppError> {
        let template = Template::parse(text)?;
        if let Some(literal) = template.literal() {
            if let Some(bad) = literal.split('&').map(str::trim).find(|s| !sound_ok(s)) {
                return Err(AppError::BadSound(bad.to_owned()));
            }
        }
        Ok(SoundList(template))
    }

    /// The sound names for this call; unsafe expanded names are dropped (logged).
    fn resolve(&self, ctx: &CallCtx) -> Vec<String> {
        let text = ctx.expand(&self.0);
        text.split('&')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .filter(|s| {
                let ok = sound_ok(s);
                if !ok {
                    tracing::warn!(sound = %s, "dialplan: refusing unsafe sound name");
                }
                ok
            })
            .map(str::to_owned)
            .collect()
    }

    /// Parses a prompt app's `sound[&sound...][,option]` arguments: the sounds, and whether to
    /// answer first (false when `no_answer` accepts the option; any other option is an error).
    fn parse_prompt<A: Application>(
        text: &str,
        no_answer: fn(&str) -> bool,
    ) -> Result<(SoundList, bool), AppError> {
        let parts = args::<A>(text, 2)?;
        let sounds = parts
            .first()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| missing::<A>("a sound name"))?;
        let answer = match parts.get(1) {
            None => true,
            Some(o) if no_answer(o) => false,
            Some(o) => {
                return Err(AppError::BadOption {
                    app: A::NAME,
                    option: (*o).to_owned(),
                })
            }
        };
        Ok((SoundList::parse(sounds)?, answer))
    }

    /// Plays these sounds (`menu`: digits interrupt), or goes on when they expand to none.
    fn play(&self, ctx: &CallCtx, menu: bool, answer: bool) -> Outcome {
        let sounds = self.resolve(ctx);
        if sounds.is_empty() {
            return Outcome::Next;
        }
        Outcome::Play {
            sounds,
            menu,
            answer,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A call context for app tests: exten 8000 in `internal`, caller 6001, env X=42.
    pub(crate) fn ctx() -> CallCtx {
        let env = |n: &str| (n == "X").then(|| "42".to_owned());
        CallCtx::new(
            "internal".into(),
            "8000".into(),
            "6001".into(),
            "Alice".into(),
            Box::new(env),
        )
    }

    #[test]
    fn splitting() {
        assert_eq!(split_top("a, b ,c", ','), ["a", "b", "c"]);
        assert_eq!(
            split_top("${EXTEN:3},$[1,2],f(a,b)", ','),
            ["${EXTEN:3}", "$[1,2]", "f(a,b)"]
        );
        assert_eq!(split_top("  ", ','), Vec::<&str>::new());
        assert_eq!(split_top("a,", ','), ["a", ""]);
        assert_eq!(find_top("$[a?b]?c", '?'), Some(6));
    }

    #[test]
    fn parse_dispatch_and_help() {
        assert_eq!(App::parse("answer", "").map(|a| a.name()), Ok("Answer"));
        assert_eq!(
            App::parse("Playbak", "x"),
            Err(AppError::UnknownApp("Playbak".into()))
        );
        let help = App::help();
        assert_eq!(help.len(), 23);
        assert!(help
            .iter()
            .all(|(n, s, d)| s.starts_with(n) && !d.is_empty()));
    }

    #[test]
    fn sounds_and_seconds() {
        assert!(sound_ok("hello-world") && sound_ok("digits/1") && sound_ok("en/x.v2"));
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a b", "a//b"] {
            assert!(!sound_ok(bad), "{bad}");
        }
        assert_eq!(seconds("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(seconds("-1"), None);
        assert_eq!(seconds("inf"), None);
        assert_eq!(seconds("1e9"), None);
        let mut c = ctx();
        c.set("S", "hello-world&../secret".into());
        let list = SoundList::parse("${S}&goodbye").unwrap();
        assert_eq!(list.resolve(&c), ["hello-world", "goodbye"]);
        assert_eq!(
            SoundList::parse("a&/b"),
            Err(AppError::BadSound("/b".into()))
        );
        let p = Param::parse("${env:X}", seconds, || bad_seconds("t", "")).unwrap();
        assert_eq!(p.resolve(&c, seconds), Some(Duration::from_secs(42)));
        c.set("Y", "soon".into());
        let p = Param::parse("${Y}", seconds, || bad_seconds("t", "")).unwrap();
        assert_eq!(p.resolve(&c, seconds), None);
    }
}
