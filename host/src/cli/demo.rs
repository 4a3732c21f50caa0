//! `demo`: the main job end to end against an in-process, seeded simulator, in a throw-away
//! profile: test the connection, import accounts, groups, licenses and admin roles, summarise.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use gotosim::{SimConfig, Simulator};

use super::args::{DemoArgs, Format};
use super::import::{Event, check, each_account_page, each_entitlement_page};
use super::output::{Export, account_record, entitlement_record, kind_name, plural, status_name};
use super::progress::Progress;
use super::{Context, shown};
use crate::profile::{Paths, Profile};
use crate::runtime::{Connection, Entitlement, EntitlementDetails, EntitlementKind};
use crate::secrets::SecretStore;

const PROFILE: &str = "demo";

pub fn run(ctx: &mut Context<'_>, args: &DemoArgs) -> Result<()> {
    let started = Instant::now();
    let groups = (args.users / 75).clamp(8, 200);
    let sim = Simulator::start(SimConfig::sized(args.seed, args.users, groups, 6)).context("starting the simulator")?;
    writeln!(
        ctx.stdout,
        "GoTo simulator on {} (seed {}, {} users, {groups} groups, 6 licenses, 10 requests/s rate limit)",
        sim.base_url(),
        args.seed,
        args.users
    )?;

    // A throw-away profile, written the way a user would write one, in a temporary home; the
    // compiled-code cache is the user's own, so later runs start fast.
    let home = tempfile::tempdir()?;
    let paths = Paths { home: home.path().to_owned(), cache: ctx.paths()?.cache };
    super::sim::write_profile(&paths, PROFILE, &sim)?;
    let secrets = SecretStore::open(paths.secrets_file(PROFILE), &Default::default())?;
    let profile = Profile::load(&paths, PROFILE, &Default::default(), &Default::default())?;
    let mut conn = ctx.runtime(&paths)?.connect(&profile, secrets, ctx.log.clone())?;

    let info = check(&mut conn)?;
    writeln!(
        ctx.stdout,
        "connected to account {} ({}) as {}",
        info.account_key,
        info.account_name.as_deref().unwrap_or("unnamed"),
        info.principal.as_deref().unwrap_or("?")
    )?;

    let accounts = import_accounts(ctx, &mut conn, args.output_dir.as_deref())?;
    writeln!(ctx.stdout, "\naccounts: {} imported", accounts.values().sum::<u64>())?;
    for (status, count) in &accounts {
        writeln!(ctx.stdout, "  {status:<10} {count:>7}")?;
    }
    for kind in [EntitlementKind::Group, EntitlementKind::License, EntitlementKind::AdminRole] {
        let catalogue = import_entitlements(&mut conn, kind, args.output_dir.as_deref())?;
        summarise(ctx, kind, &catalogue)?;
    }

    let stats = sim.stats();
    writeln!(
        ctx.stdout,
        "\n{} requests to the simulator ({} answered 429 and were retried), {:.1} s",
        stats.total,
        stats.rate_limited,
        started.elapsed().as_secs_f64()
    )?;
    if let Some(dir) = &args.output_dir {
        writeln!(ctx.stdout, "records written to {}", shown(dir).display())?;
    }
    Ok(())
}

fn import_accounts(
    ctx: &Context<'_>,
    conn: &mut Connection,
    output_dir: Option<&Path>,
) -> Result<BTreeMap<String, u64>> {
    let mut by_status = BTreeMap::new();
    let progress = Progress::new(ctx.stderr_is_terminal, "accounts", &ctx.log);
    let mut file = export_file(output_dir, "accounts")?;
    let mut read = 0;
    each_account_page(conn, None, Some(500), |event| {
        let page = static_page(event)?;
        for account in &page.accounts {
            *by_status.entry(status_name(&account.status).to_owned()).or_insert(0) += 1;
            if let Some(file) = &mut file {
                file.write(account_record(account))?;
            }
        }
        read += page.accounts.len() as u64;
        progress.page(read, page.total);
        Ok(())
    })?;
    drop(progress);
    finish(file)?;
    Ok(by_status)
}

fn import_entitlements(
    conn: &mut Connection,
    kind: EntitlementKind,
    output_dir: Option<&Path>,
) -> Result<Vec<Entitlement>> {
    let mut all = Vec::new();
    let mut file = export_file(output_dir, kind_name(kind))?;
    each_entitlement_page(conn, kind, None, |event| {
        let page = static_page(event)?;
        for entitlement in &page.entitlements {
            if let Some(file) = &mut file {
                file.write(entitlement_record(entitlement))?;
            }
        }
        all.extend(page.entitlements.iter().cloned());
        Ok(())
    })?;
    finish(file)?;
    Ok(all)
}

/// The demo's simulator changes nothing while it is read, so a moving total is a bug.
fn static_page<P>(event: Event<'_, P>) -> Result<&P> {
    match event {
        Event::Page(page) => Ok(page),
        Event::Restart { from, to } => bail!("the simulated account changed during the demo ({from} then {to})"),
    }
}

fn summarise(ctx: &mut Context<'_>, kind: EntitlementKind, catalogue: &[Entitlement]) -> Result<()> {
    writeln!(ctx.stdout, "\n{}: {}", plural(kind), catalogue.len())?;
    let shown_rows = if kind == EntitlementKind::Group { 5 } else { catalogue.len() };
    for e in catalogue.iter().take(shown_rows) {
        let detail = match &e.details {
            EntitlementDetails::Group(g) => {
                format!("{} members ({} with sub-groups)", g.member_count, g.total_member_count)
            }
            EntitlementDetails::License(l) => {
                let seats = l.seats.map_or("unlimited".to_owned(), |s| s.to_string());
                format!("{} of {seats} seats used, products {}", l.used, l.products.join("+"))
            }
            EntitlementDetails::AdminRole(r) => format!("{} holders", r.member_count),
        };
        writeln!(ctx.stdout, "  {:<32} {detail}", e.name)?;
    }
    if catalogue.len() > shown_rows {
        writeln!(ctx.stdout, "  … and {} more", catalogue.len() - shown_rows)?;
    }
    Ok(())
}

/// The optional JSON Lines file `DIR/NAME.jsonl` for one kind of record.
fn export_file(dir: Option<&Path>, name: &str) -> Result<Option<Export<'static>>> {
    dir.map(|dir| Export::to_file(Format::Jsonl, &dir.join(format!("{name}.jsonl")))).transpose()
}

fn finish(export: Option<Export<'_>>) -> Result<()> {
    export.map_or(Ok(()), Export::finish)
}
