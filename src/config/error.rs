//! Configuration errors, each carrying the file and the line and column it points at, so an
//! operator can go straight to the mistake.

use std::fmt;
use std::path::PathBuf;

/// A 1-based line and column in a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Position { line, column }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A `${VAR}` without default names an unset environment variable.
    #[error("{path}:{at}: environment variable {name} is not set and has no default (write ${{{name}:-default}} to give one)")]
    UnsetVariable {
        /// The file.
        path: PathBuf,
        /// Where the reference is.
        at: Position,
        /// The variable.
        name: String,
    },
    /// A `${...}` reference is malformed.
    #[error("{path}:{at}: malformed variable reference: expected ${{NAME}} or ${{NAME:-default}}")]
    MalformedVariable {
        /// The file.
        path: PathBuf,
        /// Where the reference is.
        at: Position,
    },
    /// An environment variable's value contains a line break.
    #[error("{path}:{at}: environment variable {name} contains a line break, which is not allowed in config values")]
    MultilineVariable {
        /// The file.
        path: PathBuf,
        /// Where the reference is.
        at: Position,
        /// The variable.
        name: String,
    },
    /// TOML syntax error, unknown key, wrong type or unparsable value.
    #[error("{path}:{at}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Where the parser stopped.
        at: Position,
        /// What the parser expected.
        message: String,
    },
    /// The file parses but a value is not acceptable (duplicate endpoint, inverted range...).
    #[error("{path}:{at}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The offending value.
        at: Position,
        /// What is wrong and what was expected.
        message: String,
    },
}
