//! `WaitExten([seconds])`: waits for the caller to start dialling an extension of the current
//! context, normally after a `Background` menu prompt.
//!
//! As in Asterisk, the default is the response timeout, 10 seconds (0 also means the default).
//! A first digit starts digit collection (see the interpreter); no digit in time jumps to the
//! `t` extension, or hangs up when the context has none.

use std::time::Duration;

use super::{args, bad_seconds, seconds, AppError, Application, Outcome, Param};
use crate::dialplan::vars::CallCtx;

/// Asterisk's default response timeout, `TIMEOUT(response)`.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The `WaitExten` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitExten {
    /// How long to wait for the first digit; `None` is the default.
    pub timeout: Option<Param<Duration>>,
}

impl Application for WaitExten {
    const NAME: &'static str = "WaitExten";
    const SYNTAX: &'static str = "WaitExten([seconds])";
    const DOC: &'static str = "Waits for the caller to dial an extension of this context \
        (default 10 s); on silence goes to the t extension, or hangs up without one.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let parts = args::<Self>(text, 1)?;
        let timeout = match parts.first().filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => Some(Param::parse(p, seconds, || {
                bad_seconds("WaitExten seconds", p)
            })?),
        };
        Ok(WaitExten { timeout })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let timeout = self
            .timeout
            .as_ref()
            .and_then(|t| t.resolve(ctx, seconds))
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_RESPONSE_TIMEOUT);
        Outcome::WaitExten(timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let mut c = ctx();
        let run = |text: &str, c: &mut CallCtx| WaitExten::parse(text).unwrap().run(c);
        assert_eq!(
            run("", &mut c),
            Outcome::WaitExten(DEFAULT_RESPONSE_TIMEOUT)
        );
        assert_eq!(
            run("0", &mut c),
            Outcome::WaitExten(DEFAULT_RESPONSE_TIMEOUT)
        );
        assert_eq!(run("5", &mut c), Outcome::WaitExten(Duration::from_secs(5)));
        assert_eq!(
            run("2.5", &mut c),
            Outcome::WaitExten(Duration::from_millis(2500))
        );
        assert!(WaitExten::parse("5,m").is_err());
        assert!(WaitExten::parse("soon").is_err());
    }
}
