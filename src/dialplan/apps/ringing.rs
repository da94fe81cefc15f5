//! `Ringing()`: tells the caller the call is ringing (180 Ringing) without answering.

use super::{args, AppError, Application, Outcome};
use crate::dialplan::vars::CallCtx;

/// The `Ringing` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ringing;

impl Application for Ringing {
    const NAME: &'static str = "Ringing";
    const SYNTAX: &'static str = "Ringing()";
    const DOC: &'static str = "Sends 180 Ringing to the caller; the call stays unanswered.";

    fn parse(text: &str) -> Result<Self, AppError> {
        args::<Self>(text, 0)?;
        Ok(Ringing)
    }

    fn run(&self, _ctx: &mut CallCtx) -> Outcome {
        Outcome::Ringing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_run() {
        assert_eq!(Ringing::parse(""), Ok(Ringing));
        assert!(Ringing::parse("x").is_err());
        assert_eq!(
            Ringing.run(&mut crate::dialplan::apps::tests::ctx()),
            Outcome::Ringing
        );
    }
}
