//! `auth login | status | logout`: an administrator's consent in the browser, kept as the
//! profile's refresh token; which credentials the profile has and how long they last; removing
//! its tokens.

use std::io::{BufRead, BufReader};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, anyhow};
use clap::{Args, Subcommand};
use serde_json::json;

use super::args::StateFormat;
use super::import::{check, connected};
use super::{Context, bad_input, shown};
use crate::connector::Connector;
use crate::consent::{Consent, Loopback};
use crate::profile::{Environment, Profile, ProfileFile};
use crate::secrets::{SecretSource, SecretStore, env_var};

const CLIENT_ID: &str = "client-id";
const CLIENT_SECRET: &str = "client-secret";
const REFRESH_TOKEN: &str = "refresh-token";
const ACCESS_TOKEN: &str = "access-token";

/// GoTo's refresh tokens are reported to last 30 days (reference §2.4).
const REFRESH_HORIZON_SECS: u64 = 30 * DAY;
/// `auth status` warns this long before the horizon.
const WARN_BEFORE_SECS: u64 = 7 * DAY;
const DAY: u64 = 86_400;

#[derive(Debug, Subcommand)]
pub enum Auth {
    /// Sign in as a GoTo administrator in the browser; stores the refresh token, saves the
    /// account key in the profile, and ends with a connection test
    Login(LoginArgs),
    /// Which credentials the profile has and where they come from, when the access token
    /// expires and how old the refresh token is (values are never shown)
    Status {
        /// Output format
        #[arg(long, value_enum, default_value_t = StateFormat::Text)]
        format: StateFormat,
    },
    /// Remove the profile's refresh and access tokens; the OAuth client's id and secret stay
    Logout,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The OAuth client's id [default: the stored client-id, else asked on a terminal]
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// The OAuth client's secret; other local users can read it in the process list, so prefer
    /// the prompt or GTM_SECRET_CLIENT_SECRET [default: the stored client-secret, else asked
    /// on a terminal, without echo]
    #[arg(long, value_name = "SECRET")]
    pub client_secret: Option<String>,
    /// Loopback port of the redirect URI http://127.0.0.1:PORT/callback, which must be
    /// registered on the OAuth client [default: the profile's `[login] port`, else 8765]
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Print the consent page's address instead of opening a browser (also the case when there
    /// is no display)
    #[arg(long)]
    pub no_browser: bool,
    /// For a shell on another machine than the browser: print the address, then read the
    /// address the browser was sent back to, pasted on stdin, instead of listening for it
    #[arg(long)]
    pub paste: bool,
    /// Send a PKCE (S256) challenge with the consent [default: the profile's `[login] pkce`]
    #[arg(long)]
    pub pkce: bool,
    /// Seconds to wait for the consent redirect
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

pub fn run(ctx: &mut Context<'_>, action: &Auth) -> Result<()> {
    match action {
        Auth::Login(args) => login(ctx, args),
        Auth::Status { format } => status(ctx, *format),
        Auth::Logout => logout(ctx),
    }
}

/// The consent, its exchange and a connection test run on a staged secret store, and the
/// profile's secrets and account key are written only once all of them have succeeded.
fn login(ctx: &mut Context<'_>, args: &LoginArgs) -> Result<()> {
    let paths = ctx.paths()?;
    let profile_path = paths.profile_file(ctx.profile_name());
    // A login may create the profile it names.
    let mut file = ProfileFile::read(&profile_path).map_err(bad_input)?.unwrap_or_default();
    let profile = Profile::resolve(ctx.profile_name(), file.clone(), ctx.env, &ctx.overrides()).map_err(bad_input)?;
    let mut secrets = ctx.secret_store(&paths)?;
    let client = client_credentials(ctx, args, &secrets)?;
    // The port first: nothing is asked of anyone when the redirect could not be received.
    let port = args.port.unwrap_or(profile.login.port);
    let listener = if args.paste { None } else { Some(Loopback::bind(port)?) };
    let port = listener.as_ref().map_or(port, Loopback::port);
    let consent = Consent::new(port, args.pkce || profile.login.pkce);
    secrets.stage();
    for (name, value) in &client {
        if secrets.get(name) != Some(value.as_str()) {
            secrets.set(name, value)?;
        }
    }
    let mut conn = Connector::with_profile(&ctx.setup(), paths.clone(), profile)?.connect_with(secrets)?;
    let url = conn.consent_url(&consent.request())?;
    ctx.log.say(format_args!("The OAuth client must have this redirect URI registered: {}", consent.redirect_uri()));
    let grant = match listener {
        None => {
            ctx.log.say("Open this address in a browser, sign in as a GoTo administrator and allow access:");
            ctx.log.say(&url);
            ctx.log.say(format_args!(
                "The browser then fails to load {}; paste here the whole address it shows:",
                consent.redirect_uri()
            ));
            consent.accept_pasted(&read_line(ctx)?)?
        }
        Some(listener) => {
            let browser = !args.no_browser && has_display(ctx.env);
            let open = if browser { "Opening the browser; if it does not open, open" } else { "Open" };
            ctx.log.say(format_args!(
                "{open} this address in a browser, sign in as a GoTo administrator and allow access:"
            ));
            ctx.log.say(&url);
            if browser && let Err(e) = open::that_detached(&url) {
                ctx.log.say(format_args!("(the browser did not open: {e})"));
            }
            ctx.log.say(format_args!("Waiting up to {} s for GoTo to send the browser back…", args.timeout));
            listener.receive(&consent, Duration::from_secs(args.timeout))??
        }
    };
    conn.redeem_consent(&grant)?;
    let info = check(&mut conn)?;
    let stored = conn.with_secrets(|s| s.commit_staged().map(|names| (names, s.path().to_owned())));
    let (stored, secrets_path) = stored.context("storing the credentials")?;
    // What this login was pointed at is where its tokens work.
    file.api_base = ctx.cli.api_base.clone().or(file.api_base);
    file.token_base = ctx.cli.token_base.clone().or(file.token_base);
    file.account_key = Some(info.account_key.clone());
    file.save(&profile_path)?;
    ctx.log.say(format_args!("stored {} in {}", stored.join(", "), shown(&secrets_path).display()));
    ctx.log.say(format_args!("saved account-key {} in {}", info.account_key, shown(&profile_path).display()));
    writeln!(ctx.stdout, "{}", connected(&info))?;
    Ok(())
}

/// The OAuth client's id and secret: from the flags, else stored (file or environment), else
/// asked for on a terminal.
fn client_credentials(
    ctx: &mut Context<'_>,
    args: &LoginArgs,
    secrets: &SecretStore,
) -> Result<Vec<(&'static str, String)>> {
    let mut client = Vec::new();
    for (name, flag, given) in
        [(CLIENT_ID, "--client-id", &args.client_id), (CLIENT_SECRET, "--client-secret", &args.client_secret)]
    {
        let value = match (given, secrets.get(name)) {
            (Some(value), _) => value.clone(),
            (None, Some(stored)) => stored.to_owned(),
            (None, None) if ctx.stdin_is_terminal && name == CLIENT_SECRET => {
                rpassword::prompt_password("GoTo OAuth client secret (not shown): ")
                    .context("reading the client secret from the terminal")?
            }
            (None, None) if ctx.stdin_is_terminal => {
                ctx.log.say("GoTo OAuth client id:");
                read_line(ctx)?
            }
            (None, None) => {
                return Err(bad_input(anyhow!(
                    "no OAuth {name} to log in with: pass {flag}, set {}, or run on a terminal to be asked",
                    env_var(name)
                )));
            }
        };
        if value.trim().is_empty() {
            return Err(bad_input(anyhow!("the OAuth {name} is empty: give the one GoTo's developer center shows")));
        }
        client.push((name, value.trim().to_owned()));
    }
    Ok(client)
}

/// One line of stdin, without its line ending.
fn read_line(ctx: &mut Context<'_>) -> Result<String> {
    let mut line = String::new();
    BufReader::new(&mut *ctx.stdin).read_line(&mut line).context("reading stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Whether a browser can be shown: on Linux and the BSDs only with an X11 or Wayland display.
fn has_display(env: &Environment) -> bool {
    cfg!(any(target_os = "macos", target_os = "windows"))
        || ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|var| env.get(*var).is_some_and(|v| !v.is_empty()))
}

/// One credential as `auth status` reports it.
struct Credential {
    name: &'static str,
    source: Option<SecretSource>,
    /// When the file's value was stored, for a credential from the file.
    stored_at: Option<u64>,
}

fn status(ctx: &mut Context<'_>, format: StateFormat) -> Result<()> {
    let connector = ctx.connector()?;
    let store = connector.secrets()?;
    let secrets_path = shown(store.path());
    let credentials: Vec<Credential> = [CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN]
        .into_iter()
        .map(|name| {
            let source = store.source(name);
            Credential { name, source, stored_at: store.stored_at(name).filter(|_| source == Some(SecretSource::File)) }
        })
        .collect();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    // Only the component reads the cached token's timing.
    let cached = match store.source(ACCESS_TOKEN) {
        Some(_) => connector.connect_with(store)?.cached_token()?,
        None => None,
    };
    let refresh = credentials.iter().find(|c| c.name == REFRESH_TOKEN).expect("listed above");
    let refresh_age = refresh.stored_at.map(|at| now.saturating_sub(at));
    let warning = refresh_age.and_then(horizon_warning);
    let location = |c: &Credential| match c.source {
        Some(SecretSource::File) => secrets_path.display().to_string(),
        Some(SecretSource::Environment) => env_var(c.name),
        None => String::new(),
    };
    match format {
        StateFormat::Json => {
            let listed: Vec<_> = credentials
                .iter()
                .map(|c| {
                    json!({
                        "name": c.name,
                        "source": c.source.map(source_word),
                        "location": c.source.map(|_| location(c)),
                        "stored_at": c.stored_at,
                    })
                })
                .collect();
            let report = json!({
                "profile": ctx.profile_name(),
                "credentials": listed,
                "access_token": cached.as_ref().map(|t| json!({
                    "expires_at": t.expires_at,
                    "expires_in_secs": t.expires_at.saturating_sub(now),
                    "expired": t.expires_at <= now,
                })),
                "refresh_token": {
                    "age_secs": refresh_age,
                    "horizon_secs": REFRESH_HORIZON_SECS,
                    "warning": warning,
                },
                "account_key": connector.profile().account_key,
            });
            writeln!(ctx.stdout, "{}", serde_json::to_string_pretty(&report)?)?;
        }
        StateFormat::Text => {
            let name = ctx.profile_name().to_owned();
            writeln!(ctx.stdout, "profile\t{name}")?;
            for c in &credentials {
                let detail = match (c.source, c.name) {
                    (None, REFRESH_TOKEN) => "not stored: run `gtm-connector auth login`".to_owned(),
                    (None, ACCESS_TOKEN) => "not cached: the next run gets one".to_owned(),
                    (None, _) => "not stored".to_owned(),
                    (Some(source), _) => {
                        let mut detail = format!("{} {}", source_word(source), location(c));
                        if c.name == ACCESS_TOKEN
                            && let Some(t) = &cached
                        {
                            detail += &match t.expires_at.checked_sub(now).filter(|left| *left > 0) {
                                Some(left) => format!(", expires in {}", span(left)),
                                None => ", expired: the next run refreshes it".to_owned(),
                            };
                        } else if let Some(at) = c.stored_at {
                            detail += &format!(", stored {} ago", span(now.saturating_sub(at)));
                        }
                        detail
                    }
                };
                writeln!(ctx.stdout, "{}\t{detail}", c.name)?;
            }
            let key = connector
                .profile()
                .account_key
                .as_deref()
                .unwrap_or("not set: discovered from the credentials on each run");
            writeln!(ctx.stdout, "account-key\t{key}")?;
            if let Some(warning) = &warning {
                ctx.log.say(format_args!("warning: {warning}"));
            }
        }
    }
    Ok(())
}

fn source_word(source: SecretSource) -> &'static str {
    match source {
        SecretSource::File => "file",
        SecretSource::Environment => "env",
    }
}

/// What to say about a refresh token stored `age` seconds ago, as GoTo's horizon nears.
fn horizon_warning(age: u64) -> Option<String> {
    let left = REFRESH_HORIZON_SECS.checked_sub(age).filter(|left| *left > 0);
    match left {
        Some(left) if left > WARN_BEFORE_SECS => None,
        Some(left) => Some(format!(
            "the refresh token was stored {} ago and GoTo's refresh tokens are reported to last 30 days: unless \
             GoTo replaces it first, it stops working in about {}; run `gtm-connector auth login` before then",
            span(age),
            span(left)
        )),
        None => Some(format!(
            "the refresh token was stored {} ago, past the 30 days GoTo's refresh tokens are reported to last: if \
             GoTo now refuses it, run `gtm-connector auth login`",
            span(age)
        )),
    }
}

/// A duration in the largest whole unit that fits: `3 days`, `5 h`, `12 min`, `40 s`.
fn span(secs: u64) -> String {
    match secs {
        s if s >= 2 * DAY => format!("{} days", s / DAY),
        s if s >= 3600 => format!("{} h", s / 3600),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

fn logout(ctx: &mut Context<'_>) -> Result<()> {
    let paths = ctx.paths()?;
    let mut store = ctx.secret_store(&paths)?;
    let removed = store.remove(&[REFRESH_TOKEN, ACCESS_TOKEN])?;
    let path = shown(store.path());
    match removed.is_empty() {
        true => writeln!(ctx.stdout, "no tokens were stored in {}", path.display())?,
        false => writeln!(ctx.stdout, "removed {} from {}", removed.join(", "), path.display())?,
    }
    let kept: Vec<&str> = [CLIENT_ID, CLIENT_SECRET].into_iter().filter(|name| store.source(name).is_some()).collect();
    if !kept.is_empty() {
        writeln!(
            ctx.stdout,
            "kept {} for the next `auth login` (remove with `gtm-connector secrets delete NAME`)",
            kept.join(", ")
        )?;
    }
    if store.source(REFRESH_TOKEN) == Some(SecretSource::Environment) {
        ctx.log.say(format_args!("warning: {} still supplies a refresh token; unset it", env_var(REFRESH_TOKEN)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_horizon_warning_starts_a_week_before_thirty_days() {
        assert_eq!(horizon_warning(22 * DAY), None);
        let soon = horizon_warning(25 * DAY).unwrap();
        assert!(soon.contains("stored 25 days ago") && soon.contains("about 5 days"), "{soon}");
        let past = horizon_warning(31 * DAY).unwrap();
        assert!(past.contains("past the 30 days"), "{past}");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn on_linux_a_browser_needs_an_x11_or_wayland_display() {
        let env = |var: &str, value: &str| Environment::from([(var.to_owned(), value.to_owned())]);
        assert!(has_display(&env("DISPLAY", ":0")) && has_display(&env("WAYLAND_DISPLAY", "wayland-0")));
        assert!(!has_display(&Environment::new()) && !has_display(&env("DISPLAY", "")));
    }

    #[test]
    fn spans_use_the_largest_whole_unit() {
        assert_eq!([span(40), span(720), span(5 * 3600), span(3 * DAY)], ["40 s", "12 min", "5 h", "3 days"]);
    }
}
