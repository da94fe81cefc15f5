//! `${VAR}` and `${VAR:-default}` substitution from the environment, applied to the config text
//! before TOML parsing. This is how docker's `.env` values reach `pbx.toml`.

use super::error::Position;

/// A substitution that could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubstError {
    /// `${NAME}` names a variable that is unset and has no `:-default`.
    Unset {
        /// The variable's name.
        name: String,
        /// Where the reference starts in the original text.
        at: Position,
    },
    /// `${` without a closing `}` on the same line, or an empty/invalid variable name.
    Malformed {
        /// Where the reference starts in the original text.
        at: Position,
    },
    /// The value would inject a line break into the file, which would break line numbers and
    /// could inject TOML keys.
    Multiline {
        /// The variable's name.
        name: String,
        /// Where the reference starts in the original text.
        at: Position,
    },
}

/// Replaces every `${NAME}` / `${NAME:-default}` in `text` using `lookup`. A `$` not followed
/// by `{` is kept as is, and whole-line comments (first non-blank character `#`) are left alone
/// so documentation can show the syntax.
pub fn substitute(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, SubstError> {
    let mut out = String::with_capacity(text.len());
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with('#') {
            out.push_str(line);
        } else {
            substitute_line(text, offset, line, &lookup, &mut out)?;
        }
        offset += line.len();
    }
    Ok(out)
}

fn substitute_line(
    text: &str,
    line_offset: usize,
    line: &str,
    lookup: &impl Fn(&str) -> Option<String>,
    out: &mut String,
) -> Result<(), SubstError> {
    let mut rest = line;
    let mut consumed = line_offset;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let at = Position::of_offset(text, consumed + start);
        let after = &rest[start + 2..];
        let end = after
            .find(['}', '\n'])
            .filter(|&i| after.as_bytes()[i] == b'}')
            .ok_or(SubstError::Malformed { at })?;
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        let valid_name = !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !name.as_bytes()[0].is_ascii_digit();
        if !valid_name {
            return Err(SubstError::Malformed { at });
        }
        let value = match lookup(name) {
            Some(value) if !(value.is_empty() && default.is_some()) => value,
            _ => match default {
                Some(default) => default.to_string(),
                None => {
                    return Err(SubstError::Unset {
                        name: name.to_string(),
                        at,
                    })
                }
            },
        };
        if value.contains(['\n', '\r']) {
            return Err(SubstError::Multiline {
                name: name.to_string(),
                at,
            });
        }
        out.push_str(&value);
        let skip = start + 2 + end + 1;
        consumed += skip;
        rest = &rest[skip..];
    }
    out.push_str(rest);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("10.0.0.1".into()),
            "EMPTY" => Some(String::new()),
            "NL" => Some("a\nb".into()),
            _ => None,
        }
    }

    #[test]
    fn replaces_set_variables_and_defaults() {
        let out = substitute("a = \"${HOST}\"\nb = \"${MISSING:-x y}\"\n", env).unwrap();
        assert_eq!(out, "a = \"10.0.0.1\"\nb = \"x y\"\n");
    }

    #[test]
    fn empty_value_takes_the_default_like_the_shell() {
        assert_eq!(substitute("${EMPTY:-d}", env).unwrap(), "d");
        assert_eq!(substitute("${EMPTY}", env).unwrap(), "");
        assert_eq!(substitute("${MISSING:-}", env).unwrap(), "");
    }

    #[test]
    fn unset_without_default_names_the_variable_and_line() {
        let err = substitute("x = 1\n\ny = \"${TRUNK_HOST}\"", env).unwrap_err();
        assert_eq!(
            err,
            SubstError::Unset {
                name: "TRUNK_HOST".into(),
                at: Position { line: 3, column: 6 }
            }
        );
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(matches!(
            substitute("${HOST", env),
            Err(SubstError::Malformed { .. })
        ));
        assert!(matches!(
            substitute("${}", env),
            Err(SubstError::Malformed { .. })
        ));
        assert!(matches!(
            substitute("${A B}", env),
            Err(SubstError::Malformed { .. })
        ));
        assert!(matches!(
            substitute("${HOST\n}", env),
            Err(SubstError::Malformed { .. })
        ));
    }

    #[test]
    fn values_with_newlines_are_refused() {
        assert!(matches!(
            substitute("${NL}", env),
            Err(SubstError::Multiline { .. })
        ));
    }

    #[test]
    fn comment_lines_are_not_substituted() {
        assert_eq!(
            substitute("# use ${VAR}\nx = \"${HOST}\"", env).unwrap(),
            "# use ${VAR}\nx = \"10.0.0.1\""
        );
    }

    #[test]
    fn plain_dollars_are_kept() {
        assert_eq!(substitute("cost = \"$5\"", env).unwrap(), "cost = \"$5\"");
    }
}
