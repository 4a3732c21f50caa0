//! The `gtm-connector` command line. [`run`] takes everything it touches (arguments,
//! environment, stdin, stdout, stderr) as an [`Invocation`], so tests drive it in-process.

mod args;
mod auth_commands;
mod confirm;
mod demo;
mod doctor;
mod help;
mod identities;
mod import;
mod operations;
mod output;
mod paging;
mod progress;
mod provision;
mod reconcile;
mod report;
mod secret_commands;
mod serve_command;
mod sim;
mod state_commands;

use std::io::{Read, Write};

use anyhow::{Context as _, Result};
use clap::FromArgMatches as _;
use gtm_state::StateError;

pub use crate::bad_input::{BadInput, bad_input};
pub(crate) use crate::connector::shown;
use crate::connector::{Connector, Setup, open_secrets};
use crate::consent::ConsentError;
use crate::log::{Level, Logger};
use crate::profile::{DEFAULT_PROFILE, Environment, Overrides, Paths, check_profile_name};
use crate::runtime::{CallError, Connection, ConnectorError};
use crate::secrets::SecretStore;
use args::{Cli, Command};
use operations::Operation;

/// One run of the CLI.
pub struct Invocation<'a> {
    pub args: Vec<String>,
    pub env: Environment,
    pub stdin: &'a mut dyn Read,
    pub stdin_is_terminal: bool,
    pub stdout: &'a mut dyn Write,
    pub stderr: Box<dyn Write + Send>,
    /// Progress bars are drawn (on the process's stderr) only when it is a terminal.
    pub stderr_is_terminal: bool,
}

/// Exit statuses, as documented in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Failure = 1,
    BadInput = 2,
    Unauthorized = 3,
}

/// Runs the CLI and returns the process exit status.
pub fn run(invocation: Invocation<'_>) -> i32 {
    let Invocation { args, env, stdin, stdin_is_terminal, stdout, mut stderr, stderr_is_terminal } = invocation;
    let parsed = help::command().try_get_matches_from(&args).and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let _ = write!(stderr, "{e}");
            return Exit::BadInput as i32;
        }
        Err(e) => {
            let _ = write!(stdout, "{e}");
            return Exit::Success as i32;
        }
    };
    let level = if cli.verbose > 0 { Level::Debug } else { Level::Warn };
    let log = Logger::new(level, stderr).quiet(cli.quiet);
    // The profile name becomes file names, so it is checked before any file is touched.
    let profile = match profile_name(&cli, &env) {
        Ok(profile) => profile,
        Err(error) => {
            log.say(format_args!("error: {error:#}"));
            return Exit::BadInput as i32;
        }
    };
    let mut ctx = Context {
        cli: &cli,
        env: &env,
        profile,
        log: log.clone(),
        stdout,
        stdin,
        stdin_is_terminal,
        show_progress: show_progress(stderr_is_terminal, cli.quiet),
    };
    match dispatch(&mut ctx) {
        Ok(()) => Exit::Success as i32,
        // The reader took what it wanted (`gtm-connector man | head`): not a failure to report.
        Err(error) if reader_went_away(&error) => Exit::Success as i32,
        Err(error) => {
            log.say(format_args!("error: {error:#}"));
            if let Some(hint) = hint(&error, &ctx.profile_flag()) {
                log.say(format_args!("hint: {hint}"));
            }
            exit_status(&error) as i32
        }
    }
}

/// The profile to use: `--profile`, else `GTM_PROFILE`, else `default`; a plain name.
fn profile_name(cli: &Cli, env: &Environment) -> Result<String> {
    let (name, source) = match (&cli.profile, env.get("GTM_PROFILE").filter(|p| !p.is_empty())) {
        (Some(name), _) => (name, "--profile"),
        (None, Some(name)) => (name, "GTM_PROFILE"),
        (None, None) => return Ok(DEFAULT_PROFILE.to_owned()),
    };
    check_profile_name(name).context(source)?;
    Ok(name.clone())
}

/// Progress bars are for a person watching: on a terminal, unless `--quiet`.
fn show_progress(stderr_is_terminal: bool, quiet: bool) -> bool {
    stderr_is_terminal && !quiet
}

fn dispatch(ctx: &mut Context<'_>) -> Result<()> {
    match &ctx.cli.command {
        Command::Test { format } => import::test(ctx, *format),
        Command::Doctor { format } => doctor::run(ctx, *format),
        Command::Import(what) => import::run(ctx, what),
        Command::Get(what) => import::get(ctx, what),
        Command::Create { op, write } => provision::single(ctx, &Operation::Create(op.clone()), write.dry_run),
        Command::Update { op, write } => provision::single(ctx, &Operation::Update(op.clone()), write.dry_run),
        Command::Delete { op, write, confirm } => {
            // A dry run writes nothing, so it has nothing to confirm.
            if !write.dry_run {
                confirm::hard_delete(ctx, op, confirm.yes)?;
            }
            provision::single(ctx, &Operation::Delete(op.clone()), write.dry_run)
        }
        Command::Grant { op, write } => provision::single(ctx, &Operation::Grant(op.clone()), write.dry_run),
        Command::Revoke { op, write } => provision::single(ctx, &Operation::Revoke(op.clone()), write.dry_run),
        Command::Apply { file, concurrency, write, confirm } => {
            provision::apply(ctx, file, usize::from(*concurrency), write.dry_run, confirm.yes)
        }
        Command::Retry { write } => provision::retry(ctx, write.dry_run),
        Command::State(action) => state_commands::run(ctx, action),
        Command::Secrets(action) => secret_commands::run(ctx, action),
        Command::Auth(action) => auth_commands::run(ctx, action),
        Command::Demo(args) => demo::run(ctx, args),
        Command::Sim(args) => sim::run(ctx, args),
        Command::Serve(args) => serve_command::run(ctx, args),
        Command::Completions { shell } => help::completions(ctx.stdout, *shell),
        Command::Man { command } => help::man(ctx.stdout, command),
    }
}

/// What every command can reach: the parsed flags, the environment and the terminal.
pub struct Context<'a> {
    cli: &'a Cli,
    env: &'a Environment,
    /// The profile's name, checked to be a plain name.
    profile: String,
    log: Logger,
    stdout: &'a mut dyn Write,
    stdin: &'a mut dyn Read,
    stdin_is_terminal: bool,
    /// Whether to draw progress bars (see [`show_progress`]).
    show_progress: bool,
}

impl Context<'_> {
    fn paths(&self) -> Result<Paths> {
        Paths::resolve(self.cli.config_dir.clone(), self.env).map_err(bad_input)
    }

    fn profile_name(&self) -> &str {
        &self.profile
    }

    /// ` --profile NAME` when a non-default profile is in use, for hints.
    fn profile_flag(&self) -> String {
        match self.profile_name() {
            name if name == DEFAULT_PROFILE => String::new(),
            name => format!(" --profile {name}"),
        }
    }

    fn overrides(&self) -> Overrides {
        Overrides {
            api_base: self.cli.api_base.clone(),
            token_base: self.cli.token_base.clone(),
            account_key: self.cli.account_key.clone(),
        }
    }

    /// What the flags say a connector is made of.
    fn setup(&self) -> Setup<'_> {
        Setup {
            env: self.env,
            config_dir: self.cli.config_dir.clone(),
            profile: &self.profile,
            overrides: self.overrides(),
            component: self.cli.component.clone(),
            log: self.log.clone(),
        }
    }

    /// The profile's connector: settings, secrets, component and state.
    fn connector(&self) -> Result<Connector> {
        Connector::open(&self.setup())
    }

    /// The profile's secret store, for commands that need nothing else.
    fn secret_store(&self, paths: &Paths) -> Result<SecretStore> {
        open_secrets(paths, self.profile_name(), self.env, &self.log)
    }

    /// Loads the profile, its secrets and the component, and instantiates it.
    fn connect(&self) -> Result<Connection> {
        self.connector()?.connect()
    }
}

/// Whether the error is stdout's reader having closed the pipe (written directly or as JSON).
fn reader_went_away(error: &anyhow::Error) -> bool {
    let broken = Some(std::io::ErrorKind::BrokenPipe);
    error.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().map(std::io::Error::kind) == broken
            || c.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind) == broken
    })
}

/// Exit status for an error: the innermost cause that says what kind of failure it was.
fn exit_status(error: &anyhow::Error) -> Exit {
    for cause in error.chain() {
        if cause.is::<BadInput>() {
            return Exit::BadInput;
        }
        if let Some(e) = cause.downcast_ref::<StateError>() {
            return match e {
                StateError::UnknownRun(_)
                | StateError::ScopeMismatch { .. }
                | StateError::InvalidThreshold(_)
                | StateError::UnknownScope(_)
                | StateError::InvalidRunId(_) => Exit::BadInput,
                _ => Exit::Failure,
            };
        }
        if let Some(e) = cause.downcast_ref::<ConsentError>() {
            return match e {
                ConsentError::PortInUse { .. } | ConsentError::NotARedirect(_) | ConsentError::Refused(_) => {
                    Exit::BadInput
                }
                ConsentError::Declined(_) => Exit::Unauthorized,
                _ => Exit::Failure,
            };
        }
        if let Some(CallError::Connector(e)) = cause.downcast_ref::<CallError>() {
            return match e {
                ConnectorError::InvalidInput(_) | ConnectorError::Config(_) => Exit::BadInput,
                ConnectorError::Unauthorized(_) | ConnectorError::Forbidden(_) => Exit::Unauthorized,
                _ => Exit::Failure,
            };
        }
    }
    Exit::Failure
}

/// The next step for errors that have an obvious one.
fn hint(error: &anyhow::Error, profile_flag: &str) -> Option<String> {
    let connector_error = error.chain().find_map(|c| match c.downcast_ref::<CallError>() {
        Some(CallError::Connector(e)) => Some(e),
        _ => None,
    })?;
    let set = |name: &str| format!("store it with `gtm-connector{profile_flag} secrets set {name}` (value on stdin)");
    let login = format!("run `gtm-connector{profile_flag} auth login`");
    let new_token = || format!("{login} for a new one, or {}", set("refresh-token"));
    match connector_error {
        ConnectorError::Config(info) => match info.field.as_deref() {
            Some("refresh-token") => Some(new_token()),
            Some(name @ ("client-id" | "client-secret")) => Some(set(name)),
            _ => None,
        },
        ConnectorError::Unauthorized(info) if info.message.contains("refresh token") => Some(new_token()),
        ConnectorError::Unauthorized(info) if info.message.contains("authorization code") => Some(format!("{login} again")),
        ConnectorError::Transport(info) if info.message.contains("egress policy") => {
            Some("only the profile's api-base and token-base origins are reachable; check those settings".into())
        }
        ConnectorError::Transport(info) if info.message.contains("Connection") || info.message.contains("Dns") => Some(
            "check that api-base and token-base point at a reachable host (`gtm-connector sim` serves a local simulator)".into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_drawn_on_a_terminal_unless_quiet() {
        assert!(show_progress(true, false));
        assert!(!show_progress(true, true));
        assert!(!show_progress(false, false));
    }
}
