//! `Goto([[context,]exten,]step-or-label)`: continues the call elsewhere in the dialplan.
//!
//! One argument moves within the current extension, two to another extension of the current
//! context, three to another context; `${EXTEN}` and `${CONTEXT}` follow. The step is a
//! 1-based position or a label (`menu: Background(...)` defines the label `menu`). The named
//! extension is looked up like a dialled number, so it may be reached through a pattern.
//! Destinations without variables are checked when the dialplan loads; the others when the
//! step runs, where a missing extension leads to the target context's `i` extension and any
//! other failure hangs up.

use super::{args, AppError, Application, Outcome};
use crate::dialplan::vars::{CallCtx, Template};

/// Whether `text` is a label name: a letter or `_`, then letters, digits or `_`.
pub fn is_label(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A step within an extension: a 1-based position or a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepRef {
    /// The n-th step, from 1.
    Number(usize),
    /// The step carrying this label.
    Label(String),
}

impl StepRef {
    /// Reads `3` or `menu`; anything else is `None`.
    pub fn parse(text: &str) -> Option<StepRef> {
        let text = text.trim();
        match text.parse::<usize>() {
            Ok(0) => None,
            Ok(n) => Some(StepRef::Number(n)),
            Err(_) => is_label(text).then(|| StepRef::Label(text.to_owned())),
        }
    }
}

/// A jump destination as written, with variables still in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The context, when given.
    pub context: Option<Template>,
    /// The extension, when given.
    pub exten: Option<Template>,
    /// The step number or label.
    pub step: Template,
}

/// A destination with its variables expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jump {
    /// The context; `None` keeps the current one.
    pub context: Option<String>,
    /// The extension; `None` keeps the current one.
    pub exten: Option<String>,
    /// The step number or label, still to be read with [`StepRef::parse`].
    pub step: String,
}

impl Destination {
    /// Parses `[[context,]exten,]step-or-label`.
    pub fn parse(text: &str) -> Result<Destination, AppError> {
        let bad = || AppError::BadDestination(text.trim().to_owned());
        let parts = super::split_top(text, ',');
        if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        let mut templates = parts
            .iter()
            .map(|p| Template::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        let step = templates.pop().ok_or_else(bad)?;
        if step.literal().is_some_and(|s| StepRef::parse(s).is_none()) {
            return Err(bad());
        }
        let exten = templates.pop();
        Ok(Destination {
            context: templates.pop(),
            exten,
            step,
        })
    }

    /// The jump, when no part contains variables (so it can be checked at load).
    pub fn literal(&self) -> Option<Jump> {
        let part = |t: &Option<Template>| match t {
            None => Some(None),
            Some(t) => t.literal().map(|s| Some(s.to_owned())),
        };
        Some(Jump {
            context: part(&self.context)?,
            exten: part(&self.exten)?,
            step: self.step.literal()?.to_owned(),
        })
    }

    /// The jump for this call.
    pub fn resolve(&self, ctx: &CallCtx) -> Jump {
        let expand = |t: &Option<Template>| t.as_ref().map(|t| ctx.expand(t).trim().to_owned());
        Jump {
            context: expand(&self.context),
            exten: expand(&self.exten),
            step: ctx.expand(&self.step).trim().to_owned(),
        }
    }
}

/// The `Goto` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goto {
    /// Where to go.
    pub dest: Destination,
}

impl Application for Goto {
    const NAME: &'static str = "Goto";
    const SYNTAX: &'static str = "Goto([[context,]exten,]step-or-label)";
    const DOC: &'static str = "Continues at a step (1-based number or label) of this \
        extension, another extension, or another context.";

    fn parse(text: &str) -> Result<Self, AppError> {
        args::<Self>(text, 3)?;
        Ok(Goto {
            dest: Destination::parse(text)?,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        Outcome::Goto(self.dest.resolve(ctx))
    }

    fn destinations(&self) -> Vec<&Destination> {
        vec![&self.dest]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    fn jump(context: Option<&str>, exten: Option<&str>, step: &str) -> Jump {
        Jump {
            context: context.map(Into::into),
            exten: exten.map(Into::into),
            step: step.into(),
        }
    }

    #[test]
    fn destinations() {
        let lit = |t: &str| Destination::parse(t).unwrap().literal();
        assert_eq!(lit("menu"), Some(jump(None, None, "menu")));
        assert_eq!(lit("8001, menu"), Some(jump(None, Some("8001"), "menu")));
        assert_eq!(lit("ivr,s,1"), Some(jump(Some("ivr"), Some("s"), "1")));
        assert_eq!(lit("ivr,${X},1"), None);
        for bad in ["", "a,b,c,d", "ivr,,1", "0", "two words", "s,-1"] {
            assert!(Destination::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(StepRef::parse("12"), Some(StepRef::Number(12)));
        assert_eq!(
            StepRef::parse("menu_2"),
            Some(StepRef::Label("menu_2".into()))
        );
        assert!(!is_label("2go") && !is_label("") && is_label("_x"));
    }

    #[test]
    fn run_expands() {
        let mut c = ctx();
        let g = Goto::parse("${CONTEXT},${env:X},2").unwrap();
        assert_eq!(
            g.run(&mut c),
            Outcome::Goto(jump(Some("internal"), Some("42"), "2"))
        );
        assert_eq!(g.destinations().len(), 1);
    }
}
