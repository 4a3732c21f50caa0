//! `state show|history|diff|pending|queue`: what the reconciliation state knows, as text or JSON.

use std::time::{Duration, UNIX_EPOCH};

use anyhow::Result;
use gtm_state::{AttributeChange, Queued, Store};
use serde_json::Value;

use super::Context;
use super::args::{StateAction, StateFormat};
use super::report::{emit, write_json};
use crate::log::printable;

pub fn run(ctx: &mut Context<'_>, action: &StateAction) -> Result<()> {
    let paths = ctx.paths()?;
    let path = paths.state_file(ctx.profile_name());
    if !path.exists() {
        // Nothing was ever queued: an empty queue, not a missing state.
        if let StateAction::Queue { format } = action {
            return queue(ctx, *format, &[]);
        }
        anyhow::bail!(
            "profile {} has no reconciliation state yet ({}): run `gtm-connector import accounts` first",
            ctx.profile_name(),
            path.display()
        );
    }
    let store = Store::open(&path)?;
    match action {
        StateAction::Show { scope, format } => {
            let items = store.show(*scope)?;
            emit(ctx.stdout, *format, &items, |item| {
                let label = item.email.clone().or_else(|| text(item.attributes.get("name"))).unwrap_or_default();
                let owner = item.identity.as_deref().map(|i| format!(" owner={i}")).unwrap_or_default();
                format!(
                    "{:<11} {:<22} {:<21} {label} (runs {}–{}){owner}",
                    item.scope, item.key, item.status, item.first_seen_run, item.last_seen_run
                )
            })
        }
        StateAction::History { limit, format } => {
            let runs = store.history(*limit)?;
            emit(ctx.stdout, *format, &runs, |run| {
                let c = &run.counts;
                let filter = run.filter.as_deref().map(|f| format!(" filter {f}")).unwrap_or_default();
                let reason = run.reason.as_deref().map(|r| format!("\n      {r}")).unwrap_or_default();
                format!(
                    "run {:<4} {:<11} {:<10} {}{filter}: {} seen, {} added, {} changed, {} restored, {} missing, \
                     {} held{reason}",
                    run.id,
                    run.scope,
                    run.state,
                    date(run.started_at),
                    c.seen,
                    c.added,
                    c.changed,
                    c.restored,
                    c.missing,
                    c.held
                )
            })
        }
        StateAction::Diff { runs, format } => {
            let (from, to) = match runs.as_slice() {
                [] => (None, None),
                [to] => (None, Some(*to)),
                [from, to, ..] => (Some(*from), Some(*to)),
            };
            let diff = store.diff(from, to)?;
            if *format == StateFormat::Json {
                return write_json(ctx.stdout, &diff);
            }
            let since = diff.from.map(|f| format!("run {f}")).unwrap_or_else(|| "the first run".to_owned());
            writeln!(ctx.stdout, "{} changes from {since} to run {}: {}", diff.scope, diff.to, diff.changes.len())?;
            for change in &diff.changes {
                let attributes: Vec<String> = change.attributes.iter().map(describe_change).collect();
                let detail = if attributes.is_empty() { String::new() } else { format!(": {}", attributes.join("; ")) };
                let line = format!("run {:<4} {:<9} {}{detail}", change.run, change.kind, change.key);
                writeln!(ctx.stdout, "{}", printable(&line))?;
            }
            Ok(())
        }
        StateAction::Pending { format } => {
            let pending = store.pending()?;
            emit(ctx.stdout, *format, &pending, |p| {
                format!(
                    "{:<11} {:<22} {} (held by run {}: {})",
                    p.scope,
                    p.key,
                    p.label.as_deref().unwrap_or(""),
                    p.run,
                    p.reason
                )
            })
        }
        StateAction::Queue { format } => queue(ctx, *format, &store.queue()?),
    }
}

/// `state queue`: the retry queue.
fn queue(ctx: &mut Context<'_>, format: StateFormat, queued: &[Queued]) -> Result<()> {
    if queued.is_empty() && format == StateFormat::Text {
        ctx.log.note("the retry queue is empty");
        return Ok(());
    }
    emit(ctx.stdout, format, queued, |q| {
        format!(
            "{:<4} queued {}, {} attempt(s), last {}: {}\n     last error ({}): {}",
            q.id,
            date(q.queued_at),
            q.attempts,
            date(q.last_attempt_at),
            q.operation,
            q.last_error.kind,
            q.last_error.message
        )
    })
}

fn describe_change(change: &AttributeChange) -> String {
    let show = |v: &Option<Value>| v.as_ref().map_or("(none)".to_owned(), Value::to_string);
    format!("{} {} → {}", change.name, show(&change.before), show(&change.after))
}

fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_owned)
}

fn date(unix_secs: i64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(unix_secs.max(0) as u64))
}
