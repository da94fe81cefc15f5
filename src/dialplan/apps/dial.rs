//! `Dial(target[&target...][,timeout[,options]])`: rings one or more destinations at once and,
//! when one answers, bridges the caller to it. The call layer does the calling; the result
//! comes back as `${DIALSTATUS}`: ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION or CHANUNAVAIL.
//!
//! Targets are `endpoint/USER` (a local account's registered phones) or
//! `trunk/NAME/NUMBER` (NUMBER sent out through trunk NAME). The technology must be written
//! literally, so it is checked at load; the rest may use variables. A target that expands to an
//! empty user or number is skipped; with none left the step sets CHANUNAVAIL and moves on.
//! Timeout is in seconds (default 60; Asterisk rings forever). As in Asterisk, after an
//! answered call ends the caller is hung up, unless option `g` asks to go on with the next
//! step. Other options are passed to the call layer.

use std::time::Duration;

use super::{
    args, bad_seconds, missing, seconds, split_top, AppError, Application, Outcome, Param,
};
use crate::dialplan::vars::{CallCtx, Template};

/// Ring time when Dial gives none.
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(60);

/// One destination, expanded, as the call layer receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialTarget {
    /// A local account: ring its registered contacts.
    Endpoint(String),
    /// A number sent out through a trunk.
    Trunk {
        /// The trunk's name in the configuration.
        trunk: String,
        /// The number to call.
        number: String,
    },
}

/// One destination as written, with variables still in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetTemplate {
    /// `endpoint/USER`.
    Endpoint(Template),
    /// `trunk/NAME/NUMBER`.
    Trunk {
        /// NAME.
        trunk: Template,
        /// NUMBER.
        number: Template,
    },
}

impl TargetTemplate {
    fn parse(text: &str) -> Result<TargetTemplate, AppError> {
        let bad = || AppError::BadDialTarget(text.to_owned());
        let (tech, rest) = text.split_once('/').ok_or_else(bad)?;
        let part = |s: &str| {
            let s = s.trim();
            if s.is_empty() {
                Err(bad())
            } else {
                Ok(Template::parse(s)?)
            }
        };
        if tech.trim().eq_ignore_ascii_case("endpoint") {
            Ok(TargetTemplate::Endpoint(part(rest)?))
        } else if tech.trim().eq_ignore_ascii_case("trunk") {
            let (trunk, number) = rest.split_once('/').ok_or_else(bad)?;
            Ok(TargetTemplate::Trunk {
                trunk: part(trunk)?,
                number: part(number)?,
            })
        } else {
            Err(AppError::UnknownTechnology(tech.trim().to_owned()))
        }
    }

    /// The target for this call, `None` when a part expands to nothing.
    fn resolve(&self, ctx: &CallCtx) -> Option<DialTarget> {
        let non_empty = |t: &Template| Some(ctx.expand(t)).filter(|s| !s.is_empty());
        match self {
            TargetTemplate::Endpoint(user) => non_empty(user).map(DialTarget::Endpoint),
            TargetTemplate::Trunk { trunk, number } => Some(DialTarget::Trunk {
                trunk: non_empty(trunk)?,
                number: non_empty(number)?,
            }),
        }
    }
}

/// The `Dial` app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    /// Destinations, rung together.
    pub targets: Vec<TargetTemplate>,
    /// Ring time; `None` is the default.
    pub timeout: Option<Param<Duration>>,
    /// Options, expanded and passed on.
    pub options: Template,
}

impl Application for Dial {
    const NAME: &'static str = "Dial";
    const SYNTAX: &'static str = "Dial(target[&target...][,timeout[,options]])";
    const DOC: &'static str = "Rings endpoint/USER or trunk/NAME/NUMBER targets for timeout \
        seconds (default 60) and bridges the answer; sets DIALSTATUS. Option g: go on after \
        an answered call ends.";

    fn parse(text: &str) -> Result<Self, AppError> {
        let parts = args::<Self>(text, 3)?;
        let given = |i: usize| parts.get(i).copied().filter(|p| !p.is_empty());
        let targets = given(0).ok_or_else(|| missing::<Self>("a target"))?;
        let targets = split_top(targets, '&')
            .into_iter()
            .map(TargetTemplate::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let timeout = given(1)
            .map(|p| Param::parse(p, seconds, || bad_seconds("Dial timeout", p)))
            .transpose()?;
        Ok(Dial {
            targets,
            timeout,
            options: Template::parse(given(2).unwrap_or(""))?,
        })
    }

    fn run(&self, ctx: &mut CallCtx) -> Outcome {
        let targets: Vec<DialTarget> = self.targets.iter().filter_map(|t| t.resolve(ctx)).collect();
        if targets.is_empty() {
            tracing::warn!(
                context = ctx.context(),
                exten = ctx.exten(),
                "Dial: no target left"
            );
            ctx.set("DIALSTATUS", "CHANUNAVAIL".to_owned());
            return Outcome::Next;
        }
        let timeout = self.timeout.as_ref().and_then(|t| t.resolve(ctx, seconds));
        Outcome::Dial {
            targets,
            timeout: timeout
                .filter(|t| !t.is_zero())
                .unwrap_or(DEFAULT_DIAL_TIMEOUT),
            options: ctx.expand(&self.options),
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
        let d = Dial::parse("endpoint/6001&trunk/provider/${EXTEN:1}, 30, gT").unwrap();
        let expected = Outcome::Dial {
            targets: vec![
                DialTarget::Endpoint("6001".into()),
                DialTarget::Trunk {
                    trunk: "provider".into(),
                    number: "000".into(),
                },
            ],
            timeout: Duration::from_secs(30),
            options: "gT".into(),
        };
        assert_eq!(d.run(&mut c), expected);
        let Outcome::Dial { timeout, .. } = Dial::parse("endpoint/6002").unwrap().run(&mut c)
        else {
            panic!("Dial must dial");
        };
        assert_eq!(timeout, DEFAULT_DIAL_TIMEOUT);
    }

    #[test]
    fn empty_targets_are_unavailable() {
        let mut c = ctx();
        let d = Dial::parse("trunk/provider/${env:UNSET},60").unwrap();
        assert_eq!(d.run(&mut c), Outcome::Next);
        assert_eq!(c.get("DIALSTATUS").as_deref(), Some("CHANUNAVAIL"));
    }

    #[test]
    fn bad_targets() {
        let e = |t| Dial::parse(t).unwrap_err();
        assert_eq!(e("SIP/6001,30"), AppError::UnknownTechnology("SIP".into()));
        assert_eq!(e("${T}/6001"), AppError::UnknownTechnology("${T}".into()));
        assert_eq!(
            e("trunk/provider"),
            AppError::BadDialTarget("trunk/provider".into())
        );
        assert_eq!(e("endpoint/"), AppError::BadDialTarget("endpoint/".into()));
        assert_eq!(e("6001"), AppError::BadDialTarget("6001".into()));
        assert!(matches!(
            e("endpoint/1,forever"),
            AppError::BadNumber { .. }
        ));
        assert!(matches!(e(",30"), AppError::MissingArgument { .. }));
    }
}
