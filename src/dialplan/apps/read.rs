//! `Read(var[,prompt[&prompt...]][,maxdigits][,timeout])`: collects digits into a variable.
//!
//! Plays the prompt (digits interrupt it), then collects digits until `maxdigits` are in,
//! `#` is pressed (not stored), or `timeout` seconds pass without a digit (the timeout restarts
//! with each digit). `maxdigits` 0 or empty means up to 255, ended by `#` or the timeout. The
//! default timeout is the response timeout, 10 s. Sets `${READSTATUS}` to `OK` or `TIMEOUT`.
//! Answers an unanswered call first, as Asterisk does. Asterisk's `options` and `attempts`
//! arguments (between maxdigits and timeout there) are not supported: this takes four.

use std::time::Duration;

use super::wait_exten::DEFAULT_RESPONSE_TIMEOUT;
use super::{
    args, bad_seconds, missing, seconds, AppError, Application, Outcome, Param, SoundList,
};
use crate::dialplan::vars::{check_settable, CallCtx};

/// Most digits Read collects (Asterisk's limit).
pub const MAX_DIGITS: usize = 255;

/// What the interpreter needs to carry out one Read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRequest {
    /// The variable that receives the digits.
    pub var: String,
    /// Prompts played first, interruptible.
    pub prompts: Vec<String>,
    /// Stop after this many digits (1 to 255).
    pub max_digits: usize,
    /// Wait at most this long for each digit.
    pub timeout: Duration,
}

/// The `Read` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The variable set.
    pub var: String,
    /// The prompt, if any.
    pub prompt: Option<SoundList>,
    /// Digit limit; `None` is 255.
    pub max_digits: Option<Param<usize>>,
    /// Timeout per digit; `None` is the default.
    pub timeout: Option<Param<Duration>>,
}

/// 0 means "no limit", which is Asterisk's 255.
fn max_digits(text: &str) -> Option<usize> {
    match text.trim().parse().ok()? {
        0 => Some(MAX_DIGITS),
        n if n <= MAX_DIGITS => Some(n),
        _ => None,
    }
}

impl Application for Read {
    const NAME: &'static str = "Read";
    const SYNTAX: &'static str = "Read(var[,prompt[&prompt...]][,maxdigits][,timeout])";
    const DOC: &'static str = "Plays the prompt and reads digits into var until maxdigits \
        (0: 255), # or timeout seconds (default 10) without a digit; sets READSTATUS.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let parts = args::<Self>(text, 4)?;
        let given = |i: usize| parts.get(i).copied().filter(|p| !p.is_empty());
        let var = given(0).ok_or_else(|| missing::<Self>("a variable name"))?;
        check_settable(var)?;
        let max = given(2)
            .map(|p| {
                Param::parse(p, max_digits, || AppError::BadNumber {
                    what: "maxdigits",
                    expected: "a number from 0 to 255",
                    value: p.to_owned(),
                })
            })
            .transpose()?;
        let timeout = given(3)
            .map(|p| Param::parse(p, seconds, || bad_seconds("Read timeout", p)))
            .transpose()?;
        Ok(Read {
            var: var.to_owned(),
            prompt: given(1).map(SoundList::parse).transpose()?,
            max_digits: max,
            timeout,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let max = self
            .max_digits
            .as_ref()
            .and_then(|m| m.resolve(ctx, max_digits));
        let timeout = self.timeout.as_ref().and_then(|t| t.resolve(ctx, seconds));
        Outcome::Read(ReadRequest {
            var: self.var.clone(),
            prompts: self
                .prompt
                .as_ref()
                .map_or_else(Vec::new, |p| p.resolve(ctx)),
            max_digits: max.unwrap_or(MAX_DIGITS),
            timeout: timeout
                .filter(|t| !t.is_zero())
                .unwrap_or(DEFAULT_RESPONSE_TIMEOUT),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let r = Read::parse("PIN, enter-pin&beep, 4, 3").unwrap();
        let expected = ReadRequest {
            var: "PIN".into(),
            prompts: vec!["enter-pin".into(), "beep".into()],
            max_digits: 4,
            timeout: Duration::from_secs(3),
        };
        assert_eq!(r.run(&mut ctx()), Outcome::Read(expected));
        let Outcome::Read(req) = Read::parse("X").unwrap().run(&mut ctx()) else {
            panic!("Read must read");
        };
        assert_eq!(
            (req.max_digits, req.timeout),
            (MAX_DIGITS, DEFAULT_RESPONSE_TIMEOUT)
        );
        assert!(req.prompts.is_empty());
        assert_eq!(
            Read::parse("X,,0").unwrap().max_digits,
            Some(Param::Fixed(255))
        );
        assert!(matches!(
            Read::parse("X,p,256"),
            Err(AppError::BadNumber { .. })
        ));
        assert!(matches!(
            Read::parse("X,p,4,,,10"),
            Err(AppError::TooManyArguments { .. })
        ));
        assert!(matches!(
            Read::parse(",p"),
            Err(AppError::MissingArgument { .. })
        ));
        assert!(matches!(Read::parse("EXTEN"), Err(AppError::Variable(_))));
    }
}
