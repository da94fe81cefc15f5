//! `SayDigits(digits)`: reads digits out one by one with the `digits/0` .. `digits/9` prompts.
//!
//! Characters without a prompt (`*`, `#`, letters) are skipped. Digits do not interrupt, and
//! the call is not answered first (as in Asterisk).

use super::{args, missing, AppError, Application, Outcome};
use crate::dialplan::vars::{CallCtx, Template};

/// The `SayDigits` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SayDigits {
    /// The digits, usually from a variable (`${CALLERID(num)}`).
    pub digits: Template,
}

impl Application for SayDigits {
    const NAME: &'static str = "SayDigits";
    const SYNTAX: &'static str = "SayDigits(digits)";
    const DOC: &'static str = "Says each digit 0-9 with the digits/N prompts; other characters \
        are skipped.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let parts = args::<Self>(text, 1)?;
        let digits = parts
            .first()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| missing::<Self>("the digits to say"))?;
        Ok(SayDigits {
            digits: Template::parse(digits)?,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let sounds: Vec<String> = ctx
            .expand(&self.digits)
            .chars()
            .filter(char::is_ascii_digit)
            .map(|d| format!("digits/{d}"))
            .collect();
        if sounds.is_empty() {
            return Outcome::Next;
        }
        Outcome::Play {
            sounds,
            menu: false,
            answer: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let s = SayDigits::parse("*${CALLERID(num)}#").unwrap();
        let expected = Outcome::Play {
            sounds: ["digits/6", "digits/0", "digits/0", "digits/1"]
                .map(String::from)
                .into(),
            menu: false,
            answer: false,
        };
        assert_eq!(s.run(&mut ctx()), expected);
        assert_eq!(
            SayDigits::parse("*#").unwrap().run(&mut ctx()),
            Outcome::Next
        );
        assert!(SayDigits::parse("").is_err());
    }
}
