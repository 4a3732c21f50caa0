//! `create`, `update`, `delete`, `grant`, `revoke`, `apply` and `retry`: writes through the
//! component, each reported as one JSON result (a plan, with `--dry-run`). A write that fails for
//! a transient cause is kept in the profile's retry queue, which `retry` runs.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use anyhow::{Context as _, Result, anyhow};
use gtm_state::{Failure, QueueId, Store};
use serde_json::{Value, json};

use super::confirm;
use super::import::check;
use super::operations::{Access, Operation};
use super::output::kind_name;
use super::reconcile::open_state;
use super::{Context, bad_input, shown};
use crate::log::Logger;
use crate::runtime::{
    AccessChange, AccountChanges, AccountFilter, AccountQuery, CallError, Connection, ConnectorError, EntitlementRef,
    NewAccount, WriteOptions, WriteOutcome,
};

/// Runs one operation given on the command line and prints its result.
pub fn single(ctx: &mut Context<'_>, op: &Operation, dry_run: bool) -> Result<()> {
    let mut conn = ctx.connect()?;
    check(&mut conn)?;
    let report = execute(&mut conn, op, WriteOptions { dry_run });
    writeln!(ctx.stdout, "{}", serde_json::to_string_pretty(&report.to_json(None))?)?;
    let mut queue = RetryQueue::new(ctx, dry_run)?;
    if let Err(e) = queue.keep_if_transient(op, &report) {
        ctx.log.say(format_args!("error: the operation failed and could not be queued: {e:#}"));
    }
    queue.say_queued(&ctx.log);
    report.result.map(drop).map_err(OpError::into_anyhow)
}

/// Runs every operation of a JSON Lines file (or stdin for `-`), one result line each, in input
/// order; a failed operation does not stop the ones after it. With `concurrency` above one, that
/// many instances carry operations out at once; operations naming the same account go to the
/// same instance, so they keep their file order. Hard deletes need `yes` unless `dry_run`.
pub fn apply(ctx: &mut Context<'_>, file: &Path, concurrency: usize, dry_run: bool, yes: bool) -> Result<()> {
    // The file is opened before connecting, so a wrong path costs nothing.
    let input: Option<File> = match file.to_str() {
        Some("-") => None,
        _ => Some(open_operations(file).map_err(bad_input)?),
    };
    // A dry run writes nothing, so it has nothing to confirm.
    let input = if dry_run || yes { input } else { Some(confirm::apply_input(input, &mut *ctx.stdin)?) };
    let input = input.map(BufReader::new);
    let mut conn = ctx.connect()?;
    check(&mut conn)?;
    let options = WriteOptions { dry_run };
    let mut queue = RetryQueue::new(ctx, dry_run)?;
    let siblings = (1..concurrency).map(|_| conn.sibling()).collect::<Result<Vec<_>>>()?;
    let connections: Vec<Connection> = std::iter::once(conn).chain(siblings).collect();
    let mut lines: Box<dyn BufRead + '_> = match input {
        Some(reader) => Box::new(reader),
        None => Box::new(BufReader::new(&mut *ctx.stdin)),
    };
    let log = ctx.log.clone();
    let stdout = &mut *ctx.stdout;
    let (mut total, mut failed, mut unqueued) = (0usize, 0usize, 0usize);
    // Each finished line in input order: its result is printed, and a transient failure queued.
    let mut finish = |number: usize, op: Option<&Operation>, report: Report| -> Result<()> {
        if let Some(op) = op
            && let Err(e) = queue.keep_if_transient(op, &report)
        {
            // The result line is still printed; the queue's failure is counted and named.
            unqueued += 1;
            log.say(format_args!("error: line {number} failed and could not be queued: {e:#}"));
        }
        total += 1;
        failed += usize::from(report.result.is_err());
        writeln!(stdout, "{}", serde_json::to_string(&report.to_json(Some(At::Line(number))))?)?;
        stdout.flush()?;
        Ok(())
    };
    std::thread::scope(|scope| -> Result<()> {
        let mut pool = Pool::start(scope, connections, options);
        let mut buffer = Vec::new();
        for number in 1.. {
            let Some(line) =
                next_line(&mut *lines, &mut buffer, number).with_context(|| format!("reading line {number}"))?
            else {
                break;
            };
            let parsed = match line {
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => Operation::parse(text, number),
                Err(unreadable) => Err(unreadable),
            };
            pool.submit(number, parsed.map_err(|e| Report::unreadable(e, dry_run)))?;
            while let Some((number, op, report)) = pool.next_in_order(false)? {
                finish(number, op.as_ref(), report)?;
            }
        }
        while let Some((number, op, report)) = pool.next_in_order(true)? {
            finish(number, op.as_ref(), report)?;
        }
        Ok(())
    })?;
    queue.say_queued(&ctx.log);
    if unqueued > 0 {
        return Err(anyhow!(
            "{failed} of {total} operations failed, and {unqueued} of those could not be kept for `retry`"
        ));
    }
    summary(&ctx.log, dry_run, failed, total)
}

/// A line's work: an operation to carry out, or a report already made (a line that could not
/// be read).
type Work = Result<Operation, Report>;

/// A finished line: its number, its operation (if it had one) and its report.
type Finished = (usize, Option<Operation>, Report);

/// The instances `apply` carries operations out on, each on its own thread, and the results
/// put back in input order.
struct Pool {
    senders: Vec<mpsc::Sender<(usize, Operation)>>,
    results: mpsc::Receiver<Finished>,
    /// Finished lines not yet handed on, by line number.
    waiting: BTreeMap<usize, Finished>,
    /// Line numbers submitted and not yet handed on, in order.
    order: VecDeque<usize>,
}

impl Pool {
    /// Lines kept in flight or waiting per instance: bounds memory, keeps every instance busy.
    const WINDOW_PER_INSTANCE: usize = 4;

    fn start<'s>(scope: &'s std::thread::Scope<'s, '_>, connections: Vec<Connection>, options: WriteOptions) -> Pool {
        let (done, results) = mpsc::channel();
        let senders = connections
            .into_iter()
            .map(|mut conn| {
                let (send, work) = mpsc::channel::<(usize, Operation)>();
                let done = done.clone();
                scope.spawn(move || {
                    for (number, op) in work {
                        let report = execute(&mut conn, &op, options);
                        if done.send((number, Some(op), report)).is_err() {
                            return;
                        }
                    }
                });
                send
            })
            .collect();
        Pool { senders, results, waiting: BTreeMap::new(), order: VecDeque::new() }
    }

    /// Hands line `number`'s work to the instance its account belongs to.
    fn submit(&mut self, number: usize, work: Work) -> Result<()> {
        self.order.push_back(number);
        match work {
            Err(report) => {
                self.waiting.insert(number, (number, None, report));
            }
            Ok(op) => {
                let instance = instance_for(op.account(), self.senders.len());
                // An instance stops early only if its thread panicked.
                self.senders[instance].send((number, op)).map_err(|_| Pool::stopped(number))?;
            }
        }
        Ok(())
    }

    /// The next line in input order once it is finished. Waits for it when `all` (the input
    /// has ended) or when the window is full; otherwise only hands on what is already there.
    fn next_in_order(&mut self, all: bool) -> Result<Option<Finished>> {
        let Some(&next) = self.order.front() else { return Ok(None) };
        let full = self.order.len() >= self.senders.len() * Self::WINDOW_PER_INSTANCE;
        while !self.waiting.contains_key(&next) {
            let finished = if all || full {
                self.results.recv().map_err(|_| Pool::stopped(next))?
            } else {
                match self.results.try_recv() {
                    Ok(finished) => finished,
                    Err(mpsc::TryRecvError::Empty) => return Ok(None),
                    Err(mpsc::TryRecvError::Disconnected) => return Err(Pool::stopped(next)),
                }
            };
            self.waiting.insert(finished.0, finished);
        }
        self.order.pop_front();
        Ok(self.waiting.remove(&next))
    }

    fn stopped(line: usize) -> anyhow::Error {
        anyhow!("the instances carrying out operations stopped before line {line} was done")
    }
}

/// The instance for operations naming `account`: the same one for the same account, so that
/// they keep their file order; an account named by key and by email may go to two.
///
/// The hash is 64-bit FNV-1a of the lowercased name, fixed by its definition: std's hasher may
/// change between Rust releases, and a batch should be routed the same way by every build.
fn instance_for(account: Option<&str>, instances: usize) -> usize {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let name = account.map(str::to_lowercase).unwrap_or_default();
    let hash = name.bytes().fold(OFFSET, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME));
    (hash % instances as u64) as usize
}

/// Runs the operations of the retry queue in the order queued. What succeeds or fails for good
/// leaves the queue; what fails for a transient cause again stays, with one more attempt.
pub fn retry(ctx: &mut Context<'_>, dry_run: bool) -> Result<()> {
    let path = ctx.paths()?.state_file(ctx.profile_name());
    // No state yet: nothing was ever queued, and none is created just to say so.
    let mut store = if path.exists() { Some(Store::open(&path)?) } else { None };
    let queued = store.as_ref().map(Store::queue).transpose()?.unwrap_or_default();
    let Some(store) = store.as_mut().filter(|_| !queued.is_empty()) else {
        ctx.log.note("the retry queue is empty; nothing to retry");
        return Ok(());
    };
    let mut conn = ctx.connect()?;
    check(&mut conn)?;
    let options = WriteOptions { dry_run };
    let (total, mut failed, mut kept) = (queued.len(), 0usize, 0usize);
    for entry in queued {
        let report = match Operation::from_value(entry.operation.clone()) {
            Ok(op) => execute(&mut conn, &op, options),
            // A queue written by another version may hold what this one cannot read: a permanent failure.
            Err(e) => Report::unreadable(format!("queued operation {}: {e}", entry.id), dry_run),
        };
        failed += usize::from(report.result.is_err());
        writeln!(ctx.stdout, "{}", serde_json::to_string(&report.to_json(Some(At::Queued(entry.id))))?)?;
        ctx.stdout.flush()?;
        if dry_run {
            continue;
        }
        match report.transient_failure() {
            Some(failure) => {
                store.record_failure(entry.id, &failure)?;
                kept += 1;
            }
            None => store.dequeue(entry.id)?,
        }
    }
    match kept {
        0 => {}
        1 => ctx.log.say("1 operation failed for a transient cause again and stays queued"),
        n => ctx.log.say(format_args!("{n} operations failed for a transient cause again and stay queued")),
    }
    summary(&ctx.log, dry_run, failed, total)
}

/// The end of a batch: a count on success, an error (exit 1) if any operation failed.
fn summary(log: &Logger, dry_run: bool, failed: usize, total: usize) -> Result<()> {
    match failed {
        0 => {
            let verb = if dry_run { "planned" } else { "applied" };
            log.note(format_args!("{verb} {total} operations"));
            Ok(())
        }
        _ => Err(anyhow!("{failed} of {total} operations failed; their result lines say why")),
    }
}

/// The profile's retry queue, as the write commands fill it: opened (and the state created) at
/// the first transient failure, so a run where none happens does not touch the state. Dry runs
/// never queue.
struct RetryQueue {
    path: PathBuf,
    dry_run: bool,
    store: Option<Store>,
    queued: usize,
    profile_flag: String,
}

impl RetryQueue {
    fn new(ctx: &Context<'_>, dry_run: bool) -> Result<RetryQueue> {
        let path = ctx.paths()?.state_file(ctx.profile_name());
        Ok(RetryQueue { path, dry_run, store: None, queued: 0, profile_flag: ctx.profile_flag() })
    }

    /// Keeps `op` for `retry` if `report` says it failed for a transient cause.
    fn keep_if_transient(&mut self, op: &Operation, report: &Report) -> Result<()> {
        let Some(failure) = report.transient_failure().filter(|_| !self.dry_run) else {
            return Ok(());
        };
        let store = match &mut self.store {
            Some(store) => store,
            None => self.store.insert(open_state(&self.path)?),
        };
        // The line `apply` would read, as the queue keeps it.
        let line = serde_json::to_value(op).context("writing an operation as JSON")?;
        store.enqueue(&line, &failure)?;
        self.queued += 1;
        Ok(())
    }

    /// Says once what was queued and how to run it.
    fn say_queued(&self, log: &Logger) {
        let what = match self.queued {
            0 => return,
            1 => "1 operation failed for a transient cause and was queued".to_owned(),
            n => format!("{n} operations failed for a transient cause and were queued"),
        };
        log.say(format_args!("{what}; run `gtm-connector{} retry`", self.profile_flag));
    }
}

/// Opens an `apply` file; a directory opens but cannot be read, so it is refused here.
fn open_operations(file: &Path) -> Result<File> {
    let name = shown(file).display().to_string();
    let opened = File::open(file).with_context(|| format!("cannot open {name}"))?;
    if opened.metadata().with_context(|| format!("cannot read {name}"))?.is_dir() {
        anyhow::bail!("cannot read {name}: it is a directory, not a file of operations");
    }
    Ok(opened)
}

/// The longest `apply` line read; a longer one is skipped, in bounded memory, as a failed line.
const MAX_LINE_BYTES: usize = 1 << 20;

/// Reads line `number` into `buffer`, without its newline: none at the end of the input, an
/// error message for a line that is too long or not UTF-8 (the input then stands at the next
/// line, so the file carries on).
pub(super) fn next_line<'b>(
    input: &mut dyn BufRead,
    buffer: &'b mut Vec<u8>,
    number: usize,
) -> std::io::Result<Option<Result<&'b str, String>>> {
    buffer.clear();
    if (&mut *input).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', buffer)? == 0 {
        return Ok(None);
    }
    if buffer.last() == Some(&b'\n') {
        buffer.pop();
    } else if buffer.len() > MAX_LINE_BYTES {
        input.skip_until(b'\n')?;
        let limit = MAX_LINE_BYTES >> 20;
        return Ok(Some(Err(format!("line {number} is longer than {limit} MiB, the limit for one operation"))));
    }
    Ok(Some(
        std::str::from_utf8(buffer).map_err(|e| {
            format!("line {number} is not valid UTF-8 (column {} is not a character)", e.valid_up_to() + 1)
        }),
    ))
}

/// Where a result line's operation came from.
#[derive(Debug, Clone, Copy)]
enum At {
    /// A line of an `apply` file.
    Line(usize),
    /// An entry of the retry queue.
    Queued(QueueId),
}

/// What became of one operation.
struct Report {
    op: &'static str,
    /// The account as the operation named it (key or email).
    account: Option<String>,
    dry_run: bool,
    result: Result<Done, OpError>,
}

struct Done {
    status: Status,
    outcome: WriteOutcome,
}

#[derive(Debug, Clone, Copy)]
enum Status {
    Created,
    /// A create found the email taken and linked to that account instead.
    Exists,
    Changed,
    Unchanged,
    /// A dry run that would write.
    Planned,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Exists => "exists",
            Status::Changed => "changed",
            Status::Unchanged => "unchanged",
            Status::Planned => "planned",
        }
    }
}

#[derive(Debug)]
enum OpError {
    Call(CallError),
    /// The operation as written cannot be carried out: not an operation, a missing choice.
    Invalid(String),
    /// No account has the email the operation named.
    NoSuchAccount(String),
}

impl OpError {
    fn kind(&self) -> &'static str {
        match self {
            OpError::Call(CallError::Connector(e)) => match e {
                ConnectorError::NotFound(_) => "not-found",
                ConnectorError::AlreadyExists(_) => "already-exists",
                ConnectorError::Conflict(_) => "conflict",
                ConnectorError::InvalidInput(_) => "invalid-input",
                ConnectorError::Unauthorized(_) => "unauthorized",
                ConnectorError::Forbidden(_) => "forbidden",
                ConnectorError::RateLimited(_) => "rate-limited",
                ConnectorError::Remote(_) => "remote",
                ConnectorError::Transport(_) => "transport",
                ConnectorError::Config(_) => "config",
                ConnectorError::Unsupported(_) => "unsupported",
            },
            OpError::Call(CallError::Trap(_)) => "connector-stopped",
            OpError::Invalid(_) => "invalid-operation",
            OpError::NoSuchAccount(_) => "not-found",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            OpError::Call(CallError::Connector(
                ConnectorError::NotFound(i)
                | ConnectorError::Conflict(i)
                | ConnectorError::InvalidInput(i)
                | ConnectorError::Config(i),
            )) => i.field.as_deref(),
            OpError::NoSuchAccount(_) => Some("account"),
            _ => None,
        }
    }

    fn message(&self) -> String {
        match self {
            OpError::Call(e) => e.to_string(),
            OpError::Invalid(message) => format!("not a valid operation: {message}"),
            OpError::NoSuchAccount(email) => format!("no GoTo account has the email {email}"),
        }
    }

    /// Whether trying again later may succeed: GoTo throttled past the connector's retries,
    /// answered with a server error, or could not be reached. Nothing else is ever queued.
    fn is_transient(&self) -> bool {
        match self {
            OpError::Call(CallError::Connector(e)) => match e {
                ConnectorError::RateLimited(_) | ConnectorError::Transport(_) => true,
                ConnectorError::Remote(failure) => failure.status >= 500,
                _ => false,
            },
            _ => false,
        }
    }

    /// As an error for the CLI, keeping what decides the exit status.
    fn into_anyhow(self) -> anyhow::Error {
        match self {
            OpError::Call(e) => e.into(),
            OpError::Invalid(message) => bad_input(anyhow!(message)),
            other => anyhow!(other.message()),
        }
    }
}

impl Report {
    fn unreadable(message: String, dry_run: bool) -> Report {
        Report { op: "unknown", account: None, dry_run, result: Err(OpError::Invalid(message)) }
    }

    /// The failure to keep in the retry queue, if the operation failed for a transient cause.
    fn transient_failure(&self) -> Option<Failure> {
        match &self.result {
            Err(e) if e.is_transient() => Some(Failure { kind: e.kind().to_owned(), message: e.message() }),
            _ => None,
        }
    }

    fn to_json(&self, at: Option<At>) -> Value {
        let mut record = serde_json::Map::new();
        match at {
            Some(At::Line(line)) => record.insert("line".into(), json!(line)),
            Some(At::Queued(id)) => record.insert("queued".into(), json!(id)),
            None => None,
        };
        record.insert("op".into(), json!(self.op));
        record.insert("account".into(), json!(self.account));
        record.insert("dry-run".into(), json!(self.dry_run));
        match &self.result {
            Ok(done) => {
                let o = &done.outcome;
                record.insert("status".into(), json!(done.status.name()));
                record.insert("account-key".into(), json!(o.account_key));
                let entitlement = |r: &EntitlementRef| json!({"kind": kind_name(r.kind), "key": r.key});
                record.insert("replaced".into(), json!(o.replaced.as_ref().map(entitlement)));
                record.insert("kept".into(), Value::Array(o.kept.iter().map(entitlement).collect()));
                let calls: Vec<Value> =
                    o.calls.iter().map(|c| json!({"method": c.method, "path": c.path, "summary": c.summary})).collect();
                record.insert("calls".into(), json!(calls));
                let seats: Vec<Value> = o
                    .seat_impact
                    .iter()
                    .map(|s| {
                        json!({"license-key": s.license_key, "used-before": s.used_before,
                               "used-after": s.used_after, "seats": s.seats})
                    })
                    .collect();
                record.insert("seat-impact".into(), json!(seats));
            }
            Err(e) => {
                record.insert("status".into(), json!("failed"));
                record.insert("error".into(), json!({"kind": e.kind(), "field": e.field(), "message": e.message()}));
            }
        }
        Value::Object(record)
    }
}

fn execute(conn: &mut Connection, op: &Operation, options: WriteOptions) -> Report {
    let account = op.account().map(str::to_owned);
    let result = carry_out(conn, op, options).map(|(status, outcome)| {
        let status = match status {
            Status::Exists => Status::Exists,
            _ if !outcome.changed => Status::Unchanged,
            _ if options.dry_run => Status::Planned,
            other => other,
        };
        Done { status, outcome }
    });
    Report { op: op.name(), account, dry_run: options.dry_run, result }
}

fn carry_out(conn: &mut Connection, op: &Operation, options: WriteOptions) -> Result<(Status, WriteOutcome), OpError> {
    match op {
        Operation::Create(create) => {
            let account = NewAccount {
                fields: (&create.fields).into(),
                identity: create.identity.identity.clone(),
                entitlements: create.entitlements(),
            };
            match conn.create_account(&account, options) {
                Ok(outcome) => Ok((Status::Created, outcome)),
                // Created before (by an earlier run of the same file, say): link to it and
                // make sure it has the access the operation asks for.
                Err(CallError::Connector(ConnectorError::AlreadyExists(key))) => {
                    let mut outcome = unchanged(Some(key.clone()));
                    for entitlement in &account.entitlements {
                        let granted = conn
                            .change_access(AccessChange::Grant, &key, entitlement, options)
                            .map_err(OpError::Call)?;
                        merge(&mut outcome, granted);
                    }
                    Ok((Status::Exists, outcome))
                }
                Err(e) => Err(OpError::Call(e)),
            }
        }
        Operation::Update(update) => {
            let key = existing(conn, &update.account)?;
            let changes =
                AccountChanges { fields: (&update.fields).into(), identity: update.identity.identity.clone() };
            conn.update_account(&key, &changes, options).map(|o| (Status::Changed, o)).map_err(OpError::Call)
        }
        Operation::Delete(delete) => {
            let mode = delete.mode().map_err(OpError::Invalid)?;
            match resolve(conn, &delete.account)? {
                None => Ok((Status::Unchanged, unchanged(None))),
                Some(key) => {
                    conn.delete_account(&key, mode, options).map(|o| (Status::Changed, o)).map_err(OpError::Call)
                }
            }
        }
        Operation::Grant(access) => change(conn, AccessChange::Grant, access, options),
        Operation::Revoke(access) => change(conn, AccessChange::Revoke, access, options),
    }
}

fn change(
    conn: &mut Connection,
    change: AccessChange,
    access: &Access,
    options: WriteOptions,
) -> Result<(Status, WriteOutcome), OpError> {
    let entitlement = access.entitlement().map_err(OpError::Invalid)?;
    let key = existing(conn, &access.account)?;
    conn.change_access(change, &key, &entitlement, options).map(|o| (Status::Changed, o)).map_err(OpError::Call)
}

/// The key of an account named by key or email, which must exist.
fn existing(conn: &mut Connection, account: &str) -> Result<String, OpError> {
    resolve(conn, account)?.ok_or_else(|| OpError::NoSuchAccount(account.to_owned()))
}

/// The key of an account named by key (taken as is) or by email (looked up); none if no
/// account has the email.
fn resolve(conn: &mut Connection, account: &str) -> Result<Option<String>, OpError> {
    let account = account.trim();
    if !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Some(account.to_owned()));
    }
    if !account.contains('@') {
        return Err(OpError::Invalid(format!("account must be a GoTo key (digits) or an email, got {account:?}")));
    }
    let query = AccountQuery { filter: Some(AccountFilter::Email(account.to_owned())), page_size: None, cursor: None };
    let page = conn.list_accounts(&query).map_err(OpError::Call)?;
    Ok(page.accounts.into_iter().find(|a| a.email.eq_ignore_ascii_case(account)).map(|a| a.key))
}

/// The outcome of an operation that found nothing to do.
fn unchanged(account_key: Option<String>) -> WriteOutcome {
    WriteOutcome {
        account_key,
        changed: false,
        replaced: None,
        kept: Vec::new(),
        calls: Vec::new(),
        seat_impact: Vec::new(),
    }
}

fn merge(into: &mut WriteOutcome, more: WriteOutcome) {
    into.changed |= more.changed;
    into.replaced = into.replaced.take().or(more.replaced);
    into.kept.extend(more.kept);
    into.calls.extend(more.calls);
    into.seat_impact.extend(more.seat_impact);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned values: a change of hash is seen here, not as a batch that routes differently
    /// (the e2e apply test needs par1 and par2 on two instances).
    #[test]
    fn operations_are_routed_by_a_fixed_hash_of_the_lowercased_account() {
        let route = |account: &str| instance_for(Some(account), 4);
        assert_eq!((route("par1@example.com"), route("par2@example.com")), (2, 3));
        assert_eq!(route("PAR1@Example.COM"), route("par1@example.com"), "emails match case-insensitively");
        assert_eq!(instance_for(None, 4), instance_for(Some(""), 4));
        assert_eq!(instance_for(Some("par1@example.com"), 1), 0);
    }
}
