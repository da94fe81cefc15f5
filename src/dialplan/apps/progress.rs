//! `Progress()`: opens early media (183 Session Progress) so prompts can play before answer.

use super::{args, AppError, Application, Outcome};
use crate::dialplan::vars::CallCtx;

/// The `Progress` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress;

impl Application for Progress {
    const NAME: &'static str = "Progress";
    const SYNTAX: &'static str = "Progress()";
    const DOC: &'static str =
        "Sends 183 Session Progress: early media, so Playback(x,noanswer) is heard unanswered.";

    fn parse(text: &str) -> Result<Self, AppError> {
        args::<Self>(text, 0)?;
        Ok(Progress)
    }

    fn run(&self, _ctx: &mut CallCtx) -> Outcome {
        Outcome::Progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_run() {
        assert_eq!(Progress::parse(""), Ok(Progress));
        assert!(Progress::parse("1").is_err());
        assert_eq!(
            Progress.run(&mut crate::dialplan::apps::tests::ctx()),
            Outcome::Progress
        );
    }
}
