//! `Background(sound[&sound...][,n])`: plays a menu prompt that the caller may interrupt by
//! dialling: the first digit stops the prompt and starts collecting an extension of the current
//! context (see the interpreter for how collection ends). When the prompt ends with no digit,
//! the next step runs, normally `WaitExten`.
//!
//! Like Asterisk, answers an unanswered call first unless the `n` option is given. Unlike
//! Asterisk, which ignores a digit that starts no extension, any digit interrupts, so a wrong
//! choice reaches the `i` extension at once.

use super::{AppError, Application, Outcome, SoundList};
use crate::dialplan::vars::CallCtx;

/// The `Background` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Background {
    /// The menu prompt(s).
    pub sounds: SoundList,
    /// Answer first when the call is not answered yet.
    pub answer: bool,
}

impl Application for Background {
    const NAME: &'static str = "Background";
    const SYNTAX: &'static str = "Background(sound[&sound...][,n])";
    const DOC: &'static str = "Plays a menu prompt; a digit interrupts it and starts dialling \
        an extension of this context. Answers first unless n.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let (sounds, answer) = SoundList::parse_prompt::<Self>(text, |o| o == "n")?;
        Ok(Background { sounds, answer })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        self.sounds.play(ctx, true, self.answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let b = Background::parse("ivr-menu").unwrap();
        let expected = Outcome::Play {
            sounds: vec!["ivr-menu".into()],
            menu: true,
            answer: true,
        };
        assert_eq!(b.run(&mut ctx()), expected);
        assert!(!Background::parse("ivr-menu,n").unwrap().answer);
        assert!(matches!(
            Background::parse("x,m"),
            Err(AppError::BadOption { .. })
        ));
        assert!(matches!(
            Background::parse("../x"),
            Err(AppError::BadSound(_))
        ));
    }
}
