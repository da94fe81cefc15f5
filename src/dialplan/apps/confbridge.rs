//! `ConfBridge(room)`: answers the call if needed and puts it in conference room `room`, where
//! every member hears all the others (a mixing bridge), until the caller hangs up. The room is
//! created by its first member and goes away with its last; two short beeps tell the room that
//! someone joined, two lower ones that someone left. `room` may use variables
//! (`ConfBridge(${EXTEN})`); when it expands to nothing the step is skipped (logged).

use super::{args, missing, AppError, Application, Outcome};
use crate::dialplan::vars::{CallCtx, Template};

/// The `ConfBridge` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfBridge {
    /// The room's name, as written.
    pub room: Template,
}

impl Application for ConfBridge {
    const NAME: &'static str = "ConfBridge";
    const SYNTAX: &'static str = "ConfBridge(room)";
    const DOC: &'static str = "Answers if needed and joins conference room `room` (everyone \
        hears everyone else) until the caller hangs up.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let parts = args::<Self>(text, 1)?;
        let room = parts
            .first()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| missing::<Self>("a room name"))?;
        Ok(ConfBridge {
            room: Template::parse(room)?,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let room = ctx.expand(&self.room);
        if room.is_empty() {
            tracing::warn!("dialplan: ConfBridge room expands to nothing, step skipped");
            return Outcome::Next;
        }
        Outcome::ConfBridge(room)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let mut c = ctx();
        let app = ConfBridge::parse("8002").unwrap();
        assert_eq!(app.run(&mut c), Outcome::ConfBridge("8002".into()));
        let app = ConfBridge::parse("room-${EXTEN}").unwrap();
        assert_eq!(app.run(&mut c), Outcome::ConfBridge("room-8000".into()));
        let app = ConfBridge::parse("${NOTHING}").unwrap();
        assert_eq!(app.run(&mut c), Outcome::Next);
        assert!(matches!(
            ConfBridge::parse(""),
            Err(AppError::MissingArgument { .. })
        ));
        assert!(matches!(
            ConfBridge::parse("a,b"),
            Err(AppError::TooManyArguments { .. })
        ));
    }
}
