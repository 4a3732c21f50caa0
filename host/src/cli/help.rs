//! What `--help` shows beyond the grammar's doc comments (examples under every command, the
//! global options under a heading of their own, the long `--version`), and the shell
//! completions and manual pages generated from that same definition.

use std::io::Write;

use anyhow::{Result, anyhow};
use clap::{Command, CommandFactory};
use clap_complete::Shell;

use super::args::Cli;
use super::bad_input;

const BIN: &str = "gtm-connector";

/// `--version`: the binary's version, then what it runs: the embedded component (build.rs
/// hashes it and reads the WIT package from `wit/`) and the wasmtime that Cargo.lock pins.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ncomponent sha256:",
    env!("GTM_GUEST_SHA256_PREFIX"),
    "\nWIT package ",
    env!("GTM_WIT_PACKAGE"),
    "\nwasmtime ",
    env!("GTM_WASMTIME_VERSION"),
);

/// Examples for each command, by its path below `gtm-connector` ("" for the program itself):
/// what it does, then the command line.
const EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    ("", &[("Try everything against a bundled simulator", "demo"), ("Check the stored credentials", "test")]),
    ("test", &[("Check the credentials", "test"), ("The same, for a program", "test --format json")]),
    ("doctor", &[("Probe the tenant", "doctor"), ("The findings for a program", "doctor --format json")]),
    ("import", &[("Every account into a file", "import accounts --output accounts.jsonl")]),
    (
        "import accounts",
        &[
            ("Every account into a file", "import accounts --output accounts.jsonl"),
            ("One account, as CSV", "import accounts --filter email=ann@example.com --format csv"),
        ],
    ),
    (
        "import entitlements",
        &[
            ("The license catalogue", "import entitlements --kind licenses"),
            ("Groups as CSV", "import entitlements --kind groups --format csv"),
        ],
    ),
    ("get", &[("One account by key", "get account 6581286685341855244")]),
    ("get account", &[("One account by key", "get account 6581286685341855244")]),
    (
        "create",
        &[
            ("Plan a joiner first", "create --email ann@example.com --first-name Ann --license 42 --dry-run"),
            ("Then create it", "create --email ann@example.com --first-name Ann --license 42"),
        ],
    ),
    ("update", &[("Change a name", "update ann@example.com --last-name Smith")]),
    (
        "delete",
        &[
            ("Deprovision a leaver, keeping the account", "delete ann@example.com"),
            ("Delete it for good, without asking", "delete ann@example.com --mode hard-delete --yes"),
        ],
    ),
    ("grant", &[("Grant a license", "grant ann@example.com --license 42"), ("Move to a group", "grant 123 --group 7")]),
    ("revoke", &[("Take an admin role away", "revoke ann@example.com --role MANAGE_USERS")]),
    (
        "apply",
        &[
            ("Plan a batch", "apply leavers.jsonl --dry-run"),
            ("Run it, hard deletes included", "apply leavers.jsonl --yes"),
        ],
    ),
    ("retry", &[("See what would be retried", "retry --dry-run"), ("Retry the queued writes", "retry")]),
    ("state", &[("The latest run's changes", "state diff")]),
    ("state show", &[("Every account as last imported", "state show --scope accounts")]),
    ("state history", &[("The last five runs", "state history --limit 5")]),
    ("state diff", &[("The latest run's changes", "state diff"), ("Between runs 3 and 7", "state diff 3 7")]),
    ("state pending", &[("Deletions held back", "state pending --format json")]),
    ("state queue", &[("The retry queue", "state queue")]),
    ("secrets", &[("Store the client secret", "secrets set client-secret")]),
    (
        "secrets set",
        &[
            ("Type it without echo", "secrets set client-secret"),
            ("Or pipe it in", "printf %s \"$TOKEN\" | gtm-connector secrets set refresh-token"),
        ],
    ),
    ("secrets list", &[("Names and sources", "secrets list"), ("For a program", "secrets list --format json")]),
    ("secrets delete", &[("Forget the cached access token", "secrets delete access-token")]),
    ("auth", &[("Sign in once as a GoTo administrator", "auth login")]),
    (
        "auth login",
        &[
            ("Consent in this machine's browser", "auth login --client-id 0a1b2c3d"),
            ("From a shell on another machine", "auth login --paste"),
        ],
    ),
    (
        "auth status",
        &[("What is stored, and token ages", "auth status"), ("For a program", "auth status --format json")],
    ),
    ("auth logout", &[("Forget the tokens, keep the client", "auth logout")]),
    ("demo", &[("The demo, smaller", "demo --users 500"), ("Keep the records", "demo --output-dir demo-out")]),
    ("sim", &[("A simulator and a profile for it", "sim --port 0 --write-profile local")]),
    (
        "serve",
        &[
            ("SCIM on loopback, for a client on this machine", "serve"),
            ("HTTPS for the network", "serve --listen 0.0.0.0:7644 --tls-cert cert.pem --tls-key key.pem"),
        ],
    ),
    (
        "completions",
        &[(
            "Bash completion, installed for you",
            "completions bash > ~/.local/share/bash-completion/completions/gtm-connector",
        )],
    ),
    (
        "man",
        &[
            ("Read the manual", "man | man -l -"),
            ("One command's page", "man import accounts > gtm-connector-import-accounts.1"),
        ],
    ),
];

/// The command line's definition, with its examples, headings and long version.
pub fn command() -> Command {
    let command = Cli::command()
        .long_version(LONG_VERSION)
        .mut_args(|arg| if arg.is_global_set() { arg.help_heading("Global options") } else { arg });
    with_examples(command, "")
}

/// `command` and its subcommands, each with its examples after the help.
fn with_examples(command: Command, path: &str) -> Command {
    let command = match examples(path) {
        Some(text) => {
            let after = command.get_after_help().map(|existing| format!("{existing}\n\n")).unwrap_or_default();
            command.after_help(format!("{after}{text}"))
        }
        None => command,
    };
    command.mut_subcommands(|sub| {
        let path = child_path(path, &sub);
        with_examples(sub, &path)
    })
}

/// The path of `sub`, a subcommand of the command at `path`.
fn child_path(path: &str, sub: &Command) -> String {
    if path.is_empty() { sub.get_name().to_owned() } else { format!("{path} {}", sub.get_name()) }
}

/// The "Examples:" block for the command at `path`.
fn examples(path: &str) -> Option<String> {
    let (_, examples) = EXAMPLES.iter().find(|(p, _)| *p == path)?;
    let mut text = String::from("Examples:");
    for (what, line) in examples.iter() {
        // A pipeline names the program itself, mid-line.
        let line = if line.contains(BIN) { (*line).to_owned() } else { format!("{BIN} {line}") };
        text.push_str(&format!("\n  # {what}\n  {line}"));
    }
    Some(text)
}

/// `completions SHELL`: the completion script for `shell`.
pub fn completions(out: &mut dyn Write, shell: Shell) -> Result<()> {
    // `generate` panics when its writer fails (a reader that went away), so the script is
    // made in memory and the write's error is returned.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), BIN, &mut script);
    out.write_all(&script)?;
    Ok(())
}

/// `man [COMMAND...]`: the manual page of the program, or of one of its commands, as roff.
/// A built command's display name (`gtm-connector-import-accounts`) names its page.
pub fn man(out: &mut dyn Write, path: &[String]) -> Result<()> {
    let mut command = command();
    command.build();
    for word in path {
        let Some(sub) = command.find_subcommand(word).filter(|s| s.get_name() != "help") else {
            let name = command.get_display_name().unwrap_or(BIN);
            let known: Vec<&str> = command.get_subcommands().map(Command::get_name).filter(|n| *n != "help").collect();
            return Err(bad_input(anyhow!("`{name}` has no command {word:?}; its commands: {}", known.join(", "))));
        };
        command = sub.clone();
    }
    let source = concat!("gtm-connector ", env!("CARGO_PKG_VERSION"));
    clap_mangen::Man::new(command).source(source).render(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command and its path, the generated `help` command left out.
    fn commands(command: &Command, path: String, all: &mut Vec<(String, Command)>) {
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            commands(sub, child_path(&path, sub), all);
        }
        all.push((path, command.clone()));
    }

    fn all_commands() -> Vec<(String, Command)> {
        let mut command = command();
        command.build();
        let mut all = Vec::new();
        commands(&command, String::new(), &mut all);
        all
    }

    #[test]
    fn every_argument_is_described_and_every_command_has_an_example() {
        let mut missing = Vec::new();
        for (path, command) in all_commands() {
            let after = command.get_after_help().map(ToString::to_string).unwrap_or_default();
            if !after.contains("Examples:\n  # ") {
                missing.push(format!("`{BIN} {path}` has no example"));
            }
            for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                    missing.push(format!("`{BIN} {path}` argument {} has no description", arg.get_id()));
                }
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    #[test]
    fn every_example_belongs_to_a_command() {
        let paths: Vec<String> = all_commands().into_iter().map(|(path, _)| path).collect();
        let strays: Vec<&str> = EXAMPLES.iter().map(|(p, _)| *p).filter(|p| !paths.iter().any(|q| q == p)).collect();
        assert!(strays.is_empty(), "examples for commands that do not exist: {strays:?}");
    }

    #[test]
    fn the_examples_parse() {
        for (path, examples) in EXAMPLES {
            for (_, line) in examples.iter().filter(|(_, line)| !line.contains(BIN)) {
                let words = shell_words(line);
                let parsed = command().try_get_matches_from(std::iter::once(BIN.to_owned()).chain(words));
                assert!(parsed.is_ok(), "the example `{line}` of `{path}` does not parse: {}", parsed.unwrap_err());
            }
        }
    }

    /// An example's words, redirections left out (the examples quote nothing).
    fn shell_words(line: &str) -> Vec<String> {
        line.split(" > ")
            .next()
            .unwrap_or(line)
            .split(" | ")
            .next()
            .unwrap_or(line)
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn global_options_have_their_own_heading() {
        let help = command().render_long_help().to_string();
        let (before, globals) = help.split_once("Global options:").expect("a Global options heading");
        assert!(globals.contains("--profile <NAME>") && globals.contains("--quiet"), "{help}");
        assert!(!before.contains("--profile"), "{help}");
    }
}
