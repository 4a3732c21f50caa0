//! `serve`: the SCIM 2.0 service, until SIGTERM or Ctrl-C, which let the requests in flight
//! finish.

use anyhow::Result;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::Context;
use super::args::ServeArgs;
use crate::serve::{SCIM_TOKEN, ServeOptions, Service};

pub fn run(ctx: &mut Context<'_>, args: &ServeArgs) -> Result<()> {
    let connector = ctx.connector()?;
    let mut options = ServeOptions::from_profile(connector.profile());
    options.listen = args.listen.unwrap_or(options.listen);
    options.tls = args.tls_cert.clone().zip(args.tls_key.clone());
    options.allow_plaintext = args.allow_plaintext;
    options.instances = args.instances.map_or(options.instances, usize::from);
    // Registered before the service starts, so a signal during the start is not lost.
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    let service = Service::start(&connector, options, ctx.log.clone())?;
    writeln!(ctx.stdout, "SCIM service listening at {}", service.base_url())?;
    ctx.stdout.flush()?;
    ctx.log.note(format_args!(
        "SCIM clients authenticate with the {SCIM_TOKEN} secret as a bearer token; stop with Ctrl-C or SIGTERM"
    ));
    signals.forever().next();
    ctx.log.note("stopping: the requests in flight finish first");
    service.stop()
}
