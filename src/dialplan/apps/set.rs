//! `Set(NAME=value)`: sets a channel variable, read back as `${NAME}`; `CALLERID(num)` and
//! `CALLERID(name)` change the caller id, `DB(family/key)` writes the AstDB. Name and value
//! are expanded when the step runs, so `Set(COUNT=$[${COUNT} + 1])` counts and
//! `Set(DB(seen/${CALLERID(num)})=1)` writes the caller's key; a name that is fixed is checked
//! at load, one that is not when it has been expanded.

use super::{find_top, AppError, Application, Outcome};
use crate::dialplan::vars::{check_settable, CallCtx, Template};

/// The `Set` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Set {
    /// The variable set, expanded at run time.
    pub name: Template,
    /// The value, expanded at run time.
    pub value: Template,
}

impl Application for Set {
    const NAME: &'static str = "Set";
    const SYNTAX: &'static str = "Set(NAME=value)";
    const DOC: &'static str =
        "Sets a variable (or CALLERID(num), CALLERID(name)) to the expanded value.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let eq = find_top(text, '=').ok_or(AppError::MissingEquals)?;
        let name = Template::parse(text[..eq].trim())?;
        if let Some(fixed) = name.literal() {
            check_settable(fixed)?;
        }
        Ok(Set {
            name,
            value: Template::parse(text[eq + 1..].trim())?,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let name = ctx.expand(&self.name);
        if let Err(error) = check_settable(&name) {
            tracing::warn!(%error, "Set: the expanded name cannot be set");
            return Outcome::Next;
        }
        let value = ctx.expand(&self.value);
        ctx.set(&name, value);
        Outcome::Next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let mut c = ctx();
        Set::parse("N=1").unwrap().run(&mut c);
        assert_eq!(
            Set::parse("N = $[${N} + 1]").unwrap().run(&mut c),
            Outcome::Next
        );
        assert_eq!(c.get("N").as_deref(), Some("2"));
        Set::parse("CALLERID(name)=Reception, desk 2")
            .unwrap()
            .run(&mut c);
        assert_eq!(
            c.get("CALLERID(name)").as_deref(),
            Some("Reception, desk 2")
        );
        assert_eq!(Set::parse("N"), Err(AppError::MissingEquals));
        assert!(matches!(Set::parse("EXTEN=1"), Err(AppError::Variable(_))));
        assert!(matches!(Set::parse("A B=1"), Err(AppError::Variable(_))));
    }
}
