//! Filters (RFC 7644 §3.4.2.2): the tree, its parser and its evaluation against a JSON resource.

mod eval;
mod parser;

use std::fmt;

use serde_json::Value;

pub use eval::matches;
pub(crate) use parser::parse_bracketed;
pub use parser::{MAX_DEPTH, MAX_TERMS, parse};

use crate::path::AttrPath;

/// A parsed filter. Inside a [`Filter::ValuePath`], paths name sub-attributes of its attribute.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// `path op value`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The comparison.
        op: CompareOp,
        /// A string, number, boolean or null.
        value: Value,
    },
    /// `path pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
    /// `not (filter)`.
    Not(Box<Filter>),
    /// `path[filter]`: some value of the multi-valued attribute matches the filter.
    ValuePath {
        /// The multi-valued attribute.
        path: AttrPath,
        /// The filter each value is tried against.
        filter: Box<Filter>,
    },
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// Equal.
    Eq,
    /// Not equal: no value is equal.
    Ne,
    /// Contains (strings).
    Co,
    /// Starts with (strings).
    Sw,
    /// Ends with (strings).
    Ew,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
}

impl CompareOp {
    /// The operator as a filter writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    /// The operator named `name`, ignoring case.
    fn named(name: &str) -> Option<CompareOp> {
        CompareOp::ALL.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Writes the filter back in RFC syntax, with the parentheses its tree needs, so that parsing
/// the text gives the same tree.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::And(left, right) => binary(f, left, "and", right, Precedence::And),
            Filter::Or(left, right) => binary(f, left, "or", right, Precedence::Or),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Precedence {
    Or,
    And,
    Atom,
}

fn precedence(filter: &Filter) -> Precedence {
    match filter {
        Filter::Or(..) => Precedence::Or,
        Filter::And(..) => Precedence::And,
        _ => Precedence::Atom,
    }
}

/// Both operators group to the left, so a right operand of the same precedence needs
/// parentheses and a left one does not.
fn binary(f: &mut fmt::Formatter<'_>, left: &Filter, word: &str, right: &Filter, own: Precedence) -> fmt::Result {
    if precedence(left) < own {
        write!(f, "({left})")?;
    } else {
        write!(f, "{left}")?;
    }
    write!(f, " {word} ")?;
    if precedence(right) <= own { write!(f, "({right})") } else { write!(f, "{right}") }
}

#[cfg(test)]
mod tests;
