//! `Playback(sound[&sound...][,noanswer])`: plays prompts to the end; digits do not interrupt.
//!
//! As in Asterisk, an unanswered call is answered first unless `noanswer` is given (then the
//! prompt is heard only with early media, see `Progress()`). Sound names are looked up in the
//! prompt library (`hello-world`, `digits/5`); several names joined by `&` play in a row.

use super::{AppError, Application, Outcome, SoundList};
use crate::dialplan::vars::CallCtx;

/// The `Playback` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playback {
    /// What to play.
    pub sounds: SoundList,
    /// Answer first when the call is not answered yet.
    pub answer: bool,
}

impl Application for Playback {
    const NAME: &'static str = "Playback";
    const SYNTAX: &'static str = "Playback(sound[&sound...][,noanswer])";
    const DOC: &'static str = "Plays the prompts to the end (digits do not interrupt); answers \
        first unless noanswer.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let (sounds, answer) =
            SoundList::parse_prompt::<Self>(text, |o| o.eq_ignore_ascii_case("noanswer"))?;
        Ok(Playback { sounds, answer })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        self.sounds.play(ctx, false, self.answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let mut c = ctx();
        let p = Playback::parse("hello-world&goodbye").unwrap();
        let expected = Outcome::Play {
            sounds: vec!["hello-world".into(), "goodbye".into()],
            menu: false,
            answer: true,
        };
        assert_eq!(p.run(&mut c), expected);
        assert!(!Playback::parse("x, noanswer").unwrap().answer);
        assert!(matches!(
            Playback::parse("x,skip"),
            Err(AppError::BadOption { .. })
        ));
        assert!(matches!(
            Playback::parse(""),
            Err(AppError::MissingArgument { .. })
        ));
        assert_eq!(
            Playback::parse("${NOTHING}").unwrap().run(&mut c),
            Outcome::Next
        );
    }
}
