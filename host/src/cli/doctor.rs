//! `doctor`: runs the component's read-only tenant probe and renders its findings. The probing
//! itself lives in the guest, which knows GoTo; this side only prints.

use std::io::Write;

use anyhow::Result;
use serde_json::json;

use super::Context;
use super::args::StateFormat;
use super::report::write_json;
use crate::log::printable;
use crate::runtime::Finding;

pub fn run(ctx: &mut Context<'_>, format: StateFormat) -> Result<()> {
    let findings = ctx.connect()?.probe()?;
    match format {
        StateFormat::Json => {
            let items: Vec<_> = findings
                .iter()
                .map(|f| json!({"name": f.name, "observed": f.observed, "recommended": f.recommended}))
                .collect();
            write_json(ctx.stdout, &items)?;
        }
        StateFormat::Text => write_table(ctx.stdout, &findings)?,
    }
    Ok(())
}

/// One block per finding: the check's name, then what was found and what to set, indented.
/// What GoTo sent is made printable first: it must not drive the terminal.
fn write_table(out: &mut dyn Write, findings: &[Finding]) -> Result<()> {
    let width = findings.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in findings {
        writeln!(out, "{:width$}  {}", f.name, printable(&f.observed))?;
        if let Some(recommended) = &f.recommended {
            writeln!(out, "{:width$}  -> {}", "", printable(recommended))?;
        }
    }
    Ok(())
}
