//! List queries (RFC 7644 §3.4.2): the URL parameters of a GET on `/Users` or `/Groups`, and
//! the ListResponse that answers them.

use std::num::IntErrorKind;

use serde_json::{Value, json};

use crate::error::{ScimError, ScimType};
use crate::filter::{self, Filter};
use crate::path::AttrPath;
use crate::schema::LIST_RESPONSE;

/// The parameters of a list request.
#[derive(Clone, Debug, PartialEq)]
pub struct ListQuery {
    /// `filter`, parsed.
    pub filter: Option<Filter>,
    /// `startIndex`: 1-based, at least 1.
    pub start_index: u64,
    /// `count`, at most the service's maximum; none when the client did not say.
    pub count: Option<u64>,
    /// `attributes`: return these (and the always-returned ones) only.
    pub attributes: Vec<AttrPath>,
    /// `excludedAttributes`: leave these out of the default set.
    pub excluded_attributes: Vec<AttrPath>,
}

impl ListQuery {
    /// Reads the URL query pairs (names without case). A `startIndex` below 1 is read as 1 and
    /// a negative `count` as 0 (RFC 7644 §3.4.2.4); `count` is clamped to `max_count`. A
    /// number that is not an integer is `invalidValue`; a parameter given twice too. Other
    /// parameters (`sortBy`, `sortOrder`: sorting is not supported) are ignored.
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
        max_count: u64,
    ) -> Result<ListQuery, ScimError> {
        let mut query = ListQuery {
            filter: None,
            start_index: 1,
            count: None,
            attributes: Vec::new(),
            excluded_attributes: Vec::new(),
        };
        let mut seen: Vec<&'static str> = Vec::new();
        for (name, value) in pairs {
            let Some(known) = PARAMETERS.into_iter().find(|known| known.eq_ignore_ascii_case(&name)) else { continue };
            if seen.contains(&known) {
                return Err(invalid(format!("{known} is given more than once")));
            }
            seen.push(known);
            match known {
                "filter" if value.trim().is_empty() => {}
                "filter" => query.filter = Some(filter::parse(&value)?),
                "startIndex" => query.start_index = integer(known, &value)?.max(1) as u64,
                "count" => query.count = Some((integer(known, &value)?.max(0) as u64).min(max_count)),
                "attributes" => query.attributes = paths(known, &value)?,
                _ => query.excluded_attributes = paths(known, &value)?,
            }
        }
        Ok(query)
    }
}

const PARAMETERS: [&str; 5] = ["filter", "startIndex", "count", "attributes", "excludedAttributes"];

fn invalid(detail: String) -> ScimError {
    ScimError::bad_request(ScimType::InvalidValue, detail)
}

/// An integer, saturating where it overflows (a huge count is the maximum, a huge negative one
/// zero).
fn integer(name: &str, text: &str) -> Result<i64, ScimError> {
    match text.trim().parse::<i64>() {
        Ok(number) => Ok(number),
        Err(e) if *e.kind() == IntErrorKind::PosOverflow => Ok(i64::MAX),
        Err(e) if *e.kind() == IntErrorKind::NegOverflow => Ok(i64::MIN),
        Err(_) => Err(invalid(format!("{name} is an integer, not \"{text}\""))),
    }
}

/// A comma-separated list of attribute paths.
fn paths(name: &str, text: &str) -> Result<Vec<AttrPath>, ScimError> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| AttrPath::parse(item).map_err(|e| e.context(name)))
        .collect()
}

/// A ListResponse: `totalResults` matches in all, this page's `startIndex`, and its resources.
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::CompareOp;

    fn query(pairs: &[(&str, &str)]) -> Result<ListQuery, ScimError> {
        ListQuery::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())), 100)
    }

    #[test]
    fn defaults_when_nothing_is_asked() {
        assert_eq!(
            query(&[]).unwrap(),
            ListQuery { filter: None, start_index: 1, count: None, attributes: vec![], excluded_attributes: vec![] }
        );
    }

    #[test]
    fn reads_every_parameter_without_case() {
        let query = query(&[
            ("filter", "userName eq \"bjensen\""),
            ("STARTINDEX", "11"),
            ("count", "10"),
            ("attributes", "userName, name.givenName"),
            ("sortBy", "userName"),
        ])
        .unwrap();
        assert!(matches!(query.filter, Some(Filter::Compare { op: CompareOp::Eq, .. })));
        assert_eq!((query.start_index, query.count), (11, Some(10)));
        assert_eq!(query.attributes, vec![AttrPath::new("userName", None), AttrPath::new("name", Some("givenName"))]);
        let excluded = ListQuery::from_pairs([("excludedAttributes".to_owned(), "groups,".to_owned())], 5).unwrap();
        assert_eq!(excluded.excluded_attributes, vec![AttrPath::new("groups", None)]);
    }

    #[test]
    fn out_of_range_numbers_are_brought_into_range() {
        assert_eq!(query(&[("startIndex", "0")]).unwrap().start_index, 1);
        assert_eq!(query(&[("startIndex", "-5")]).unwrap().start_index, 1);
        assert_eq!(query(&[("count", "-1")]).unwrap().count, Some(0));
        assert_eq!(query(&[("count", "1000")]).unwrap().count, Some(100));
        assert_eq!(query(&[("count", "99999999999999999999999")]).unwrap().count, Some(100));
        assert_eq!(query(&[("count", "-99999999999999999999999")]).unwrap().count, Some(0));
        assert_eq!(query(&[("startIndex", "99999999999999999999999")]).unwrap().start_index, i64::MAX as u64);
    }

    #[test]
    fn bad_parameters_are_errors_that_name_them() {
        let cases = [
            (("count", "ten"), ScimType::InvalidValue, "count is an integer, not \"ten\""),
            (("startIndex", "1.5"), ScimType::InvalidValue, "startIndex is an integer"),
            (("filter", "userName eq"), ScimType::InvalidFilter, "expected a value"),
            (("attributes", "name.a.b"), ScimType::InvalidPath, "attributes: path \"name.a.b\""),
        ];
        for ((name, value), scim_type, why) in cases {
            let error = query(&[(name, value)]).unwrap_err();
            assert_eq!(error.scim_type, Some(scim_type), "{name}={value}");
            assert!(error.detail.contains(why), "{name}={value}: {}", error.detail);
        }
        let twice = query(&[("filter", "a pr"), ("Filter", "b pr")]).unwrap_err();
        assert_eq!(twice.detail, "filter is given more than once");
    }

    #[test]
    fn an_empty_filter_is_no_filter() {
        assert_eq!(query(&[("filter", " ")]).unwrap().filter, None);
    }

    #[test]
    fn list_response_counts_the_page() {
        let response = list_response(25, 11, vec![json!({"id": "1"}), json!({"id": "2"})]);
        assert_eq!(
            response,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 25, "startIndex": 11, "itemsPerPage": 2,
                "Resources": [{"id": "1"}, {"id": "2"}],
            })
        );
    }
}
