"""scim2-tester's full check suite against a SCIM 2.0 service (`gtm-connector serve`).

    GTM_SCIM_TOKEN=... python tests/scim/check.py BASE_URL [--report FILE]
        [--not-applicable FILE] [--timeout SECONDS]

The bearer token comes only from the environment variable GTM_SCIM_TOKEN: it is never taken on
the command line, and it is masked in everything this script prints or writes.

It runs `scim2_tester.check_server` (scim2-tester 0.5.2, pinned in requirements.txt beside this
file) on every check and every resource type the service publishes: discovery, CRUD, the
`attributes` and `excludedAttributes` checks and PATCH add, remove and replace. It prints one
line per check result (verdict, name, first line of the reason) and a summary, and with
`--report FILE` writes the results as a JSON list of {"name", "status", "reason"}.

A check's name is its scim2-tester function name, prefixed with "RESOURCE-TYPE/" for the checks
run per resource type, and suffixed where one check yields several results: ":PATH" for the
PATCH checks (one result per attribute), ":METHOD" for the discovery endpoints' 405 checks, and
otherwise "#N" in the order scim2-tester reports them. Examples: `schemas_endpoint_methods:PUT`,
`User/object_creation`, `User/check_replace_attribute:displayName`, `Group/object_query#1`.

not-applicable.json (beside this script unless --not-applicable says otherwise) maps a check
name, or a pattern with `*` and `?`, to why that check does not apply to GoTo. Verdicts:

- passed:         scim2-tester's SUCCESS, COMPLIANT or ACCEPTABLE.
- deviation:      scim2-tester's DEVIATION (departs from a SHOULD); does not fail the run.
- skipped:        scim2-tester skipped it (for example PATCH not announced as supported).
- failed:         ERROR or CRITICAL, and not in not-applicable.json.
- not-applicable: ERROR or CRITICAL, and in not-applicable.json.
- passed-listed:  passed (or a deviation) though in not-applicable.json: the entry is out of
                  date. Reported, but it does not fail the run; nor does an entry that matched
                  no check at all (reported as unused).

Exit status: 0 when no check failed, 1 when one did, 2 on a usage or set-up error (no token, an
unreadable not-applicable.json).
"""

import argparse
import fnmatch
import json
import os
import sys
from collections import Counter
from pathlib import Path

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

TOKEN_VARIABLE = "GTM_SCIM_TOKEN"
DEFAULT_NOT_APPLICABLE = Path(__file__).with_name("not-applicable.json")
PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
FAILING = {Status.ERROR, Status.CRITICAL}
# The discovery endpoints' 405 checks yield one result per method, named by their reason's first word.
HTTP_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Long enough for a PATCH that waits on GoTo's rate limit behind the service's governor.
DEFAULT_TIMEOUT_SECONDS = 60.0


class SetupError(Exception):
    """A problem with how the script was called or configured, not with the service."""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("base_url", metavar="BASE_URL", help="the SCIM service's base URL")
    parser.add_argument("--report", type=Path, metavar="FILE", help="write the results as JSON to FILE")
    parser.add_argument(
        "--not-applicable",
        type=Path,
        default=DEFAULT_NOT_APPLICABLE,
        metavar="FILE",
        help="JSON object of check name or pattern -> why it does not apply (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="per-request timeout (default: %(default)s)",
    )
    return parser.parse_args(argv)


def read_token():
    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        raise SetupError(f"set the bearer token in the environment variable {TOKEN_VARIABLE}")
    return token


def load_not_applicable(path):
    """Reads the allow-list: a JSON object of check name or pattern -> non-empty reason."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SetupError(f"cannot read {path}: {error}") from error
    if not isinstance(entries, dict):
        raise SetupError(f"{path}: expected a JSON object of check name -> why it does not apply")
    for name, why in entries.items():
        if not isinstance(why, str) or not why.strip():
            raise SetupError(f"{path}: {name!r} needs a non-empty reason")
    return entries


def run_suite(base_url, token, timeout):
    """Every scim2-tester check, on every resource type the service publishes."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx2.Client(base_url=base_url, headers=headers, timeout=timeout) as http:
        return check_server(SyncSCIMClient(http))


def qualifier(result):
    """What tells this result apart from the others of the same check, when scim2-tester says."""
    if isinstance(result.data, dict) and isinstance(result.data.get("urn"), str):
        return result.data["urn"]
    first_word = (result.reason or "").split(" ", 1)[0]
    if (result.title or "").endswith("_endpoint_methods") and first_word in HTTP_METHODS:
        return first_word
    return None


def name_results(results):
    """Pairs each result with a name that is unique within the run (see the module docs)."""
    names = []
    for result in results:
        name = result.title or "unnamed"
        if result.resource_type:
            name = f"{result.resource_type}/{name}"
        if (extra := qualifier(result)) is not None:
            name = f"{name}:{extra}"
        names.append(name)
    totals = Counter(names)
    seen = Counter()
    named = []
    for name, result in zip(names, results):
        if totals[name] > 1:
            seen[name] += 1
            name = f"{name}#{seen[name]}"
        named.append((name, result))
    return named


def listed_reason(name, not_applicable):
    """The first allow-list entry (exact name or pattern) matching `name`, as (entry, why)."""
    for entry, why in not_applicable.items():
        if fnmatch.fnmatchcase(name, entry):
            return entry, why
    return None, None


def verdict(result, listed):
    if result.status in FAILING:
        return "not-applicable" if listed else "failed"
    if result.status == Status.SKIPPED:
        return "skipped"
    if listed:
        return "passed-listed"
    return "passed" if result.status in PASSING else "deviation"


def judge(named, not_applicable):
    """The outcomes, as {name, status, reason} dicts, and the allow-list entries that matched nothing."""
    outcomes = []
    used = set()
    for name, result in named:
        entry, why = listed_reason(name, not_applicable)
        if entry is not None:
            used.add(entry)
        status = verdict(result, entry is not None)
        reason = result.reason or ""
        # The allow-list's word goes first, so that the printed line shows it.
        if status == "not-applicable":
            reason = f"not applicable: {why}\n{reason}".rstrip()
        elif status == "passed-listed":
            reason = f"passes, though listed in not-applicable.json as {entry!r}\n{reason}".rstrip()
        outcomes.append({"name": name, "status": status, "reason": reason})
    unused = [entry for entry in not_applicable if entry not in used]
    return outcomes, unused


def redact(text, token):
    return text.replace(token, "***")


def first_line(text, limit=200):
    line = text.split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def print_outcomes(outcomes, unused):
    for outcome in outcomes:
        print(f"{outcome['status']:<15} {outcome['name']}  {first_line(outcome['reason'])}".rstrip())
    for entry in unused:
        print(f"{'unused':<15} {entry}  (in not-applicable.json, matched no check)")
    counts = Counter(outcome["status"] for outcome in outcomes)
    passed = counts["passed"] + counts["deviation"] + counts["passed-listed"]
    skipped = counts["skipped"] + counts["not-applicable"]
    print(
        f"of which: {counts['deviation']} deviations from a SHOULD, {counts['not-applicable']} not applicable "
        f"to GoTo, {counts['passed-listed']} listed as not applicable but passing, "
        f"{len(unused)} unused not-applicable entries"
    )
    print(f"scim2-tester: {passed} passed, {counts['failed']} failed, {skipped} skipped")


def main(argv):
    args = parse_args(argv)
    try:
        token = read_token()
        not_applicable = load_not_applicable(args.not_applicable)
    except SetupError as error:
        print(f"check.py: {error}", file=sys.stderr)
        return 2
    outcomes, unused = judge(name_results(run_suite(args.base_url, token, args.timeout)), not_applicable)
    for outcome in outcomes:
        outcome["reason"] = redact(outcome["reason"], token)
    print_outcomes(outcomes, unused)
    if args.report is not None:
        args.report.write_text(json.dumps(outcomes, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if any(outcome["status"] == "failed" for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
