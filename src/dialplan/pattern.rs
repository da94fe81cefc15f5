//! Extension names and Asterisk extension patterns: matching, "could match more" while digits are
//! being collected, and the "most specific first" order in which a context tries them.
//!
//! A name without a leading `_` is matched exactly (`6001`, `s`, `i`, `t`, `h`). A name with a
//! leading `_` is a pattern, as in Asterisk's `extensions.conf`:
//!
//! ```text
//! X      any digit 0-9            [137]   1, 3 or 7
//! Z      any digit 1-9            [1-5]   1 to 5 (ranges and single characters may mix)
//! N      any digit 2-9            .       one or more of anything (last only)
//! -      ignored (readability)    !       zero or more of anything (last only)
//! ```
//!
//! `x`, `z` and `n` are read as `X`, `Z` and `N`, as Asterisk does; other characters match
//! themselves. Asterisk accepts `.` in the middle of a pattern, where it silently swallows the
//! rest; here that is refused, as is `!` anywhere but last.
//!
//! Order ([`Pattern::cmp_specificity`]), which reproduces Asterisk's `ext_cmp`: exact names come
//! before every pattern. Two patterns are compared position by position; at the first position
//! where they differ, the one whose character class has fewer members comes first (a literal
//! has one, `N` eight, `Z` nine, `X` ten); equal sizes are ordered by the lowest member, then by
//! the whole class. The end of a pattern sorts before any class (a shorter pattern that is
//! otherwise equal comes first), `.` after every class and `!` after `.`. So for `6001`:
//! `6001` beats `_6XXX`, which beats `_6.`; `_NXXX` is tried before `_XXXX`.

use std::cmp::Ordering;

/// Why an extension name or pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The name is empty (or just `_`).
    #[error("empty extension name")]
    Empty,
    /// An exact name contains a character other than letters, digits, `*`, `#` and `+`.
    #[error("character {0:?} is not allowed in an extension name (patterns start with _)")]
    BadNameChar(char),
    /// A pattern contains a character that is neither ASCII-printable nor meaningful.
    #[error("character {0:?} is not allowed in a pattern")]
    BadPatternChar(char),
    /// A `[` without its `]`.
    #[error("unterminated [ in pattern")]
    UnterminatedSet,
    /// `[]` matches nothing.
    #[error("empty [] in pattern")]
    EmptySet,
    /// A range whose end comes before its start, like `[5-1]`.
    #[error("range {0}-{1} in pattern is backwards")]
    BackwardsRange(char, char),
    /// `.` or `!` followed by more pattern.
    #[error("{0:?} may only end a pattern")]
    WildcardNotLast(char),
}

/// A set of ASCII characters (one bit per code point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CharSet(u128);

impl CharSet {
    fn single(c: char) -> CharSet {
        CharSet(1 << (c as u32))
    }

    fn range(lo: char, hi: char) -> CharSet {
        (lo as u32..=hi as u32).fold(CharSet(0), |s, c| CharSet(s.0 | 1 << c))
    }

    fn contains(self, c: char) -> bool {
        c.is_ascii() && self.0 & (1 << (c as u32)) != 0
    }

    fn size(self) -> u32 {
        self.0.count_ones()
    }

    /// Asterisk's tie-break between classes of equal size: lowest member, then the whole set.
    fn cmp(self, other: CharSet) -> Ordering {
        self.size()
            .cmp(&other.size())
            .then(self.0.trailing_zeros().cmp(&other.0.trailing_zeros()))
            .then(self.0.cmp(&other.0))
    }
}

/// What may follow the fixed positions of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tail {
    /// Nothing: the pattern has a fixed length.
    None,
    /// `.`: one or more characters.
    OneOrMore,
    /// `!`: zero or more characters.
    ZeroOrMore,
}

/// An extension name as written in the dialplan: exact, or an `_` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The name as written, for listings and messages.
    source: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Exact,
    Wild { classes: Vec<CharSet>, tail: Tail },
}

impl Pattern {
    /// Parses an extension key such as `6001`, `i` or `_999X.`.
    pub fn parse(name: &str) -> Result<Pattern, PatternError> {
        let kind = match name.strip_prefix('_') {
            None => {
                if name.is_empty() {
                    return Err(PatternError::Empty);
                }
                if let Some(c) = name
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '*' | '#' | '+')))
                {
                    return Err(PatternError::BadNameChar(c));
                }
                Kind::Exact
            }
            Some(body) => parse_wild(body)?,
        };
        Ok(Pattern {
            source: name.to_owned(),
            kind,
        })
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether this is an exact name rather than an `_` pattern.
    pub fn is_exact(&self) -> bool {
        self.kind == Kind::Exact
    }

    /// Whether `exten` (a dialled number or a name like `s`) matches.
    pub fn matches(&self, exten: &str) -> bool {
        match &self.kind {
            Kind::Exact => self.source == exten,
            Kind::Wild { classes, tail } => {
                let mut chars = exten.chars();
                if !classes
                    .iter()
                    .all(|class| chars.next().is_some_and(|c| class.contains(c)))
                {
                    return false;
                }
                let rest = chars.count();
                match tail {
                    Tail::None => rest == 0,
                    Tail::OneOrMore => rest > 0,
                    Tail::ZeroOrMore => true,
                }
            }
        }
    }

    /// Whether some string longer than `prefix` and starting with it matches: while collecting
    /// digits, more digits are worth waiting for.
    pub fn could_match_more(&self, prefix: &str) -> bool {
        match &self.kind {
            Kind::Exact => self.source.len() > prefix.len() && self.source.starts_with(prefix),
            Kind::Wild { classes, tail } => {
                let n = prefix.chars().count();
                let fits = prefix
                    .chars()
                    .zip(classes)
                    .all(|(c, class)| class.contains(c));
                fits && (n < classes.len() || *tail != Tail::None)
            }
        }
    }

    /// "Most specific first" order (see the module documentation). `Less` means `self` is
    /// tried first. Distinct patterns of equal specificity (`_X` and `_[0-9]`) compare `Equal`.
    pub fn cmp_specificity(&self, other: &Pattern) -> Ordering {
        match (&self.kind, &other.kind) {
            (Kind::Exact, Kind::Exact) => self.source.cmp(&other.source),
            (Kind::Exact, Kind::Wild { .. }) => Ordering::Less,
            (Kind::Wild { .. }, Kind::Exact) => Ordering::Greater,
            (
                Kind::Wild {
                    classes: a,
                    tail: ta,
                },
                Kind::Wild {
                    classes: b,
                    tail: tb,
                },
            ) => {
                for i in 0.. {
                    let ord = match (a.get(i), b.get(i)) {
                        (Some(x), Some(y)) => x.cmp(*y),
                        (None, None) => return ta.cmp(tb),
                        // The end of `a` meets a class of `b`: a missing position sorts
                        // first unless a wildcard tail takes its place.
                        (None, Some(_)) => tail_vs_class(*ta),
                        (Some(_), None) => tail_vs_class(*tb).reverse(),
                    };
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                Ordering::Equal
            }
        }
    }
}

/// How a pattern's end (or wildcard) at some position sorts against a class at that position.
fn tail_vs_class(tail: Tail) -> Ordering {
    match tail {
        Tail::None => Ordering::Less,
        Tail::OneOrMore | Tail::ZeroOrMore => Ordering::Greater,
    }
}

fn parse_wild(body: &str) -> Result<Kind, PatternError> {
    let mut classes = Vec::new();
    let mut tail = Tail::None;
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if tail != Tail::None {
            let wildcard = if tail == Tail::OneOrMore { '.' } else { '!' };
            return Err(PatternError::WildcardNotLast(wildcard));
        }
        let class = match c {
            '-' => continue,
            '.' => {
                tail = Tail::OneOrMore;
                continue;
            }
            '!' => {
                tail = Tail::ZeroOrMore;
                continue;
            }
            'X' | 'x' => CharSet::range('0', '9'),
            'Z' | 'z' => CharSet::range('1', '9'),
            'N' | 'n' => CharSet::range('2', '9'),
            '[' => parse_set(&mut chars)?,
            c if c.is_ascii_graphic() && c != ']' => CharSet::single(c),
            c => return Err(PatternError::BadPatternChar(c)),
        };
        classes.push(class);
    }
    if classes.is_empty() && tail == Tail::None {
        return Err(PatternError::Empty);
    }
    Ok(Kind::Wild { classes, tail })
}

/// Reads a `[...]` set after its `[`.
fn parse_set(chars: &mut std::str::Chars<'_>) -> Result<CharSet, PatternError> {
    let mut set = CharSet(0);
    let mut prev: Option<char> = None;
    loop {
        let c = chars.next().ok_or(PatternError::UnterminatedSet)?;
        match c {
            ']' if set.0 == 0 => return Err(PatternError::EmptySet),
            ']' => return Ok(set),
            '-' if prev.is_some() => {
                let lo = prev.take().unwrap_or(c);
                let hi = chars.next().ok_or(PatternError::UnterminatedSet)?;
                if hi == ']' || !hi.is_ascii_graphic() {
                    return Err(PatternError::BadPatternChar(hi));
                }
                if hi < lo {
                    return Err(PatternError::BackwardsRange(lo, hi));
                }
                set.0 |= CharSet::range(lo, hi).0;
            }
            c if c.is_ascii_graphic() => {
                set.0 |= CharSet::single(c).0;
                prev = Some(c);
            }
            c => return Err(PatternError::BadPatternChar(c)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    #[test]
    fn exact_names() {
        assert!(p("6001").matches("6001"));
        assert!(!p("6001").matches("60012"));
        assert!(p("s").matches("s") && p("h").matches("h") && !p("i").matches("t"));
        assert!(p("*98").matches("*98") && p("+4930").matches("+4930"));
        assert_eq!(Pattern::parse("60 01"), Err(PatternError::BadNameChar(' ')));
        assert_eq!(Pattern::parse(""), Err(PatternError::Empty));
        assert!(p("6001").is_exact() && !p("_6001").is_exact());
    }

    #[test]
    fn classes_and_sets() {
        let nxx = p("_NXXXXXX");
        assert!(nxx.matches("2345678") && !nxx.matches("1345678") && !nxx.matches("234567"));
        assert!(p("_Z").matches("1") && !p("_Z").matches("0"));
        assert!(p("_x").matches("7"), "lowercase x is X");
        let set = p("_[137]0[1-5]");
        assert!(set.matches("301") && set.matches("705") && !set.matches("206"));
        assert!(!set.matches("306"));
        assert!(p("_[13-5]").matches("4") && !p("_[13-5]").matches("2"));
        assert!(p("_1-NXX").matches("1234"), "hyphens are ignored");
        assert!(p("_*X#").matches("*5#") && !p("_*X#").matches("55#"));
        assert!(!p("_X").matches("é"));
    }

    #[test]
    fn wildcards() {
        let dot = p("_999X.");
        assert!(dot.matches("9995551234") && dot.matches("99951"));
        assert!(!dot.matches("9995"), ". needs at least one more");
        let bang = p("_999X!");
        assert!(bang.matches("9995") && bang.matches("99951"));
        assert!(p("_.").matches("h"), "the Asterisk `_.` pitfall");
        assert!(p("_!").matches(""));
    }

    #[test]
    fn bad_patterns() {
        let e = |s| Pattern::parse(s).unwrap_err();
        assert_eq!(e("_"), PatternError::Empty);
        assert_eq!(e("_9.X"), PatternError::WildcardNotLast('.'));
        assert_eq!(e("_9!!"), PatternError::WildcardNotLast('!'));
        assert_eq!(e("_[12"), PatternError::UnterminatedSet);
        assert_eq!(e("_[]"), PatternError::EmptySet);
        assert_eq!(e("_[5-1]"), PatternError::BackwardsRange('5', '1'));
        assert_eq!(e("_9 1"), PatternError::BadPatternChar(' '));
        assert_eq!(e("_1]"), PatternError::BadPatternChar(']'));
    }

    #[test]
    fn could_match_more() {
        assert!(p("6001").could_match_more("60") && !p("6001").could_match_more("6001"));
        assert!(!p("6001").could_match_more("61"));
        assert!(p("_6XXX").could_match_more("6") && p("_6XXX").could_match_more(""));
        assert!(!p("_6XXX").could_match_more("6000") && !p("_6XXX").could_match_more("7"));
        assert!(p("_9.").could_match_more("9") && p("_9.").could_match_more("9123456"));
        assert!(!p("_9.").could_match_more("8"));
        assert!(p("_X!").could_match_more("5"));
    }

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut v: Vec<Pattern> = names.iter().map(|n| p(n)).collect();
        v.sort_by(Pattern::cmp_specificity);
        v.into_iter().map(|p| p.source).collect()
    }

    #[test]
    fn asterisk_order() {
        // Asterisk's `dialplan show 6001@ctx` lists: 6001, _6XXX, _6., _X.
        assert_eq!(
            sorted(&["_X.", "_6.", "_6XXX", "6001"]),
            ["6001", "_6XXX", "_6.", "_X."]
        );
        assert_eq!(
            sorted(&["_XXXX", "_NXXX", "_ZXXX"]),
            ["_NXXX", "_ZXXX", "_XXXX"]
        );
        // A literal beats a class at the first differing position; shorter first otherwise.
        assert_eq!(sorted(&["_9XX", "_91X", "_9X"]), ["_91X", "_9X", "_9XX"]);
        // `!` after `.`, both after any class; [1-3] (3) before N (8).
        assert_eq!(
            sorted(&["_9!", "_9.", "_9[1-3]", "_9N"]),
            ["_9[1-3]", "_9N", "_9.", "_9!"]
        );
        // Equal sizes: lowest member first ([1-2] before [3-4]).
        assert_eq!(sorted(&["_[34]", "_[12]"]), ["_[12]", "_[34]"]);
        // Exact names among themselves by text, before every pattern.
        assert_eq!(sorted(&["_X", "t", "1"]), ["1", "t", "_X"]);
        assert_eq!(p("_X").cmp_specificity(&p("_[0-9]")), Ordering::Equal);
    }
}
