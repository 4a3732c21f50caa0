"""A minimal Python implementation of the `iga:gotomeeting/host` interface (wit/host.wit) for
wasmtime-py, used by check.py. Settings and secrets live in memory for one run, configured like
host.mjs (the jco host), from:
  GTM_HOST_CONFIG=<file.json>  {"settings": {"api-base": "..."}, "secrets": {"client-id": "..."}}
  GTM_SETTING_<NAME>=value     e.g. GTM_SETTING_API_BASE  -> setting `api-base`
  GTM_SECRET_<NAME>=value      e.g. GTM_SECRET_CLIENT_ID  -> secret `client-id`
Environment variables win over the file, so a caller can override one value.
"""

import json
import os
import sys

from wasmtime.component import Linker, Variant

# The interface's name as the component imports it.
INTERFACE = "iga:gotomeeting/host@0.1.0"
# This minimal host renders no mapping templates nor checks patterns, and says so
# (wit/templates.wit); a host that needs them links the templates component (gtm_templates.wasm)
# for this interface instead.
TEMPLATES = "iga:gotomeeting/templates@0.1.0"
TEMPLATES_REFUSAL = "this host renders no mapping templates: plug in gtm_templates.wasm"


def _wire_name(suffix):
    """`API_BASE` (from GTM_SETTING_API_BASE) -> `api-base`."""
    return suffix.lower().replace("_", "-")


class Host:
    """The host's state: what the component read and wrote, inspectable after a run."""

    def __init__(self, environ):
        # Non-secret settings, by WIT key (`api-base`, `token-base`, `account-key`, `page-size`).
        self.settings = {}
        # Secrets, by WIT name; `set-secret` writes here, so a refreshed token is reused this run.
        self.secrets = {}
        # Names passed to `set-secret`, in call order (values are never recorded).
        self.secret_writes = []
        # Log lines per level, so a caller can report them without printing secrets.
        self.log_counts = {"debug": 0, "info": 0, "warn": 0, "error": 0}
        self._debug = bool(environ.get("GTM_HOST_DEBUG"))
        if environ.get("GTM_HOST_CONFIG"):
            with open(environ["GTM_HOST_CONFIG"], encoding="utf-8") as f:
                file = json.load(f)
            self.settings.update({k: str(v) for k, v in file.get("settings", {}).items()})
            self.secrets.update({k: str(v) for k, v in file.get("secrets", {}).items()})
        for name, value in environ.items():
            if name.startswith("GTM_SETTING_"):
                self.settings[_wire_name(name[len("GTM_SETTING_"):])] = value
            elif name.startswith("GTM_SECRET_"):
                self.secrets[_wire_name(name[len("GTM_SECRET_"):])] = value

    @classmethod
    def from_environment(cls):
        return cls(os.environ)

    # wasmtime-py passes the store first, then the lifted arguments. `option<string>` lowers
    # from None or a str. A `result` whose ok and err cases have no Python type in common is
    # untagged: returning the ok value (None for `_`) is `ok`; this host never returns `err`.

    def get_setting(self, _store, key):
        return self.settings.get(key)

    def get_secret(self, _store, name):
        return self.secrets.get(name)

    def set_secret(self, _store, name, value):
        self.secrets[name] = value
        self.secret_writes.append(name)

    def log(self, _store, level, message):
        # `level` arrives as the enum case name. stderr only: stdout is check.py's JSON summary.
        self.log_counts[level] = self.log_counts.get(level, 0) + 1
        if level != "debug" or self._debug:
            print(f"[guest {level}] {message}", file=sys.stderr)

    def link(self, engine):
        """A linker with WASI p2, wasi:http's outgoing handler (wasmtime's own) and this host."""
        linker = Linker(engine)
        linker.add_wasip2()
        linker.add_wasi_http()
        with linker.root() as root:
            with root.add_instance(INTERFACE) as host:
                host.add_func("get-setting", self.get_setting)
                host.add_func("get-secret", self.get_secret)
                host.add_func("set-secret", self.set_secret)
                host.add_func("log", self.log)
            with root.add_instance(TEMPLATES) as templates:
                # `result<_, string>` and `result<bool, string>` are untagged in wasmtime-py (a
                # string is `err`); `result<string, string>` is tagged.
                templates.add_func("check", lambda _store, _template: TEMPLATES_REFUSAL)
                templates.add_func("render", lambda _store, _t, _i: Variant("err", TEMPLATES_REFUSAL))
                templates.add_func("check-pattern", lambda _store, _pattern: TEMPLATES_REFUSAL)
                templates.add_func("matches-pattern", lambda _store, _p, _v: TEMPLATES_REFUSAL)
        return linker
