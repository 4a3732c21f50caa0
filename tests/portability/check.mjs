// Portability check: runs the connector component under jco + Node instead of the Rust host.
//
//   node check.mjs <component.wasm>
//
// Settings and secrets come from the environment or a JSON file (see host.mjs). Prints one JSON
// summary on stdout; exits 1 with a message on stderr on any error or broken expectation.
// tests/e2e/tests/suite/portability.rs runs this against the simulator and compares the summary
// with the simulator's data.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { transpile } from "@bytecodealliance/jco";
import * as host from "./host.mjs";

const here = dirname(fileURLToPath(import.meta.url));
// Small pages so that the cursor loop runs several times on a few hundred users / six groups.
const ACCOUNT_PAGE_SIZE = 25;
const ENTITLEMENT_PAGE_SIZE = 4;
// A guard against a cursor that never ends: no test world is anywhere near this many pages.
const MAX_PAGES = 10_000;
// All digits, so it passes the key syntax check and reaches GoTo, which answers 404.
const MISSING_KEY = "9".repeat(19);

class Mismatch extends Error {}
function expect(condition, message) {
  if (!condition) throw new Mismatch(message);
}

/** Transpiles the component into a fresh temp dir and imports it; returns the `connector` export. */
async function load(componentPath) {
  const dir = mkdtempSync(join(tmpdir(), "gtm-portability-"));
  try {
    const { files } = await transpile(readFileSync(componentPath), {
      name: "connector",
      // The custom imports go to our JS host. Mapping to the absolute file URL makes the
      // component and this script share one instance of host.mjs, so we can inspect its state.
      map: {
        "iga:gotomeeting/host": pathToFileURL(join(here, "host.mjs")).href,
        "iga:gotomeeting/templates": pathToFileURL(join(here, "templates.mjs")).href,
      },
      // jco's typings name this `noTypescript`, but the transpiler underneath only reads this.
      emitTypescriptDeclarations: false,
      quiet: true,
    });
    for (const [name, bytes] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
    // The generated code imports `@bytecodealliance/preview2-shim/*` (WASI on Node) by bare
    // name, which Node resolves from the importing file's folder up: point it at our modules.
    symlinkSync(join(here, "node_modules"), join(dir, "node_modules"), "junction");
    // The output is ESM in `.js` files.
    writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
    const module = await import(pathToFileURL(join(dir, "connector.js")).href);
    return module.connector;
  } finally {
    // The import has read the JS and compiled the core wasm (top-level await) by now.
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Calls an export that returns `result<T, connector-error>`. jco returns `ok` and throws `err` as
 * a ComponentError whose `payload` is the variant; anything else thrown is a trap or a JS bug.
 */
function call(what, fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    if (e?.payload?.tag) return { err: e.payload };
    throw new Error(`${what} trapped or threw a non-variant error: ${e?.stack ?? e}`);
  }
}

function ok(what, fn) {
  const result = call(what, fn);
  if (result.err) throw new Mismatch(`${what} failed: ${JSON.stringify(result.err)}`);
  return result.ok;
}

function errorOf(what, expectedTag, fn) {
  const result = call(what, fn);
  expect(result.err, `${what} succeeded; expected ${expectedTag}: ${JSON.stringify(result.ok, bigints)}`);
  expect(result.err.tag === expectedTag, `${what}: expected ${expectedTag}, got ${JSON.stringify(result.err)}`);
  return { tag: result.err.tag, message: result.err.val?.message };
}

/** Follows `next-cursor` until none, checking each page against the totals it reports. */
function readAll(what, pageSize, readPage, itemsOf) {
  const items = [];
  let cursor;
  let pages = 0;
  let total;
  do {
    expect(++pages <= MAX_PAGES, `${what}: more than ${MAX_PAGES} pages; is next-cursor stuck?`);
    const page = ok(`${what} page ${pages}`, () => readPage({ pageSize, cursor }));
    const batch = itemsOf(page);
    expect(pageSize === undefined || batch.length <= pageSize,
      `${what}: page ${pages} has ${batch.length} items, asked for ${pageSize}`);
    total ??= page.total;
    expect(page.total === total, `${what}: total changed from ${total} to ${page.total} on page ${pages}`);
    items.push(...batch);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  expect(BigInt(items.length) === total, `${what}: read ${items.length} items but GoTo reported ${total}`);
  return { items, pages };
}

// JSON.stringify replacer: u64/s64 arrive as BigInt.
function bigints(_key, value) {
  return typeof value === "bigint" ? Number(value) : value;
}

async function main() {
  const componentPath = process.argv[2];
  expect(componentPath, "usage: node check.mjs <component.wasm>");
  expect(host.settings.has("api-base"), "no api-base setting: set GTM_SETTING_API_BASE or GTM_HOST_CONFIG");

  const started = performance.now();
  const connector = await load(componentPath);
  const loadedMs = Math.round(performance.now() - started);

  const connection = ok("test-connection", () => connector.testConnection());
  expect(connection.accountKey, "test-connection returned an empty account key");
  expect(host.secretWrites.includes("access-token"), "the component did not store the access token via set-secret");

  const accounts = readAll("list-accounts", ACCOUNT_PAGE_SIZE, (q) => connector.listAccounts(q), (p) => p.accounts);
  const keys = accounts.items.map((a) => a.key);
  expect(new Set(keys).size === keys.length, "list-accounts returned a key twice");

  const entitlements = {};
  for (const kind of ["group", "license", "admin-role"]) {
    // Admin roles are one page by contract (counted over all users), so no page size there.
    const pageSize = kind === "admin-role" ? undefined : ENTITLEMENT_PAGE_SIZE;
    const all = readAll(`list-entitlements ${kind}`, pageSize,
      (q) => connector.listEntitlements(kind, q), (p) => p.entitlements);
    for (const e of all.items) {
      // The WIT promises the details case always matches the kind.
      expect(e.id.kind === kind && e.details.tag === kind, `${kind} ${e.id.key}: kind ${e.id.kind}, details ${e.details.tag}`);
    }
    entitlements[kind] = { count: all.items.length, pages: all.pages, keys: all.items.map((e) => e.id.key) };
  }

  expect(keys.length > 0, "no accounts to read back with get-account");
  const listed = accounts.items[Math.floor(keys.length / 2)];
  const fetched = ok("get-account", () => connector.getAccount(listed.key));
  expect(fetched.key === listed.key && fetched.email === listed.email,
    `get-account ${listed.key} returned ${fetched.key} <${fetched.email}>, listed as <${listed.email}>`);

  ok("check-configuration", () => connector.checkConfiguration());
  // Writes run as dry runs only: the plan comes back and nothing reaches GoTo.
  const role = ["RUN_REPORTS", "MANAGE_SETTINGS", "MANAGE_GROUPS"].find((r) => !fetched.adminRoles.includes(r));
  const planned = ok("add-access (dry run)", () =>
    connector.addAccess(listed.key, { kind: "admin-role", key: role }, { dryRun: true }));
  expect(planned.changed && planned.calls.length === 1, `add-access planned ${JSON.stringify(planned)}`);
  // The delete-mode variant and the outcome's kept list cross jco as the WIT says.
  const admin = accounts.items.find((a) => a.adminRoles.length > 0);
  expect(admin, "no account with an admin role to plan a deprovision of");
  const narrowed = ok("delete-account deprovision keeping roles (dry run)", () =>
    connector.deleteAccount(admin.key, { tag: "deprovision", val: { keepRoles: true, keepGroup: false } },
      { dryRun: true }));
  const keptRoles = narrowed.kept.filter((k) => k.kind === "admin-role").map((k) => k.key);
  expect(JSON.stringify(keptRoles) === JSON.stringify(admin.adminRoles),
    `a deprovision keeping roles kept ${JSON.stringify(narrowed.kept)}, the account holds ${admin.adminRoles}`);

  const errors = {
    notFound: errorOf("get-account of a missing key", "not-found", () => connector.getAccount(MISSING_KEY)),
    invalidInput: errorOf("create-account with a bad email", "invalid-input", () =>
      connector.createAccount(
        { fields: { email: "not-an-email", firstName: "A", lastName: "B" }, identity: [], entitlements: [] },
        { dryRun: true })),
  };

  return {
    connection: { accountKey: connection.accountKey, principal: connection.principal, adminRoles: connection.adminRoles },
    accounts: { count: keys.length, pages: accounts.pages, pageSize: ACCOUNT_PAGE_SIZE, keys },
    entitlements,
    getAccount: { key: fetched.key, email: fetched.email, status: fetched.status.tag },
    dryRun: { accountKey: planned.accountKey, role, method: planned.calls[0].method, path: planned.calls[0].path },
    errors,
    host: { secretWrites: host.secretWrites, logs: host.logCounts },
    timingsMs: { transpileAndLoad: loadedMs, calls: Math.round(performance.now() - started) - loadedMs },
  };
}

try {
  const summary = await main();
  process.stdout.write(JSON.stringify(summary, bigints) + "\n");
  // Exit explicitly: preview2-shim's HTTP worker thread may otherwise keep Node alive.
  process.exit(0);
} catch (e) {
  process.stderr.write(`portability check FAILED: ${e instanceof Mismatch ? e.message : e?.stack ?? e}\n`);
  process.exit(1);
}
