//! The loaded dialplan: contexts of extensions of steps, lookups, jump resolution and the
//! `dialplan show` listing.
//!
//! Built and checked by the loader, then shared read-only (`Arc<Dialplan>`) by every call's
//! interpreter. Within a context, extensions are kept in the order they are tried, most
//! specific first (see the pattern module), so the first match is the best one.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::apps::goto::{Jump, StepRef};
use super::apps::App;
use super::pattern::Pattern;
use super::DialplanError;

/// Why a jump destination leads nowhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The context does not exist.
    #[error("no context {0:?}")]
    NoSuchContext(String),
    /// No extension of the context matches.
    #[error("no extension {exten:?} in context {context:?}")]
    NoSuchExtension {
        /// The context searched.
        context: String,
        /// The extension asked for.
        exten: String,
    },
    /// The extension has no step with this label.
    #[error("no label {label:?} in extension {exten:?} of context {context:?}")]
    NoSuchLabel {
        /// The context.
        context: String,
        /// The extension, as written in the dialplan.
        exten: String,
        /// The label asked for.
        label: String,
    },
    /// The extension has fewer steps.
    #[error("extension {exten:?} of context {context:?} has {count} step(s), not {step}")]
    NoSuchStep {
        /// The context.
        context: String,
        /// The extension, as written in the dialplan.
        exten: String,
        /// The step asked for (1-based).
        step: usize,
        /// How many steps it has.
        count: usize,
    },
    /// The step part, once expanded, is neither a number nor a label.
    #[error("{0:?} is neither a step number nor a label")]
    BadStep(String),
}

/// One step: an optional label and an app with its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub(super) label: Option<String>,
    pub(super) app: App,
    pub(super) line: usize,
    pub(super) call: String,
}

impl Step {
    /// The label (`menu` in `menu: Background(ivr-menu)`).
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// The app and its parsed arguments.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The line of the dialplan file it was written on.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The app call as written, without the label (`Background(ivr-menu)`).
    pub fn call(&self) -> &str {
        &self.call
    }
}

/// An extension: a name or pattern and its steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Extension {
    pub(super) pattern: Pattern,
    pub(super) line: usize,
    pub(super) steps: Vec<Step>,
}

impl Extension {
    /// The name or pattern.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// The line of its key in the dialplan file.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Its steps, in order; step n is `steps()[n - 1]`.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The 0-based index of a step given by number or label.
    fn index_of(&self, step: &StepRef) -> Option<usize> {
        match step {
            StepRef::Number(n) => (*n <= self.steps.len()).then(|| n - 1),
            StepRef::Label(l) => self.steps.iter().position(|s| s.label() == Some(l)),
        }
    }
}

/// A context: a named set of extensions, in the order they are tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    pub(super) name: String,
    pub(super) line: usize,
    pub(super) extensions: Vec<Extension>,
}

impl Context {
    /// The context's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The line of its first key in the dialplan file.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Its extensions, most specific first.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// The best extension for a dialled `exten`.
    pub fn find(&self, exten: &str) -> Option<&Extension> {
        self.position(exten).map(|i| &self.extensions[i])
    }

    /// Index in [`Context::extensions`] of the best extension for `exten`.
    pub fn position(&self, exten: &str) -> Option<usize> {
        self.extensions
            .iter()
            .position(|e| e.pattern.matches(exten))
    }

    /// Index of the extension named exactly `name` (for `i`, `t`, `h`: a pattern such as `_.`
    /// that happens to match these letters is not taken for them).
    pub fn exact(&self, name: &str) -> Option<usize> {
        self.extensions
            .iter()
            .position(|e| e.pattern.is_exact() && e.pattern.as_str() == name)
    }

    /// Whether more digits after `digits` could still select an extension.
    pub fn can_match_more(&self, digits: &str) -> bool {
        self.extensions
            .iter()
            .any(|e| e.pattern.could_match_more(digits))
    }
}

/// Where a call is in the dialplan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The context's name.
    pub context: String,
    /// `${EXTEN}`: what was dialled or jumped to (may differ from the extension's pattern).
    pub exten: String,
    /// Index of the extension in its context's [`Context::extensions`].
    pub ext: usize,
    /// 0-based index of the step.
    pub step: usize,
}

/// A whole dialplan, loaded and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Dialplan {
    pub(super) path: PathBuf,
    pub(super) contexts: BTreeMap<String, Context>,
}

impl Dialplan {
    /// The file it was loaded from (as given, for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A context by name.
    pub fn context(&self, name: &str) -> Option<&Context> {
        self.contexts.get(name)
    }

    /// The context names, sorted.
    pub fn context_names(&self) -> Vec<&str> {
        self.contexts.keys().map(String::as_str).collect()
    }

    /// The step at a location, `None` past the end of the extension.
    pub fn step(&self, at: &Location) -> Option<&Step> {
        self.context(&at.context)?
            .extensions
            .get(at.ext)?
            .steps
            .get(at.step)
    }

    /// Where a jump from `from` lands.
    pub fn resolve(&self, from: &Location, jump: &Jump) -> Result<Location, ResolveError> {
        let context_name = jump.context.as_deref().unwrap_or(&from.context);
        let context = self
            .context(context_name)
            .ok_or_else(|| ResolveError::NoSuchContext(context_name.to_owned()))?;
        let exten = jump.exten.as_deref().unwrap_or(&from.exten);
        let same = jump.exten.is_none() && context_name == from.context;
        let ext = match same {
            true => Some(from.ext).filter(|&i| i < context.extensions.len()),
            false => context.position(exten),
        }
        .ok_or_else(|| ResolveError::NoSuchExtension {
            context: context_name.to_owned(),
            exten: exten.to_owned(),
        })?;
        let extension = &context.extensions[ext];
        let step_ref =
            StepRef::parse(&jump.step).ok_or_else(|| ResolveError::BadStep(jump.step.clone()))?;
        let step = extension
            .index_of(&step_ref)
            .ok_or_else(|| match step_ref {
                StepRef::Label(label) => ResolveError::NoSuchLabel {
                    context: context_name.to_owned(),
                    exten: extension.pattern.as_str().to_owned(),
                    label,
                },
                StepRef::Number(step) => ResolveError::NoSuchStep {
                    context: context_name.to_owned(),
                    exten: extension.pattern.as_str().to_owned(),
                    step,
                    count: extension.steps.len(),
                },
            })?;
        Ok(Location {
            context: context_name.to_owned(),
            exten: exten.to_owned(),
            ext,
            step,
        })
    }

    /// `(name, syntax, doc)` of every app, for `pbx ctl dialplan apps`.
    pub fn apps_help() -> Vec<(&'static str, &'static str, &'static str)> {
        App::help()
    }

    /// A listing in the style of Asterisk's `dialplan show [context]`: every extension in the
    /// order it is tried, with its steps and their lines.
    pub fn describe(&self, context: Option<&str>) -> Result<String, DialplanError> {
        let contexts: Vec<&Context> = match context {
            Some(name) => vec![self
                .context(name)
                .ok_or_else(|| DialplanError::NoSuchContext(name.to_owned()))?],
            None => self.contexts.values().collect(),
        };
        let file = self.path.display();
        let mut out = String::new();
        let (mut extensions, mut steps) = (0, 0);
        for ctx in &contexts {
            let _ = writeln!(out, "[ Context '{}' ]  ({file}:{})", ctx.name, ctx.line);
            let width = ctx
                .extensions
                .iter()
                .map(|e| e.pattern.as_str().chars().count() + 7)
                .max()
                .unwrap_or(0);
            for ext in &ctx.extensions {
                let mut head = format!("  '{}' =>", ext.pattern.as_str());
                for (i, step) in ext.steps.iter().enumerate() {
                    let label = step.label().map(|l| format!("[{l}] ")).unwrap_or_default();
                    let text = format!("{:>3}. {label}{}", i + 1, step.call);
                    let _ = writeln!(out, "{head:width$} {text:48} [{file}:{}]", step.line);
                    head.clear();
                }
                steps += ext.steps.len();
            }
            extensions += ctx.extensions.len();
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "-= {extensions} extension(s) ({steps} step(s)) in {} context(s). =-",
            contexts.len()
        );
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
[context.internal]
"6001"   = ["Dial(endpoint/6001, 30)", "Hangup()"]
"_6XXX"  = ["NoOp(pattern)", "done: Hangup()"]
"_6."    = ["Hangup()"]
"8001"   = ["Hangup()"]
"#;

    fn plan() -> Dialplan {
        Dialplan::parse(Path::new("dp.toml"), TEXT).unwrap()
    }

    fn at(exten: &str, ext: usize) -> Location {
        Location {
            context: "internal".into(),
            exten: exten.into(),
            ext,
            step: 0,
        }
    }

    fn jump(context: Option<&str>, exten: Option<&str>, step: &str) -> Jump {
        Jump {
            context: context.map(Into::into),
            exten: exten.map(Into::into),
            step: step.into(),
        }
    }

    #[test]
    fn lookup_order() {
        let plan = plan();
        let ctx = plan.context("internal").unwrap();
        let names: Vec<&str> = ctx
            .extensions()
            .iter()
            .map(|e| e.pattern().as_str())
            .collect();
        assert_eq!(names, ["6001", "8001", "_6XXX", "_6."]);
        assert_eq!(ctx.find("6001").unwrap().pattern().as_str(), "6001");
        assert_eq!(ctx.find("6002").unwrap().pattern().as_str(), "_6XXX");
        assert_eq!(ctx.find("60021").unwrap().pattern().as_str(), "_6.");
        assert!(ctx.find("7").is_none() && ctx.exact("6002").is_none());
        assert!(ctx.can_match_more("800") && ctx.can_match_more("6") && !ctx.can_match_more("9"));
        assert_eq!(plan.context_names(), ["internal"]);
    }

    #[test]
    fn resolve_jumps() {
        let plan = plan();
        let from = at("6002", 2);
        let to = plan.resolve(&from, &jump(None, None, "done")).unwrap();
        assert_eq!((to.ext, to.step, to.exten.as_str()), (2, 1, "6002"));
        let to = plan
            .resolve(&from, &jump(Some("internal"), Some("6001"), "2"))
            .unwrap();
        assert_eq!((to.ext, to.step, to.exten.as_str()), (0, 1, "6001"));
        assert_eq!(plan.step(&to).map(|s| s.app().name()), Some("Hangup"));
        let err = |j| plan.resolve(&from, &j).unwrap_err();
        assert_eq!(
            err(jump(Some("x"), Some("1"), "1")),
            ResolveError::NoSuchContext("x".into())
        );
        assert!(matches!(
            err(jump(None, Some("7"), "1")),
            ResolveError::NoSuchExtension { .. }
        ));
        assert!(matches!(
            err(jump(None, None, "nope")),
            ResolveError::NoSuchLabel { .. }
        ));
        assert!(matches!(
            err(jump(None, None, "3")),
            ResolveError::NoSuchStep { count: 2, .. }
        ));
        assert_eq!(
            err(jump(None, None, "a b")),
            ResolveError::BadStep("a b".into())
        );
    }

    #[test]
    fn describe_lists_in_match_order() {
        let plan = plan();
        let text = plan.describe(Some("internal")).unwrap();
        assert!(
            text.starts_with("[ Context 'internal' ]  (dp.toml:2)\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  '6001' =>    1. Dial(endpoint/6001, 30) "),
            "{text}"
        );
        assert!(
            text.contains("\n  '_6XXX' =>   1. NoOp(pattern) "),
            "{text}"
        );
        assert!(text.contains("2. [done] Hangup()"), "{text}");
        assert!(text.contains("[dp.toml:4]"), "{text}");
        assert!(text.find("'_6XXX'") < text.find("'_6.'"));
        assert!(text.ends_with("-= 4 extension(s) (6 step(s)) in 1 context(s). =-\n"));
        assert!(matches!(
            plan.describe(Some("nope")),
            Err(DialplanError::NoSuchContext(_))
        ));
        assert!(plan.describe(None).is_ok());
    }
}
