// The `iga:gotomeeting/templates` interface (wit/templates.wit) for the jco check: this minimal
// host renders no mapping templates (nor checks patterns), and says so. A JS host that needs them transpiles the
// templates component (gtm_templates.wasm) and maps this import to it instead.
const refusal = "this host renders no mapping templates: plug in gtm_templates.wasm";

// `result<_, string>`, `result<string, string>` and `result<bool, string>`: jco expects the
// error value to be thrown.
export function check(_template) {
  throw refusal;
}

export function render(_template, _identity) {
  throw refusal;
}

export function checkPattern(_pattern) {
  throw refusal;
}

export function matchesPattern(_pattern, _value) {
  throw refusal;
}
