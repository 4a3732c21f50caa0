//! The command-line grammar.

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

use gtm_state::{RunId, Scope};

use super::auth_commands::Auth;
use super::operations::{Access, Create, Delete, Update};
use crate::runtime::{AccountFilter, EntitlementKind, SECRETS};
use crate::serve::SCIM_TOKEN;

#[derive(Debug, Parser)]
#[command(
    name = "gtm-connector",
    version,
    about = "GoTo Meeting connector for identity governance, run as a sandboxed WebAssembly component",
    after_help = "Start with `gtm-connector demo`. Configuration: profiles in $GTM_HOME/profiles/NAME.toml, \
                  secrets via `gtm-connector secrets set NAME`. Exit codes: 0 success, 1 failure, \
                  2 bad input or configuration, 3 credentials rejected."
)]
pub struct Cli {
    /// Profile to use [env: GTM_PROFILE; default: default]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Directory holding profiles and secrets [env: GTM_HOME; default: ~/.config/gtm-connector]
    #[arg(long, global = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Run this connector component instead of the one built into the binary
    #[arg(long, global = true, value_name = "PATH")]
    pub component: Option<PathBuf>,
    /// GoTo Admin API base URL [env: GTM_API_BASE; default: https://api.getgo.com]
    #[arg(long, global = true, value_name = "URL")]
    pub api_base: Option<String>,
    /// OAuth token service base URL [env: GTM_TOKEN_BASE; default: https://authentication.logmeininc.com]
    #[arg(long, global = true, value_name = "URL")]
    pub token_base: Option<String>,
    /// GoTo account key (discovered from the credentials when absent) [env: GTM_ACCOUNT_KEY]
    #[arg(long, global = true, value_name = "KEY")]
    pub account_key: Option<String>,
    /// Log connector activity and the HTTP traffic (credentials redacted) to stderr
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bars or summaries on stderr (data on stdout, warnings and errors still come)
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the credentials and show the GoTo account they reach
    Test {
        /// Output format
        #[arg(long, value_enum, default_value_t = StateFormat::Text)]
        format: StateFormat,
    },
    /// Probe the tenant, read-only, for each assumption about GoTo's API and the setting to choose
    Doctor {
        /// Output format
        #[arg(long, value_enum, default_value_t = StateFormat::Text)]
        format: StateFormat,
    },
    /// Import accounts or entitlements, streamed page by page
    #[command(subcommand)]
    Import(Import),
    /// Read one object
    #[command(subcommand)]
    Get(Get),
    /// Create an account, with licenses, admin roles and a group; prints the result as JSON
    Create {
        #[command(flatten)]
        op: Create,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Change attributes of an account; only what differs is sent
    Update {
        #[command(flatten)]
        op: Update,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Deprovision an account: take away its admin roles, group and licenses (default; keeps the
    /// account and its history), or delete it
    Delete {
        #[command(flatten)]
        op: Delete,
        #[command(flatten)]
        write: WriteArgs,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Grant a license, a group (moving the user) or an admin role
    Grant {
        #[command(flatten)]
        op: Access,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Revoke a license, a group or an admin role
    Revoke {
        #[command(flatten)]
        op: Access,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Run a JSON Lines file of operations in order, one result line each
    Apply {
        /// The operations file, or - for stdin
        file: PathBuf,
        /// Run up to N operations at once, in parallel component instances under the one rate
        /// governor; results stay in input order, and operations naming the same account stay in
        /// file order
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
        concurrency: u16,
        #[command(flatten)]
        write: WriteArgs,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Run again, in the order queued, the writes that failed for a transient cause
    Retry {
        #[command(flatten)]
        write: WriteArgs,
    },
    /// What the reconciliation state knows: items, import runs, changes, held deletions, the
    /// retry queue
    #[command(subcommand)]
    State(StateAction),
    /// Manage the profile's secrets (values are never printed)
    #[command(subcommand)]
    Secrets(Secrets),
    /// Sign in to GoTo in the browser, see which credentials are stored, or remove the tokens
    #[command(subcommand)]
    Auth(Auth),
    /// Run the whole import against a bundled, seeded GoTo simulator
    Demo(DemoArgs),
    /// Serve the GoTo Admin API simulator on loopback
    Sim(SimArgs),
    /// Serve SCIM 2.0 (RFC 7644) for an IGA platform's SCIM connector, until SIGTERM or Ctrl-C
    Serve(ServeArgs),
    /// Print a shell completion script on stdout
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on stdout
    Man {
        /// The page of this command instead of the whole program's, e.g. `import accounts`
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum Import {
    /// Import user accounts with their groups, licenses and admin roles
    Accounts {
        /// Import only matching accounts: email=ADDRESS, key=KEY, name=NAME (first or last),
        /// or goto=EXPRESSION in GoTo's own filter syntax
        #[arg(long, value_parser = parse_filter, value_name = "FILTER")]
        filter: Option<AccountFilter>,
        /// Correlate accounts with these identities by email: CSV with id and email columns,
        /// or JSON Lines of {"id": …, "email": …}
        #[arg(long, value_name = "FILE")]
        identities: Option<PathBuf>,
        #[command(flatten)]
        export: ExportArgs,
        #[command(flatten)]
        reconcile: ReconcileArgs,
    },
    /// Import the catalogue of one kind of entitlement
    Entitlements {
        /// Which catalogue to import
        #[arg(long, value_enum)]
        kind: Kind,
        #[command(flatten)]
        export: ExportArgs,
        #[command(flatten)]
        reconcile: ReconcileArgs,
    },
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Mark missing what this complete import proves absent even above the profile's threshold
    #[arg(long)]
    pub confirm_deletions: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// Write to FILE (created only when the import succeeds) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Records per GoTo request (1-1000; default from the profile, else 200)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1000), value_name = "N")]
    pub page_size: Option<u32>,
}

#[derive(Debug, Args)]
pub struct WriteArgs {
    /// Check and plan only: print the calls and seat changes without writing anything
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct Confirm {
    /// Carry out hard deletes without asking: GoTo erases those accounts and their meeting
    /// history for good (needed when there is no terminal to ask on)
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per line
    Jsonl,
    /// One JSON array
    Json,
    /// Comma-separated values with a header row; lists joined with ';'
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Groups, with their hierarchy and member counts
    Groups,
    /// Licenses, with seats and seats used
    Licenses,
    /// Admin roles, with holder counts
    Roles,
}

impl From<Kind> for EntitlementKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Groups => EntitlementKind::Group,
            Kind::Licenses => EntitlementKind::License,
            Kind::Roles => EntitlementKind::AdminRole,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Get {
    /// One account by key, as JSON
    Account {
        /// The account's GoTo key
        key: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum StateAction {
    /// Accounts and entitlements as last imported, with status, runs seen and owner
    Show {
        /// Only this scope: accounts, groups, licenses or admin-roles
        #[arg(long, value_parser = parse_scope)]
        scope: Option<Scope>,
        /// Output format
        #[arg(long, value_enum, default_value_t = StateFormat::Text)]
        format: StateFormat,
    },
    /// Import runs, newest first, with counts and why a run was incomplete
    History {
        /// Show at most this many runs
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: usize,
        /// Output format
        #[arg(long, value_enum, default_value_t = StateFormat::Text)]
        format: StateFormat,
    },
    /// Changes between two runs (FROM TO), made by one run (RUN), or by the latest run
    Diff {
        /// Run ids (as `state history` lists them): FROM TO, or one RUN; none for the latest run
        #[arg(value_name = "RUN", num_args = 0..=2, value_parser = parse_run)]
        runs: Vec<RunId>,
        /// Output format
        #[arg(long, value_enum, default_value_t = StateFormat::Text)]
        format: StateFormat,
    },
    /// Deletions held back by the threshold, applied by `import ... --confirm-deletions`
    Pending {
        /// Output format
        #[arg(long, value_enum, default_value_t = StateFormat::Text)]
        format: StateFormat,
    },
    /// Writes that failed for a transient cause, kept for `retry`, in the order queued
    Queue {
        /// Output format
        #[arg(long, value_enum, default_value_t = StateFormat::Text)]
        format: StateFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateFormat {
    /// Lines for people to read
    Text,
    /// Machine-readable, for other systems to consume
    Json,
}

fn parse_scope(text: &str) -> Result<Scope, String> {
    text.parse().map_err(|e: gtm_state::StateError| e.to_string())
}

fn parse_profile_name(text: &str) -> Result<String, String> {
    crate::profile::check_profile_name(text).map_err(|e| e.to_string())?;
    Ok(text.to_owned())
}

fn parse_run(text: &str) -> Result<RunId, String> {
    text.parse().map_err(|e: gtm_state::StateError| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum Secrets {
    /// Store a secret; the value is read from stdin (without echo on a terminal)
    Set {
        /// The secret to store; only those the connector or the SCIM service reads are accepted
        #[arg(value_parser = PossibleValuesParser::new(storable_secrets()))]
        name: String,
    },
    /// List stored secret names and where they come from
    List {
        /// Output format
        #[arg(long, value_enum, default_value_t = StateFormat::Text)]
        format: StateFormat,
    },
    /// Delete a secret from the profile's secret file
    Delete {
        /// The secret's name, as `secrets list` shows it
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed for the simulated account's data
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Simulated users
    #[arg(long, default_value_t = 3000)]
    pub users: usize,
    /// Also write the imported records as JSON Lines files into DIR
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// The secrets worth storing: those the component reads, and the SCIM service's bearer token,
/// which only the host reads.
fn storable_secrets() -> impl Iterator<Item = &'static str> {
    SECRETS.iter().copied().chain([SCIM_TOKEN])
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (default: the profile's [serve] listen, else 127.0.0.1:7644)
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// PEM certificate chain to serve HTTPS with (with --tls-key)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the certificate (with --tls-cert)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on an address other than loopback (only behind a TLS-terminating proxy)
    #[arg(long)]
    pub allow_plaintext: bool,
    /// Connector instances serving requests at once (default: the profile's [serve] instances, else 4)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub instances: Option<u16>,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Loopback port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Seed for the simulated account's data
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated users
    #[arg(long, default_value_t = 500)]
    pub users: usize,
    /// Simulated groups
    #[arg(long, default_value_t = 12)]
    pub groups: usize,
    /// Simulated licenses
    #[arg(long, default_value_t = 4)]
    pub licenses: usize,
    /// Requests per second before 429 (0 turns rate limiting off)
    #[arg(long, default_value_t = 10)]
    pub rate_limit: u32,
    /// Access-token lifetime in seconds
    #[arg(long, default_value_t = 3600)]
    pub token_ttl: u64,
    /// Refresh-token rotation: never, always, or the days of remaining life below which it rotates
    #[arg(long, default_value = "7", value_parser = parse_rotation)]
    pub rotation: gotosim::Rotation,
    /// Emit keys as bare JSON numbers
    #[arg(long)]
    pub numeric_keys: bool,
    /// Seed 26-digit keys (longer than 64 bits)
    #[arg(long)]
    pub long_keys: bool,
    /// Delay every response by this many milliseconds
    #[arg(long, default_value_t = 0)]
    pub slow_ms: u64,
    /// Fault the next Admin API requests: KIND[:COUNT] with KIND one of html502, truncated,
    /// non-json, rate-limit or an HTTP status such as 503 (COUNT defaults to 1; repeatable)
    #[arg(long = "fault", value_parser = parse_fault, value_name = "KIND[:COUNT]")]
    pub faults: Vec<(gotosim::Fault, u32)>,
    /// An access token stops working after authorising this many requests (mid-run expiry)
    #[arg(long, value_name = "N")]
    pub token_uses: Option<u32>,
    /// Also write a profile NAME (and its secrets) pointing at this simulator
    #[arg(long, value_name = "NAME", value_parser = parse_profile_name)]
    pub write_profile: Option<String>,
}

fn parse_filter(text: &str) -> Result<AccountFilter, String> {
    let usage = "use email=ADDRESS, key=KEY, name=NAME or goto=EXPRESSION";
    let (attribute, value) = text.split_once('=').ok_or_else(|| format!("{text:?} has no '=': {usage}"))?;
    if value.trim().is_empty() {
        return Err(format!("the {attribute} filter has an empty value: {usage}"));
    }
    let value = value.to_owned();
    match attribute.trim() {
        "email" => Ok(AccountFilter::Email(value)),
        "key" => Ok(AccountFilter::Key(value)),
        "name" => Ok(AccountFilter::Name(value)),
        "goto" => Ok(AccountFilter::Goto(value)),
        other => Err(format!("unknown filter attribute {other:?}: {usage}")),
    }
}

fn parse_rotation(text: &str) -> Result<gotosim::Rotation, String> {
    match text {
        "never" => Ok(gotosim::Rotation::Never),
        "always" => Ok(gotosim::Rotation::Always),
        days => days
            .parse::<u64>()
            .map(|d| gotosim::Rotation::WhenRemainingBelowSecs(d * 86_400))
            .map_err(|_| format!("{text:?}: use never, always or a number of days")),
    }
}

fn parse_fault(text: &str) -> Result<(gotosim::Fault, u32), String> {
    let (kind, count) = text.split_once(':').unwrap_or((text, "1"));
    let count = count.parse::<u32>().map_err(|_| format!("{text:?}: COUNT must be a number"))?;
    let fault = match kind {
        "html502" => gotosim::Fault::Html502,
        "truncated" => gotosim::Fault::Truncated,
        "non-json" => gotosim::Fault::NonJson,
        "rate-limit" => gotosim::Fault::RateLimited,
        status => match status.parse::<u16>() {
            Ok(code) if (400..=599).contains(&code) => gotosim::Fault::Status(code),
            _ => {
                return Err(format!(
                    "{text:?}: use html502, truncated, non-json, rate-limit or an HTTP status 400-599"
                ));
            }
        },
    };
    Ok((fault, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn filters_parse_by_attribute_and_keep_the_value_verbatim() {
        assert!(matches!(parse_filter("email=a+b@x.com"), Ok(AccountFilter::Email(e)) if e == "a+b@x.com"));
        assert!(matches!(parse_filter("goto=(key=\"1\")"), Ok(AccountFilter::Goto(g)) if g == "(key=\"1\")"));
        assert!(parse_filter("phone=1").unwrap_err().contains("unknown filter attribute"));
        assert!(parse_filter("email=").unwrap_err().contains("empty value"));
        assert!(parse_filter("email").unwrap_err().contains("no '='"));
    }

    #[test]
    fn faults_parse_with_an_optional_count() {
        assert!(matches!(parse_fault("503:2"), Ok((gotosim::Fault::Status(503), 2))));
        assert!(matches!(parse_fault("html502"), Ok((gotosim::Fault::Html502, 1))));
        assert!(parse_fault("200").is_err());
        assert!(parse_fault("truncated:x").is_err());
    }
}
