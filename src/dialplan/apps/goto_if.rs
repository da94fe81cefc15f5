//! `GotoIf(condition?[destination-if-true][:destination-if-false])`: a conditional Goto.
//!
//! The condition is expanded first; it is usually an expression such as
//! `$[${DIALSTATUS} = BUSY]`. It is true when not empty and, if a number, not zero. A missing
//! destination on the chosen side means "go on with the next step". Each destination is
//! written as for Goto: `[[context,]exten,]step-or-label`.

use super::goto::Destination;
use super::{find_top, AppError, Application, Outcome};
use crate::dialplan::expr::is_true;
use crate::dialplan::vars::{CallCtx, Template};

/// The `GotoIf` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GotoIf {
    /// The condition, expanded at run time.
    pub condition: Template,
    /// Where to go when true; `None`: next step.
    pub if_true: Option<Destination>,
    /// Where to go when false; `None`: next step.
    pub if_false: Option<Destination>,
}

fn side(text: &str) -> Result<Option<Destination>, AppError> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        Destination::parse(text).map(Some)
    }
}

impl Application for GotoIf {
    const NAME: &'static str = "GotoIf";
    const SYNTAX: &'static str = "GotoIf(condition?[destination-if-true][:destination-if-false])";
    const DOC: &'static str = "Goes to the first destination when the condition (usually \
        $[...]) is true, else to the second; a missing one means the next step.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let q = find_top(text, '?').ok_or(AppError::MissingQuestionMark)?;
        let branches = &text[q + 1..];
        let (t, f) = match find_top(branches, ':') {
            Some(c) => (&branches[..c], &branches[c + 1..]),
            None => (branches, ""),
        };
        Ok(GotoIf {
            condition: Template::parse(text[..q].trim())?,
            if_true: side(t)?,
            if_false: side(f)?,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let chosen = if is_true(&ctx.expand(&self.condition)) {
            &self.if_true
        } else {
            &self.if_false
        };
        match chosen {
            Some(dest) => Outcome::Goto(dest.resolve(ctx)),
            None => Outcome::Next,
        }
    }

    fn destinations(&self) -> Vec<&Destination> {
        self.if_true.iter().chain(&self.if_false).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::goto::Jump;
    use crate::dialplan::apps::tests::ctx;

    fn to(step: &str) -> Outcome {
        Outcome::Goto(Jump {
            context: None,
            exten: None,
            step: step.into(),
        })
    }

    #[test]
    fn branches() {
        let mut c = ctx();
        let g = GotoIf::parse("$[${DIALSTATUS} = BUSY]?busy:other").unwrap();
        assert_eq!(
            g.run(&mut c),
            to("other"),
            "empty DIALSTATUS is a broken expression"
        );
        c.set("DIALSTATUS", "BUSY".into());
        assert_eq!(g.run(&mut c), to("busy"));
        let only_true = GotoIf::parse("${EXTEN:0:1}?ivr,s,1").unwrap();
        assert_eq!(only_true.destinations().len(), 1);
        assert!(matches!(
            only_true.run(&mut c),
            Outcome::Goto(Jump {
                context: Some(_),
                ..
            })
        ));
        let only_false = GotoIf::parse("0?:3").unwrap();
        assert_eq!(only_false.run(&mut c), to("3"));
        assert_eq!(GotoIf::parse("1?:3").unwrap().run(&mut c), Outcome::Next);
        assert_eq!(GotoIf::parse("x"), Err(AppError::MissingQuestionMark));
        assert!(matches!(
            GotoIf::parse("1?a b"),
            Err(AppError::BadDestination(_))
        ));
    }
}
