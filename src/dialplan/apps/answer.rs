//! `Answer()`: answers the call (200 OK), so audio flows both ways.
//!
//! Answering an answered call does nothing. Playback, Background and Read answer by themselves
//! when needed, as in Asterisk.

use super::{args, AppError, Application, Outcome};
use crate::dialplan::vars::CallCtx;

/// The `Answer` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer;

impl Application for Answer {
    const NAME: &'static str = "Answer";
    const SYNTAX: &'static str = "Answer()";
    const DOC: &'static str = "Answers the call (200 OK). Does nothing when already answered.";

    fn parse(text: &str) -> Result<Self, AppError> {
        args::<Self>(text, 0)?;
        Ok(Answer)
    }

    fn run(&self, _ctx: &mut CallCtx) -> Outcome {
        Outcome::Answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_run() {
        assert_eq!(Answer::parse(" "), Ok(Answer));
        assert!(matches!(
            Answer::parse("500"),
            Err(AppError::TooManyArguments { max: 0, .. })
        ));
        assert_eq!(
            Answer.run(&mut crate::dialplan::apps::tests::ctx()),
            Outcome::Answer
        );
    }
}
