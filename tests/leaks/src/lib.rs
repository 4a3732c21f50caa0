//! The leak sweep: which values are a profile's secrets, and whether any of them, whole or cut
//! short, appears in a run's output or in a file of its home.
//!
//! A secret counts as leaked when any [`WINDOW`] consecutive bytes of it appear, so a message
//! that quotes "the first 40 characters" of a token is caught as surely as one quoting all of
//! it. The in-process suites (`gtm-e2e`) and the real-process suites (`host/tests`) both use it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// Secret values shorter than this are not swept for: a test's `"wrong"` client secret would
/// match ordinary words. Every real credential is far longer.
pub const MIN_LEN: usize = 8;

/// How many consecutive bytes of a secret make a leak. Shorter secrets must appear whole.
pub const WINDOW: usize = 16;

/// A set of secrets to search for.
pub struct Secrets {
    values: Vec<String>,
    /// Every window of every secret; pattern `i` belongs to `values[owner[i]]`.
    matcher: AhoCorasick,
    owner: Vec<usize>,
}

/// Where a secret was found.
#[derive(Debug)]
pub struct Leak {
    /// The secret named by its first characters only, so a report does not leak it further.
    pub hint: String,
    /// Byte range of the match in what was searched.
    pub at: std::ops::Range<usize>,
}

impl Secrets {
    /// Searches for each of `values` at least [`MIN_LEN`] long.
    pub fn new(values: impl IntoIterator<Item = String>) -> Secrets {
        let mut values: Vec<String> = values.into_iter().filter(|v| v.len() >= MIN_LEN).collect();
        values.sort();
        values.dedup();
        let mut patterns = Vec::new();
        let mut owner = Vec::new();
        for (i, value) in values.iter().enumerate() {
            let bytes = value.as_bytes();
            for window in bytes.windows(WINDOW.min(bytes.len())) {
                patterns.push(window.to_vec());
                owner.push(i);
            }
        }
        let matcher = AhoCorasick::new(&patterns).expect("secret windows form a valid pattern set");
        Secrets { values, matcher, owner }
    }

    /// The first secret found in `bytes`, if any.
    pub fn find(&self, bytes: &[u8]) -> Option<Leak> {
        let found = self.matcher.find(bytes)?;
        let secret = &self.values[self.owner[found.pattern().as_usize()]];
        Some(Leak { hint: hint(secret), at: found.range() })
    }

    /// Panics if `text` (named by `what`) holds a secret, showing the line with it masked.
    #[track_caller]
    pub fn assert_not_in(&self, what: &str, text: &str) {
        if let Some(leak) = self.find(text.as_bytes()) {
            let start = text[..leak.at.start].rfind('\n').map_or(0, |i| i + 1);
            let end = text[leak.at.end..].find('\n').map_or(text.len(), |i| leak.at.end + i);
            let line = format!("{}<SECRET>{}", &text[start..leak.at.start], &text[leak.at.end..end]);
            panic!("{what} holds the secret {} (or part of it), in: {line}", leak.hint);
        }
    }

    /// Panics if any file under `home` holds a secret, except the secrets files themselves
    /// (`secrets/*.json`), which are where secrets belong.
    #[track_caller]
    pub fn assert_home_clean(&self, home: &Path) {
        let secrets_dir = home.join("secrets");
        for file in files_under(home) {
            let is_secrets_file = file.parent() == Some(&secrets_dir) && file.extension().is_some_and(|e| e == "json");
            if is_secrets_file {
                continue;
            }
            let bytes = std::fs::read(&file).unwrap_or_default();
            if let Some(leak) = self.find(&bytes) {
                panic!("{} holds the secret {} (or part of it)", file.display(), leak.hint);
            }
        }
    }
}

/// The secrets of `profile` in `home`: every value in its secrets file (the cached access
/// token's inner token too) but the metadata beside them (entries whose name holds a `.`,
/// such as `refresh-token.stored-at`), every `GTM_SECRET_*` value of `env`, and the Basic form
/// of each client id and secret pair. The client id alone is not a secret.
pub fn profile_secrets(home: &Path, profile: &str, env: &BTreeMap<String, String>) -> Vec<String> {
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let file = home.join("secrets").join(format!("{profile}.json"));
    let stored: BTreeMap<String, String> =
        std::fs::read(&file).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let from_env = env
        .iter()
        .filter_map(|(var, v)| Some((var.strip_prefix("GTM_SECRET_")?.to_ascii_lowercase().replace('_', "-"), v)));
    let secrets = stored.iter().filter(|(name, _)| !name.contains('.'));
    for (name, value) in secrets.map(|(n, v)| (n.clone(), v)).chain(from_env) {
        values.entry(name).or_default().push(value.clone());
    }
    let ids = values.remove("client-id").unwrap_or_default();
    let mut secrets: Vec<String> = values.values().flatten().cloned().collect();
    let cached: Vec<String> = secrets
        .iter()
        .filter_map(|v| serde_json::from_str::<Value>(v).ok()?["token"].as_str().map(str::to_owned))
        .collect();
    secrets.extend(cached);
    let client_secrets: Vec<String> = values.get("client-secret").cloned().unwrap_or_default();
    for id in &ids {
        secrets.extend(client_secrets.iter().map(|secret| STANDARD.encode(format!("{id}:{secret}"))));
    }
    secrets
}

/// Names a secret by its first characters only.
fn hint(secret: &str) -> String {
    format!("{:?}… ({} characters)", secret.chars().take(4).collect::<String>(), secret.len())
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => files.extend(files_under(&path)),
            Ok(t) if t.is_file() => files.push(path),
            _ => {}
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "eyJ0eXAiOiJhY2Nlc3MifQ.c2VjcmV0LXBheWxvYWQtb2YtdGhlLXRva2Vu.c2lnbmF0dXJl";

    #[test]
    fn a_secret_is_found_whole_or_cut_short_but_not_by_a_shorter_run_of_its_bytes() {
        let secrets = Secrets::new([TOKEN.to_owned(), "short".to_owned()]);
        assert!(secrets.find(format!("bearer {TOKEN}").as_bytes()).is_some());
        assert!(secrets.find(format!("body: {{\"access_token\":\"{}", &TOKEN[..40]).as_bytes()).is_some());
        assert!(secrets.find(format!("…{}…", &TOKEN[30..30 + WINDOW]).as_bytes()).is_some());
        assert!(secrets.find(&TOKEN.as_bytes()[30..30 + WINDOW - 1]).is_none());
        assert!(secrets.find(b"a short word").is_none(), "values under MIN_LEN are not swept");
    }

    #[test]
    fn a_report_masks_the_secret_and_shows_only_its_line() {
        let secrets = Secrets::new([TOKEN.to_owned()]);
        let text = format!("first line\n[debug] token {} cut\nlast line", &TOKEN[..20]);
        let report = std::panic::catch_unwind(|| secrets.assert_not_in("stderr", &text)).unwrap_err();
        let report = report.downcast_ref::<String>().unwrap();
        assert!(
            report.starts_with(
                "stderr holds the secret \"eyJ0\"… (72 characters) (or part of it), in: [debug] token <SECRET>"
            ),
            "{report}"
        );
        assert!(!report.contains(&TOKEN[..WINDOW]), "{report}");
    }
}
