//! Turning connector records into JSON Lines, JSON or CSV, streamed to stdout or to a file
//! that appears only when the whole import succeeded: a failed, interrupted (SIGINT, SIGTERM)
//! or killed export leaves no file of records behind.

use std::fs;
use std::io::{BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use anyhow::{Context, Result, bail};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::args::Format;
use crate::runtime::{Account, AccountStatus, Entitlement, EntitlementDetails, EntitlementKind};

/// A flat record: named values in a fixed order, the same names for every record of a kind.
pub type Record = Vec<(&'static str, Value)>;

pub use crate::runtime::status_name;

/// An account as a record, its strings moved, not copied.
pub fn account_record(a: Account) -> Record {
    let status = match a.status {
        AccountStatus::Other(other) => other,
        known => status_name(&known).to_owned(),
    };
    vec![
        ("key", a.key.into()),
        ("email", a.email.into()),
        ("first-name", a.first_name.into()),
        ("last-name", a.last_name.into()),
        ("locale", a.locale.into()),
        ("time-zone", a.time_zone.into()),
        ("status", status.into()),
        ("license-keys", a.license_keys.into()),
        ("products", a.products.into()),
        ("group-key", a.group_key.into()),
        ("group-name", a.group_name.into()),
        ("admin-roles", a.admin_roles.into()),
        ("invited-date-ms", a.invited_date_ms.into()),
        ("password-created", a.password_created.into()),
    ]
}

pub fn kind_name(kind: EntitlementKind) -> &'static str {
    match kind {
        EntitlementKind::Group => "group",
        EntitlementKind::License => "license",
        EntitlementKind::AdminRole => "admin-role",
    }
}

/// How a list of entitlements of this kind is named in messages.
pub fn plural(kind: EntitlementKind) -> &'static str {
    match kind {
        EntitlementKind::Group => "groups",
        EntitlementKind::License => "licenses",
        EntitlementKind::AdminRole => "admin roles",
    }
}

/// An entitlement as a record, its strings moved, not copied.
pub fn entitlement_record(e: Entitlement) -> Record {
    let mut record: Record = vec![
        ("kind", kind_name(e.id.kind).into()),
        ("key", e.id.key.into()),
        ("name", e.name.into()),
        ("description", e.description.into()),
    ];
    match e.details {
        EntitlementDetails::Group(g) => record.extend([
            ("parent-key", g.parent_key.into()),
            ("name-path", g.name_path.into()),
            ("member-count", g.member_count.into()),
            ("total-member-count", g.total_member_count.into()),
        ]),
        EntitlementDetails::License(l) => record.extend([
            ("seats", l.seats.into()),
            ("used", l.used.into()),
            ("products", l.products.into()),
            ("enabled", l.enabled.into()),
            ("license-type", l.license_type.into()),
        ]),
        EntitlementDetails::AdminRole(r) => {
            record.extend([("documented", r.documented.into()), ("member-count", r.member_count.into())])
        }
    }
    record
}

pub fn to_object(record: Record) -> Value {
    Value::Object(record.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>())
}

/// A record serialised as the JSON object [`to_object`] makes, without building that object:
/// an import writes every record once, and the copy of every name and value was a large part
/// of its cost. `without` leaves one field out (the state keeps the key apart).
pub struct AsObject<'r> {
    record: &'r Record,
    without: Option<&'static str>,
}

impl<'r> AsObject<'r> {
    pub fn new(record: &'r Record) -> Self {
        AsObject { record, without: None }
    }

    /// The record less the field `name`.
    pub fn without(record: &'r Record, name: &'static str) -> Self {
        AsObject { record, without: Some(name) }
    }
}

impl Serialize for AsObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let kept = self.record.iter().filter(|(name, _)| Some(*name) != self.without);
        serializer.collect_map(kept.map(|(name, value)| (name, value)))
    }
}

/// Writes records in one format. `finish` must be called for the output to be complete.
pub enum RecordWriter<W: Write> {
    Jsonl(W),
    Json { out: W, written: u64 },
    Csv { out: Box<csv::Writer<W>>, header: bool },
}

impl<W: Write> RecordWriter<W> {
    pub fn new(format: Format, mut out: W) -> Result<Self> {
        Ok(match format {
            Format::Jsonl => RecordWriter::Jsonl(out),
            Format::Json => {
                out.write_all(b"[")?;
                RecordWriter::Json { out, written: 0 }
            }
            Format::Csv => RecordWriter::Csv {
                // Declaring `'` the comment character makes the writer quote every cell holding
                // one, and so every cell `csv_cell` neutralised.
                out: Box::new(csv::WriterBuilder::new().has_headers(false).comment(Some(b'\'')).from_writer(out)),
                header: false,
            },
        })
    }

    pub fn write(&mut self, record: Record) -> Result<()> {
        match self {
            RecordWriter::Jsonl(out) => {
                serde_json::to_writer(&mut *out, &AsObject::new(&record))?;
                out.write_all(b"\n")?;
            }
            RecordWriter::Json { out, written } => {
                out.write_all(if *written == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut *out, &AsObject::new(&record))?;
                *written += 1;
            }
            RecordWriter::Csv { out, header } => {
                if !*header {
                    out.write_record(record.iter().map(|(name, _)| *name))?;
                    *header = true;
                }
                out.write_record(record.iter().map(|(_, value)| csv_cell(value)))?;
            }
        }
        Ok(())
    }

    /// Hands what is buffered on to the sink.
    pub fn flush(&mut self) -> Result<()> {
        match self {
            RecordWriter::Jsonl(out) | RecordWriter::Json { out, .. } => out.flush()?,
            RecordWriter::Csv { out, .. } => out.flush()?,
        }
        Ok(())
    }

    /// Closes the format (the JSON array, the CSV buffer) and returns the sink.
    pub fn finish(self) -> Result<W> {
        let mut out = match self {
            RecordWriter::Jsonl(out) => out,
            RecordWriter::Json { mut out, written } => {
                out.write_all(if written == 0 { b"]\n" } else { b"\n]\n" })?;
                out
            }
            RecordWriter::Csv { out, .. } => {
                out.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {}", e.error()))?
            }
        };
        out.flush()?;
        Ok(out)
    }
}

/// A value as a CSV cell, neutralised against formula injection as OWASP advises: a cell a
/// spreadsheet would read as a formula (it begins with `=`, `+`, `-`, `@`, tab or CR) is
/// prefixed with `'`, which makes it text.
fn csv_cell(value: &Value) -> String {
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(csv_text).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    };
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text }
}

/// A list item's text within a cell.
fn csv_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Where an export goes: stdout as it streams, or a temporary file beside the target that is
/// renamed into place by `finish` and removed if the export fails or is interrupted, so no
/// partial file is left.
pub enum Export<'a> {
    Stdout(RecordWriter<Box<dyn Write + 'a>>),
    File { writer: RecordWriter<BufWriter<tempfile::NamedTempFile>>, path: PathBuf, _in_flight: InFlight },
}

/// Temporary export files are this prefix and [`TEMP_RANDOM_LEN`] random letters and digits,
/// nothing more; a later run sweeps up stale ones of exactly that shape, so a file of the user's
/// own that merely starts with the prefix (`.gtm-export-notes.txt`) is never taken for one.
const TEMP_PREFIX: &str = ".gtm-export-";
const TEMP_RANDOM_LEN: usize = 12;

/// How old a leftover temporary export must be before a later run removes it: far longer than
/// any export runs, so one still being written by another process is never touched.
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

impl<'a> Export<'a> {
    /// Buffered (the standard output flushes at every line otherwise, a system call per
    /// record); [`Export::flush`] hands on each page as it is read.
    pub fn to_stdout(format: Format, stdout: &'a mut dyn Write) -> Result<Self> {
        let stdout: Box<dyn Write + 'a> = Box::new(BufWriter::new(stdout));
        Ok(Export::Stdout(RecordWriter::new(format, stdout)?))
    }

    pub fn to_file(format: Format, path: &Path) -> Result<Self> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            bail!("cannot write {}: the directory {} does not exist", path.display(), dir.display());
        }
        check_target(path)?;
        sweep_stale_exports(dir);
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .rand_bytes(TEMP_RANDOM_LEN)
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        let in_flight = InFlight::track(temp.path())?;
        Ok(Export::File {
            writer: RecordWriter::new(format, BufWriter::new(temp))?,
            path: path.to_owned(),
            _in_flight: in_flight,
        })
    }

    pub fn write(&mut self, record: Record) -> Result<()> {
        match self {
            Export::Stdout(writer) => writer.write(record),
            Export::File { writer, .. } => writer.write(record),
        }
    }

    /// Hands the records written so far on, so that a reader of stdout sees each page as it is
    /// read.
    pub fn flush(&mut self) -> Result<()> {
        match self {
            Export::Stdout(writer) => writer.flush(),
            Export::File { writer, .. } => writer.flush(),
        }
    }

    /// Completes the output; a file is synced and renamed into place.
    pub fn finish(self) -> Result<()> {
        match self {
            Export::Stdout(writer) => writer.finish().map(drop),
            Export::File { writer, path, .. } => {
                let temp = writer.finish()?.into_inner().map_err(|e| e.into_error())?;
                temp.as_file().sync_all()?;
                // An import runs for minutes: the target may have become a link or a device since
                // it was checked, and the rename would replace that too.
                check_target(&path).map_err(super::bad_input)?;
                temp.persist(&path).with_context(|| format!("moving the export into place at {}", path.display()))?;
                Ok(())
            }
        }
    }
}

/// The export replaces its target by rename, which suits a regular file only: a device
/// (`/dev/full`) or a directory would be replaced, a symlink's target left stale.
fn check_target(path: &Path) -> Result<()> {
    let kind = match fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => return Ok(()),
        Ok(m) if m.file_type().is_symlink() => "a symbolic link",
        Ok(m) if m.is_dir() => "a directory",
        Ok(_) => "a device, pipe or socket",
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
    };
    bail!("cannot write {}: it is {kind}, not a regular file; name a new or a regular file", path.display())
}

/// Removes this user's temporary exports older than [`STALE_AFTER`] from `dir`, left by runs
/// killed outright (SIGKILL, power loss). Best effort: an old file that cannot be removed does
/// not stop a new export.
fn sweep_stale_exports(dir: &Path) {
    let me = rustix::process::geteuid().as_raw();
    let stale = |m: &fs::Metadata| {
        m.is_file() && m.uid() == me && m.modified().is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE_AFTER))
    };
    let ours = |name: &str| {
        name.strip_prefix(TEMP_PREFIX)
            .is_some_and(|random| random.len() == TEMP_RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let ours = entry.file_name().to_str().is_some_and(ours);
        // DirEntry::metadata does not follow symlinks: only the user's own plain files go.
        if ours && entry.metadata().is_ok_and(|m| stale(&m)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Temporary export files being written, for the interrupt handler to remove: they hold
/// account records.
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary export file's place in [`IN_FLIGHT`], for as long as the file lives.
pub struct InFlight(PathBuf);

impl InFlight {
    fn track(path: &Path) -> Result<InFlight> {
        remove_exports_on_interrupt()?;
        in_flight().push(path.to_owned());
        Ok(InFlight(path.to_owned()))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        in_flight().retain(|p| p != &self.0);
    }
}

fn in_flight() -> MutexGuard<'static, Vec<PathBuf>> {
    IN_FLIGHT.lock().unwrap_or_else(PoisonError::into_inner)
}

/// From the first file export on, a thread waits for SIGINT or SIGTERM, removes the temporary
/// export files, and exits with 128 + the signal's number (130, 143), as shells report it.
/// Handling the signal on a thread, not in the handler, lets it take the lock safely.
fn remove_exports_on_interrupt() -> Result<()> {
    static WATCHING: OnceLock<Result<(), String>> = OnceLock::new();
    let watching = WATCHING.get_or_init(|| {
        let mut signals = Signals::new([SIGINT, SIGTERM]).map_err(|e| e.to_string())?;
        let watcher = move || {
            if let Some(signal) = signals.forever().next() {
                let files = in_flight();
                for file in files.iter() {
                    let _ = fs::remove_file(file);
                }
                std::process::exit(128 + signal);
            }
        };
        std::thread::Builder::new().name("gtm-interrupts".into()).spawn(watcher).map(drop).map_err(|e| e.to_string())
    });
    watching.clone().map_err(|e| anyhow::anyhow!("cannot watch for interrupts to clean up exports: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn records() -> Vec<Record> {
        vec![
            vec![("key", json!("1")), ("roles", json!(["A", "B"])), ("name", json!(null))],
            vec![("key", json!("2")), ("roles", json!([])), ("name", json!("x,y"))],
        ]
    }

    fn render(format: Format, records: Vec<Record>) -> String {
        let mut w = RecordWriter::new(format, Vec::new()).unwrap();
        for r in records {
            w.write(r).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn each_format_renders_the_same_records() {
        assert_eq!(
            render(Format::Jsonl, records()),
            "{\"key\":\"1\",\"roles\":[\"A\",\"B\"],\"name\":null}\n{\"key\":\"2\",\"roles\":[],\"name\":\"x,y\"}\n"
        );
        let json: Value = serde_json::from_str(&render(Format::Json, records())).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 2);
        assert_eq!(render(Format::Csv, records()), "key,roles,name\n1,A;B,\n2,,\"x,y\"\n");
        assert_eq!(render(Format::Json, vec![]), "[]\n");
        for record in records() {
            let object = serde_json::to_string(&to_object(record.clone())).unwrap();
            assert_eq!(serde_json::to_string(&AsObject::new(&record)).unwrap(), object, "the same object, unbuilt");
            let mut keyless = to_object(record.clone());
            keyless.as_object_mut().unwrap().remove("key");
            assert_eq!(serde_json::to_value(AsObject::without(&record, "key")).unwrap(), keyless);
        }
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_are_neutralised_and_quoted() {
        let record = |name: &str| vec![("key", json!("1")), ("name", json!(name)), ("roles", json!(["-x", "A"]))];
        let rows: Vec<Record> =
            ["=HYPERLINK(\"http://x\",\"y\")", "@SUM(1)", "-2+3", "+1", "\tx", "\rx", "O'Brien", "a=b"]
                .into_iter()
                .map(record)
                .collect();
        let csv = render(Format::Csv, rows);
        let lines: Vec<&str> = csv.split('\n').collect();
        assert_eq!(
            lines[1..9],
            [
                "1,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",\"'-x;A\"",
                "1,\"'@SUM(1)\",\"'-x;A\"",
                "1,\"'-2+3\",\"'-x;A\"",
                "1,\"'+1\",\"'-x;A\"",
                "1,\"'\tx\",\"'-x;A\"",
                "1,\"'\rx\",\"'-x;A\"",
                "1,\"O'Brien\",\"'-x;A\"",
                "1,a=b,\"'-x;A\"",
            ]
        );
        let jsonl = render(Format::Jsonl, vec![record("@SUM(1)")]);
        assert!(jsonl.contains("\"name\":\"@SUM(1)\""), "JSON is data, not a spreadsheet: {jsonl}");
    }

    #[test]
    fn a_file_export_appears_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut export = Export::to_file(Format::Jsonl, &path).unwrap();
        export.write(records().remove(0)).unwrap();
        drop(export);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        let mut export = Export::to_file(Format::Jsonl, &path).unwrap();
        export.write(records().remove(0)).unwrap();
        export.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"key\":\"1\",\"roles\":[\"A\",\"B\"],\"name\":null}\n");
        assert!(Export::to_file(Format::Jsonl, &dir.path().join("missing/out")).is_err());
    }

    #[test]
    fn a_target_that_is_not_a_regular_file_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere.jsonl");
        fs::write(&elsewhere, "kept\n").unwrap();
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        let subdir = dir.path().join("subdir");
        fs::create_dir(&subdir).unwrap();
        let targets =
            [(link.as_path(), "a symbolic link"), (&subdir, "a directory"), (Path::new("/dev/null"), "a device")];
        for (target, kind) in targets {
            let err = Export::to_file(Format::Jsonl, target).err().unwrap();
            assert!(err.to_string().contains(&format!("it is {kind}")), "{err}");
        }
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&elsewhere).unwrap(), "kept\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3, "no temporary file was made");
    }

    #[test]
    fn stale_temporary_exports_are_swept_and_fresh_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let two_days_ago = std::time::SystemTime::now() - 2 * STALE_AFTER;
        let make = |name: &str| {
            let file = fs::File::create(dir.path().join(name)).unwrap();
            file.set_modified(two_days_ago).unwrap();
        };
        make(".gtm-export-St4le0ne2Day");
        make("report.jsonl");
        // The user's own files that merely share the prefix are not ours to remove.
        make(".gtm-export-notes.txt");
        make(".gtm-export-settings");
        fs::File::create(dir.path().join(".gtm-export-Fre5hFre5h00")).unwrap();
        std::os::unix::fs::symlink("/nonexistent", dir.path().join(".gtm-export-L1nkL1nkL1nk")).unwrap();
        let names = || {
            let mut names: Vec<String> =
                fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
            names.sort();
            names
        };
        let export = Export::to_file(Format::Jsonl, &dir.path().join("out.jsonl")).unwrap();
        drop(export);
        assert_eq!(
            names(),
            [
                ".gtm-export-Fre5hFre5h00",
                ".gtm-export-L1nkL1nkL1nk",
                ".gtm-export-notes.txt",
                ".gtm-export-settings",
                "report.jsonl"
            ]
        );
    }

    #[test]
    fn a_target_that_became_a_link_while_the_export_ran_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere.jsonl");
        fs::write(&elsewhere, "kept\n").unwrap();
        let path = dir.path().join("out.jsonl");
        let mut export = Export::to_file(Format::Jsonl, &path).unwrap();
        export.write(records().remove(0)).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        let err = export.finish().unwrap_err();
        assert!(err.to_string().contains("it is a symbolic link"), "{err}");
        assert!(fs::symlink_metadata(&path).unwrap().file_type().is_symlink(), "the link is not replaced");
        assert_eq!(fs::read_to_string(&elsewhere).unwrap(), "kept\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "and the temporary file is gone");
    }
}
