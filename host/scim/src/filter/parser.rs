//! The filter grammar of RFC 7644 §3.4.2.2, by recursive descent: `or` binds loosest, then
//! `and`, then `not`; parentheses group; `attr[filter]` is a value path. Operators, keywords
//! and `true`/`false`/`null` are read without case; strings are JSON strings with their
//! escapes. Nesting and size are bounded so that hostile input cannot exhaust the stack.

use serde_json::Value;

use super::{CompareOp, Filter};
use crate::error::{ScimError, ScimType};
use crate::path::{self, AttrPath};

/// The deepest nesting of parentheses, `not` and value paths a filter may have.
pub const MAX_DEPTH: usize = 32;
/// The most comparisons (and `pr` tests) one filter may hold.
pub const MAX_TERMS: usize = 1000;

/// The longest piece of the input an error quotes.
const QUOTE_LIMIT: usize = 40;

/// Parses a filter; errors are `invalidFilter`, naming the character position and what was
/// expected there.
pub fn parse(text: &str) -> Result<Filter, ScimError> {
    let mut parser = Parser { text, pos: 0, depth: 0, terms: 0, in_brackets: false };
    let filter = parser.or()?;
    parser.skip_space();
    if parser.at_end() { Ok(filter) } else { Err(parser.expected("\"and\", \"or\" or the end of the filter")) }
}

/// Parses the value filter of a PATCH path, from `start` (just after its `[`) through its `]`;
/// returns the filter and the position after the `]`.
pub(crate) fn parse_bracketed(text: &str, start: usize) -> Result<(Filter, usize), ScimError> {
    let mut parser = Parser { text, pos: start, depth: 1, terms: 0, in_brackets: true };
    let filter = parser.or()?;
    parser.skip_space();
    if parser.eat(']') { Ok((filter, parser.pos)) } else { Err(parser.expected("\"]\" to close the value filter")) }
}

struct Parser<'a> {
    text: &'a str,
    /// A byte offset, always on a character boundary.
    pos: usize,
    depth: usize,
    terms: usize,
    /// Inside a value path's brackets, where another value path may not start.
    in_brackets: bool,
}

impl<'a> Parser<'a> {
    fn or(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, ScimError> {
        self.skip_space();
        if self.peek() == Some('(') {
            return self.group();
        }
        if self.peek_word().eq_ignore_ascii_case("not") {
            let before = self.pos;
            self.pos += "not".len();
            self.skip_space();
            if self.peek() == Some('(') {
                return Ok(Filter::Not(Box::new(self.group()?)));
            }
            // Not the keyword (which needs a parenthesis), but an attribute called "not".
            self.pos = before;
        }
        self.attribute_expression()
    }

    /// `( filter )`, at a `(`.
    fn group(&mut self) -> Result<Filter, ScimError> {
        let open = self.pos;
        self.pos += 1;
        self.enter()?;
        let inner = self.or()?;
        self.skip_space();
        if !self.eat(')') {
            return Err(self.expected(&format!("\")\" to close the \"(\" at character {}", self.character(open))));
        }
        self.depth -= 1;
        Ok(inner)
    }

    /// `path pr`, `path op value` or `path[filter]`.
    fn attribute_expression(&mut self) -> Result<Filter, ScimError> {
        let start = self.pos;
        let word = self.take_word();
        if word.is_empty() {
            return Err(self.expected("an attribute path, \"(\" or \"not\""));
        }
        let path = path::parse(word)
            .map_err(|why| self.error_at(start, format!("\"{}\" is not an attribute path: {why}", quote(word))))?;
        self.skip_space();
        if self.peek() == Some('[') {
            return self.value_path(start, path);
        }
        let operator_at = self.pos;
        let operator = self.take_word();
        if operator.eq_ignore_ascii_case("pr") {
            self.count_term()?;
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::named(operator) else {
            self.pos = operator_at;
            return Err(
                self.expected(&format!("an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after \"{path}\""))
            );
        };
        let value = self.value(op)?;
        self.count_term()?;
        Ok(Filter::Compare { path, op, value })
    }

    /// `[ filter ]` after a multi-valued attribute's path.
    fn value_path(&mut self, start: usize, path: AttrPath) -> Result<Filter, ScimError> {
        if self.in_brackets {
            return Err(self.error_at(self.pos, "a value filter cannot hold another value filter".to_owned()));
        }
        if path.sub.is_some() {
            return Err(self.error_at(
                start,
                format!("a value filter follows a multi-valued attribute, not the sub-attribute \"{path}\""),
            ));
        }
        let open = self.pos;
        self.pos += 1;
        self.enter()?;
        self.in_brackets = true;
        let inner = self.or()?;
        self.in_brackets = false;
        self.skip_space();
        if !self.eat(']') {
            return Err(self.expected(&format!("\"]\" to close the \"[\" at character {}", self.character(open))));
        }
        self.depth -= 1;
        Ok(Filter::ValuePath { path, filter: Box::new(inner) })
    }

    /// A comparison's value, which must suit the operator: ordering needs a string or a
    /// number, `co`/`sw`/`ew` a string.
    fn value(&mut self, op: CompareOp) -> Result<Value, ScimError> {
        self.skip_space();
        let at = self.pos;
        let value = if self.peek() == Some('"') {
            Value::String(self.string()?)
        } else {
            let word = self.take_word();
            match word.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => match serde_json::from_str::<Value>(word) {
                    Ok(number @ Value::Number(_)) => number,
                    _ => {
                        self.pos = at;
                        return Err(self.expected(&format!(
                            "a value (a \"string\", a number, true, false or null) after \"{op}\""
                        )));
                    }
                },
            }
        };
        let suits = match op {
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => value.is_string() || value.is_number(),
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => value.is_string(),
            CompareOp::Eq | CompareOp::Ne => true,
        };
        if suits {
            Ok(value)
        } else {
            let wants = if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                "a string"
            } else {
                "a string or a number"
            };
            Err(self.error_at(at, format!("\"{op}\" compares with {wants}, not {value}")))
        }
    }

    /// A JSON string literal, at its opening quote.
    fn string(&mut self) -> Result<String, ScimError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut at = start + 1;
        while at < bytes.len() {
            match bytes[at] {
                b'\\' => at += 2,
                // A quote byte is never inside a multi-byte character, so this is a boundary.
                b'"' => {
                    let literal = &self.text[start..=at];
                    self.pos = at + 1;
                    return serde_json::from_str::<String>(literal)
                        .map_err(|e| self.error_at(start, format!("the string is not a valid JSON string: {e}")));
                }
                _ => at += 1,
            }
        }
        Err(self.error_at(start, "the string has no closing '\"'".to_owned()))
    }

    fn enter(&mut self) -> Result<(), ScimError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(self.pos, format!("the filter is nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn count_term(&mut self) -> Result<(), ScimError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(self.error_at(self.pos, format!("the filter has more than {MAX_TERMS} comparisons")));
        }
        Ok(())
    }

    /// Consumes `keyword` (ignoring case) if it is the next word.
    fn keyword(&mut self, keyword: &str) -> bool {
        self.skip_space();
        let found = self.peek_word().eq_ignore_ascii_case(keyword);
        if found {
            self.pos += keyword.len();
        }
        found
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn skip_space(&mut self) {
        self.pos = self.text.len() - self.rest().trim_start().len();
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += c.len_utf8();
        }
        found
    }

    /// The run of characters from here up to a space, a parenthesis, a bracket or a quote.
    fn peek_word(&self) -> &'a str {
        let rest = self.rest();
        let end =
            rest.find(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"')).unwrap_or(rest.len());
        &rest[..end]
    }

    fn take_word(&mut self) -> &'a str {
        let word = self.peek_word();
        self.pos += word.len();
        word
    }

    /// The 1-based character position of byte offset `at`.
    fn character(&self, at: usize) -> usize {
        self.text[..at].chars().count() + 1
    }

    fn error_at(&self, at: usize, why: String) -> ScimError {
        ScimError::bad_request(ScimType::InvalidFilter, format!("filter: {why} (at character {})", self.character(at)))
    }

    fn expected(&self, what: &str) -> ScimError {
        let found = match (self.peek_word(), self.peek()) {
            (_, None) => "the end of the filter".to_owned(),
            ("", Some(c)) => format!("'{c}'"),
            (word, _) => format!("\"{}\"", quote(word)),
        };
        self.error_at(self.pos, format!("expected {what}, found {found}"))
    }
}

/// `text`, cut short for an error message.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
