//! `demo`: the main job end to end against an in-process, seeded simulator, in a throw-away
//! profile: test the connection, import accounts, groups, licenses and admin roles, summarise;
//! then a joiner, a mover and a leaver through the component, and the reconciliation that sees
//! them (and an account deleted behind the connector's back).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use gotosim::{SimConfig, Simulator};

use super::args::{DemoArgs, Format};
use gtm_state::DeletionPolicy;

use super::import::{check, reconcile_accounts};
use super::output::{Export, account_record, entitlement_record, kind_name, plural, status_name};
use super::paging::{Event, each_account_page, each_entitlement_page};
use super::progress::Progress;
use super::reconcile::describe;
use super::{Context, shown};
use crate::connector::{Connector, Setup};
use crate::profile::{Paths, Profile};
use crate::runtime::{
    AccessChange, AccountFields, AccountPage, Connection, DeleteMode, DeprovisionOptions, Entitlement,
    EntitlementDetails, EntitlementKind, EntitlementPage, NewAccount, WriteOptions,
};

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
    let setup = Setup {
        env: &Default::default(),
        config_dir: Some(paths.home.clone()),
        profile: PROFILE,
        overrides: Default::default(),
        component: ctx.cli.component.clone(),
        log: ctx.log.clone(),
    };
    let profile = Profile::load(&paths, PROFILE, setup.env, &setup.overrides)?;
    let connector = Connector::with_profile(&setup, paths, profile)?;
    let mut conn = connector.connect()?;

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
    let mut catalogues = BTreeMap::new();
    for kind in [EntitlementKind::Group, EntitlementKind::License, EntitlementKind::AdminRole] {
        let catalogue = import_entitlements(&mut conn, kind, args.output_dir.as_deref())?;
        summarise(ctx, kind, &catalogue)?;
        catalogues.insert(kind_name(kind), catalogue);
    }

    lifecycle(ctx, &mut conn, &sim, &connector.state_file(), &catalogues)?;

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

/// Joiner, mover and leaver through the component, an account deleted behind the connector's
/// back, and the reconciliation that reports all of it.
fn lifecycle(
    ctx: &mut Context<'_>,
    conn: &mut Connection,
    sim: &Simulator,
    state: &Path,
    catalogues: &BTreeMap<&str, Vec<Entitlement>>,
) -> Result<()> {
    writeln!(ctx.stdout, "\nreconciliation and provisioning")?;
    let baseline = reconcile_accounts(conn, state, DeletionPolicy::default(), &ctx.log)?;
    writeln!(ctx.stdout, "  run {}: {} accounts recorded in the state", baseline.run, baseline.counts.seen)?;

    let license = catalogues["license"].iter().find(|l| match &l.details {
        EntitlementDetails::License(d) => d.seats.is_none_or(|seats| d.used < seats),
        _ => false,
    });
    let groups = &catalogues["group"];
    let (Some(license), [first_group, second_group, ..]) = (license, groups.as_slice()) else {
        bail!("the simulated account has no free license seat or fewer than two groups");
    };
    let joiner = NewAccount {
        fields: AccountFields {
            email: Some("new.joiner@example.com".into()),
            first_name: Some("New".into()),
            last_name: Some("Joiner".into()),
            locale: Some("en_US".into()),
            time_zone: Some("Europe/Paris".into()),
        },
        identity: Vec::new(),
        entitlements: vec![license.id.clone(), first_group.id.clone()],
    };
    let plan = conn.create_account(&joiner, WriteOptions { dry_run: true })?;
    writeln!(ctx.stdout, "  plan (dry run, nothing sent):")?;
    for call in &plan.calls {
        writeln!(ctx.stdout, "    {} {}  # {}", call.method, call.path, call.summary)?;
    }
    for seats in &plan.seat_impact {
        let of = seats.seats.map(|s| format!(" of {s}")).unwrap_or_default();
        writeln!(
            ctx.stdout,
            "    license {}: {} → {} seats used{of}",
            seats.license_key, seats.used_before, seats.used_after
        )?;
    }
    let created = conn.create_account(&joiner, WriteOptions { dry_run: false })?;
    writeln!(ctx.stdout, "  joiner: created {}", created.account_key.as_deref().unwrap_or("?"))?;

    let (mover, leaver, gone) = sim.with_world(|w| {
        let users = w.users();
        let principal = w.principal_key().to_owned();
        let others: Vec<_> = users.into_iter().filter(|u| u.key != principal).collect();
        let mover =
            others.iter().find(|u| u.group_key.as_deref() != Some(second_group.id.key.as_str())).map(|u| u.key.clone());
        let leaver = others.iter().rev().find(|u| !u.license_keys.is_empty()).map(|u| u.key.clone());
        let gone = others.get(others.len() / 2).map(|u| (u.key.clone(), u.email.clone()));
        (mover, leaver, gone)
    });
    let (Some(mover), Some(leaver), Some((gone, gone_email))) = (mover, leaver, gone) else {
        bail!("the simulated account is too small for the demo");
    };
    let moved = conn.change_access(AccessChange::Grant, &mover, &second_group.id, WriteOptions { dry_run: false })?;
    writeln!(ctx.stdout, "  mover: {}", moved.calls.last().map_or("already there", |c| c.summary.as_str()))?;
    let everything = DeleteMode::Deprovision(DeprovisionOptions { keep_roles: false, keep_group: false });
    let left = conn.delete_account(&leaver, everything, WriteOptions { dry_run: false })?;
    let removed: Vec<&str> = left.calls.iter().map(|c| c.summary.as_str()).collect();
    writeln!(
        ctx.stdout,
        "  leaver: {}",
        if removed.is_empty() { "nothing to remove".to_owned() } else { removed.join("; ") }
    )?;
    sim.with_world(|w| w.remove_user(&gone));
    writeln!(ctx.stdout, "  meanwhile {gone_email} is deleted in the GoTo Admin Center, behind the connector's back")?;

    let summary = reconcile_accounts(conn, state, DeletionPolicy::default(), &ctx.log)?;
    for line in describe(&summary).lines() {
        writeln!(ctx.stdout, "  {line}")?;
    }
    Ok(())
}

fn import_accounts(
    ctx: &Context<'_>,
    conn: &mut Connection,
    output_dir: Option<&Path>,
) -> Result<BTreeMap<String, u64>> {
    let mut by_status = BTreeMap::new();
    let progress = Progress::new(ctx.show_progress, "accounts", &ctx.log);
    let mut file = export_file(output_dir, "accounts")?;
    let mut read = 0;
    each_account_page(conn, None, Some(500), |event: Event<AccountPage>| {
        let page = static_page(event)?;
        for account in &page.accounts {
            *by_status.entry(status_name(&account.status).to_owned()).or_insert(0) += 1;
            if let Some(file) = &mut file {
                file.write(account_record(account.clone()))?;
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
    each_entitlement_page(conn, kind, None, |event: Event<EntitlementPage>| {
        let page = static_page(event)?;
        for entitlement in &page.entitlements {
            if let Some(file) = &mut file {
                file.write(entitlement_record(entitlement.clone()))?;
            }
        }
        all.extend(page.entitlements.iter().cloned());
        Ok(())
    })?;
    finish(file)?;
    Ok(all)
}

/// The demo's simulator changes nothing while it is read, so a moving total is a bug.
fn static_page<P>(event: Event<P>) -> Result<P> {
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
