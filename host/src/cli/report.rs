//! Data a command prints on stdout (`--format text|json`): one JSON document for programs, or
//! lines for people, made printable because they carry what GoTo and files said.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use super::args::StateFormat;
use crate::log::printable;

/// Prints `items` as one JSON array, or one text line each.
pub fn emit<T: Serialize>(
    out: &mut dyn Write,
    format: StateFormat,
    items: &[T],
    line: impl Fn(&T) -> String,
) -> Result<()> {
    match format {
        StateFormat::Json => write_json(out, items),
        StateFormat::Text => {
            // Text is for a terminal: what GoTo sent must not drive it.
            for item in items {
                writeln!(out, "{}", printable(&line(item)))?;
            }
            Ok(())
        }
    }
}

/// Prints `value` as pretty JSON and a newline.
pub fn write_json<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}
