//! Loading: TOML text to a checked [`Dialplan`], with errors that name the file, the line,
//! the context, the extension and the step.
//!
//! The file holds one table per context, `[context.NAME]`, mapping extension names or patterns
//! to arrays of steps; a step is `App(arguments)`, optionally preceded by a label:
//! `menu: Background(ivr-menu)`. Everything that can be checked without a call is checked
//! here: TOML syntax and unknown keys, context names, patterns, step syntax, each app's
//! arguments, duplicate labels, and Goto/GotoIf destinations written without variables.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::apps::goto::is_label;
use super::apps::App;
use super::model::{Context, Dialplan, Extension, Location, ResolveError, Step};
use super::pattern::Pattern;
use super::DialplanError;

/// Why one step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// No `(` at all: `Hangup` instead of `Hangup()`.
    #[error("missing parentheses: write App(arguments), or App() when there are none")]
    MissingParens,
    /// Parentheses that do not pair up, or text after the closing one.
    #[error("unbalanced parentheses")]
    UnbalancedParens,
    /// Text before `:` that is not a label name.
    #[error("bad label {0:?}: a label is letters, digits and _, not starting with a digit")]
    BadLabel(String),
    /// Text before `(` that is not an app name.
    #[error("bad app name {0:?}")]
    BadAppName(String),
    /// The app refused its arguments.
    #[error(transparent)]
    App(#[from] super::apps::AppError),
    /// Two steps of one extension carry the same label.
    #[error("label {0:?} is already used in this extension")]
    DuplicateLabel(String),
    /// A Goto/GotoIf destination without variables leads nowhere.
    #[error("bad destination: {0}")]
    Destination(#[from] ResolveError),
}

/// One context's table: extension keys to step arrays, each with its position in the text.
type RawExtensions = BTreeMap<Spanned<String>, Spanned<Vec<Spanned<String>>>>;

/// The file's shape: `[context.NAME]` tables of `"exten" = ["step", ...]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDialplan {
    #[serde(default)]
    context: BTreeMap<Spanned<String>, RawExtensions>,
}

/// The 1-based line holding byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Splits `label: App(args)` into its label, app name and arguments.
fn split_step(text: &str) -> Result<(Option<&str>, &str, &str), StepError> {
    let text = text.trim();
    let paren = text.find('(');
    let (label, call) = match text.find(':') {
        Some(colon) if paren.is_none_or(|p| colon < p) => {
            let label = text[..colon].trim();
            if !is_label(label) {
                return Err(StepError::BadLabel(label.to_owned()));
            }
            (Some(label), text[colon + 1..].trim())
        }
        _ => (None, text),
    };
    let open = call.find('(').ok_or(StepError::MissingParens)?;
    let name = call[..open].trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StepError::BadAppName(name.to_owned()));
    }
    let mut depth = 0usize;
    for (i, c) in call[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return if open + i + 1 == call.len() {
                        Ok((label, name, &call[open + 1..open + i]))
                    } else {
                        Err(StepError::UnbalancedParens)
                    };
                }
            }
            _ => {}
        }
    }
    Err(StepError::UnbalancedParens)
}

/// Parses one step written on `line`.
fn parse_step(text: &str, line: usize) -> Result<Step, StepError> {
    let (label, name, args) = split_step(text)?;
    let app = App::parse(name, args)?;
    // A label ends at the first colon, so the call is what follows it.
    let call = match label {
        Some(_) => text.split_once(':').map_or(text, |(_, call)| call),
        None => text,
    };
    Ok(Step {
        label: label.map(str::to_owned),
        app,
        line,
        call: call.trim().to_owned(),
    })
}

fn context_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Dialplan {
    /// Reads and checks a dialplan file.
    pub fn load(path: &Path) -> Result<Dialplan, DialplanError> {
        let text = std::fs::read_to_string(path).map_err(|source| DialplanError::Read {
            path: path.to_owned(),
            source,
        })?;
        Dialplan::parse(path, &text)
    }

    /// Parses and checks dialplan `text`; `path` only names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Dialplan, DialplanError> {
        let raw: RawDialplan = toml::from_str(text).map_err(|e| DialplanError::Syntax {
            path: path.to_owned(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().to_owned(),
        })?;
        let mut contexts = BTreeMap::new();
        for (name, raw_exts) in raw.context {
            let line = line_of(text, name.span().start);
            let name = name.into_inner();
            if !context_name_ok(&name) {
                return Err(DialplanError::BadContextName {
                    path: path.to_owned(),
                    line,
                    context: name,
                });
            }
            let context = load_context(path, text, &name, line, raw_exts)?;
            contexts.insert(name, context);
        }
        let dialplan = Dialplan {
            path: path.to_owned(),
            contexts,
        };
        check_destinations(&dialplan)?;
        Ok(dialplan)
    }
}

fn load_context(
    path: &Path,
    text: &str,
    context: &str,
    line: usize,
    raw: RawExtensions,
) -> Result<Context, DialplanError> {
    let mut raw: Vec<_> = raw.into_iter().collect();
    raw.sort_by_key(|(key, _)| key.span().start);
    let mut extensions = Vec::with_capacity(raw.len());
    for (key, steps) in raw {
        let ext_line = line_of(text, key.span().start);
        let exten = key.into_inner();
        let pattern = Pattern::parse(&exten).map_err(|source| DialplanError::BadPattern {
            path: path.to_owned(),
            line: ext_line,
            context: context.to_owned(),
            exten: exten.clone(),
            source,
        })?;
        let steps = steps.into_inner();
        if steps.is_empty() {
            return Err(DialplanError::EmptyExtension {
                path: path.to_owned(),
                line: ext_line,
                context: context.to_owned(),
                exten,
            });
        }
        let mut parsed: Vec<Step> = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            let step_line = line_of(text, step.span().start);
            let fail = |source| DialplanError::Step {
                path: path.to_owned(),
                line: step_line,
                context: context.to_owned(),
                exten: exten.clone(),
                step: i + 1,
                source: Box::new(source),
            };
            let step = parse_step(step.get_ref(), step_line).map_err(fail)?;
            if let Some(label) = step.label() {
                if parsed.iter().any(|s| s.label() == Some(label)) {
                    return Err(fail(StepError::DuplicateLabel(label.to_owned())));
                }
            }
            parsed.push(step);
        }
        extensions.push(Extension {
            pattern,
            line: ext_line,
            steps: parsed,
        });
    }
    extensions.sort_by(|a, b| a.pattern.cmp_specificity(&b.pattern));
    Ok(Context {
        name: context.to_owned(),
        line,
        extensions,
    })
}

/// Resolves every destination written without variables.
fn check_destinations(dialplan: &Dialplan) -> Result<(), DialplanError> {
    for context in dialplan.contexts.values() {
        for (ext_index, ext) in context.extensions.iter().enumerate() {
            let from = Location {
                context: context.name.clone(),
                exten: ext.pattern.as_str().to_owned(),
                ext: ext_index,
                step: 0,
            };
            for (i, step) in ext.steps.iter().enumerate() {
                for jump in step.app.destinations().iter().filter_map(|d| d.literal()) {
                    dialplan
                        .resolve(&from, &jump)
                        .map_err(|e| DialplanError::Step {
                            path: dialplan.path.clone(),
                            line: step.line,
                            context: context.name.clone(),
                            exten: ext.pattern.as_str().to_owned(),
                            step: i + 1,
                            source: Box::new(StepError::Destination(e)),
                        })?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Dialplan::parse(Path::new("dp.toml"), text)
            .unwrap_err()
            .to_string()
    }

    const HEAD: &str = "# demo\n[context.internal]\n\"8000\" = [\"Answer()\", \"Hangup()\"]\n";

    #[test]
    fn steps_split() {
        assert_eq!(split_step(" Hangup() "), Ok((None, "Hangup", "")));
        assert_eq!(
            split_step("menu : Background(ivr-menu)"),
            Ok((Some("menu"), "Background", "ivr-menu"))
        );
        assert_eq!(split_step("NoOp(a:b (c))"), Ok((None, "NoOp", "a:b (c)")));
        assert_eq!(split_step("Hangup"), Err(StepError::MissingParens));
        assert_eq!(split_step("x: Hangup"), Err(StepError::MissingParens));
        assert_eq!(split_step("NoOp((x)"), Err(StepError::UnbalancedParens));
        assert_eq!(split_step("NoOp(x))"), Err(StepError::UnbalancedParens));
        assert_eq!(split_step("NoOp(x) y"), Err(StepError::UnbalancedParens));
        assert_eq!(
            split_step("2go: NoOp()"),
            Err(StepError::BadLabel("2go".into()))
        );
        assert_eq!(
            split_step("No Op()"),
            Err(StepError::BadAppName("No Op".into()))
        );
    }

    #[test]
    fn one_step_dialplans_run_one_app_whatever_its_arguments_hold() {
        let plan = Dialplan::one_step(r#"Set(X=hello "quoted" \back)"#).unwrap();
        let context = plan.context(crate::dialplan::ONE_STEP_CONTEXT).unwrap();
        let steps = context.find("s").unwrap().steps();
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].call(), r#"Set(X=hello "quoted" \back)"#);
        assert!(Dialplan::one_step("NoSuchApp(x)").is_err());
    }

    #[test]
    fn loads_with_lines_and_labels() {
        let text = format!("{HEAD}\"8001\" = [\n  \"Answer()\",\n  \"menu: Background(ivr-menu)\",\n  \"Goto(menu)\",\n]\n");
        let plan = Dialplan::parse(Path::new("dp.toml"), &text).unwrap();
        let ctx = plan.context("internal").unwrap();
        assert_eq!(ctx.line(), 2);
        let ext = ctx.find("8001").unwrap();
        assert_eq!(ext.line(), 4);
        let lines: Vec<usize> = ext.steps().iter().map(Step::line).collect();
        assert_eq!(lines, [5, 6, 7]);
        assert_eq!(ext.steps()[1].label(), Some("menu"));
        assert_eq!(ext.steps()[1].call(), "Background(ivr-menu)");
        assert!(Dialplan::parse(Path::new("e.toml"), "")
            .unwrap()
            .context_names()
            .is_empty());
    }

    #[test]
    fn errors_name_file_line_and_step() {
        let cases = [
            (
                "\"6001\" = [\"Answer()\", \"Playbak(x)\"]",
                "dp.toml:4: context internal, extension 6001, step 2: unknown app \"Playbak\"",
            ),
            (
                "\n\"_9.X\" = [\"Hangup()\"]",
                "dp.toml:5: context internal, extension _9.X: bad pattern: '.' may only end",
            ),
            (
                "\"1\" = [\"Answer()\",\n \"Goto(8000,nowhere)\"]",
                "dp.toml:5: context internal, extension 1, step 2: bad destination: no label \"nowhere\"",
            ),
            (
                "\"1\" = [\"NoOp(unclosed (paren)\"]",
                "dp.toml:4: context internal, extension 1, step 1: unbalanced parentheses",
            ),
            (
                "\n\n\"1\" = [\"Dial(SIP/6001,30)\"]",
                "dp.toml:6: context internal, extension 1, step 1: unknown technology \"SIP\"",
            ),
            (
                "\"1\" = [\"a: NoOp()\", \"a: Hangup()\"]",
                "dp.toml:4: context internal, extension 1, step 2: label \"a\" is already used",
            ),
            (
                "\"1\" = [\"Goto(nowhere,s,1)\"]",
                "dp.toml:4: context internal, extension 1, step 1: bad destination: no context",
            ),
            (
                "\"1\" = [\"Goto(8000,3)\"]",
                "dp.toml:4: context internal, extension 1, step 1: bad destination: extension \"8000\" of context \"internal\" has 2 step(s), not 3",
            ),
            ("\"1\" = []", "dp.toml:4: context internal, extension 1: no steps"),
        ];
        for (extra, expected) in cases {
            let e = err(&format!("{HEAD}{extra}\n"));
            assert!(e.starts_with(expected), "got {e:?}\nwant {expected:?}");
        }
    }

    #[test]
    fn file_level_errors() {
        assert!(err("[contexts.x]\n").starts_with("dp.toml:1: unknown field `contexts`"));
        assert!(err("\n[context.internal]\n\"1\" = \"Hangup()\"\n").starts_with("dp.toml:3: "));
        assert!(err("[context.\"bad name\"]\n\"1\" = [\"Hangup()\"]\n")
            .starts_with("dp.toml:1: context \"bad name\": bad context name"));
        assert!(err("[context.a\n").starts_with("dp.toml:1: "));
        let dynamic = format!("{HEAD}\"1\" = [\"Goto(${{CONTEXT}},x,1)\"]\n");
        assert!(
            Dialplan::parse(Path::new("dp.toml"), &dynamic).is_ok(),
            "checked at run time"
        );
    }

    #[test]
    fn load_reads_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dialplan.toml");
        std::fs::write(&path, HEAD).unwrap();
        assert!(Dialplan::load(&path).unwrap().context("internal").is_some());
        let missing = dir.path().join("missing.toml");
        let e = Dialplan::load(&missing).unwrap_err().to_string();
        assert!(e.contains("missing.toml: cannot read"), "{e}");
    }
}
