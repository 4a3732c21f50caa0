//! The values of a multi-valued attribute: when two are the same, adding without duplicates,
//! and keeping at most one `primary`.

use serde_json::{Map, Value};

use crate::json;
use crate::schema::{AttrType, Attribute};

/// The attribute's current values in `map`, taken out of it (a lone value is a list of one).
pub(crate) fn take(map: &mut Map<String, Value>, name: &str) -> Vec<Value> {
    match json::take(map, name) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(single) => vec![single],
    }
}

/// Puts the values back; no values leaves the attribute unassigned.
pub(crate) fn put(map: &mut Map<String, Value>, name: &str, items: Vec<Value>) {
    json::set(map, name, Value::Array(items));
}

/// Takes `sub` out of the values at `positions`, dropping those left empty.
pub(crate) fn remove_sub(list: &mut Vec<Value>, positions: impl IntoIterator<Item = usize>, sub: &str) {
    for at in positions {
        if let Some(object) = list.get_mut(at).and_then(Value::as_object_mut) {
            json::take(object, sub);
        }
    }
    list.retain(|item| !item.as_object().is_some_and(Map::is_empty));
}

/// Whether two values of `attr` are the same value: complex ones by their `value`
/// sub-attribute when both have one (else whole), simple ones by equality; strings without case
/// unless the definition is caseExact.
pub(crate) fn same(attr: &Attribute, left: &Value, right: &Value) -> bool {
    if attr.kind != AttrType::Complex {
        return equal(attr.case_exact, left, right);
    }
    let value_of = |item: &Value| item.as_object().and_then(|object| json::get(object, "value")).cloned();
    match (value_of(left), value_of(right)) {
        (Some(left), Some(right)) => {
            equal(attr.sub_attribute("value").is_some_and(|sub| sub.case_exact), &left, &right)
        }
        _ => left == right,
    }
}

fn equal(case_exact: bool, left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::String(left), Value::String(right)) if !case_exact => left.to_lowercase() == right.to_lowercase(),
        _ => left == right,
    }
}

/// Adds `items` to `list` without duplicates: an item the same as one already there is merged
/// into it. Returns the positions written.
pub(crate) fn add(attr: &Attribute, list: &mut Vec<Value>, items: Vec<Value>) -> Vec<usize> {
    let mut written = Vec::new();
    for item in items {
        let at = match list.iter().position(|existing| same(attr, existing, &item)) {
            Some(at) => {
                merge(&mut list[at], item);
                at
            }
            None => {
                list.push(fresh(item));
                list.len() - 1
            }
        };
        written.push(at);
    }
    written
}

/// Writes `item` over `existing`: sub-attribute by sub-attribute for objects (a null
/// unassigns one), whole otherwise.
pub(crate) fn merge(existing: &mut Value, item: Value) {
    match (existing.as_object_mut(), item) {
        (Some(target), Value::Object(source)) => json::merge_into(target, source),
        (_, item) => *existing = fresh(item),
    }
}

/// A value as stored: an object without its null (unassigned) sub-attributes.
pub(crate) fn fresh(item: Value) -> Value {
    match item {
        Value::Object(source) => {
            let mut object = Map::new();
            json::merge_into(&mut object, source);
            Value::Object(object)
        }
        other => other,
    }
}

/// RFC 7644 §3.5.2: a write that makes a value primary makes the others not primary. The last
/// of the `written` positions holding `primary: true` keeps it.
pub(crate) fn single_primary(list: &mut [Value], written: &[usize]) {
    let Some(&keep) = written.iter().rev().find(|&&at| list.get(at).is_some_and(is_primary)) else { return };
    for (at, item) in list.iter_mut().enumerate() {
        if at != keep
            && is_primary(item)
            && let Some(object) = item.as_object_mut()
        {
            json::set(object, "primary", Value::Bool(false));
        }
    }
}

fn is_primary(item: &Value) -> bool {
    item.as_object().and_then(|object| json::get(object, "primary")) == Some(&Value::Bool(true))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{extension_schema, group_schema, user_schema};

    #[test]
    fn complex_values_are_the_same_by_value_with_the_definitions_case() {
        let emails = user_schema().attribute("emails").unwrap();
        assert!(same(emails, &json!({"value": "A@x.example", "type": "work"}), &json!({"value": "a@x.example"})));
        let members = group_schema().attribute("members").unwrap();
        assert!(!same(members, &json!({"value": "Ab"}), &json!({"value": "ab"})));
        let products = extension_schema().attribute("products").unwrap();
        assert!(same(products, &json!("g2m"), &json!("G2M")));
    }

    #[test]
    fn adding_merges_duplicates_and_appends_the_rest() {
        let emails = user_schema().attribute("emails").unwrap();
        let mut list = vec![json!({"value": "a@x.example", "type": "work"})];
        let written = add(
            emails,
            &mut list,
            vec![json!({"value": "A@x.example", "primary": true}), json!({"value": "b@x.example", "type": null})],
        );
        assert_eq!(written, [0, 1]);
        // The newest write wins, its spelling too.
        assert_eq!(
            list,
            [json!({"value": "A@x.example", "type": "work", "primary": true}), json!({"value": "b@x.example"})]
        );
    }

    #[test]
    fn the_last_value_made_primary_keeps_it() {
        let mut list =
            vec![json!({"value": "a", "primary": true}), json!({"value": "b"}), json!({"value": "c", "primary": true})];
        single_primary(&mut list, &[2]);
        assert_eq!(list[0]["primary"], false);
        assert_eq!(list[2]["primary"], true);
        assert!(list[1].get("primary").is_none());
        single_primary(&mut list, &[1]);
        assert_eq!(list[2]["primary"], true, "a write that sets no primary changes none");
    }
}
