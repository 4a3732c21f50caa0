//! `sim`: serve the GoTo simulator on loopback until interrupted, and (by default) write a
//! profile with its credentials so other commands can use it at once.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::{Context as _, Result};
use gotosim::{FaultRule, Matcher, SimConfig, Simulator};

use super::args::SimArgs;
use super::{Context, shown};
use crate::profile::{LimitsFile, MAX_REQUESTS_PER_SECOND, Paths, ProfileFile};
use crate::secrets::SecretStore;

pub fn run(ctx: &mut Context<'_>, args: &SimArgs) -> Result<()> {
    let mut config = SimConfig::sized(args.seed, args.users, args.groups, args.licenses);
    let knobs = &mut config.knobs;
    knobs.rate_limit_per_sec = (args.rate_limit > 0).then_some(args.rate_limit);
    knobs.access_token_ttl_secs = args.token_ttl;
    knobs.rotation = args.rotation;
    knobs.numeric_keys = args.numeric_keys;
    knobs.long_keys = args.long_keys;
    knobs.response_delay_ms = args.slow_ms;
    knobs.access_token_max_uses = args.token_uses;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let sim = Simulator::start_on(config, address).with_context(|| format!("cannot listen on {address}"))?;
    // The first rule still due takes a request, so rules fire one after another in the order given.
    for (fault, times) in &args.faults {
        let matcher = Matcher { path_contains: Some("/admin/rest/v1/".into()), ..Default::default() };
        sim.add_fault(FaultRule { matcher, skip: 0, times: *times, fault: fault.clone() });
    }
    writeln!(ctx.stdout, "GoTo simulator listening on {}", sim.base_url())?;
    writeln!(
        ctx.stdout,
        "account {}: {} users, {} groups, {} licenses (seed {})",
        sim.account_key(),
        args.users,
        args.groups,
        args.licenses,
        args.seed
    )?;

    if let Some(name) = &args.write_profile {
        let profile_path = write_profile(&ctx.paths()?, name, &sim)?;
        writeln!(ctx.stdout, "profile {name} written to {} with its secrets", shown(&profile_path).display())?;
        writeln!(ctx.stdout, "try: gtm-connector --profile {name} import accounts --format csv")?;
    }
    writeln!(ctx.stdout, "press Ctrl-C to stop")?;
    ctx.stdout.flush()?;
    sim.wait();
    Ok(())
}

/// Writes profile `name` pointing at `sim`, paced at the simulator's rate limit (or as fast as
/// the governor goes when it has none), with the simulator's credentials as its secrets (and no
/// cached access token from an earlier simulator). Returns the profile file's path.
pub fn write_profile(paths: &Paths, name: &str, sim: &Simulator) -> Result<std::path::PathBuf> {
    let path = paths.profile_file(name);
    let rate = sim.rate_limit().map_or(MAX_REQUESTS_PER_SECOND, u64::from);
    let limits = LimitsFile { requests_per_second: Some(rate), ..Default::default() };
    ProfileFile {
        api_base: Some(sim.base_url()),
        token_base: Some(sim.base_url()),
        limits: Some(limits),
        ..Default::default()
    }
    .save(&path)?;
    // The file alone: a GTM_SECRET_* variable meant for a real tenant must not mask these.
    let mut secrets = SecretStore::open(paths.secrets_file(name), &Default::default())?;
    let credentials = sim.credentials();
    secrets.set("client-id", &credentials.client_id)?;
    secrets.set("client-secret", &credentials.client_secret)?;
    secrets.set("refresh-token", &credentials.refresh_token)?;
    secrets.delete("access-token")?;
    Ok(path)
}
