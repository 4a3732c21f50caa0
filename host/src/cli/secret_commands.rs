//! `secrets set | list | delete`: values go in through stdin and never come out. What is
//! done is said on stderr; only `list`, which is data, writes to stdout.

use anyhow::{Context as _, Result, bail};
use serde::Serialize;

use super::args::Secrets;
use super::report::emit;
use super::{Context, bad_input, shown};
use crate::secrets::{SecretSource, env_var};

pub fn run(ctx: &mut Context<'_>, action: &Secrets) -> Result<()> {
    let paths = ctx.paths()?;
    let mut store = ctx.secret_store(&paths)?;
    match action {
        // The grammar accepts only the names the connector or the SCIM service reads.
        Secrets::Set { name } => {
            let value = read_value(ctx, name)?;
            store.set(name, &value)?;
            ctx.log.note(format_args!("stored secret {name} in {}", shown(store.path()).display()));
            if store.source(name) == Some(SecretSource::Environment) {
                ctx.log.say(format_args!("note: {} is set and overrides the stored value", env_var(name)));
            }
        }
        Secrets::List { format } => {
            let file = shown(store.path()).display().to_string();
            let listed: Vec<Listed> = store
                .names()
                .into_iter()
                .map(|(name, source)| match source {
                    SecretSource::File => Listed { from: file.clone(), name, source: "file" },
                    SecretSource::Environment => Listed { from: env_var(&name), name, source: "env" },
                })
                .collect();
            emit(ctx.stdout, *format, &listed, |s| format!("{}\t{} {}", s.name, s.source, s.from))?;
        }
        Secrets::Delete { name } => {
            if !store.delete(name).map_err(bad_input)? {
                return Err(bad_input(anyhow::anyhow!(
                    "no secret {name} is stored in {}",
                    shown(store.path()).display()
                )));
            }
            ctx.log.note(format_args!("deleted secret {name}"));
        }
    }
    Ok(())
}

/// A stored secret's name and where its value comes from: the secret file, or a variable.
#[derive(Serialize)]
struct Listed {
    name: String,
    source: &'static str,
    from: String,
}

/// The value from a no-echo prompt on a terminal, else all of stdin less one trailing newline.
fn read_value(ctx: &mut Context<'_>, name: &str) -> Result<String> {
    let value = if ctx.stdin_is_terminal {
        rpassword::prompt_password(format!("value for {name}: ")).context("reading the secret from the terminal")?
    } else {
        let mut bytes = Vec::new();
        ctx.stdin.read_to_end(&mut bytes).context("reading the secret from stdin")?;
        let text = String::from_utf8(bytes)
            .map_err(|_| bad_input(anyhow::anyhow!("the value for {name} on stdin is not valid UTF-8")))?;
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned()
    };
    if value.trim().is_empty() {
        bail!(super::BadInput(anyhow::anyhow!(
            "no value for {name} on stdin: pipe it in, e.g. `printf %s \"$VALUE\" | gtm-connector secrets set {name}`"
        )));
    }
    Ok(value)
}
