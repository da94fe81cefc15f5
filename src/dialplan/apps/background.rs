//! `Background(sound[&sound...][,n])`: plays a menu prompt that the caller may interrupt by
//! dialling: the first digit stops the prompt and starts collecting an extension of the current
//! context (see the interpreter for how collection ends). When the prompt ends with no digit,
//! the next step runs, normally `WaitExten`.
//!
//! Like Asterisk, answers an unanswered call first unless the `n` option is given. Unlike
//! Asterisk, which ignores a digit that starts no extension, any digit interrupts, so a wrong
//! choice reaches the `i` extension at once.

use super::{args, missing, AppError, Application, Outcome, SoundList};
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
        let parts = args::<Self>(text, 2)?;
        let sounds = parts
            .first()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| missing::<Self>("a sound name"))?;
        let answer = match parts.get(1) {
            None => true,
            Some(&"n") => false,
            Some(o) => {
                return Err(AppError::BadOption {
                    app: Self::NAME,
                    option: (*o).to_owned(),
                })
            }
        };
        Ok(Background {
            sounds: SoundList::parse(sounds)?,
            answer,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let sounds = self.sounds.resolve(ctx);
        if sounds.is_empty() {
            return Outcome::Next;
        }
        Outcome::Play {
            sounds,
            menu: true,
            answer: self.answer,
        }
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
