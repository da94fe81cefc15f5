//! `NoOp([text])`: does nothing; its expanded text goes to the debug log, which makes it the
//! classic way to trace variables (`NoOp(status is ${DIALSTATUS})`).

use super::{AppError, Application, Outcome};
use crate::dialplan::vars::{CallCtx, Template};

/// The `NoOp` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoOp {
    /// Everything between the parentheses, commas included.
    pub text: Template,
}

impl Application for NoOp {
    const NAME: &'static str = "NoOp";
    const SYNTAX: &'static str = "NoOp([text])";
    const DOC: &'static str = "Does nothing; logs the expanded text at debug level.";

    fn parse(text: &str) -> Result<Self, AppError> {
        Ok(NoOp {
            text: Template::parse(text.trim())?,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let text = ctx.expand(&self.text);
        tracing::debug!(context = ctx.context(), exten = ctx.exten(), "NoOp({text})");
        Outcome::Next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_run() {
        let app = NoOp::parse(" a, b ${EXTEN} ").unwrap();
        assert_eq!(app.text.as_str(), "a, b ${EXTEN}");
        assert_eq!(
            app.run(&mut crate::dialplan::apps::tests::ctx()),
            Outcome::Next
        );
        assert!(NoOp::parse("${X").is_err());
    }
}
