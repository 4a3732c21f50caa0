//! Writes that cannot be undone ask first: a hard delete (GoTo erases the account and its
//! meeting history) is asked about on a terminal, and needs `--yes` anywhere else; an `apply`
//! input with hard deletes needs `--yes`, and is refused, naming the lines, before anything is
//! sent.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};

use anyhow::{Context as _, Result, anyhow};

use super::operations::{Delete, DeleteHow, Operation};
use super::provision::next_line;
use super::{Context, bad_input};
use crate::runtime::DeleteMode;

/// Asks on the terminal before a hard delete of `delete.account`; refuses without a terminal
/// unless `yes`.
pub fn hard_delete(ctx: &mut Context<'_>, delete: &Delete, yes: bool) -> Result<()> {
    // A delete whose options contradict each other is refused as it runs, with its own message.
    if yes || !matches!(delete.mode(), Ok(DeleteMode::HardDelete)) {
        return Ok(());
    }
    let account = &delete.account;
    if !ctx.stdin_is_terminal {
        return Err(bad_input(anyhow!(
            "delete --mode hard-delete erases {account} and its meeting history for good, and there is no \
             terminal to confirm on: add --yes to go ahead (or --dry-run to see the plan); nothing was sent"
        )));
    }
    ctx.log.ask(format_args!("Delete {account} for good? GoTo erases the account and its meeting history. [y/N] "));
    let mut answer = String::new();
    BufReader::new(&mut *ctx.stdin).read_line(&mut answer).context("reading the answer from the terminal")?;
    let answer = answer.trim();
    if answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes") {
        return Ok(());
    }
    Err(bad_input(anyhow!("not confirmed: {account} was not deleted; nothing was sent")))
}

/// Hard deletes named in an error before the rest are summed up.
const LINES_NAMED: usize = 10;

/// The operations of an `apply` input that `--yes` has not confirmed: read through before
/// anything is sent and refused if any line hard-deletes. Returns the input to run, from its
/// start: a regular file as it was opened, anything else (stdin, a pipe) first copied into an
/// anonymous temporary file so it can be read twice.
pub fn apply_input(input: Option<File>, stdin: &mut dyn Read) -> Result<File> {
    let mut input = match input {
        Some(file) if file.metadata().is_ok_and(|m| m.is_file()) => file,
        Some(mut other) => spool(&mut other)?,
        None => spool(stdin)?,
    };
    let hard_deletes = hard_delete_lines(&mut BufReader::new(&mut input))?;
    input.rewind().context("reading the operations again")?;
    if hard_deletes.is_empty() {
        return Ok(input);
    }
    let mut named: Vec<String> =
        hard_deletes.iter().take(LINES_NAMED).map(|(line, account)| format!("line {line} ({account})")).collect();
    if hard_deletes.len() > LINES_NAMED {
        named.push(format!("and {} more", hard_deletes.len() - LINES_NAMED));
    }
    Err(bad_input(anyhow!(
        "{} hard-delete: GoTo erases those accounts and their meeting history for good. Add --yes to run them \
         (or --dry-run to see the plan); nothing was sent",
        named.join(", ")
    )))
}

/// Copies `input` into an anonymous temporary file, left at its start.
fn spool(input: &mut dyn Read) -> Result<File> {
    let mut file = tempfile::tempfile().context("creating a temporary file for the operations")?;
    std::io::copy(input, &mut file).context("reading the operations")?;
    file.rewind().context("reading the operations again")?;
    Ok(file)
}

/// The line numbers and accounts of the input's hard deletes. Lines that do not parse are left
/// for `apply` to report as it reaches them.
fn hard_delete_lines(input: &mut dyn BufRead) -> Result<Vec<(usize, String)>> {
    let mut found = Vec::new();
    let mut buffer = Vec::new();
    for number in 1.. {
        let Some(line) = next_line(input, &mut buffer, number).with_context(|| format!("reading line {number}"))?
        else {
            break;
        };
        if let Ok(Ok(Operation::Delete(delete))) = line.map(|text| Operation::parse(text, number))
            && delete.mode == DeleteHow::HardDelete
        {
            found.push((number, delete.account));
        }
    }
    Ok(found)
}
