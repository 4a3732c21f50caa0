//! Reading the identities to correlate accounts with: CSV with a header row, or JSON Lines,
//! each identity an id and an email.

use std::fs;
use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use gtm_state::Identity;

use super::shown;

/// Header names accepted for the two columns, so an HR export works without renaming.
const ID_COLUMNS: &[&str] = &["id", "identity", "identity-id", "identity_id", "employee-id", "employee_id"];
const EMAIL_COLUMNS: &[&str] = &["email", "mail", "email-address", "email_address"];

/// The largest identities file read: millions of identities, yet a bound on the memory a
/// wrong path (`/dev/zero`, a disk image) can take.
const MAX_BYTES: u64 = 256 << 20;

/// Reads `path` as JSON Lines if it ends in `.jsonl`/`.ndjson` or starts with `{`, else as CSV.
pub fn load(path: &Path) -> Result<Vec<Identity>> {
    let text = read_bounded(path).with_context(|| format!("cannot read {}", shown(path).display()))?;
    let name = path.display();
    let jsonl = path.extension().is_some_and(|e| e == "jsonl" || e == "ndjson") || text.trim_start().starts_with('{');
    let identities = if jsonl { from_jsonl(&text) } else { from_csv(&text) }.with_context(|| format!("in {name}"))?;
    if identities.is_empty() {
        bail!("{name} lists no identities");
    }
    Ok(identities)
}

/// The file's text, if it is a regular file of at most [`MAX_BYTES`]: a device or a pipe
/// could be read for ever.
fn read_bounded(path: &Path) -> Result<String> {
    let file = fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        bail!("it is not a regular file");
    }
    if meta.len() > MAX_BYTES {
        bail!("it is {} MiB, more than the {} MiB an identities file may have", meta.len() >> 20, MAX_BYTES >> 20);
    }
    let mut text = String::new();
    // A file that grows while it is read is still held to the limit.
    file.take(MAX_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_BYTES {
        bail!("it grew past the {} MiB an identities file may have while it was read", MAX_BYTES >> 20);
    }
    Ok(text)
}

fn from_jsonl(text: &str) -> Result<Vec<Identity>> {
    let mut identities = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line: Identity = serde_json::from_str(line)
            .with_context(|| format!("line {}: expected {{\"id\": …, \"email\": …}}", number + 1))?;
        identities.push(checked(line.id, line.email, number + 1)?);
    }
    Ok(identities)
}

fn from_csv(text: &str) -> Result<Vec<Identity>> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().context("reading the header row")?.clone();
    let column = |names: &[&str]| headers.iter().position(|h| names.contains(&h.to_ascii_lowercase().as_str()));
    let (Some(id), Some(email)) = (column(ID_COLUMNS), column(EMAIL_COLUMNS)) else {
        bail!(
            "the header row needs an id column ({}) and an email column ({}); it has {}",
            ID_COLUMNS.join(", "),
            EMAIL_COLUMNS.join(", "),
            headers.iter().collect::<Vec<_>>().join(", ")
        );
    };
    let mut identities = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let number = row + 2;
        let record = record.with_context(|| format!("line {number}"))?;
        let field = |i: usize| record.get(i).unwrap_or_default().to_owned();
        identities.push(checked(field(id), field(email), number)?);
    }
    Ok(identities)
}

fn checked(id: String, email: String, line: usize) -> Result<Identity> {
    if id.trim().is_empty() {
        bail!("line {line}: the identity id is empty");
    }
    if !email.contains('@') {
        bail!("line {line}: {email:?} is not an email address");
    }
    Ok(Identity { id: id.trim().to_owned(), email: email.trim().to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_jsonl_read_the_same_identities() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("ids.csv");
        fs::write(&csv, "Employee_ID,Name,Mail\nE1,Ann,ann@example.com\nE2,\"Lee, Bo\",bo@example.com\n").unwrap();
        let jsonl = dir.path().join("ids.jsonl");
        fs::write(
            &jsonl,
            "{\"id\":\"E1\",\"email\":\"ann@example.com\"}\n\n{\"id\":\"E2\",\"email\":\"bo@example.com\"}\n",
        )
        .unwrap();
        assert_eq!(load(&csv).unwrap(), load(&jsonl).unwrap());
        assert_eq!(load(&csv).unwrap()[1], Identity { id: "E2".into(), email: "bo@example.com".into() });
    }

    #[test]
    fn bad_files_say_where() {
        let dir = tempfile::tempdir().unwrap();
        let no_id = dir.path().join("a.csv");
        fs::write(&no_id, "name,email\nAnn,ann@example.com\n").unwrap();
        assert!(format!("{:#}", load(&no_id).unwrap_err()).contains("needs an id column"));
        let bad = dir.path().join("b.jsonl");
        fs::write(&bad, "{\"id\":\"1\",\"email\":\"a@x\"}\n{\"id\":\"2\"}\n").unwrap();
        assert!(format!("{:#}", load(&bad).unwrap_err()).contains("line 2"));
    }
}
