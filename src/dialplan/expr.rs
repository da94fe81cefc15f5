//! Asterisk expressions: the text inside `$[ ... ]`, evaluated after variable substitution.
//!
//! Used wherever a step's arguments contain `$[...]`, most often in a `GotoIf` condition such
//! as `$[${DIALSTATUS} = BUSY]`. Operators, loosest binding first (as in Asterisk's
//! `expr2` grammar, without its regex and ternary operators):
//!
//! ```text
//! a | b            a if a is true, else b
//! a & b            a if both are true, else 0
//! = != < > <= >=   1 or 0; numeric when both sides are numbers, else text comparison
//! + -              arithmetic
//! * / %            arithmetic (integer division when both sides are integers)
//! ! -              unary: logical not, negation
//! ( )              grouping
//! ```
//!
//! Operands are words (`BUSY`, `42`, `-1.5`) or double-quoted strings (`"two words"`, `""`).
//! A word ends at a space, a quote or an operator character, so text containing `-` or `*`
//! must be quoted. "True" is Asterisk's rule: not empty and, if a number, not zero.

/// Deepest nesting of parentheses and unary operators evaluated (values come from callers).
const MAX_DEPTH: usize = 64;

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    /// A `"` without its closing quote.
    #[error("unterminated string in expression")]
    UnterminatedString,
    /// An operand was expected (start, after an operator, or after `(`).
    #[error("missing operand in expression")]
    MissingOperand,
    /// A `(` without `)`.
    #[error("missing ) in expression")]
    MissingParen,
    /// Text left over after a complete expression, like `1 2`.
    #[error("unexpected {0:?} in expression")]
    Unexpected(String),
    /// Arithmetic on something that is not a number.
    #[error("{0:?} is not a number")]
    NotANumber(String),
    /// Division or remainder by zero.
    #[error("division by zero in expression")]
    DivisionByZero,
    /// Parentheses or unary operators nested deeper than the evaluator allows.
    #[error("expression nested too deeply")]
    TooDeep,
}

/// Asterisk's truth rule for conditions: empty is false, a number is true when non-zero, any
/// other text is true.
pub fn is_true(value: &str) -> bool {
    let value = value.trim();
    match number(value) {
        Some(n) => n != 0.0,
        None => !value.is_empty(),
    }
}

/// Evaluates the inside of `$[...]` (variables already substituted) to its text result.
pub fn evaluate(text: &str) -> Result<String, ExprError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        depth: 0,
    };
    let value = parser.or()?;
    match parser.tokens.get(parser.pos) {
        None => Ok(value),
        Some(tok) => Err(ExprError::Unexpected(tok.text())),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Value(String),
    Op(&'static str),
}

impl Tok {
    fn text(&self) -> String {
        match self {
            Tok::Value(v) => v.clone(),
            Tok::Op(o) => (*o).to_owned(),
        }
    }
}

/// Operators, two-character ones first so `<=` is not read as `<` then `=`.
const OPS: [&str; 16] = [
    "!=", "<=", ">=", "==", "|", "&", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")",
];

fn tokenize(text: &str) -> Result<Vec<Tok>, ExprError> {
    let mut tokens = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else {
            return Ok(tokens);
        };
        if c == '"' {
            let end = rest[1..].find('"').ok_or(ExprError::UnterminatedString)?;
            tokens.push(Tok::Value(rest[1..1 + end].to_owned()));
            rest = &rest[end + 2..];
        } else if let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) {
            tokens.push(Tok::Op(if *op == "==" { "=" } else { op }));
            rest = &rest[op.len()..];
        } else if c == '!' {
            tokens.push(Tok::Op("!"));
            rest = &rest[1..];
        } else {
            let end = rest
                .find(|c: char| {
                    c.is_whitespace() || c == '"' || c == '!' || "|&=<>+-*/%()".contains(c)
                })
                .unwrap_or(rest.len());
            tokens.push(Tok::Value(rest[..end].to_owned()));
            rest = &rest[end..];
        }
    }
}

struct Parser<'a> {
    tokens: &'a [Tok],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    /// Consumes the next token if it is one of `ops`.
    fn op(&mut self, ops: &[&'static str]) -> Option<&'static str> {
        match self.tokens.get(self.pos) {
            Some(Tok::Op(o)) if ops.contains(o) => {
                self.pos += 1;
                Some(*o)
            }
            _ => None,
        }
    }

    fn or(&mut self) -> Result<String, ExprError> {
        let mut left = self.and()?;
        while self.op(&["|"]).is_some() {
            let right = self.and()?;
            if !is_true(&left) {
                left = right;
            }
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<String, ExprError> {
        let mut left = self.comparison()?;
        while self.op(&["&"]).is_some() {
            let right = self.comparison()?;
            if !(is_true(&left) && is_true(&right)) {
                left = "0".to_owned();
            }
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<String, ExprError> {
        let mut left = self.sum()?;
        while let Some(op) = self.op(&["=", "!=", "<", ">", "<=", ">="]) {
            let right = self.sum()?;
            let ord = match (number(&left), number(&right)) {
                (Some(a), Some(b)) => a.partial_cmp(&b),
                _ => Some(left.cmp(&right)),
            };
            let yes = ord.is_some_and(|ord| match op {
                "=" => ord.is_eq(),
                "!=" => ord.is_ne(),
                "<" => ord.is_lt(),
                ">" => ord.is_gt(),
                "<=" => ord.is_le(),
                _ => ord.is_ge(),
            });
            left = if yes { "1" } else { "0" }.to_owned();
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<String, ExprError> {
        let mut left = self.product()?;
        while let Some(op) = self.op(&["+", "-"]) {
            let right = self.product()?;
            let (a, b) = (numeric(&left)?, numeric(&right)?);
            left = format_number(if op == "+" { a + b } else { a - b });
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<String, ExprError> {
        let mut left = self.unary()?;
        while let Some(op) = self.op(&["*", "/", "%"]) {
            let right = self.unary()?;
            let (a, b) = (numeric(&left)?, numeric(&right)?);
            if op != "*" && b == 0.0 {
                return Err(ExprError::DivisionByZero);
            }
            let integers = a.fract() == 0.0 && b.fract() == 0.0;
            left = format_number(match op {
                "*" => a * b,
                "/" if integers => (a / b).trunc(),
                "/" => a / b,
                _ => a % b,
            });
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<String, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::TooDeep);
        }
        let value = if self.op(&["!"]).is_some() {
            let v = self.unary()?;
            if is_true(&v) { "0" } else { "1" }.to_owned()
        } else if self.op(&["-"]).is_some() {
            let v = self.unary()?;
            format_number(-numeric(&v)?)
        } else if self.op(&["("]).is_some() {
            let v = self.or()?;
            self.op(&[")"]).ok_or(ExprError::MissingParen)?;
            v
        } else {
            match self.tokens.get(self.pos) {
                Some(Tok::Value(v)) => {
                    self.pos += 1;
                    v.clone()
                }
                _ => return Err(ExprError::MissingOperand),
            }
        };
        self.depth -= 1;
        Ok(value)
    }
}

/// Parses a plain decimal number (`42`, `-3`, `2.5`); `inf`, `1e3` and the like are text.
fn number(text: &str) -> Option<f64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if all_digits(int) && all_digits(frac) {
        text.parse().ok()
    } else {
        None
    }
}

fn numeric(text: &str) -> Result<f64, ExprError> {
    number(text).ok_or_else(|| ExprError::NotANumber(text.to_owned()))
}

/// Whole numbers print without a decimal point, as Asterisk prints them.
fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> String {
        evaluate(s).unwrap()
    }

    #[test]
    fn comparisons() {
        assert_eq!(ev("BUSY = BUSY"), "1");
        assert_eq!(ev("BUSY = NOANSWER"), "0");
        assert_eq!(ev("BUSY != NOANSWER"), "1");
        assert_eq!(ev("10 > 9"), "1", "numeric, not text");
        assert_eq!(
            ev("\"10\" < \"9\""),
            "0",
            "quoted numbers are still numbers"
        );
        assert_eq!(ev("abc < abd"), "1");
        assert_eq!(ev("3 <= 3"), "1");
        assert_eq!(ev("2 >= 3"), "0");
        assert_eq!(ev("1.5 = 1.50"), "1");
        assert_eq!(ev("5==5"), "1", "no spaces needed");
        assert_eq!(ev("\"\" = \"\""), "1");
        assert_eq!(ev("\"two words\" = \"two words\""), "1");
    }

    #[test]
    fn logic_and_grouping() {
        assert_eq!(ev("1 & 0"), "0");
        assert_eq!(ev("abc & 1"), "abc");
        assert_eq!(ev("0 | fallback"), "fallback");
        assert_eq!(ev("first | fallback"), "first");
        assert_eq!(ev("!0"), "1");
        assert_eq!(ev("!abc"), "0");
        assert_eq!(ev("!(1 = 2)"), "1");
        assert_eq!(ev("1 = 1 & 2 = 3"), "0", "& binds looser than =");
        assert_eq!(ev("(1 = 2) | (3 = 3)"), "1");
    }

    #[test]
    fn arithmetic() {
        assert_eq!(ev("1 + 2 * 3"), "7");
        assert_eq!(ev("(1 + 2) * 3"), "9");
        assert_eq!(ev("7 / 2"), "3");
        assert_eq!(ev("7.0 / 2"), "3");
        assert_eq!(ev("7.5 / 2"), "3.75");
        assert_eq!(ev("7 % 3"), "1");
        assert_eq!(ev("-3 + 1"), "-2");
        assert_eq!(ev("10 - -2"), "12");
    }

    #[test]
    fn errors() {
        assert_eq!(evaluate(""), Err(ExprError::MissingOperand));
        assert_eq!(evaluate(" = BUSY"), Err(ExprError::MissingOperand));
        assert_eq!(evaluate("(1 = 1"), Err(ExprError::MissingParen));
        assert_eq!(evaluate("1 2"), Err(ExprError::Unexpected("2".into())));
        assert_eq!(evaluate("\"abc"), Err(ExprError::UnterminatedString));
        assert_eq!(evaluate("a + 1"), Err(ExprError::NotANumber("a".into())));
        assert_eq!(evaluate("1 / 0"), Err(ExprError::DivisionByZero));
        assert_eq!(
            evaluate("inf + 1"),
            Err(ExprError::NotANumber("inf".into()))
        );
        let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
        assert_eq!(evaluate(&deep), Err(ExprError::TooDeep));
    }

    #[test]
    fn truth() {
        assert!(!is_true("") && !is_true("0") && !is_true(" 0 ") && !is_true("0.0"));
        assert!(is_true("1") && is_true("BUSY") && is_true("-1"));
    }
}
