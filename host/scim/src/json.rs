//! Reading and writing a resource's JSON the way SCIM names attributes: keys compared without
//! case, written back in their canonical case, extensions as objects under their URN.

use serde_json::{Map, Value};

use crate::schema::Container;

/// The key of `map` that is `name` ignoring case, preferring an exact match.
pub(crate) fn key<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a String> {
    map.get_key_value(name).map(|(key, _)| key).or_else(|| map.keys().find(|key| key.eq_ignore_ascii_case(name)))
}

/// The value under `name`, ignoring case.
pub(crate) fn get<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    key(map, name).and_then(|key| map.get(key))
}

/// Takes the value under `name` (every spelling of it) out of `map`: the first spelling found
/// wins, so a resource that holds two is left with neither.
pub(crate) fn take(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let keys: Vec<String> = map.keys().filter(|key| key.eq_ignore_ascii_case(name)).cloned().collect();
    keys.into_iter().filter_map(|key| map.remove(&key)).reduce(|first, _| first)
}

/// Sets `name` (canonical case) to `value`, removing other spellings; a null or an empty array
/// is the unassigned state (RFC 7643 §2.5), so it removes the attribute instead.
pub(crate) fn set(map: &mut Map<String, Value>, name: &str, value: Value) {
    take(map, name);
    if !unassigned(&value) {
        map.insert(name.to_owned(), value);
    }
}

/// Whether `value` is the unassigned state: null or an empty array.
pub(crate) fn unassigned(value: &Value) -> bool {
    value.is_null() || value.as_array().is_some_and(Vec::is_empty)
}

/// Copies `source`'s entries over `target`'s (keys already canonical); a null removes the entry.
pub(crate) fn merge_into(target: &mut Map<String, Value>, source: Map<String, Value>) {
    for (name, value) in source {
        set(target, &name, value);
    }
}

/// The object holding a container's attributes, if the resource has one.
pub(crate) fn container(resource: &Map<String, Value>, container: Container) -> Option<&Map<String, Value>> {
    match container {
        Container::Core => Some(resource),
        Container::Extension(extension) => get(resource, extension.id).and_then(Value::as_object),
    }
}

/// The object holding a container's attributes, created (and its URN listed in `schemas`)
/// for an extension the resource does not carry yet.
pub(crate) fn container_mut(resource: &mut Map<String, Value>, container: Container) -> &mut Map<String, Value> {
    let Container::Extension(extension) = container else { return resource };
    let existing = take(resource, extension.id).filter(Value::is_object);
    let schemas = resource.entry("schemas").or_insert_with(|| Value::Array(Vec::new()));
    if let Some(list) = schemas.as_array_mut()
        && !list.iter().any(|urn| urn.as_str().is_some_and(|urn| urn.eq_ignore_ascii_case(extension.id)))
    {
        list.push(Value::from(extension.id));
    }
    let object = resource.entry(extension.id).or_insert(existing.unwrap_or_else(|| Value::Object(Map::new())));
    object.as_object_mut().expect("an extension's value was just made an object")
}

/// Drops an extension's object, and its URN from `schemas`, once it holds nothing.
pub(crate) fn tidy(resource: &mut Map<String, Value>, container: Container) {
    let Container::Extension(extension) = container else { return };
    if get(resource, extension.id).and_then(Value::as_object).is_some_and(Map::is_empty) {
        take(resource, extension.id);
        if let Some(list) = resource.get_mut("schemas").and_then(Value::as_array_mut) {
            list.retain(|urn| !urn.as_str().is_some_and(|urn| urn.eq_ignore_ascii_case(extension.id)));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::extension_schema;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn keys_are_found_without_case_and_rewritten_canonically() {
        let mut map = object(json!({"USERNAME": "a", "Active": true}));
        assert_eq!(get(&map, "userName"), Some(&json!("a")));
        set(&mut map, "userName", json!("b"));
        assert_eq!(map, object(json!({"userName": "b", "Active": true})));
        set(&mut map, "active", Value::Null);
        assert_eq!(map, object(json!({"userName": "b"})));
        set(&mut map, "emails", json!([]));
        assert!(get(&map, "emails").is_none());
    }

    #[test]
    fn an_extension_object_is_made_on_write_and_dropped_when_empty() {
        let extension = Container::Extension(extension_schema());
        let mut resource = object(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}));
        container_mut(&mut resource, extension).insert("groupKey".into(), json!("7"));
        assert_eq!(resource["schemas"][1], extension_schema().id);
        assert_eq!(container(&resource, extension).unwrap()["groupKey"], "7");
        container_mut(&mut resource, extension).remove("groupKey");
        tidy(&mut resource, extension);
        assert_eq!(resource, object(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]})));
    }
}
