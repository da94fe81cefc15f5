//! `Echo()`: sends the caller's audio straight back until the caller hangs up (a latency and
//! audio-path test).

use super::{args, AppError, Application, Outcome};
use crate::dialplan::vars::CallCtx;

/// The `Echo` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo;

impl Application for Echo {
    const NAME: &'static str = "Echo";
    const SYNTAX: &'static str = "Echo()";
    const DOC: &'static str = "Loops the caller's audio back to them until they hang up.";

    fn parse(text: &str) -> Result<Self, AppError> {
        args::<Self>(text, 0)?;
        Ok(Echo)
    }

    fn run(&self, _ctx: &mut CallCtx) -> Outcome {
        Outcome::Echo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_run() {
        assert_eq!(Echo::parse(""), Ok(Echo));
        assert!(Echo::parse("a,b").is_err());
        assert_eq!(
            Echo.run(&mut crate::dialplan::apps::tests::ctx()),
            Outcome::Echo
        );
    }
}
