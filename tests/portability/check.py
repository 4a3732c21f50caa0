"""Portability check: runs the connector component under wasmtime-py instead of the Rust host.

    python check.py <component.wasm>

The Python twin of check.mjs: the same calls, the same expectations, the same JSON summary on
stdout; exits 1 with a message on stderr on any error or broken expectation. Settings and secrets
come from the environment or a JSON file (see host.py). tests/e2e/tests/suite/portability.rs
runs it against the simulator and compares the summary with the simulator's data and the Rust
host's answers.
"""

import json
import sys
import time

from wasmtime import Engine, Store, WasiConfig, WasmtimeError
from wasmtime.component import Component, Record, Variant

from host import Host

# Small pages so that the cursor loop runs several times on a few hundred users / six groups.
ACCOUNT_PAGE_SIZE = 25
ENTITLEMENT_PAGE_SIZE = 4
# A guard against a cursor that never ends: no test world is anywhere near this many pages.
MAX_PAGES = 10_000
# All digits, so it passes the key syntax check and reaches GoTo, which answers 404.
MISSING_KEY = "9" * 19
CONNECTOR = "iga:gotomeeting/connector@0.1.0"


class Mismatch(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Mismatch(message)


def record(**fields):
    """A WIT record for wasmtime-py: fields by their WIT names (`page_size` -> `page-size`)."""
    value = Record()
    for name, field in fields.items():
        setattr(value, name.replace("_", "-"), field)
    return value


def get(value, name):
    """A field of a lifted record, by its WIT name."""
    return getattr(value, name)


def plain(value):
    """Lifted values as JSON-ready data, for messages and the summary."""
    if isinstance(value, Record):
        return {k: plain(v) for k, v in vars(value).items()}
    if isinstance(value, Variant):
        return {"tag": value.tag, "val": plain(value.payload)}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class Connector:
    """The component's `connector` export, instantiated in its own store."""

    def __init__(self, path, host):
        engine = Engine()
        self.store = Store(engine)
        # No preopened dirs, inherited env or args: the component gets only what WIT gives it.
        self.store.set_wasi(WasiConfig())
        self.store.set_wasi_http()
        component = Component.from_file(engine, path)
        self.instance = host.link(engine).instantiate(self.store, component)
        self.interface = self.instance.get_export_index(self.store, CONNECTOR)
        expect(self.interface is not None, f"the component exports no {CONNECTOR}")

    def call(self, what, name, *args):
        """Calls an export returning `result<T, connector-error>`: ({"ok": T} | {"err": variant}).

        wasmtime-py returns such a result untagged (T is never a variant here): a Variant is the
        error; a raised WasmtimeError is a trap.
        """
        index = self.instance.get_export_index(self.store, name, self.interface)
        expect(index is not None, f"{CONNECTOR} exports no {name}")
        func = self.instance.get_func(self.store, index)
        try:
            result = func(self.store, *args)
        except WasmtimeError as e:
            raise Mismatch(f"{what} trapped: {e}") from e
        if isinstance(result, Variant):
            return {"err": result}
        return {"ok": result}

    def ok(self, what, name, *args):
        result = self.call(what, name, *args)
        expect("ok" in result, f"{what} failed: {json.dumps(plain(result.get('err')))}")
        return result["ok"]

    def error_of(self, what, expected_tag, name, *args):
        result = self.call(what, name, *args)
        expect("err" in result, f"{what} succeeded; expected {expected_tag}: {json.dumps(plain(result.get('ok')))}")
        err = result["err"]
        expect(err.tag == expected_tag, f"{what}: expected {expected_tag}, got {json.dumps(plain(err))}")
        message = get(err.payload, "message") if isinstance(err.payload, Record) else None
        return {"tag": err.tag, "message": message}


def read_all(what, page_size, items_field, read_page):
    """Follows `next-cursor` until none, checking each page against the totals it reports.

    `read_page(label, cursor)` reads one page.
    """
    items, cursor, pages, total = [], None, 0, None
    while True:
        pages += 1
        expect(pages <= MAX_PAGES, f"{what}: more than {MAX_PAGES} pages; is next-cursor stuck?")
        page = read_page(f"{what} page {pages}", cursor)
        batch = get(page, items_field)
        expect(page_size is None or len(batch) <= page_size,
               f"{what}: page {pages} has {len(batch)} items, asked for {page_size}")
        if total is None:
            total = get(page, "total")
        expect(get(page, "total") == total, f"{what}: total changed from {total} to {get(page, 'total')} on page {pages}")
        items.extend(batch)
        cursor = get(page, "next-cursor")
        if cursor is None:
            break
    expect(len(items) == total, f"{what}: read {len(items)} items but GoTo reported {total}")
    return items, pages


def main(argv):
    expect(len(argv) == 2, "usage: python check.py <component.wasm>")
    host = Host.from_environment()
    expect("api-base" in host.settings, "no api-base setting: set GTM_SETTING_API_BASE or GTM_HOST_CONFIG")

    started = time.monotonic()
    connector = Connector(argv[1], host)
    loaded_ms = round((time.monotonic() - started) * 1000)

    connection = connector.ok("test-connection", "test-connection")
    expect(get(connection, "account-key"), "test-connection returned an empty account key")
    expect("access-token" in host.secret_writes, "the component did not store the access token via set-secret")

    accounts, account_pages = read_all(
        "list-accounts", ACCOUNT_PAGE_SIZE, "accounts",
        lambda label, cursor: connector.ok(
            label, "list-accounts", record(filter=None, page_size=ACCOUNT_PAGE_SIZE, cursor=cursor)))
    keys = [get(a, "key") for a in accounts]
    expect(len(set(keys)) == len(keys), "list-accounts returned a key twice")

    entitlements = {}
    for kind in ["group", "license", "admin-role"]:
        # Admin roles are one page by contract (counted over all users), so no page size there.
        page_size = None if kind == "admin-role" else ENTITLEMENT_PAGE_SIZE
        items, pages = read_all(
            f"list-entitlements {kind}", page_size, "entitlements",
            lambda label, cursor: connector.ok(
                label, "list-entitlements", kind, record(page_size=page_size, cursor=cursor)))
        for e in items:
            ref, details = get(e, "id"), get(e, "details")
            # The WIT promises the details case always matches the kind.
            expect(get(ref, "kind") == kind and details.tag == kind,
                   f"{kind} {get(ref, 'key')}: kind {get(ref, 'kind')}, details {details.tag}")
        entitlements[kind] = {"count": len(items), "pages": pages, "keys": [get(get(e, "id"), "key") for e in items]}

    expect(keys, "no accounts to read back with get-account")
    listed = accounts[len(keys) // 2]
    fetched = connector.ok("get-account", "get-account", get(listed, "key"))
    expect(get(fetched, "key") == get(listed, "key") and get(fetched, "email") == get(listed, "email"),
           f"get-account {get(listed, 'key')} returned {get(fetched, 'key')} <{get(fetched, 'email')}>, "
           f"listed as <{get(listed, 'email')}>")

    connector.ok("check-configuration", "check-configuration")
    # Writes run as dry runs only: the plan comes back and nothing reaches GoTo.
    dry_run = record(dry_run=True)
    role = next(r for r in ["RUN_REPORTS", "MANAGE_SETTINGS", "MANAGE_GROUPS"] if r not in get(fetched, "admin-roles"))
    planned = connector.ok("add-access (dry run)", "add-access", get(fetched, "key"),
                           record(kind="admin-role", key=role), dry_run)
    calls = get(planned, "calls")
    expect(get(planned, "changed") and len(calls) == 1, f"add-access planned {json.dumps(plain(planned))}")
    # The delete-mode variant and the outcome's kept list cross wasmtime-py as the WIT says.
    # `delete-mode`'s cases (a record, nothing) share no Python type, so it is passed untagged.
    admin = next((a for a in accounts if get(a, "admin-roles")), None)
    expect(admin is not None, "no account with an admin role to plan a deprovision of")
    narrowed = connector.ok("delete-account deprovision keeping roles (dry run)", "delete-account", get(admin, "key"),
                            record(keep_roles=True, keep_group=False), dry_run)
    kept_roles = [get(k, "key") for k in get(narrowed, "kept") if get(k, "kind") == "admin-role"]
    expect(kept_roles == get(admin, "admin-roles"),
           f"a deprovision keeping roles kept {json.dumps(plain(get(narrowed, 'kept')))}, "
           f"the account holds {get(admin, 'admin-roles')}")

    errors = {
        "notFound": connector.error_of("get-account of a missing key", "not-found", "get-account", MISSING_KEY),
        "invalidInput": connector.error_of(
            "create-account with a bad email", "invalid-input", "create-account",
            record(fields=record(email="not-an-email", first_name="A", last_name="B", locale=None, time_zone=None),
                   identity=[], entitlements=[]),
            dry_run),
    }

    return {
        "connection": {"accountKey": get(connection, "account-key"), "principal": get(connection, "principal"),
                       "adminRoles": get(connection, "admin-roles")},
        "accounts": {"count": len(keys), "pages": account_pages, "pageSize": ACCOUNT_PAGE_SIZE, "keys": keys},
        "entitlements": entitlements,
        "getAccount": {"key": get(fetched, "key"), "email": get(fetched, "email"), "status": get(fetched, "status").tag},
        "dryRun": {"accountKey": get(planned, "account-key"), "role": role, "method": get(calls[0], "method"),
                   "path": get(calls[0], "path")},
        "errors": errors,
        "host": {"secretWrites": host.secret_writes, "logs": host.log_counts},
        "timingsMs": {"load": loaded_ms, "calls": round((time.monotonic() - started) * 1000) - loaded_ms},
    }


if __name__ == "__main__":
    try:
        summary = main(sys.argv)
    except (Mismatch, WasmtimeError, OSError) as e:
        # A component that fails to load or link is a failed check, not a Python traceback.
        print(f"portability check FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(summary))
