//! The expression subset of XLSForm that fieldsync understands in `constraint` and `relevant`
//! cells: a hand-written lexer and recursive-descent parser, and an evaluator over answers.
//!
//! Owns: the grammar, its error messages (with the 1-based column where parsing stopped) and the
//! evaluation semantics. It must not know about sheets or question types: which references are
//! allowed where (earlier questions, `.` only in constraints, choices of a list) is decided by
//! the form validator, which asks an [`Expr`] for its references and choice tests.
//!
//! ```text
//! expr    := and ('or' and)*
//! and     := cond ('and' cond)*
//! cond    := '(' expr ')' | 'not' '(' expr ')'
//!          | 'regex' '(' value ',' STRING ')' | 'selected' '(' value ',' STRING ')'
//!          | value OP value                        OP: = != < <= > >=
//! value   := '.' | '${' NAME '}' | NUMBER | STRING | 'string-length' '(' value ')'
//! ```
//!
//! Semantics (XLSForm's, for blanks): an unanswered question is the empty string. `<`, `<=`,
//! `>`, `>=` compare numbers, or dates when one side is a `'YYYY-MM-DD'` literal; `=` and `!=`
//! compare numbers when one side is a number or `string-length(...)`, strings otherwise. A
//! numeric or date comparison with a blank or non-numeric side is false, whatever the operator.
//! `regex` is true when the pattern matches anywhere in the value (anchor with `^…$`).

use std::collections::BTreeMap;
use std::fmt;

use regex::{Regex, RegexBuilder};

use super::value;

/// Longest expression accepted, in characters.
pub const EXPR_MAX: usize = 1000;
/// Deepest nesting of parentheses and functions accepted.
const DEPTH_MAX: usize = 32;
/// Compiled-size cap for `regex()` patterns, so a form cannot make devices build huge automata.
const REGEX_SIZE_MAX: usize = 1 << 20;

/// Why an expression was refused: `column` is the 1-based character where the problem starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct ExprError {
    pub column: usize,
    pub message: String,
}

/// A parsed expression. It keeps its source text, which is what forms store and send.
#[derive(Debug, Clone)]
pub struct Expr {
    source: String,
    cond: Cond,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ord == Equal,
            CmpOp::Ne => ord != Equal,
            CmpOp::Lt => ord == Less,
            CmpOp::Le => ord != Greater,
            CmpOp::Gt => ord == Greater,
            CmpOp::Ge => ord != Less,
        }
    }
}

/// How a comparison compares, decided at parse time from its operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpKind {
    Number,
    Date,
    Text,
}

#[derive(Debug, Clone)]
enum Cond {
    Or(Box<Cond>, Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Cmp(Value, CmpOp, CmpKind, Value),
    Regex(Value, Regex),
    Selected(Value, String),
}

#[derive(Debug, Clone)]
enum Value {
    Current,
    Ref(String),
    Number(f64),
    Str(String),
    StringLength(Box<Value>),
}

/// A test of a question's answer against a literal choice name: `${q} = 'x'`, `${q} != 'x'`
/// or `selected(${q}, 'x')`. `question` is `None` for `.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceTest<'a> {
    pub question: Option<&'a str>,
    pub choice: &'a str,
    /// True for `selected(...)`, which needs a select question.
    pub selected: bool,
}

impl Expr {
    /// Parses `source` as an expression of the subset described in the module docs.
    pub fn parse(source: &str) -> Result<Expr, ExprError> {
        if source.chars().count() > EXPR_MAX {
            return Err(ExprError {
                column: EXPR_MAX + 1,
                message: format!("expressions are limited to {EXPR_MAX} characters"),
            });
        }
        let tokens = lex(source)?;
        let mut p = Parser {
            tokens,
            at: 0,
            depth: 0,
        };
        let cond = p.parse_or()?;
        match p.peek() {
            Tok::End => Ok(Expr {
                source: source.to_string(),
                cond,
            }),
            other => Err(p.error(format!(
                "unexpected {}: expected 'and', 'or' or the end",
                other.describe()
            ))),
        }
    }

    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Names of the questions referenced as `${name}`, in order of appearance, repeats kept.
    pub fn references(&self) -> Vec<&str> {
        let mut out = Vec::new();
        walk_values(&self.cond, &mut |v| {
            if let Value::Ref(name) = v {
                out.push(name.as_str());
            }
        });
        out
    }

    /// Does the expression use `.` (the answer being checked)?
    pub fn uses_current(&self) -> bool {
        let mut found = false;
        walk_values(&self.cond, &mut |v| found |= matches!(v, Value::Current));
        found
    }

    /// The tests of an answer against a literal choice name, for checking against the lists.
    pub fn choice_tests(&self) -> Vec<ChoiceTest<'_>> {
        let mut out = Vec::new();
        collect_choice_tests(&self.cond, &mut out);
        out
    }

    /// Evaluates the expression: `current` is the value of `.`, `answers` those of `${name}`.
    /// Absent answers are blank.
    pub fn eval(&self, current: &str, answers: &BTreeMap<String, String>) -> bool {
        eval_cond(&self.cond, &Env { current, answers })
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl TryFrom<String> for Expr {
    type Error = ExprError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Expr::parse(&s)
    }
}

impl From<Expr> for String {
    fn from(e: Expr) -> String {
        e.source
    }
}

impl serde::Serialize for Expr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> serde::Deserialize<'de> for Expr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Expr::parse(&s).map_err(|e| serde::de::Error::custom(format!("expression {s:?} {e}")))
    }
}

fn walk_values<'a>(c: &'a Cond, f: &mut impl FnMut(&'a Value)) {
    fn value<'a>(v: &'a Value, f: &mut impl FnMut(&'a Value)) {
        f(v);
        if let Value::StringLength(inner) = v {
            value(inner, f);
        }
    }
    match c {
        Cond::Or(a, b) | Cond::And(a, b) => {
            walk_values(a, f);
            walk_values(b, f);
        }
        Cond::Not(a) => walk_values(a, f),
        Cond::Cmp(a, _, _, b) => {
            value(a, f);
            value(b, f);
        }
        Cond::Regex(a, _) | Cond::Selected(a, _) => value(a, f),
    }
}

fn collect_choice_tests<'a>(c: &'a Cond, out: &mut Vec<ChoiceTest<'a>>) {
    let subject = |v: &'a Value| match v {
        Value::Current => Some(None),
        Value::Ref(name) => Some(Some(name.as_str())),
        _ => None,
    };
    match c {
        Cond::Or(a, b) | Cond::And(a, b) => {
            collect_choice_tests(a, out);
            collect_choice_tests(b, out);
        }
        Cond::Not(a) => collect_choice_tests(a, out),
        Cond::Cmp(a, CmpOp::Eq | CmpOp::Ne, CmpKind::Text, b) => {
            for (x, y) in [(a, b), (b, a)] {
                if let (Some(question), Value::Str(choice)) = (subject(x), y) {
                    out.push(ChoiceTest {
                        question,
                        choice,
                        selected: false,
                    });
                }
            }
        }
        Cond::Selected(a, choice) => {
            if let Some(question) = subject(a) {
                out.push(ChoiceTest {
                    question,
                    choice,
                    selected: true,
                });
            }
        }
        Cond::Cmp(..) | Cond::Regex(..) => {}
    }
}

struct Env<'a> {
    current: &'a str,
    answers: &'a BTreeMap<String, String>,
}

impl Env<'_> {
    fn text<'a>(&'a self, v: &'a Value) -> std::borrow::Cow<'a, str> {
        match v {
            Value::Current => self.current.into(),
            Value::Ref(name) => self.answers.get(name).map_or("", |s| s.as_str()).into(),
            Value::Number(n) => n.to_string().into(),
            Value::Str(s) => s.as_str().into(),
            Value::StringLength(inner) => self.text(inner).chars().count().to_string().into(),
        }
    }

    fn number(&self, v: &Value) -> Option<f64> {
        match v {
            Value::Number(n) => Some(*n),
            Value::StringLength(inner) => Some(self.text(inner).chars().count() as f64),
            other => value::parse_decimal(self.text(other).trim()).ok(),
        }
    }
}

fn eval_cond(c: &Cond, env: &Env<'_>) -> bool {
    match c {
        Cond::Or(a, b) => eval_cond(a, env) || eval_cond(b, env),
        Cond::And(a, b) => eval_cond(a, env) && eval_cond(b, env),
        Cond::Not(a) => !eval_cond(a, env),
        Cond::Regex(v, re) => re.is_match(&env.text(v)),
        Cond::Selected(v, choice) => env.text(v).split(' ').any(|c| c == choice),
        Cond::Cmp(a, op, kind, b) => match kind {
            CmpKind::Text => op.holds(env.text(a).cmp(&env.text(b))),
            CmpKind::Number => match (env.number(a), env.number(b)) {
                (Some(x), Some(y)) => x.partial_cmp(&y).is_some_and(|o| op.holds(o)),
                _ => false,
            },
            CmpKind::Date => {
                let (x, y) = (env.text(a), env.text(b));
                match (value::parse_date(x.trim()), value::parse_date(y.trim())) {
                    (Ok(x), Ok(y)) => op.holds(x.cmp(&y)),
                    _ => false,
                }
            }
        },
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Dot,
    Ref(String),
    Num(f64),
    Str(String),
    Ident(String),
    LParen,
    RParen,
    Comma,
    Op(CmpOp),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Dot => "'.'".into(),
            Tok::Ref(n) => format!("'${{{n}}}'"),
            Tok::Num(n) => format!("number {n}"),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Ident(s) => format!("'{s}'"),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Comma => "','".into(),
            Tok::Op(_) => "a comparison operator".into(),
            Tok::End => "the end of the expression".into(),
        }
    }
}

/// A token and the 1-based column where it starts.
type Spanned = (Tok, usize);

fn lex(src: &str) -> Result<Vec<Spanned>, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        let err = |message: String| {
            Err(ExprError {
                column: col,
                message,
            })
        };
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '=' if chars.get(i + 1) == Some(&'=') => {
                return err("use '=' to compare, not '=='".into())
            }
            '=' => (Tok::Op(CmpOp::Eq), 1),
            '!' if chars.get(i + 1) == Some(&'=') => (Tok::Op(CmpOp::Ne), 2),
            '<' if chars.get(i + 1) == Some(&'=') => (Tok::Op(CmpOp::Le), 2),
            '>' if chars.get(i + 1) == Some(&'=') => (Tok::Op(CmpOp::Ge), 2),
            '<' => (Tok::Op(CmpOp::Lt), 1),
            '>' => (Tok::Op(CmpOp::Gt), 1),
            '\'' | '"' => lex_string(&chars, i)?,
            '$' => lex_ref(&chars, i)?,
            '.' if !chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => (Tok::Dot, 1),
            '-' | '.' | '0'..='9' => lex_number(&chars, i)?,
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
                    .count();
                (Tok::Ident(chars[i..i + len].iter().collect()), len)
            }
            other => return err(format!("unexpected character {other:?}")),
        };
        out.push((tok, col));
        i += len;
    }
    out.push((Tok::End, chars.len() + 1));
    Ok(out)
}

fn lex_string(chars: &[char], i: usize) -> Result<(Tok, usize), ExprError> {
    let quote = chars[i];
    match chars[i + 1..].iter().position(|&c| c == quote) {
        Some(n) => Ok((Tok::Str(chars[i + 1..i + 1 + n].iter().collect()), n + 2)),
        None => Err(ExprError {
            column: i + 1,
            message: format!("string starting here has no closing {quote}"),
        }),
    }
}

fn lex_ref(chars: &[char], i: usize) -> Result<(Tok, usize), ExprError> {
    let err = |message: &str| ExprError {
        column: i + 1,
        message: message.to_string(),
    };
    if chars.get(i + 1) != Some(&'{') {
        return Err(err("'$' must start a reference such as ${age}"));
    }
    let close = chars[i + 2..]
        .iter()
        .position(|&c| c == '}')
        .ok_or_else(|| err("reference starting here has no closing '}'"))?;
    let name: String = chars[i + 2..i + 2 + close].iter().collect();
    if crate::model::validate_answer_key(&name).is_err() {
        return Err(err(&format!(
            "'${{{name}}}' is not a question name (1 to 64 of letters, digits, '_', '-', '.')"
        )));
    }
    Ok((Tok::Ref(name), close + 3))
}

fn lex_number(chars: &[char], i: usize) -> Result<(Tok, usize), ExprError> {
    let len = 1 + chars[i + 1..]
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == '.')
        .count();
    let text: String = chars[i..i + len].iter().collect();
    match value::parse_decimal(&text) {
        Ok(n) => Ok((Tok::Num(n), len)),
        Err(_) => Err(ExprError {
            column: i + 1,
            message: format!("{text:?} is not a number"),
        }),
    }
}

// ---------------------------------------------------------------- parser

struct Parser {
    tokens: Vec<Spanned>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.tokens[self.at.min(self.tokens.len() - 1)].0
    }

    fn column(&self) -> usize {
        self.tokens[self.at.min(self.tokens.len() - 1)].1
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    fn error(&self, message: String) -> ExprError {
        ExprError {
            column: self.column(),
            message,
        }
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), ExprError> {
        if *self.peek() == want {
            self.next();
            Ok(())
        } else {
            Err(self.error(format!("expected {what}, found {}", self.peek().describe())))
        }
    }

    fn is_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(w) if w == word)
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > DEPTH_MAX {
            return Err(self.error(format!("nested more than {DEPTH_MAX} levels deep")));
        }
        Ok(())
    }

    fn parse_or(&mut self) -> Result<Cond, ExprError> {
        let mut left = self.parse_and()?;
        while self.is_keyword("or") {
            self.next();
            left = Cond::Or(Box::new(left), Box::new(self.parse_and()?));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Cond, ExprError> {
        let mut left = self.parse_cond()?;
        while self.is_keyword("and") {
            self.next();
            left = Cond::And(Box::new(left), Box::new(self.parse_cond()?));
        }
        Ok(left)
    }

    fn parse_cond(&mut self) -> Result<Cond, ExprError> {
        self.enter()?;
        let cond = match self.peek().clone() {
            Tok::LParen => {
                self.next();
                let inner = self.parse_or()?;
                self.expect(Tok::RParen, "')'")?;
                inner
            }
            Tok::Ident(f) if f == "not" => {
                self.open_call("not")?;
                let inner = self.parse_or()?;
                self.expect(Tok::RParen, "')' to close not(")?;
                Cond::Not(Box::new(inner))
            }
            Tok::Ident(f) if f == "regex" => {
                let (subject, pattern, column) = self.parse_value_and_string("regex")?;
                Cond::Regex(subject, compile_regex(&pattern, column)?)
            }
            Tok::Ident(f) if f == "selected" => {
                let (subject, choice, _) = self.parse_value_and_string("selected")?;
                Cond::Selected(subject, choice)
            }
            _ => self.parse_comparison()?,
        };
        self.depth -= 1;
        Ok(cond)
    }

    fn open_call(&mut self, name: &str) -> Result<(), ExprError> {
        self.next();
        self.expect(Tok::LParen, &format!("'(' after {name}"))
    }

    /// `name(value, 'string')`: returns the value, the string and the string's column.
    fn parse_value_and_string(&mut self, name: &str) -> Result<(Value, String, usize), ExprError> {
        self.open_call(name)?;
        let subject = self.parse_value()?;
        self.expect(Tok::Comma, &format!("',' in {name}(value, 'text')"))?;
        let column = self.column();
        let Tok::Str(text) = self.next() else {
            return Err(ExprError {
                column,
                message: format!("{name}() takes a quoted 'text' as its second argument"),
            });
        };
        self.expect(Tok::RParen, &format!("')' to close {name}("))?;
        Ok((subject, text, column))
    }

    fn parse_comparison(&mut self) -> Result<Cond, ExprError> {
        let start = self.column();
        let left = self.parse_value()?;
        let Tok::Op(op) = self.peek().clone() else {
            return Err(self.error(format!(
                "expected a comparison (=, !=, <, <=, >, >=), found {}",
                self.peek().describe()
            )));
        };
        self.next();
        let right = self.parse_value()?;
        let kind = comparison_kind(&left, op, &right).map_err(|message| ExprError {
            column: start,
            message,
        })?;
        Ok(Cond::Cmp(left, op, kind, right))
    }

    fn parse_value(&mut self) -> Result<Value, ExprError> {
        let column = self.column();
        match self.next() {
            Tok::Dot => Ok(Value::Current),
            Tok::Ref(name) => Ok(Value::Ref(name)),
            Tok::Num(n) => Ok(Value::Number(n)),
            Tok::Str(s) => Ok(Value::Str(s)),
            Tok::Ident(f) if f == "string-length" => {
                self.enter()?;
                self.expect(Tok::LParen, "'(' after string-length")?;
                let inner = self.parse_value()?;
                self.expect(Tok::RParen, "')' to close string-length(")?;
                self.depth -= 1;
                Ok(Value::StringLength(Box::new(inner)))
            }
            Tok::Ident(f) => Err(ExprError {
                column,
                message: format!(
                    "'{f}' is not supported; the subset has '.', ${{name}}, numbers, 'text', \
                     string-length(), regex(), selected(), not(), 'and' and 'or'"
                ),
            }),
            other => Err(ExprError {
                column,
                message: format!(
                    "expected '.', ${{name}}, a number or a 'text', found {}",
                    other.describe()
                ),
            }),
        }
    }
}

fn is_numeric(v: &Value) -> bool {
    matches!(v, Value::Number(_) | Value::StringLength(_))
}

fn comparison_kind(left: &Value, op: CmpOp, right: &Value) -> Result<CmpKind, String> {
    let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
    if is_numeric(left) || is_numeric(right) {
        return Ok(CmpKind::Number);
    }
    let literal = [left, right].into_iter().find_map(|v| match v {
        Value::Str(s) => Some(s),
        _ => None,
    });
    match (ordering, literal) {
        (false, _) => Ok(CmpKind::Text),
        (true, None) => Ok(CmpKind::Number),
        (true, Some(s)) if value::parse_date(s).is_ok() => Ok(CmpKind::Date),
        (true, Some(s)) => Err(format!(
            "'<', '<=', '>' and '>=' compare numbers or dates; '{s}' is neither \
             (write dates as 'YYYY-MM-DD')"
        )),
    }
}

fn compile_regex(pattern: &str, column: usize) -> Result<Regex, ExprError> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_MAX)
        .build()
        .map_err(|e| ExprError {
            column,
            message: format!("invalid regular expression: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn holds(src: &str, current: &str, pairs: &[(&str, &str)]) -> bool {
        Expr::parse(src)
            .unwrap_or_else(|e| panic!("{src}: {e}"))
            .eval(current, &answers(pairs))
    }

    #[test]
    fn constraints_compare_the_answer_with_numbers() {
        assert!(holds(". > 0", "3", &[]));
        assert!(!holds(". > 0", "0", &[]));
        assert!(holds(". <= 120", "120", &[]));
        assert!(holds(". != 5", "4", &[]));
        assert!(!holds(". != 5", "5.0", &[]));
        assert!(holds(". >= -2.5", "-2", &[]));
        assert!(holds(". > 0 and . <= 60", "60", &[]));
        assert!(!holds(". < 0 or . > 10", "5", &[]));
        assert!(holds("(. < 0 or . > 10) and . != 99", "11", &[]));
    }

    #[test]
    fn numeric_comparisons_with_blank_or_text_are_false() {
        for op in ["=", "!=", "<", "<=", ">", ">="] {
            assert!(!holds(&format!(". {op} 5"), "", &[]), "{op}");
            assert!(!holds(&format!(". {op} 5"), "five", &[]), "{op}");
            assert!(!holds(&format!("${{age}} {op} 18"), "", &[]), "{op}");
        }
        assert!(holds("not(${age} >= 18)", "", &[]));
    }

    #[test]
    fn string_length_and_regex() {
        assert!(holds("string-length(.) <= 10", "abcdefghij", &[]));
        assert!(!holds("string-length(.) <= 10", "abcdefghijk", &[]));
        assert!(holds("string-length(.) = 3", "ñaé", &[]));
        assert!(holds("regex(., '^[A-Z]{2}[0-9]+$')", "KE42", &[]));
        assert!(!holds("regex(., '^[A-Z]{2}[0-9]+$')", "KE42x", &[]));
        assert!(
            holds("regex(., '[0-9]')", "abc7", &[]),
            "regex matches anywhere"
        );
    }

    #[test]
    fn relevance_compares_earlier_answers() {
        assert!(holds("${q} = 'x'", "", &[("q", "x")]));
        assert!(!holds("${q} = 'x'", "", &[]));
        assert!(holds("${q} != 'x'", "", &[]), "blank is the empty string");
        assert!(holds("${age} >= 18", "", &[("age", "18")]));
        assert!(holds("selected(${q}, 'b')", "", &[("q", "a b c")]));
        assert!(!holds("selected(${q}, 'b')", "", &[("q", "ab")]));
        assert!(holds(
            "not(selected(${q}, 'b')) or ${n} > 2",
            "",
            &[("q", "b"), ("n", "3")]
        ));
        assert!(holds("${a} = ${b}", "", &[("a", "x"), ("b", "x")]));
        assert!(
            holds("\"x\" = ${q}", "", &[("q", "x")]),
            "double quotes, literal first"
        );
    }

    #[test]
    fn dates_compare_with_date_literals() {
        assert!(holds(". >= '2000-01-01'", "2000-01-01", &[]));
        assert!(!holds(". >= '2000-01-01'", "1999-12-31", &[]));
        assert!(!holds(". >= '2000-01-01'", "not a date", &[]));
    }

    #[test]
    fn references_current_and_choice_tests_are_reported() {
        let e = Expr::parse("${a} = 'x' and selected(${b}, 'y') or . > 1").unwrap();
        assert_eq!(e.references(), ["a", "b"]);
        assert!(e.uses_current());
        let tests = e.choice_tests();
        assert_eq!(
            tests[0],
            ChoiceTest {
                question: Some("a"),
                choice: "x",
                selected: false
            }
        );
        assert_eq!(
            tests[1],
            ChoiceTest {
                question: Some("b"),
                choice: "y",
                selected: true
            }
        );
        assert!(!Expr::parse("${a} > 1").unwrap().uses_current());
    }

    #[test]
    fn errors_say_where_and_what() {
        let cases = [
            (". >> 3", 4, "expected '.'"),
            (". > ", 5, "found the end"),
            (". = 'open", 5, "no closing '"),
            ("${a b} = 1", 1, "is not a question name"),
            ("today() > 1", 1, "'today' is not supported"),
            (". == 1", 3, "use '='"),
            (".", 2, "expected a comparison"),
            (". > 1 . < 2", 7, "expected 'and', 'or'"),
            ("(. > 1", 7, "expected ')'"),
            ("regex(., 5)", 10, "quoted 'text'"),
            ("regex(., '(')", 10, "invalid regular expression"),
            (". < 'abc'", 1, "compare numbers or dates"),
            ("$a = 1", 1, "must start a reference"),
            (". > 1 & . < 2", 7, "unexpected character '&'"),
        ];
        for (src, column, message) in cases {
            let e = Expr::parse(src).expect_err(src);
            assert_eq!(e.column, column, "{src}: {e}");
            assert!(e.message.contains(message), "{src}: {e}");
        }
        let deep = format!("{}. > 1{}", "(".repeat(40), ")".repeat(40));
        assert!(Expr::parse(&deep).unwrap_err().message.contains("nested"));
        assert!(Expr::parse(&"x".repeat(EXPR_MAX + 1)).is_err());
    }

    proptest! {
        #[test]
        fn the_parser_never_panics(s in "\\PC{0,60}") {
            let _ = Expr::parse(&s);
        }

        #[test]
        fn the_parser_never_panics_on_near_expressions(
            s in "[ .${}()',<>=!a-z0-9_-]{0,40}|(not|and|or|selected|regex|string-length|[.()', ]|\\$\\{q\\}|[<>=!]=?|[0-9]+|'[a-z]*'){0,16}"
        ) {
            if let Ok(e) = Expr::parse(&s) {
                let _ = e.eval("", &BTreeMap::new());
                prop_assert_eq!(e.source(), s.as_str());
            }
        }

        #[test]
        fn numeric_comparison_agrees_with_rust(a in -1000i64..1000, b in -1000i64..1000) {
            let cur = a.to_string();
            prop_assert_eq!(holds(&format!(". < {b}"), &cur, &[]), a < b);
            prop_assert_eq!(holds(&format!(". >= {b}"), &cur, &[]), a >= b);
            prop_assert_eq!(holds(&format!(". != {b}"), &cur, &[]), a != b);
        }
    }
}
