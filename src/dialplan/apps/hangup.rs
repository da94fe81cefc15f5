//! `Hangup([cause])`: ends the call, optionally with a Q.850 cause code (ITU-T Q.850 §2.2:
//! 16 normal clearing, 17 user busy, 21 call rejected, ...), which the call layer maps to a
//! SIP status (RFC 3398 §7.2.4.1). After the hangup the `h` extension runs, if there is one.

use super::{args, AppError, Application, Outcome, Param};
use crate::dialplan::vars::CallCtx;

/// The `Hangup` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hangup {
    /// The Q.850 cause, 1 to 127.
    pub cause: Option<Param<u16>>,
}

/// A Q.850 cause value is 7 bits; 0 is unassigned.
fn cause(text: &str) -> Option<u16> {
    text.trim().parse().ok().filter(|c| (1..=127).contains(c))
}

impl Application for Hangup {
    const NAME: &'static str = "Hangup";
    const SYNTAX: &'static str = "Hangup([cause])";
    const DOC: &'static str =
        "Hangs up, with an optional Q.850 cause code 1-127 (16 normal, 17 busy, 21 rejected).";

    fn parse(text: &str) -> Result<Self, AppError> {
        let parts = args::<Self>(text, 1)?;
        let cause = match parts.first().filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => Some(Param::parse(p, cause, || AppError::BadNumber {
                what: "the cause",
                expected: "a Q.850 cause code from 1 to 127",
                value: (*p).to_owned(),
            })?),
        };
        Ok(Hangup { cause })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        Outcome::Hangup(self.cause.as_ref().and_then(|c| c.resolve(ctx, cause)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let mut c = ctx();
        assert_eq!(
            Hangup::parse("").unwrap().run(&mut c),
            Outcome::Hangup(None)
        );
        assert_eq!(
            Hangup::parse("17").unwrap().run(&mut c),
            Outcome::Hangup(Some(17))
        );
        assert!(matches!(
            Hangup::parse("200"),
            Err(AppError::BadNumber { .. })
        ));
        assert!(matches!(
            Hangup::parse("busy"),
            Err(AppError::BadNumber { .. })
        ));
        c.set("CAUSE", "21".into());
        assert_eq!(
            Hangup::parse("${CAUSE}").unwrap().run(&mut c),
            Outcome::Hangup(Some(21))
        );
        c.set("CAUSE", "999".into());
        assert_eq!(
            Hangup::parse("${CAUSE}").unwrap().run(&mut c),
            Outcome::Hangup(None)
        );
    }
}
