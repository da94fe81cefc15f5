//! `Wait(seconds)`: pauses the dialplan; fractions are allowed (`Wait(0.5)`). Digits pressed
//! meanwhile are ignored.

use std::time::Duration;

use super::{args, bad_seconds, missing, seconds, AppError, Application, Outcome, Param};
use crate::dialplan::vars::CallCtx;

/// The `Wait` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// How long to wait.
    pub duration: Param<Duration>,
}

impl Application for Wait {
    const NAME: &'static str = "Wait";
    const SYNTAX: &'static str = "Wait(seconds)";
    const DOC: &'static str = "Waits this many seconds (fractions allowed), ignoring digits.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let parts = args::<Self>(text, 1)?;
        let arg = parts
            .first()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| missing::<Self>("a number of seconds"))?;
        let duration = Param::parse(arg, seconds, || bad_seconds("Wait seconds", arg))?;
        Ok(Wait { duration })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        match self.duration.resolve(ctx, seconds) {
            Some(d) if !d.is_zero() => Outcome::Wait(d),
            _ => Outcome::Next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let mut c = ctx();
        let w = Wait::parse("0.25").unwrap();
        assert_eq!(w.run(&mut c), Outcome::Wait(Duration::from_millis(250)));
        assert_eq!(Wait::parse("0").unwrap().run(&mut c), Outcome::Next);
        assert!(matches!(
            Wait::parse(""),
            Err(AppError::MissingArgument { .. })
        ));
        assert!(matches!(
            Wait::parse("abc"),
            Err(AppError::BadNumber { .. })
        ));
        let w = Wait::parse("${env:X}").unwrap();
        assert_eq!(w.run(&mut c), Outcome::Wait(Duration::from_secs(42)));
    }
}
