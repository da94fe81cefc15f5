//! `Stasis(app[,args...])`: hands the channel to an outside application (an ARI-style
//! controller) until the application lets it go. The channel is not answered for it: the
//! application answers, rings, plays, bridges and hangs up with channel commands. When the
//! application continues the channel elsewhere in the dialplan it goes there; when it just
//! releases the channel the next step runs. `app` and the arguments may use variables.

use super::{missing, split_top, AppError, Application, Outcome};
use crate::dialplan::vars::{CallCtx, Template};

/// The `Stasis` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stasis {
    /// The application's name, as written.
    pub app: Template,
    /// Arguments passed to the application, as written.
    pub args: Vec<Template>,
}

impl Application for Stasis {
    const NAME: &'static str = "Stasis";
    const SYNTAX: &'static str = "Stasis(app[,arg1[,arg2...]])";
    const DOC: &'static str = "Hands the channel to outside application `app` (channel \
        commands and the event stream) until it continues the channel in the dialplan or \
        releases it.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let parts = split_top(text, ',');
        let (app, args) = parts
            .split_first()
            .filter(|(app, _)| !app.is_empty())
            .ok_or_else(|| missing::<Self>("an application name"))?;
        Ok(Stasis {
            app: Template::parse(app)?,
            args: args
                .iter()
                .map(|a| Template::parse(a))
                .collect::<Result<_, _>>()?,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let app = ctx.expand(&self.app);
        if app.is_empty() {
            tracing::warn!("dialplan: Stasis application expands to nothing, step skipped");
            return Outcome::Next;
        }
        let args = self.args.iter().map(|a| ctx.expand(a)).collect();
        Outcome::Stasis { app, args }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let mut c = ctx();
        let app = Stasis::parse("demo, ${EXTEN}, two").unwrap();
        assert_eq!(
            app.run(&mut c),
            Outcome::Stasis {
                app: "demo".into(),
                args: vec!["8000".into(), "two".into()]
            }
        );
        let bare = Stasis::parse("demo").unwrap();
        assert_eq!(
            bare.run(&mut c),
            Outcome::Stasis {
                app: "demo".into(),
                args: vec![]
            }
        );
        assert_eq!(
            Stasis::parse("${NOTHING}").unwrap().run(&mut c),
            Outcome::Next
        );
        assert!(matches!(
            Stasis::parse(""),
            Err(AppError::MissingArgument { .. })
        ));
    }
}
