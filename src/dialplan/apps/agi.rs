//! `AGI(target[,arg1[,arg2...]])`: hands the channel to an AGI program until it ends its
//! session, then goes on with the next step (or where the program moved the channel with SET
//! CONTEXT / EXTENSION / PRIORITY). `target` is `agi:async` (AsyncAGI over AMI),
//! `agi://host[:port]/script` (FastAGI) or a program under `agi_dir`. `${AGISTATUS}` is set to
//! SUCCESS, FAILURE, NOTFOUND or HANGUP afterwards, as in Asterisk. The channel is not
//! answered for the program: it sends ANSWER.

use super::{missing, split_top, AppError, Application, Outcome};
use crate::agi::request::AgiRequest;
use crate::dialplan::vars::{CallCtx, Template};

/// The `AGI` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agi {
    /// The target, as written.
    pub target: Template,
    /// The arguments (`agi_arg_1`...), as written.
    pub args: Vec<Template>,
}

impl Application for Agi {
    const NAME: &'static str = "AGI";
    const SYNTAX: &'static str = "AGI(agi:async|agi://host[:port]/script|program[,arg1[,arg2...]])";
    const DOC: &'static str = "Hands the channel to an AGI program (AsyncAGI over AMI, a FastAGI \
        server, or a program under agi_dir) until it ends the session; sets ${AGISTATUS}.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let parts = split_top(text, ',');
        let (target, args) = parts
            .split_first()
            .filter(|(target, _)| !target.is_empty())
            .ok_or_else(|| missing::<Self>("a target"))?;
        let template = Template::parse(target)?;
        if let Some(literal) = template.literal() {
            AgiRequest::parse(literal).map_err(|e| AppError::BadAgiTarget(e.to_string()))?;
        }
        Ok(Agi {
            target: template,
            args: args
                .iter()
                .map(|a| Template::parse(a))
                .collect::<Result<_, _>>()?,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let target = ctx.expand(&self.target);
        match AgiRequest::parse(&target) {
            Ok(request) => Outcome::Agi {
                request,
                target,
                args: self.args.iter().map(|a| ctx.expand(a)).collect(),
            },
            Err(error) => {
                tracing::warn!(%target, %error, "dialplan: AGI target unusable, step skipped");
                ctx.set("AGISTATUS", "FAILURE".to_owned());
                Outcome::Next
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::apps::tests::ctx;

    #[test]
    fn parse_and_run() {
        let mut c = ctx();
        let app = Agi::parse("agi://127.0.0.1:4600/ivr?x=${EXTEN}, ${EXTEN}, two").unwrap();
        assert_eq!(
            app.run(&mut c),
            Outcome::Agi {
                request: AgiRequest::Fast {
                    host: "127.0.0.1".into(),
                    port: 4600,
                    script: "ivr?x=8000".into()
                },
                target: "agi://127.0.0.1:4600/ivr?x=8000".into(),
                args: vec!["8000".into(), "two".into()]
            }
        );
        assert_eq!(
            Agi::parse("agi:async").unwrap().run(&mut c),
            Outcome::Agi {
                request: AgiRequest::Async,
                target: "agi:async".into(),
                args: vec![]
            }
        );
        assert!(matches!(
            Agi::parse(""),
            Err(AppError::MissingArgument { .. })
        ));
        assert!(matches!(
            Agi::parse("/bin/sh"),
            Err(AppError::BadAgiTarget(_))
        ));
        c.set("T", "../x".into());
        assert_eq!(Agi::parse("${T}").unwrap().run(&mut c), Outcome::Next);
        assert_eq!(c.get("AGISTATUS").as_deref(), Some("FAILURE"));
    }
}
