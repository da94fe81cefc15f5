//! Channel variables and `${...}` / `$[...]` substitution in step arguments, as in Asterisk.
//!
//! A step's arguments are kept as [`Template`]s at load and expanded each time the step runs,
//! against the call's [`CallCtx`]:
//!
//! ```text
//! ${EXTEN}              the current extension (follows Goto)     ${CONTEXT}  the current context
//! ${CALLERID(num)}      caller number      ${CALLERID(name)}    caller display name
//! ${DIALSTATUS}         set by Dial        ${READSTATUS}        set by Read (OK, TIMEOUT)
//! ${INVALID_EXTEN}      what was dialled before a jump to the i extension
//! ${env:NAME}           the environment variable NAME, read through the lookup given to the call
//! ${DB(family/key)}     the AstDB entry (Set(DB(family/key)=value) writes it; DB_EXISTS(...) is 1 or 0)
//! ${NAME}               a variable set with Set(NAME=value); unknown names expand to nothing
//! ${NAME:offset}        from offset (negative counts from the end), on any variable
//! ${NAME:offset:length} length characters (negative: all but that many at the end)
//! $[ expression ]       evaluated by the expression module after substitution
//! ```
//!
//! Substitution nests (`${EXTEN:${SKIP}}`). Values are inserted as they are: a value containing
//! `${` is not expanded again.

use std::collections::BTreeMap;
use std::fmt;

use super::expr;

/// How the call reads `${env:NAME}`: given by the call layer so tests stay deterministic.
pub type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The `family/key` database `${DB(...)}` reads and `Set(DB(...)=...)` writes (the AstDB),
/// given by the call layer.
pub trait Database: Send + Sync {
    /// The value of `family/key`.
    fn get(&self, family: &str, key: &str) -> Option<String>;
    /// Sets `family/key`; `false` when it could not be saved.
    fn put(&self, family: &str, key: &str, value: &str) -> bool;
}

/// `family` and `key` of a `DB(family/key)` (or `DB_EXISTS(...)`) reference named `function`.
fn db_reference<'a>(name: &'a str, function: &str) -> Option<(&'a str, &'a str)> {
    let arg = name
        .strip_prefix(function)?
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let (family, key) = arg.trim_start_matches('/').split_once('/')?;
    (!family.is_empty() && !key.is_empty()).then_some((family, key))
}

/// Why a step argument's `${...}` or `$[...]` was refused at load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    /// `${` without its `}`, or `$[` without its `]`.
    #[error("unterminated {0}")]
    Unterminated(&'static str),
    /// `${}` names no variable.
    #[error("empty variable name in ${{}}")]
    EmptyName,
    /// A name Set cannot assign (`EXTEN` follows Goto, `env:` is read-only, odd characters).
    #[error("cannot set {0:?}: variable names are letters, digits and _, or CALLERID(num|name)")]
    NotSettable(String),
}

/// A step argument as written, checked to be well-formed, expanded at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(String);

impl Template {
    /// Checks that every `${` and `$[` is closed and no `${}` is empty.
    pub fn parse(text: &str) -> Result<Template, VarError> {
        check(text)?;
        Ok(Template(text.to_owned()))
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether expansion can change the text (it contains `${` or `$[`).
    pub fn is_dynamic(&self) -> bool {
        self.0.contains("${") || self.0.contains("$[")
    }

    /// The text, when expansion cannot change it.
    pub fn literal(&self) -> Option<&str> {
        (!self.is_dynamic()).then_some(self.0.as_str())
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Finds the index of the bracket closing `text[0]`, counting nesting.
fn closing(text: &str, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// What follows a `$`: its brackets and the name used in messages, or `None` for a plain `$`.
fn opener(after: &str) -> Option<(char, char, &'static str)> {
    match after.chars().next() {
        Some('{') => Some(('{', '}', "${")),
        Some('[') => Some(('[', ']', "$[")),
        _ => None,
    }
}

fn check(text: &str) -> Result<(), VarError> {
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        let after = &rest[i + 1..];
        let Some((open, close, what)) = opener(after) else {
            rest = after;
            continue;
        };
        let end = closing(after, open, close).ok_or(VarError::Unterminated(what))?;
        let inner = &after[1..end];
        if open == '{' && inner.trim().is_empty() {
            return Err(VarError::EmptyName);
        }
        check(inner)?;
        rest = &after[end + 1..];
    }
    Ok(())
}

/// Checks a name for Set: plain names of letters, digits and `_`, or `CALLERID(num|name)`.
pub fn check_settable(name: &str) -> Result<(), VarError> {
    let plain = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !matches!(name, "EXTEN" | "CONTEXT");
    let db = name.starts_with("DB(") && name.ends_with(')');
    if plain || db || callerid_field(name).is_some() {
        Ok(())
    } else {
        Err(VarError::NotSettable(name.to_owned()))
    }
}

/// Which caller id field a `CALLERID(...)` name refers to: `true` for num, `false` for name.
pub(super) fn callerid_field(name: &str) -> Option<bool> {
    let arg = name.strip_prefix("CALLERID(")?.strip_suffix(')')?;
    match arg.to_ascii_lowercase().as_str() {
        "num" | "number" => Some(true),
        "name" => Some(false),
        _ => None,
    }
}

/// The per-call state that apps read and write: position, caller id, variables, environment.
pub struct CallCtx {
    context: String,
    exten: String,
    caller_num: String,
    caller_name: String,
    vars: BTreeMap<String, String>,
    env: EnvLookup,
    db: Option<std::sync::Arc<dyn Database>>,
    /// Variables set since [`CallCtx::take_changes`] last ran, in order (at most
    /// [`MAX_PENDING_CHANGES`]; more are not recorded until they are taken).
    changes: Vec<(String, String)>,
}

/// Variable changes kept for the event stream between two looks by the call task.
pub const MAX_PENDING_CHANGES: usize = 256;

impl fmt::Debug for CallCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallCtx")
            .field("context", &self.context)
            .field("exten", &self.exten)
            .field("caller_num", &self.caller_num)
            .field("caller_name", &self.caller_name)
            .field("vars", &self.vars)
            .finish_non_exhaustive()
    }
}

impl CallCtx {
    /// A call starting at `exten` in `context`, from `caller_num` / `caller_name`.
    pub fn new(
        context: String,
        exten: String,
        caller_num: String,
        caller_name: String,
        env: EnvLookup,
    ) -> CallCtx {
        CallCtx {
            context,
            exten,
            caller_num,
            caller_name,
            vars: BTreeMap::new(),
            env,
            db: None,
            changes: Vec::new(),
        }
    }

    /// Gives the call the database `${DB(...)}` reads and writes (none: they read empty).
    pub fn set_database(&mut self, db: std::sync::Arc<dyn Database>) {
        self.db = Some(db);
    }

    /// The current context.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The current extension, `${EXTEN}`.
    pub fn exten(&self) -> &str {
        &self.exten
    }

    /// Moves the call (a Goto, digits collected, the `h` extension): `${CONTEXT}`/`${EXTEN}`.
    pub fn set_location(&mut self, context: &str, exten: &str) {
        context.clone_into(&mut self.context);
        exten.clone_into(&mut self.exten);
    }

    /// Variables set by Set, Dial, Read and jumps, by name.
    pub fn variables(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// The value of a variable (built-in, `env:NAME`, or set), `None` when unknown.
    pub fn get(&self, name: &str) -> Option<String> {
        if let Some(env) = name.strip_prefix("env:") {
            return (self.env)(env);
        }
        if let Some((family, key)) = db_reference(name, "DB") {
            return self.db.as_ref()?.get(family, key);
        }
        if let Some((family, key)) = db_reference(name, "DB_EXISTS") {
            let found = self.db.as_ref().and_then(|db| db.get(family, key));
            return Some(if found.is_some() { "1" } else { "0" }.into());
        }
        match (name, callerid_field(name)) {
            ("EXTEN", _) => Some(self.exten.clone()),
            ("CONTEXT", _) => Some(self.context.clone()),
            (_, Some(true)) => Some(self.caller_num.clone()),
            (_, Some(false)) => Some(self.caller_name.clone()),
            _ => self.vars.get(name).cloned(),
        }
    }

    /// Sets a variable; `CALLERID(num)` and `CALLERID(name)` change the caller id.
    pub fn set(&mut self, name: &str, value: String) {
        if let Some((family, key)) = db_reference(name, "DB") {
            if !self
                .db
                .as_ref()
                .is_some_and(|db| db.put(family, key, &value))
            {
                tracing::warn!(%family, %key, "Set(DB(...)): the database did not take the value");
            }
            return;
        }
        if self.changes.len() < MAX_PENDING_CHANGES {
            self.changes.push((name.to_owned(), value.clone()));
        }
        match callerid_field(name) {
            Some(true) => self.caller_num = value,
            Some(false) => self.caller_name = value,
            None => {
                self.vars.insert(name.to_owned(), value);
            }
        }
    }

    /// The variables set since the last call, in order.
    pub fn take_changes(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.changes)
    }

    /// Expands every `${...}` and `$[...]` in a template.
    pub fn expand(&self, template: &Template) -> String {
        self.expand_str(&template.0)
    }

    fn expand_str(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let Some((open, close, _)) = opener(after) else {
                out.push('$');
                rest = after;
                continue;
            };
            let Some(end) = closing(after, open, close) else {
                out.push_str(&rest[i..]);
                return out;
            };
            let inner = self.expand_str(&after[1..end]);
            if open == '{' {
                out.push_str(&self.reference(&inner));
            } else {
                match expr::evaluate(&inner) {
                    Ok(value) => out.push_str(&value),
                    Err(e) => tracing::warn!(expression = %inner, "dialplan expression: {e}"),
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// The value of `NAME`, `NAME:offset` or `NAME:offset:length` (the inside of `${}`).
    fn reference(&self, spec: &str) -> String {
        let skip = if spec.starts_with("env:") { 4 } else { 0 };
        let (name, range) = match spec[skip..].find(':') {
            Some(i) => (&spec[..skip + i], Some(&spec[skip + i + 1..])),
            None => (spec, None),
        };
        let value = self.get(name.trim()).unwrap_or_default();
        let Some(range) = range else {
            return value;
        };
        let (offset, length) = match range.split_once(':') {
            Some((o, l)) => (o, Some(l)),
            None => (range, None),
        };
        let num = |s: &str| s.trim().parse::<i64>().unwrap_or(0);
        substring(&value, num(offset), length.map(num))
    }
}

/// Asterisk's `${VAR:offset:length}` on characters.
fn substring(value: &str, offset: i64, length: Option<i64>) -> String {
    let total = value.chars().count() as i64;
    let start = if offset < 0 {
        (total + offset).max(0)
    } else {
        offset.min(total)
    };
    let available = total - start;
    let take = match length {
        None => available,
        Some(l) if l >= 0 => l.min(available),
        Some(l) => (available + l).max(0),
    };
    value
        .chars()
        .skip(start as usize)
        .take(take as usize)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(exten: &str) -> CallCtx {
        let env = |name: &str| (name == "EXTERNAL_EXTENSION_NUMBER").then(|| "5550100".to_owned());
        CallCtx::new(
            "internal".into(),
            exten.into(),
            "6001".into(),
            "Alice".into(),
            Box::new(env),
        )
    }

    fn x(c: &CallCtx, text: &str) -> String {
        c.expand(&Template::parse(text).unwrap())
    }

    /// An in-memory [`Database`].
    #[derive(Default)]
    struct Memory(std::sync::Mutex<BTreeMap<String, String>>);

    impl Database for Memory {
        fn get(&self, family: &str, key: &str) -> Option<String> {
            self.0
                .lock()
                .unwrap()
                .get(&format!("{family}/{key}"))
                .cloned()
        }
        fn put(&self, family: &str, key: &str, value: &str) -> bool {
            let mut entries = self.0.lock().unwrap();
            entries.insert(format!("{family}/{key}"), value.into());
            true
        }
    }

    #[test]
    fn db_reads_and_writes_the_database_and_db_exists_says_whether_a_key_is_there() {
        let mut c = ctx("8000");
        assert_eq!(x(&c, "[${DB(cidname/6001)}]"), "[]", "no database: empty");
        let db = std::sync::Arc::new(Memory::default());
        c.set_database(db.clone());
        assert_eq!(x(&c, "${DB_EXISTS(cidname/${CALLERID(num)})}"), "0");
        c.set("DB(cidname/6001)", "Alice B".into());
        assert_eq!(db.get("cidname", "6001").as_deref(), Some("Alice B"));
        assert!(
            c.variables().is_empty(),
            "a DB write is no channel variable"
        );
        assert!(c.take_changes().is_empty(), "nor a variable change");
        assert_eq!(x(&c, "${DB(cidname/${CALLERID(num)})}"), "Alice B");
        assert_eq!(x(&c, "${DB_EXISTS(cidname/6001)}"), "1");
        assert_eq!(x(&c, "${DB(cidname/6001):0:5}"), "Alice");
        c.set("DB(a/b/c)", "deep".into());
        assert_eq!(
            db.get("a", "b/c").as_deref(),
            Some("deep"),
            "the key keeps its slashes"
        );
        assert!(check_settable("DB(cidname/6001)").is_ok());
    }

    #[test]
    fn builtins_and_env() {
        let c = ctx("8000");
        assert_eq!(x(&c, "${EXTEN}@${CONTEXT}"), "8000@internal");
        assert_eq!(x(&c, "${CALLERID(num)} ${CALLERID(name)}"), "6001 Alice");
        assert_eq!(
            x(&c, "trunk/p/${env:EXTERNAL_EXTENSION_NUMBER}"),
            "trunk/p/5550100"
        );
        assert_eq!(x(&c, "[${env:UNSET}][${NOPE}][${DIALSTATUS}]"), "[][][]");
        assert_eq!(x(&c, "cost $5, ${EXTEN}$"), "cost $5, 8000$");
    }

    #[test]
    fn substrings() {
        let c = ctx("9995551234");
        assert_eq!(x(&c, "${EXTEN:3}"), "5551234");
        assert_eq!(x(&c, "${EXTEN:-4}"), "1234");
        assert_eq!(x(&c, "${EXTEN:0:3}"), "999");
        assert_eq!(x(&c, "${EXTEN:3:-2}"), "55512");
        assert_eq!(x(&c, "${EXTEN:-4:2}"), "12");
        assert_eq!(x(&c, "${EXTEN:20}"), "");
        assert_eq!(x(&c, "${EXTEN:-20:3}"), "999");
        assert_eq!(x(&c, "${EXTEN:2:-20}"), "");
        assert_eq!(x(&c, "${env:EXTERNAL_EXTENSION_NUMBER:3}"), "0100");
        assert_eq!(substring("héllo", 1, Some(2)), "él");
    }

    #[test]
    fn set_nesting_and_expressions() {
        let mut c = ctx("9995551234");
        c.set("SKIP", "3".into());
        c.set("CALLERID(name)", "Bob".into());
        assert_eq!(x(&c, "${EXTEN:${SKIP}}"), "5551234");
        assert_eq!(x(&c, "${CALLERID(name)}"), "Bob");
        assert_eq!(x(&c, "$[${SKIP} + 1]"), "4");
        assert_eq!(x(&c, "$[${SKIP} = 3]-$[${SKIP} > 10]"), "1-0");
        assert_eq!(
            x(&c, "<$[ = BUSY]>"),
            "<>",
            "a broken expression expands to nothing"
        );
        c.set("LOOP", "${EXTEN}".into());
        assert_eq!(
            x(&c, "${LOOP}"),
            "${EXTEN}",
            "values are not expanded again"
        );
        assert_eq!(c.variables().get("SKIP").map(String::as_str), Some("3"));
        c.set_location("ivr", "s");
        assert_eq!(x(&c, "${CONTEXT},${EXTEN}"), "ivr,s");
    }

    #[test]
    fn template_checks() {
        assert_eq!(
            Template::parse("${EXTEN"),
            Err(VarError::Unterminated("${"))
        );
        assert_eq!(
            Template::parse("$[1 = 1"),
            Err(VarError::Unterminated("$["))
        );
        assert_eq!(Template::parse("a${}b"), Err(VarError::EmptyName));
        assert_eq!(
            Template::parse("${A:${B}"),
            Err(VarError::Unterminated("${"))
        );
        let t = Template::parse("$5 and ${A}").unwrap();
        assert!(t.is_dynamic() && t.literal().is_none());
        assert_eq!(Template::parse("hello").unwrap().literal(), Some("hello"));
    }

    #[test]
    fn settable_names() {
        assert!(check_settable("COUNT_2").is_ok() && check_settable("CALLERID(num)").is_ok());
        for bad in ["EXTEN", "CONTEXT", "env:HOME", "A B", "", "CALLERID(all)"] {
            assert!(check_settable(bad).is_err(), "{bad}");
        }
    }
}
