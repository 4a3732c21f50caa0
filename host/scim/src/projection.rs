//! Which attributes a response carries (RFC 7644 §3.9, §3.4.2.5), from `attributes`,
//! `excludedAttributes` and each attribute's `returned` characteristic: `always` ones (id,
//! schemas, meta.resourceType) whatever was asked, `never` ones never, `default` ones unless
//! excluded or others asked for, `request` ones only when asked for.

use serde_json::{Map, Value};

use crate::json;
use crate::path::AttrPath;
use crate::schema::{AttrType, Attribute, Container, Returned, Schema};

/// `resource` (of `schema`) with only the attributes to return, in canonical case. When
/// `attributes` is not empty it wins and `excluded` is not read. Attributes the schema does
/// not define are left out; names in the lists that match nothing are ignored.
pub fn project(resource: &Value, schema: &'static Schema, attributes: &[AttrPath], excluded: &[AttrPath]) -> Value {
    let Some(resource) = resource.as_object() else { return Value::Object(Map::new()) };
    let mut out = Map::new();
    if let Some(schemas) = json::get(resource, "schemas") {
        out.insert("schemas".to_owned(), schemas.clone());
    }
    let containers = std::iter::once((Container::Core, schema))
        .chain(schema.extensions.iter().map(|extension| (Container::Extension(extension), *extension)));
    for (container, definitions) in containers {
        let Some(source) = json::container(resource, container) else { continue };
        let mut projected = Map::new();
        for attr in definitions.attributes {
            let Some(value) = json::get(source, attr.name) else { continue };
            let selection = if attributes.is_empty() {
                excluding(asked(excluded, definitions, attr))
            } else {
                including(asked(attributes, definitions, attr))
            };
            if let Some(value) = select(attr, value, &selection) {
                projected.insert(attr.name.to_owned(), value);
            }
        }
        match container {
            Container::Core => out.extend(projected),
            Container::Extension(extension) if !projected.is_empty() => {
                out.insert(extension.id.to_owned(), Value::Object(projected));
            }
            Container::Extension(_) => {}
        }
    }
    Value::Object(out)
}

/// What a list of paths says of one attribute.
struct Asked {
    /// The attribute is named itself (or its whole schema is).
    whole: bool,
    /// Sub-attributes named (`name.givenName`).
    subs: Vec<String>,
}

fn asked(paths: &[AttrPath], definitions: &Schema, attr: &Attribute) -> Asked {
    let mut asked = Asked { whole: false, subs: Vec::new() };
    for path in paths {
        if path.as_urn().is_some_and(|urn| urn.eq_ignore_ascii_case(definitions.id)) {
            asked.whole = true;
        } else if path.schema.as_deref().is_none_or(|urn| urn.eq_ignore_ascii_case(definitions.id))
            && path.attr.eq_ignore_ascii_case(attr.name)
        {
            match &path.sub {
                None => asked.whole = true,
                Some(sub) => asked.subs.push(sub.clone()),
            }
        }
    }
    asked
}

/// What the request says of one attribute.
enum Selection {
    /// Named in `attributes`.
    Asked,
    /// Some of its sub-attributes are named in `attributes`.
    Only(Vec<String>),
    /// No `attributes`, and not excluded.
    Default,
    /// No `attributes`, and some of its sub-attributes excluded.
    Except(Vec<String>),
    /// Not asked for, or excluded: only what is always returned.
    AlwaysOnly,
}

fn including(asked: Asked) -> Selection {
    if asked.whole {
        Selection::Asked
    } else if !asked.subs.is_empty() {
        Selection::Only(asked.subs)
    } else {
        Selection::AlwaysOnly
    }
}

fn excluding(asked: Asked) -> Selection {
    if asked.whole {
        Selection::AlwaysOnly
    } else if !asked.subs.is_empty() {
        Selection::Except(asked.subs)
    } else {
        Selection::Default
    }
}

fn select(attr: &Attribute, value: &Value, selection: &Selection) -> Option<Value> {
    let included = match attr.returned {
        Returned::Always => true,
        Returned::Never => false,
        Returned::Request => matches!(selection, Selection::Asked | Selection::Only(_)),
        Returned::Default => !matches!(selection, Selection::AlwaysOnly),
    };
    if attr.kind != AttrType::Complex {
        return included.then(|| value.clone());
    }
    // A complex attribute that is not returned may still carry always-returned
    // sub-attributes (meta.resourceType).
    let subs = match (attr.returned, included) {
        (Returned::Always, _) => &Selection::Default,
        (_, true) => selection,
        (Returned::Default, false) => &Selection::AlwaysOnly,
        (_, false) => return None,
    };
    let project_one = |item: &Value| -> Option<Value> {
        let item = item.as_object()?;
        let kept: Map<String, Value> = attr
            .sub_attributes
            .iter()
            .filter(|sub| wanted(sub, subs))
            .filter_map(|sub| Some((sub.name.to_owned(), json::get(item, sub.name)?.clone())))
            .collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Array(items) => {
            let kept: Vec<Value> = items.iter().filter_map(project_one).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        single => project_one(single),
    }
}

/// Whether a sub-attribute goes out, given what was asked of its attribute.
fn wanted(sub: &Attribute, selection: &Selection) -> bool {
    let named = |names: &[String]| names.iter().any(|name| name.eq_ignore_ascii_case(sub.name));
    match (sub.returned, selection) {
        (Returned::Always, _) => true,
        (Returned::Never, _) | (_, Selection::AlwaysOnly) => false,
        (_, Selection::Only(names)) => named(names),
        (Returned::Default, Selection::Asked | Selection::Default) => true,
        (Returned::Default, Selection::Except(names)) => !named(names),
        (Returned::Request, _) => false,
    }
}
