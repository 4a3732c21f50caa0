"""Drives `gtm-connector serve` with SCIM requests, CONCURRENCY at a time, and prints their count,
the wall time, requests per second and latency percentiles as one JSON object.

    GTM_SCIM_TOKEN=... python3 bench/scim_load.py BASE_URL pages|grants COUNT CONCURRENCY [KEY...]

`pages` reads COUNT pages of 100 users (startIndex 1, 101, ...); `grants` PATCHes the admin role
RUN_REPORTS onto each KEY given (COUNT of them) and, with `--revoke`, takes it away instead.
Standard library only; the token comes from the environment and is never printed.
"""

import json
import os
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def call(base, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", "application/scim+json")
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=300) as answer:
        answer.read()
        status = answer.status
    if status >= 300:
        raise SystemExit(f"{method} {path}: HTTP {status}")
    return time.monotonic() - started


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    args = [a for a in sys.argv[1:] if a != "--revoke"]
    revoke = "--revoke" in sys.argv
    base, kind, count, concurrency, keys = args[0], args[1], int(args[2]), int(args[3]), args[4:]
    token = os.environ["GTM_SCIM_TOKEN"]
    if kind == "pages":
        jobs = [("GET", f"/Users?startIndex={1 + 100 * i}&count=100", None) for i in range(count)]
    else:
        op = "remove" if revoke else "add"
        value = [{"value": "RUN_REPORTS"}]
        body = {"schemas": [PATCH_OP], "Operations": [{"op": op, "path": "roles", "value": value}]}
        jobs = [("PATCH", f"/Users/{key}", body) for key in keys[:count]]
    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(lambda job: call(base, token, *job), jobs))
    wall = time.monotonic() - started
    print(json.dumps({
        "requests": len(jobs),
        "wall": wall,
        "rps": len(jobs) / wall,
        "p50": percentile(latencies, 0.50) * 1000,
        "p90": percentile(latencies, 0.90) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
    }))


if __name__ == "__main__":
    main()
