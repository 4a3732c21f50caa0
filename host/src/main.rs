//! `gtm-connector`: see `gtm_host::cli`.

use std::io::IsTerminal;

fn main() {
    // Variables that are not valid Unicode cannot be settings or secrets; they are skipped.
    let env = std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
    let (stdin, stdout) = (std::io::stdin(), std::io::stdout());
    let status = gtm_host::cli::run(gtm_host::cli::Invocation {
        args: std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect(),
        env,
        stdin_is_terminal: stdin.is_terminal(),
        stdin: &mut stdin.lock(),
        stdout: &mut stdout.lock(),
        stderr_is_terminal: std::io::stderr().is_terminal(),
        stderr: Box::new(std::io::stderr()),
    });
    std::process::exit(status);
}
