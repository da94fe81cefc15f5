//! `Speak(text[,voice])`: says `text` with the `[tts]` engine (answering first when
//! needed), in `voice` or the configured one. A missing engine or a failed run is logged
//! with its reason and the step ends, as a prompt that cannot be played does.

use super::{args, missing, AppError, Application, Outcome};
use crate::dialplan::vars::{CallCtx, Template};

/// The `Speak` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Speak {
    /// What to say, as written.
    pub text: Template,
    /// The voice, when given.
    pub voice: Option<Template>,
}

impl Application for Speak {
    const NAME: &'static str = "Speak";
    const SYNTAX: &'static str = "Speak(text[,voice])";
    const DOC: &'static str = "Says the text with the [tts] engine, answering first when needed.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let parts = args::<Self>(text, 2)?;
        let said = parts
            .first()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| missing::<Self>("the text to say"))?;
        Ok(Speak {
            text: Template::parse(said)?,
            voice: parts
                .get(1)
                .filter(|v| !v.is_empty())
                .map(|v| Template::parse(v))
                .transpose()?,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        Outcome::Speak {
            text: ctx.expand(&self.text),
            voice: self
                .voice
                .as_ref()
                .map(|v| ctx.expand(v))
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let app = Speak::parse("You dialled ${EXTEN}, en-us").unwrap();
        assert_eq!(
            app.run(&mut ctx()),
            Outcome::Speak {
                text: "You dialled 8000".into(),
                voice: "en-us".into()
            }
        );
        assert!(Speak::parse("").is_err());
        assert!(Speak::parse("a, b, c").is_err());
    }
}
