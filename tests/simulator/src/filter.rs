//! The `filter=` query parameter, both dialects (reference §5.2, quirk 5):
//!
//! - A: `(attr="regex")` terms joined by `|` (or) and `&` (and). The value is a regular expression
//!   that must match the whole attribute (Java `matches()`); `(?i)` makes it case-insensitive.
//! - B: `attr eq "value"`, exact equality (case-insensitive for `email`), joined by `or` / `and`.
//!
//! Parentheses group, `&`/`and` bind tighter than `|`/`or`, and the two dialects may be mixed.

use regex::{Regex, RegexBuilder};

/// Filterable user attributes.
pub(crate) const USER_ATTRS: &[&str] = &["key", "email", "firstName", "lastName"];
/// Filterable group attributes.
pub(crate) const GROUP_ATTRS: &[&str] = &["key", "name"];
/// Filterable license attributes (GoTo's are unknown).
pub(crate) const LICENSE_ATTRS: &[&str] = &["key", "description"];

/// A parsed filter over one resource's attributes (indices into its attribute list).
#[derive(Debug)]
pub(crate) struct Filter {
    expr: Expr,
}

#[derive(Debug)]
enum Expr {
    Any(Vec<Expr>),
    All(Vec<Expr>),
    Regex { attr: usize, re: Regex },
    Eq { attr: usize, value: String, fold_case: bool },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Or,
    And,
    Assign,
    Word(String),
    /// Raw text between the quotes, backslash escapes kept.
    Str(String),
}

impl Filter {
    /// Parses `input` against `attrs`; unknown attributes and syntax errors are errors.
    pub fn parse(input: &str, attrs: &[&str]) -> Result<Filter, String> {
        let toks = tokenize(input)?;
        let mut parser = Parser { toks, pos: 0, depth: 0, attrs };
        let expr = parser.any()?;
        match parser.toks.get(parser.pos) {
            None => Ok(Filter { expr }),
            Some(t) => Err(format!("unexpected {t:?}")),
        }
    }

    /// Whether a dialect-B (`eq`) term appears.
    pub fn uses_eq(&self) -> bool {
        self.expr.uses_eq()
    }

    /// Evaluates the filter; `value(i)` is the resource's value of attribute `attrs[i]`.
    pub fn matches<'a>(&self, value: &impl Fn(usize) -> &'a str) -> bool {
        self.expr.matches(value)
    }
}

impl Expr {
    fn uses_eq(&self) -> bool {
        match self {
            Expr::Any(xs) | Expr::All(xs) => xs.iter().any(Expr::uses_eq),
            Expr::Regex { .. } => false,
            Expr::Eq { .. } => true,
        }
    }

    fn matches<'a>(&self, value: &impl Fn(usize) -> &'a str) -> bool {
        match self {
            Expr::Any(xs) => xs.iter().any(|x| x.matches(value)),
            Expr::All(xs) => xs.iter().all(|x| x.matches(value)),
            Expr::Regex { attr, re } => re.is_match(value(*attr)),
            Expr::Eq { attr, value: want, fold_case: true } => {
                // Compared char by char: no allocation per item.
                let have = value(*attr).chars().flat_map(char::to_lowercase);
                have.eq(want.chars().flat_map(char::to_lowercase))
            }
            Expr::Eq { attr, value: want, fold_case: false } => value(*attr) == want,
        }
    }
}

fn tokenize(input: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => toks.push(Tok::Open),
            ')' => toks.push(Tok::Close),
            '|' => toks.push(Tok::Or),
            '&' => toks.push(Tok::And),
            '=' => toks.push(Tok::Assign),
            '"' => {
                let mut raw = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated string".into()),
                        Some('"') => break,
                        Some('\\') => {
                            raw.push('\\');
                            raw.push(chars.next().ok_or("dangling backslash")?);
                        }
                        Some(c) => raw.push(c),
                    }
                }
                toks.push(Tok::Str(raw));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut word = c.to_string();
                while let Some(&c) = chars.peek().filter(|c| c.is_ascii_alphanumeric() || **c == '_' || **c == '.') {
                    word.push(c);
                    chars.next();
                }
                toks.push(Tok::Word(word));
            }
            c => return Err(format!("unexpected character {c:?}")),
        }
    }
    Ok(toks)
}

/// Deepest parenthesis nesting accepted; deeper input would only exhaust the stack.
const MAX_DEPTH: usize = 32;

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    attrs: &'a [&'a str],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.toks.get(self.pos).cloned();
        self.pos += 1;
        tok
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    /// any := all (("|" | "or") all)*
    fn any(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.all()?];
        while matches!(self.peek(), Some(Tok::Or)) || self.is_word("or") {
            self.pos += 1;
            terms.push(self.all()?);
        }
        Ok(if terms.len() == 1 { terms.remove(0) } else { Expr::Any(terms) })
    }

    /// all := atom (("&" | "and") atom)*
    fn all(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.atom()?];
        while matches!(self.peek(), Some(Tok::And)) || self.is_word("and") {
            self.pos += 1;
            terms.push(self.atom()?);
        }
        Ok(if terms.len() == 1 { terms.remove(0) } else { Expr::All(terms) })
    }

    /// atom := "(" any ")" | attr "=" string | attr "eq" string
    fn atom(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Open) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err("nested too deeply".into());
                }
                let inner = self.any()?;
                self.depth -= 1;
                match self.next() {
                    Some(Tok::Close) => Ok(inner),
                    other => Err(format!("expected ')', found {other:?}")),
                }
            }
            Some(Tok::Word(name)) => {
                let attr = self
                    .attrs
                    .iter()
                    .position(|a| a.eq_ignore_ascii_case(&name))
                    .ok_or_else(|| format!("cannot filter on {name:?}"))?;
                let is_eq = self.is_word("eq");
                match (self.next(), self.next()) {
                    (Some(Tok::Assign), Some(Tok::Str(raw))) => Ok(Expr::Regex { attr, re: full_match(&raw)? }),
                    (Some(Tok::Word(_)), Some(Tok::Str(raw))) if is_eq => {
                        Ok(Expr::Eq { attr, value: unescape(&raw), fold_case: self.attrs[attr] == "email" })
                    }
                    _ => Err(format!("expected = or eq and a quoted value after {name:?}")),
                }
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

/// Java `String.matches()` semantics: the pattern must cover the whole value.
fn full_match(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(&format!("^(?:{pattern})$")).size_limit(1 << 20).build().map_err(|e| format!("bad regex: {e}"))
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_matches(filter: &str, email: &str, first: &str) -> bool {
        let values = ["1", email, first, "Lee"];
        Filter::parse(filter, USER_ATTRS).unwrap().matches(&|i| values[i])
    }

    #[test]
    fn dialect_a_is_a_full_match_regex() {
        assert!(user_matches(r#"(email="alex.lee@example.com")"#, "alex.lee@example.com", "Alex"));
        // Unescaped '.' also matches 'x': the client bug the tricky seed emails expose.
        assert!(user_matches(r#"(email="alex.lee@example.com")"#, "alexxlee@example.com", "Alex"));
        assert!(!user_matches(r#"(email="alex\.lee@example\.com")"#, "alexxlee@example.com", "Alex"));
        // Unescaped '+' is a quantifier.
        assert!(!user_matches(r#"(email="alex+sales@example.com")"#, "alex+sales@example.com", "Alex"));
        assert!(user_matches(r#"(email="alex\+sales@example\.com")"#, "alex+sales@example.com", "Alex"));
        // Full match, not find.
        assert!(!user_matches(r#"(email="alex")"#, "alex.lee@example.com", "Alex"));
        assert!(user_matches(r#"(email="(?i).*LEE.*")"#, "alex.lee@example.com", "Alex"));
        assert!(!user_matches(r#"(email=".*LEE.*")"#, "alex.lee@example.com", "Alex"));
    }

    #[test]
    fn combinators_and_grouping() {
        let f = r#"(email="nobody") | (firstName="Alex") & (lastName="Lee")"#;
        assert!(user_matches(f, "a@b.c", "Alex"));
        assert!(!user_matches(r#"(email="nobody") & (firstName="Alex")"#, "a@b.c", "Alex"));
        assert!(user_matches(r#"((email="nobody") | (firstName="Alex"))"#, "a@b.c", "Alex"));
    }

    #[test]
    fn dialect_b_is_exact_and_case_insensitive_for_email() {
        assert!(user_matches(r#"email eq "Alex+Sales@example.com""#, "alex+sales@example.com", "Alex"));
        assert!(!user_matches(r#"email eq "alex""#, "alex+sales@example.com", "Alex"));
        assert!(!user_matches(r#"firstName eq "alex""#, "a@b.c", "Alex"));
        assert!(user_matches(r#"firstName EQ "Alex" and email eq "a@b.c""#, "a@b.c", "Alex"));
        assert!(Filter::parse(r#"email eq "x""#, USER_ATTRS).unwrap().uses_eq());
        assert!(!Filter::parse(r#"(email="x")"#, USER_ATTRS).unwrap().uses_eq());
    }

    #[test]
    fn rejects_bad_filters() {
        for bad in [
            r#"(status="ACTIVE")"#,
            r#"(email="x""#,
            r#"(email="x") |"#,
            r#"email ne "x""#,
            r#"(email="(unclosed")"#,
            r#"email="x" extra"#,
            "&&",
            "(email=x)",
        ] {
            assert!(Filter::parse(bad, USER_ATTRS).is_err(), "{bad}");
        }
        let deep = format!("{}(email=\"x\"){}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(Filter::parse(&deep, USER_ATTRS).is_err());
        let fine = format!("{}(email=\"x\"){}", "(".repeat(20), ")".repeat(20));
        assert!(Filter::parse(&fine, USER_ATTRS).is_ok());
    }
}
