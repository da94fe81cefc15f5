//! The dialplan: what happens to a call, written in TOML the way Asterisk users know it.
//!
//! ```toml
//! [context.internal]
//! "6001"   = ["Dial(endpoint/6001, 30)", "Hangup()"]
//! "8000"   = ["Answer()", "Playback(hello-world)", "Hangup()"]
//! "_999X." = ["Dial(trunk/provider/${EXTEN:3}, 60)", "Hangup()"]
//! "8001"   = ["Answer()", "menu: Background(ivr-menu)", "WaitExten(5)"]
//! ```
//!
//! A core module (no I/O but [`Dialplan::load`] reading its file, no clock, no tokio). Pieces:
//! - [`load`]: TOML to a checked [`Dialplan`]; errors read `FILE:LINE: context C, extension E,
//!   step N: what is wrong`.
//! - [`model`]: contexts, extensions (most specific first), steps, jump resolution, listing.
//! - [`pattern`]: Asterisk extension patterns (`_NXX.`) and their order.
//! - [`vars`] and [`expr`]: `${...}` substitution and `$[...]` expressions.
//! - [`apps`]: one file per application (Answer, Dial, Background, ...).
//! - [`action`]: the call task's side: [`CallInfo`], [`Action`], [`Event`], [`DialStatus`].
//! - [`interp`]: the per-call interpreter, a state machine the call task drives with
//!   [`Event`]s and that answers with the next [`Action`].

pub mod action;
pub mod apps;
pub mod expr;
pub mod interp;
pub mod load;
pub mod model;
pub mod pattern;
pub mod vars;

use std::path::PathBuf;

pub use action::{Action, CallInfo, DialStatus, Event, Note, RecordStatus, RunError};
pub use apps::dial::DialTarget;
pub use interp::Interpreter;
pub use load::StepError;
pub use model::{Context, Dialplan, Extension, Location, ResolveError, Step};
pub use pattern::{Pattern, PatternError};
pub use vars::Database;

/// The embedded default dialplan (`config/dialplan.toml`), used when no file is configured.
pub const DEFAULT_DIALPLAN: &str = include_str!("../../config/dialplan.toml");

/// Name shown in errors and listings for the embedded default dialplan.
pub const EMBEDDED_NAME: &str = "<embedded config/dialplan.toml>";

/// The context of a [`Dialplan::one_step`] dialplan (its one extension is `s`).
pub const ONE_STEP_CONTEXT: &str = "originate-app";

impl Dialplan {
    /// A dialplan of one step, `step` (such as `Playback(hello-world)`), at extension `s` of
    /// [`ONE_STEP_CONTEXT`]: what an originate straight into an app runs.
    pub fn one_step(step: &str) -> Result<Dialplan, DialplanError> {
        let steps = toml::Value::Array(vec![toml::Value::String(step.to_owned())]);
        let text = format!("[context.{ONE_STEP_CONTEXT}]\ns = {steps}\n");
        Dialplan::parse(std::path::Path::new("<originate>"), &text)
    }

    /// The embedded default dialplan, parsed.
    pub fn embedded() -> Result<Dialplan, DialplanError> {
        Dialplan::parse(std::path::Path::new(EMBEDDED_NAME), DEFAULT_DIALPLAN)
    }
}

/// Why a dialplan could not be loaded (or a listing asked for a missing context).
#[derive(Debug, thiserror::Error)]
pub enum DialplanError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax error, unknown key (anything but `context`) or value of the wrong type.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Where the parser stopped.
        line: usize,
        /// The TOML parser's explanation.
        message: String,
    },
    /// A context name with characters other than letters, digits, `_` and `-`.
    #[error("{}:{line}: context {context:?}: bad context name: use letters, digits, _ and -", path.display())]
    BadContextName {
        /// The file.
        path: PathBuf,
        /// Line of the context.
        line: usize,
        /// The name.
        context: String,
    },
    /// An extension name or pattern that does not parse.
    #[error("{}:{line}: context {context}, extension {exten}: bad pattern: {source}", path.display())]
    BadPattern {
        /// The file.
        path: PathBuf,
        /// Line of the extension.
        line: usize,
        /// Its context.
        context: String,
        /// The extension as written.
        exten: String,
        /// What is wrong with it.
        source: PatternError,
    },
    /// An extension with an empty list of steps.
    #[error("{}:{line}: context {context}, extension {exten}: no steps", path.display())]
    EmptyExtension {
        /// The file.
        path: PathBuf,
        /// Line of the extension.
        line: usize,
        /// Its context.
        context: String,
        /// The extension as written.
        exten: String,
    },
    /// A step that does not parse or points nowhere.
    #[error("{}:{line}: context {context}, extension {exten}, step {step}: {source}", path.display())]
    Step {
        /// The file.
        path: PathBuf,
        /// Line of the step.
        line: usize,
        /// Its context.
        context: String,
        /// Its extension as written.
        exten: String,
        /// Its position, from 1.
        step: usize,
        /// What is wrong with it.
        source: Box<StepError>,
    },
    /// `dialplan show CONTEXT` named a context that does not exist.
    #[error("no such context: {0}")]
    NoSuchContext(String),
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    fn call(exten: &str) -> Interpreter {
        let plan = Arc::new(Dialplan::embedded().unwrap());
        let info = CallInfo {
            context: "internal".into(),
            exten: exten.into(),
            caller_num: "6001".into(),
            caller_name: "Alice".into(),
        };
        let env = |n: &str| (n == "EXTERNAL_EXTENSION_NUMBER").then(|| "5550100".to_owned());
        Interpreter::new(plan, info, env).unwrap()
    }

    fn play(sound: &str, interruptible: bool) -> Action {
        Action::Play {
            sounds: vec![sound.into()],
            interruptible,
        }
    }

    const HANGUP: Action = Action::Hangup { cause: None };

    #[test]
    fn shipped_dialplan_parses() {
        let plan = Dialplan::embedded().unwrap();
        assert_eq!(plan.context_names(), ["from-trunk", "internal", "ivr"]);
        let text = plan.describe(None).unwrap();
        assert!(text.contains("[menu] Background(ivr-menu)"), "{text}");
    }

    #[test]
    fn shipped_8000() {
        let mut c = call("8000");
        assert_eq!(c.resume(Event::Started), Action::Answer);
        assert_eq!(c.resume(Event::Done), play("hello-world", false));
        assert_eq!(c.resume(Event::PlaybackDone), HANGUP);
        assert_eq!(c.resume(Event::Hangup), Action::Finished);
    }

    #[test]
    fn shipped_6001_unavailable() {
        let mut c = call("6001");
        let Action::Dial {
            targets, timeout, ..
        } = c.resume(Event::Started)
        else {
            panic!("6001 dials");
        };
        assert_eq!(targets, [DialTarget::Endpoint("6001".into())]);
        assert_eq!(timeout, Duration::from_secs(30));
        assert_eq!(
            c.resume(Event::DialResult(DialStatus::ChanUnavail)),
            Action::Answer
        );
        assert_eq!(c.get_var("DIALSTATUS").as_deref(), Some("CHANUNAVAIL"));
        assert_eq!(c.resume(Event::Done), play("number-not-available", false));
        assert_eq!(c.resume(Event::PlaybackDone), HANGUP);
    }

    #[test]
    fn shipped_outside_line() {
        let mut c = call("9995551234");
        let Action::Dial { targets, .. } = c.resume(Event::Started) else {
            panic!("_999X. dials");
        };
        let trunk = DialTarget::Trunk {
            trunk: "provider".into(),
            number: "5551234".into(),
        };
        assert_eq!(targets, [trunk]);
    }

    #[test]
    fn shipped_ivr() {
        let mut c = call("8001");
        assert_eq!(c.resume(Event::Started), Action::Answer);
        let menu = play("ivr-menu", true);
        assert_eq!(c.resume(Event::Done), menu);
        assert_eq!(c.location(), ("ivr", "s", 2));
        // 4: hello-world, then back to the menu (already answered: no second Answer).
        assert_eq!(c.resume(Event::Digit('4')), play("hello-world", false));
        assert_eq!(c.resume(Event::PlaybackDone), menu);
        // 9: no such option, so i: invalid-option and back.
        assert_eq!(c.resume(Event::Digit('9')), play("invalid-option", false));
        assert_eq!(c.resume(Event::PlaybackDone), menu);
        // 3 during the wait: the external number from the environment through the trunk.
        let wait = Action::WaitDigit {
            timeout: Duration::from_secs(5),
        };
        assert_eq!(c.resume(Event::PlaybackDone), wait);
        let Action::Dial { targets, .. } = c.resume(Event::Digit('3')) else {
            panic!("3 dials out");
        };
        let trunk = DialTarget::Trunk {
            trunk: "provider".into(),
            number: "5550100".into(),
        };
        assert_eq!(targets, [trunk]);
        let status = Event::DialResult(DialStatus::ChanUnavail);
        assert_eq!(c.resume(status), play("number-not-available", false));
        assert_eq!(c.resume(Event::PlaybackDone), menu);
        // Silence: t says goodbye and hangs up.
        assert_eq!(c.resume(Event::PlaybackDone), wait);
        assert_eq!(c.resume(Event::Timeout), play("goodbye", false));
        assert_eq!(c.resume(Event::PlaybackDone), HANGUP);
        assert_eq!(c.resume(Event::Hangup), Action::Finished);
    }

    #[test]
    fn shipped_ivr_digits_never_reach_internal() {
        let mut c = call("8001");
        c.resume(Event::Started);
        c.resume(Event::Done);
        // 8 starts 8000 in `internal`, but the menu collects in `ivr`: invalid at once.
        assert_eq!(c.resume(Event::Digit('8')), play("invalid-option", false));
        assert_eq!(c.get_var("INVALID_EXTEN").as_deref(), Some("8"));
    }
}
