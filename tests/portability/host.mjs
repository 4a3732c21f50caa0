// A minimal JS implementation of the `iga:gotomeeting/host` interface (wit/host.wit), mapped
// into the jco-transpiled component by check.mjs. Settings and secrets live in memory for one
// run, configured from:
//   GTM_HOST_CONFIG=<file.json>  {"settings": {"api-base": "..."}, "secrets": {"client-id": "..."}}
//   GTM_SETTING_<NAME>=value     e.g. GTM_SETTING_API_BASE  -> setting `api-base`
//   GTM_SECRET_<NAME>=value      e.g. GTM_SECRET_CLIENT_ID  -> secret `client-id`
// Environment variables win over the file, so a caller can override one value.
import { readFileSync } from "node:fs";

/** Non-secret settings, by WIT key (`api-base`, `token-base`, `account-key`, `page-size`). */
export const settings = new Map();
/** Secrets, by WIT name; `setSecret` writes here, so a refreshed token is reused in this run. */
export const secrets = new Map();
/** Names passed to `setSecret`, in call order (values are never recorded). */
export const secretWrites = [];
/** Log lines per level, so a caller can report them without printing secrets. */
export const logCounts = { debug: 0, info: 0, warn: 0, error: 0 };

// `GTM_SETTING_API_BASE` -> `api-base`.
const wireName = (suffix) => suffix.toLowerCase().replaceAll("_", "-");

if (process.env.GTM_HOST_CONFIG) {
  const file = JSON.parse(readFileSync(process.env.GTM_HOST_CONFIG, "utf8"));
  for (const [k, v] of Object.entries(file.settings ?? {})) settings.set(k, String(v));
  for (const [k, v] of Object.entries(file.secrets ?? {})) secrets.set(k, String(v));
}
for (const [name, value] of Object.entries(process.env)) {
  if (name.startsWith("GTM_SETTING_")) settings.set(wireName(name.slice(12)), value);
  else if (name.startsWith("GTM_SECRET_")) secrets.set(wireName(name.slice(11)), value);
}

// jco lowers `option<string>` from `undefined` (none) or a string (some).
export function getSetting(key) {
  return settings.get(key);
}

// `result<option<string>, host-error>`: returning is `ok`; to return `err`, jco expects the
// variant value itself to be thrown (`{ tag: "denied", val: "..." }`). Throwing an Error traps.
export function getSecret(name) {
  return secrets.get(name);
}

export function setSecret(name, value) {
  secrets.set(name, value);
  secretWrites.push(name);
}

// `level` arrives as the enum case name: "debug" | "info" | "warn" | "error".
// stderr only: stdout is reserved for check.mjs's JSON summary.
export function log(level, message) {
  logCounts[level] = (logCounts[level] ?? 0) + 1;
  if (level !== "debug" || process.env.GTM_HOST_DEBUG) process.stderr.write(`[guest ${level}] ${message}\n`);
}
