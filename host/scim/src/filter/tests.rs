//! The filter parser and evaluation, from RFC 7644 §3.4.2.2's examples, client habits and
//! malformed input.

use serde_json::{Value, json};

use super::*;
use crate::error::ScimType;

/// Every example filter of RFC 7644 §3.4.2.2.
const RFC_EXAMPLES: [&str; 17] = [
    r#"userName eq "bjensen""#,
    r#"name.familyName co "O'Malley""#,
    r#"userName sw "J""#,
    r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
    "title pr",
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
    r#"title pr and userType eq "Employee""#,
    r#"title pr or userType eq "Intern""#,
    r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
    r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType eq "Employee" and (emails.type eq "work")"#,
    r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
];

fn attr(text: &str) -> AttrPath {
    AttrPath::parse(text).unwrap()
}

fn compare(name: &str, op: CompareOp, value: Value) -> Filter {
    Filter::Compare { path: attr(name), op, value }
}

fn and(left: Filter, right: Filter) -> Filter {
    Filter::And(Box::new(left), Box::new(right))
}

fn or(left: Filter, right: Filter) -> Filter {
    Filter::Or(Box::new(left), Box::new(right))
}

/// Barbara Jensen, after RFC 7643 §8.2, with an extension object.
fn bjensen() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "userName": "bjensen",
        "name": {"familyName": "O'Malley", "givenName": "Barbara"},
        "userType": "Employee",
        "title": "Tour Guide",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"},
        ],
        "ims": [{"value": "babs@foo.com", "type": "xmpp"}],
        "loginCount": 7,
        "meta": {"lastModified": "2011-05-13T04:42:34Z"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations"},
    })
}

fn matching(filter: &str) -> bool {
    matches(&parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}")), &bjensen())
}

#[test]
fn every_rfc_example_parses_and_prints_back() {
    for example in RFC_EXAMPLES {
        let filter = parse(example).unwrap_or_else(|e| panic!("{example}: {e}"));
        let printed = filter.to_string();
        assert_eq!(parse(&printed).unwrap(), filter, "{example} printed as {printed}");
    }
}

#[test]
fn rfc_examples_parse_to_the_trees_they_mean() {
    assert_eq!(parse(RFC_EXAMPLES[0]).unwrap(), compare("userName", CompareOp::Eq, json!("bjensen")));
    let qualified = parse(RFC_EXAMPLES[3]).unwrap();
    let Filter::Compare { path, op: CompareOp::Sw, .. } = &qualified else { panic!("{qualified:?}") };
    assert!(path.is_in("urn:ietf:params:scim:schemas:core:2.0:User", "userName", None));
    assert_eq!(parse("title pr").unwrap(), Filter::Present(attr("title")));
    assert_eq!(
        parse(RFC_EXAMPLES[13]).unwrap(),
        and(
            compare("userType", CompareOp::Ne, json!("Employee")),
            Filter::Not(Box::new(or(
                compare("emails", CompareOp::Co, json!("example.com")),
                compare("emails.value", CompareOp::Co, json!("example.org")),
            ))),
        )
    );
    assert_eq!(
        parse(RFC_EXAMPLES[15]).unwrap(),
        and(
            compare("userType", CompareOp::Eq, json!("Employee")),
            Filter::ValuePath {
                path: attr("emails"),
                filter: Box::new(and(
                    compare("type", CompareOp::Eq, json!("work")),
                    compare("value", CompareOp::Co, json!("@example.com")),
                )),
            },
        )
    );
}

#[test]
fn not_binds_tighter_than_and_and_and_tighter_than_or() {
    let (a, b, c) = (Filter::Present(attr("a")), Filter::Present(attr("b")), Filter::Present(attr("c")));
    assert_eq!(parse("a pr or b pr and c pr").unwrap(), or(a.clone(), and(b.clone(), c.clone())));
    assert_eq!(parse("a pr and b pr or c pr").unwrap(), or(and(a.clone(), b.clone()), c.clone()));
    assert_eq!(parse("(a pr or b pr) and c pr").unwrap(), and(or(a.clone(), b.clone()), c.clone()));
    assert_eq!(parse("not (a pr) and b pr").unwrap(), and(Filter::Not(Box::new(a.clone())), b.clone()));
    assert_eq!(parse("a pr and b pr and c pr").unwrap(), and(and(a.clone(), b.clone()), c.clone()));
    assert_eq!(and(a.clone(), and(b, c)).to_string(), "a pr and (b pr and c pr)");
    assert_eq!(or(a.clone(), a).to_string(), "a pr or a pr");
}

#[test]
fn operators_keywords_and_literals_are_read_without_case() {
    assert_eq!(
        parse(r#"userName EQ "x" AND Title PR oR active Eq TRUE"#).unwrap(),
        or(
            and(compare("userName", CompareOp::Eq, json!("x")), Filter::Present(attr("Title"))),
            compare("active", CompareOp::Eq, json!(true)),
        )
    );
    assert_eq!(parse("NOT(title pr)").unwrap(), Filter::Not(Box::new(Filter::Present(attr("title")))));
    assert_eq!(parse("x eq Null").unwrap(), compare("x", CompareOp::Eq, Value::Null));
    assert_eq!(parse("x ne FALSE").unwrap(), compare("x", CompareOp::Ne, json!(false)));
}

#[test]
fn every_operator_and_value_kind_parses() {
    for op in CompareOp::ALL {
        let filter = parse(&format!(r#"meta.lastModified {op} "2011-05-13T04:42:34Z""#)).unwrap();
        assert_eq!(filter, compare("meta.lastModified", op, json!("2011-05-13T04:42:34Z")));
    }
    assert_eq!(parse("loginCount gt 5").unwrap(), compare("loginCount", CompareOp::Gt, json!(5)));
    // Compared as a number: serde_json may keep the text (arbitrary_precision, which the
    // guest turns on in a workspace build) or a float.
    let Filter::Compare { op: CompareOp::Le, value, .. } = parse("x le -1.5e3").unwrap() else {
        panic!("a comparison")
    };
    assert_eq!(value.as_f64(), Some(-1500.0));
    assert_eq!(parse("x eq 0").unwrap(), compare("x", CompareOp::Eq, json!(0)));
}

#[test]
fn strings_are_json_strings_with_their_escapes() {
    assert_eq!(
        parse(r#"displayName eq "Babs \"B\" \u00e9 \\ (x) [y] and or""#).unwrap(),
        compare("displayName", CompareOp::Eq, json!("Babs \"B\" é \\ (x) [y] and or"))
    );
    assert_eq!(parse(r#"x eq "日本""#).unwrap(), compare("x", CompareOp::Eq, json!("日本")));
    let filter = compare("x", CompareOp::Eq, json!("quote \" backslash \\ tab \t"));
    assert_eq!(parse(&filter.to_string()).unwrap(), filter);
}

#[test]
fn space_is_tolerated_where_the_rfc_has_one_space() {
    assert_eq!(parse("  title   pr  ").unwrap(), Filter::Present(attr("title")));
    assert_eq!(parse("( title pr )").unwrap(), Filter::Present(attr("title")));
    assert_eq!(parse(r#"userName eq"x""#).unwrap(), compare("userName", CompareOp::Eq, json!("x")));
    assert_eq!(
        parse(r#"emails [ type eq "work" ]"#).unwrap(),
        Filter::ValuePath { path: attr("emails"), filter: Box::new(compare("type", CompareOp::Eq, json!("work"))) }
    );
}

#[test]
fn an_attribute_named_like_a_keyword_is_an_attribute() {
    assert_eq!(parse("not pr").unwrap(), Filter::Present(attr("not")));
    assert_eq!(parse(r#"or eq "x""#).unwrap(), compare("or", CompareOp::Eq, json!("x")));
}

#[test]
fn malformed_filters_say_where_and_what_was_expected() {
    let cases = [
        ("", "expected an attribute path, \"(\" or \"not\", found the end of the filter (at character 1)"),
        (
            "userName",
            "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after \"userName\", found the end of the filter (at character 9)",
        ),
        (
            "userName equals \"x\"",
            "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after \"userName\", found \"equals\" (at character 10)",
        ),
        (
            "userName eq",
            "expected a value (a \"string\", a number, true, false or null) after \"eq\", found the end of the filter (at character 12)",
        ),
        (
            "userName eq bjensen",
            "expected a value (a \"string\", a number, true, false or null) after \"eq\", found \"bjensen\" (at character 13)",
        ),
        ("userName eq \"bjensen", "the string has no closing '\"' (at character 13)"),
        ("userName eq \"a\\qb\"", "the string is not a valid JSON string"),
        ("title pr title pr", "expected \"and\", \"or\" or the end of the filter, found \"title\" (at character 10)"),
        (
            "(title pr",
            "expected \")\" to close the \"(\" at character 1, found the end of the filter (at character 10)",
        ),
        ("title pr)", "expected \"and\", \"or\" or the end of the filter, found ')' (at character 9)"),
        (
            "not title pr",
            "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after \"not\", found \"title\" (at character 5)",
        ),
        ("title pr and", "expected an attribute path, \"(\" or \"not\", found the end of the filter (at character 13)"),
        (
            "emails[type eq \"work\"",
            "expected \"]\" to close the \"[\" at character 7, found the end of the filter (at character 22)",
        ),
        ("emails[ims[type pr]]", "a value filter cannot hold another value filter (at character 11)"),
        (
            "emails.value[type pr]",
            "a value filter follows a multi-valued attribute, not the sub-attribute \"emails.value\" (at character 1)",
        ),
        ("user=name eq \"x\"", "\"user=name\" is not an attribute path"),
        ("a.b.c pr", "\"a.b.c\" is not an attribute path: a path has at most one sub-attribute (at character 1)"),
        ("active gt true", "\"gt\" compares with a string or a number, not true (at character 11)"),
        ("x lt null", "\"lt\" compares with a string or a number, not null"),
        ("x co 5", "\"co\" compares with a string, not 5"),
        ("x eq 01", "expected a value"),
        ("é eq \"x\" and ü", "\"é\" is not an attribute path"),
        (
            "x eq \"é\" and ü",
            "\"ü\" is not an attribute path: \"ü\" is not an attribute name (a letter, then letters, digits, '-' or '_') (at character 14)",
        ),
    ];
    for (text, detail) in cases {
        let error = parse(text).unwrap_err();
        assert_eq!((error.status, error.scim_type), (400, Some(ScimType::InvalidFilter)), "{text}");
        assert!(error.detail.contains(detail), "{text}:\n  got  {}\n  want {detail}", error.detail);
        assert!(error.detail.starts_with("filter: "), "{text}: {}", error.detail);
    }
}

#[test]
fn a_long_word_is_quoted_short_in_errors() {
    let error = parse(&format!("userName is{}", "x".repeat(5000))).unwrap_err();
    assert!(error.detail.len() < 200, "{}", error.detail);
    assert!(error.detail.contains('…'), "{}", error.detail);
}

#[test]
fn nesting_is_bounded() {
    let nested = |depth: usize| format!("{}title pr{}", "(".repeat(depth), ")".repeat(depth));
    assert!(parse(&nested(MAX_DEPTH)).is_ok());
    let error = parse(&nested(MAX_DEPTH + 1)).unwrap_err();
    assert!(error.detail.contains("nested deeper than 32 levels"), "{}", error.detail);
    let nots = format!("{}title pr{}", "not (".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert!(parse(&nots).unwrap_err().detail.contains("nested deeper"));
    let deep = "(".repeat(1_000_000);
    assert!(parse(&deep).unwrap_err().detail.contains("nested deeper"));
}

#[test]
fn the_number_of_comparisons_is_bounded() {
    let terms = |n: usize| vec!["title pr"; n].join(" and ");
    assert!(parse(&terms(MAX_TERMS)).is_ok());
    let error = parse(&terms(MAX_TERMS + 1)).unwrap_err();
    assert!(error.detail.contains("more than 1000 comparisons"), "{}", error.detail);
}

#[test]
fn rfc_examples_match_barbara_jensen_as_they_should() {
    let expected =
        [true, true, false, false, true, false, true, false, true, true, true, true, true, false, true, true, true];
    for (example, expected) in RFC_EXAMPLES.into_iter().zip(expected) {
        assert_eq!(matching(example), expected, "{example}");
    }
}

#[test]
fn strings_compare_without_case() {
    assert!(matching(r#"userName eq "BJENSEN""#));
    assert!(matching(r#"userName sw "bJ""#));
    assert!(matching(r#"userName ew "SEN""#));
    assert!(matching(r#"name.FAMILYNAME co "o'mal""#));
    assert!(matching(r#"USERNAME gt "a""#));
    assert!(!matching(r#"userName lt "a""#));
}

#[test]
fn multi_valued_attributes_match_when_any_value_does() {
    assert!(matching(r#"emails.type eq "home""#));
    assert!(matching(r#"emails eq "babs@jensen.org""#), "a complex value compared whole is compared by its value");
    assert!(matching(r#"emails[type eq "home" and value ew ".org"]"#));
    assert!(!matching(r#"emails[type eq "home" and value ew ".com"]"#), "both must hold of the same value");
    assert!(matching(r#"emails[not (primary eq true)]"#));
    assert!(matching(r#"schemas eq "urn:ietf:params:scim:schemas:core:2.0:User""#));
}

#[test]
fn ne_holds_when_no_value_is_equal() {
    assert!(!matching(r#"emails.type ne "work""#));
    assert!(matching(r#"emails.type ne "other""#));
    assert!(matching(r#"nickName ne "Babs""#), "an absent attribute equals nothing");
    assert!(!matching(r#"userName ne "BJensen""#));
}

#[test]
fn presence_and_null() {
    let resource = json!({"a": "", "b": [], "c": {}, "d": null, "e": "x", "f": false, "g": 0});
    for (name, present) in
        [("a", false), ("b", false), ("c", false), ("d", false), ("z", false), ("e", true), ("f", true), ("g", true)]
    {
        assert_eq!(matches(&parse(&format!("{name} pr")).unwrap(), &resource), present, "{name} pr");
        assert_eq!(matches(&parse(&format!("{name} eq null")).unwrap(), &resource), !present, "{name} eq null");
        assert_eq!(matches(&parse(&format!("{name} ne null")).unwrap(), &resource), present, "{name} ne null");
    }
}

#[test]
fn booleans_and_numbers_compare_by_value() {
    assert!(matching("active eq true"));
    assert!(matching(r#"active eq "True""#), "Entra's string booleans");
    assert!(!matching("active eq false"));
    assert!(!matching(r#"active eq "yes""#));
    assert!(matching(r#"emails[primary eq "TRUE"]"#));
    assert!(matching("loginCount eq 7"));
    assert!(matching("loginCount ge 7.0"));
    assert!(matching("loginCount lt 8"));
    assert!(!matching("loginCount gt 7"));
    assert!(!matching(r#"loginCount eq "7""#), "a number is not a string");
    let keys = json!({"key": 18446744073709551615_u64});
    assert!(matches(&parse("key gt 18446744073709551614").unwrap(), &keys), "integers compare exactly");
}

#[test]
fn dates_compare_in_order() {
    assert!(matching(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#));
    assert!(matching(r#"meta.lastModified lt "2012-01-01T00:00:00Z""#));
    assert!(!matching(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#));
}

#[test]
fn a_qualified_path_looks_in_its_extension() {
    assert!(matching(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations""#));
    assert!(!matching(r#"department eq "Tour Operations""#), "an unqualified name is a core attribute");
    assert!(matching(r#"urn:ietf:params:scim:schemas:core:2.0:User:title pr"#));
}

#[test]
fn a_simple_multi_valued_attribute_is_its_own_value_in_a_value_path() {
    let resource = json!({"products": ["G2M", "G2W"]});
    assert!(matches(&parse(r#"products[value eq "g2w"]"#).unwrap(), &resource));
    assert!(matches(&parse(r#"products eq "G2M""#).unwrap(), &resource));
    assert!(!matches(&parse(r#"products[value eq "G2T"]"#).unwrap(), &resource));
}

#[test]
fn nothing_matches_a_resource_that_is_not_an_object() {
    for resource in [json!(null), json!("bjensen"), json!([bjensen()])] {
        assert!(!matches(&parse(r#"userName eq "bjensen""#).unwrap(), &resource), "{resource}");
    }
}
