//! `secrets set | list | delete`: values go in through stdin and never come out.

use anyhow::{Context as _, Result, bail};

use super::args::Secrets;
use super::{Context, bad_input, shown};
use crate::secrets::{SecretSource, env_var, validate_name};

pub fn run(ctx: &mut Context<'_>, action: &Secrets) -> Result<()> {
    let paths = ctx.paths()?;
    let mut store = ctx.secret_store(&paths)?;
    match action {
        Secrets::Set { name } => {
            validate_name(name).map_err(bad_input)?;
            let value = read_value(ctx, name)?;
            store.set(name, &value)?;
            writeln!(ctx.stdout, "stored secret {name} in {}", shown(store.path()).display())?;
            if store.source(name) == Some(SecretSource::Environment) {
                writeln!(ctx.stdout, "note: {} is set and overrides the stored value", env_var(name))?;
            }
        }
        Secrets::List => {
            for (name, source) in store.names() {
                match source {
                    SecretSource::File => writeln!(ctx.stdout, "{name}\tfile {}", shown(store.path()).display())?,
                    SecretSource::Environment => writeln!(ctx.stdout, "{name}\tenv {}", env_var(&name))?,
                }
            }
        }
        Secrets::Delete { name } => {
            if !store.delete(name).map_err(bad_input)? {
                return Err(bad_input(anyhow::anyhow!(
                    "no secret {name} is stored in {}",
                    shown(store.path()).display()
                )));
            }
            writeln!(ctx.stdout, "deleted secret {name}")?;
        }
    }
    Ok(())
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
