//! Write operations as the user states them: the same types are read from command-line flags
//! (`gtm-connector create --email …`) and from the JSON Lines of `gtm-connector apply`
//! (`{"op": "create", "email": …}`), so both accept exactly the same things.

use std::collections::BTreeMap;

use clap::{ArgGroup, Args, ValueEnum};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::runtime::{AccountFields, DeleteMode, DeprovisionOptions, EntitlementKind, EntitlementRef};

/// One line of an `apply` file. It serializes back to a line (fields left out where the
/// grammar's default applies), which is how the retry queue keeps it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Operation {
    Create(Create),
    Update(Update),
    Delete(Delete),
    Grant(Access),
    Revoke(Access),
}

/// Fields a line has that its operation does not know. `deny_unknown_fields` does not work
/// with flattened structs, so operations that flatten collect the rest here and refuse it.
type Unknown = BTreeMap<String, serde_json::Value>;

impl Operation {
    /// Reads line `number` of an `apply` file; a field the operation does not know is an error,
    /// not ignored. Error positions name the file's line.
    pub fn parse(line: &str, number: usize) -> Result<Operation, String> {
        serde_json::from_str(line).map_err(|e| at_file_line(&e, number)).and_then(Operation::checked)
    }

    /// An operation kept as JSON (by the retry queue), checked as a line is.
    pub fn from_value(value: serde_json::Value) -> Result<Operation, String> {
        serde_json::from_value(value).map_err(|e| e.to_string()).and_then(Operation::checked)
    }

    /// The account the operation names (key or email); none for a create without an email.
    pub fn account(&self) -> Option<&str> {
        match self {
            Operation::Create(c) => c.fields.email.as_deref(),
            Operation::Update(u) => Some(&u.account),
            Operation::Delete(d) => Some(&d.account),
            Operation::Grant(a) | Operation::Revoke(a) => Some(&a.account),
        }
    }

    /// Refuses the fields an operation that flattens its fields does not know.
    fn checked(op: Operation) -> Result<Operation, String> {
        let unknown = match &op {
            Operation::Create(c) => &c.unknown,
            Operation::Update(u) => &u.unknown,
            Operation::Delete(_) | Operation::Grant(_) | Operation::Revoke(_) => return Ok(op),
        };
        match unknown.keys().next() {
            Some(field) => Err(format!("unknown field `{field}` for op {}", op.name())),
            None => Ok(op),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Operation::Create(_) => "create",
            Operation::Update(_) => "update",
            Operation::Delete(_) => "delete",
            Operation::Grant(_) => "grant",
            Operation::Revoke(_) => "revoke",
        }
    }
}

/// GoTo attributes given directly.
#[derive(Debug, Clone, Default, Args, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
#[group(skip)]
pub struct Fields {
    /// Login email (at most 128 characters)
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Given name (at most 32 characters)
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name (at most 32 characters)
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Locale such as en_US
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// IANA time zone such as Europe/Paris
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl From<&Fields> for AccountFields {
    fn from(f: &Fields) -> AccountFields {
        AccountFields {
            email: f.email.clone(),
            first_name: f.first_name.clone(),
            last_name: f.last_name.clone(),
            locale: f.locale.clone(),
            time_zone: f.time_zone.clone(),
        }
    }
}

/// Identity attributes for the profile's mapping: `--identity NAME=VALUE` (repeatable), or
/// `"identity": {"NAME": "VALUE"}` in a file.
#[derive(Debug, Clone, Default, Args, Deserialize, Serialize)]
#[group(skip)]
pub struct Identity {
    /// An identity attribute for the profile's mapping templates (repeatable)
    #[arg(long = "identity", value_name = "NAME=VALUE", value_parser = parse_attribute)]
    #[serde(
        default,
        deserialize_with = "attributes_from_map",
        serialize_with = "attributes_to_map",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub identity: Vec<(String, String)>,
}

#[derive(Debug, Clone, Args, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
#[group(skip)]
pub struct Create {
    #[command(flatten)]
    #[serde(flatten)]
    pub fields: Fields,
    #[command(flatten)]
    #[serde(flatten)]
    pub identity: Identity,
    /// Grant this license at creation (repeatable)
    #[arg(long = "license", value_name = "KEY")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// Put the account in this group
    #[arg(long, value_name = "KEY")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Grant this admin role at creation (repeatable)
    #[arg(long = "role", value_name = "NAME")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[arg(skip)]
    #[serde(flatten)]
    unknown: Unknown,
}

impl Create {
    pub fn entitlements(&self) -> Vec<EntitlementRef> {
        let refs = |kind: EntitlementKind, keys: &[String]| {
            keys.iter().map(move |key| EntitlementRef { kind, key: key.clone() }).collect::<Vec<_>>()
        };
        let mut all = refs(EntitlementKind::License, &self.licenses);
        all.extend(refs(EntitlementKind::Group, self.group.as_slice()));
        all.extend(refs(EntitlementKind::AdminRole, &self.roles));
        all
    }
}

#[derive(Debug, Clone, Args, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
#[group(skip)]
pub struct Update {
    /// The account: its key, or its current email
    pub account: String,
    #[command(flatten)]
    #[serde(flatten)]
    pub fields: Fields,
    #[command(flatten)]
    #[serde(flatten)]
    pub identity: Identity,
    #[arg(skip)]
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Clone, Args, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[group(skip)]
pub struct Delete {
    /// The account: its key or its email
    pub account: String,
    /// deprovision takes away every admin role, the group and every license, and keeps the
    /// account (suspended) with its meeting history; hard-delete removes it and GoTo erases
    /// its history
    #[arg(long, value_enum, default_value_t = DeleteHow::Deprovision)]
    #[serde(default)]
    pub mode: DeleteHow,
    /// Deprovision but leave the admin roles in place (the result lists them as kept)
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_roles: bool,
    /// Deprovision but leave the user in their group (the result lists it as kept)
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_group: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeleteHow {
    #[default]
    Deprovision,
    HardDelete,
}

impl Delete {
    /// The mode for the component; keeping access means nothing to a hard delete, so asking
    /// for both is refused rather than ignored.
    pub fn mode(&self) -> Result<DeleteMode, String> {
        match self.mode {
            DeleteHow::Deprovision => Ok(DeleteMode::Deprovision(DeprovisionOptions {
                keep_roles: self.keep_roles,
                keep_group: self.keep_group,
            })),
            DeleteHow::HardDelete if self.keep_roles || self.keep_group => {
                Err("keep-roles and keep-group apply to mode deprovision, not hard-delete".to_owned())
            }
            DeleteHow::HardDelete => Ok(DeleteMode::HardDelete),
        }
    }
}

/// One entitlement to grant or revoke: exactly one of license, group and role.
#[derive(Debug, Clone, Args, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[group(skip)]
#[command(group(ArgGroup::new("entitlement").required(true).multiple(false).args(["license", "group", "role"])))]
pub struct Access {
    /// The account: its key or its email
    pub account: String,
    /// A license key
    #[arg(long, value_name = "KEY")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// A group key (a user has one group: granting another moves the user)
    #[arg(long, value_name = "KEY")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// An admin role name such as MANAGE_USERS
    #[arg(long, value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl Access {
    pub fn entitlement(&self) -> Result<EntitlementRef, String> {
        match (&self.license, &self.group, &self.role) {
            (Some(key), None, None) => Ok(EntitlementRef { kind: EntitlementKind::License, key: key.clone() }),
            (None, Some(key), None) => Ok(EntitlementRef { kind: EntitlementKind::Group, key: key.clone() }),
            (None, None, Some(key)) => Ok(EntitlementRef { kind: EntitlementKind::AdminRole, key: key.clone() }),
            _ => Err("give exactly one of license, group and role".to_owned()),
        }
    }
}

/// serde_json places its error in the text it was given, always line 1 here: say the file's line
/// instead, column kept.
fn at_file_line(error: &serde_json::Error, number: usize) -> String {
    let text = error.to_string();
    let what = text.strip_suffix(&format!(" at line {} column {}", error.line(), error.column())).unwrap_or(&text);
    format!("{what} at line {number} column {}", error.column())
}

fn parse_attribute(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_owned(), value.to_owned())),
        _ => Err(format!("{text:?}: use NAME=VALUE")),
    }
}

fn attributes_to_map<S: Serializer>(attributes: &[(String, String)], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(attributes.iter().map(|(name, value)| (name, value)))
}

fn attributes_from_map<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<(String, String)>, D::Error> {
    Ok(BTreeMap::<String, String>::deserialize(deserializer)?.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_by_op_and_reject_unknown_fields() {
        let op = Operation::parse(
            r#"{"op":"create","email":"a@x.com","first-name":"A","last-name":"B","licenses":["1"],"identity":{"dept":"x"}}"#,
            1,
        )
        .unwrap();
        match op {
            Operation::Create(c) => {
                assert_eq!(c.fields.email.as_deref(), Some("a@x.com"));
                assert_eq!(c.identity.identity, vec![("dept".to_owned(), "x".to_owned())]);
                assert_eq!(c.entitlements().len(), 1);
            }
            other => panic!("{other:?}"),
        }
        let err = Operation::parse(r#"{"op":"grant","account":"1","licence":"2"}"#, 1).unwrap_err();
        assert!(err.contains("licence"), "{err}");
        let err = Operation::parse(r#"{"op":"grant","account":"1","role":}"#, 7).unwrap_err();
        assert!(err.ends_with("expected value at line 7 column 36"), "{err}");
        let err = Operation::parse(r#"{"op":"create","emial":"a@x.com"}"#, 1).unwrap_err();
        assert!(err.contains("unknown field `emial` for op create"), "{err}");
        let grant = Operation::parse(r#"{"op":"grant","account":"1","role":"RUN_REPORTS"}"#, 1).unwrap();
        assert!(matches!(grant, Operation::Grant(a) if a.entitlement().unwrap().kind == EntitlementKind::AdminRole));
        let delete = Operation::parse(r#"{"op":"delete","account":"1","mode":"hard-delete"}"#, 1).unwrap();
        assert!(matches!(delete, Operation::Delete(d) if matches!(d.mode(), Ok(DeleteMode::HardDelete))));
        let keep = Operation::parse(r#"{"op":"delete","account":"1","keep-roles":true}"#, 1).unwrap();
        assert!(matches!(keep, Operation::Delete(d) if matches!(
            d.mode(),
            Ok(DeleteMode::Deprovision(DeprovisionOptions { keep_roles: true, keep_group: false }))
        )));
        let both =
            Operation::parse(r#"{"op":"delete","account":"1","mode":"hard-delete","keep-group":true}"#, 1).unwrap();
        assert!(matches!(both, Operation::Delete(d) if d.mode().is_err()));
        assert!(Operation::parse(r#"{"op":"delete","account":"1","mode":"remove-licenses"}"#, 1).is_err());
        assert!(Operation::parse(r#"{"op":"rename","account":"1"}"#, 1).is_err());
    }

    #[test]
    fn an_operation_serializes_to_a_line_that_reads_back_the_same() {
        let lines = [
            r#"{"op":"create","email":"a@x.com","first-name":"A","licenses":["1","2"],"group":"3","identity":{"dept":"x"}}"#,
            r#"{"op":"update","account":"a@x.com","time-zone":"Europe/Paris"}"#,
            r#"{"op":"delete","account":"1","mode":"deprovision","keep-group":true}"#,
            r#"{"op":"revoke","account":"1","role":"RUN_REPORTS"}"#,
        ];
        for line in lines {
            let value = serde_json::to_value(Operation::parse(line, 1).unwrap()).unwrap();
            assert_eq!(value, serde_json::from_str::<serde_json::Value>(line).unwrap(), "{line}");
            let again = serde_json::to_value(Operation::from_value(value.clone()).unwrap()).unwrap();
            assert_eq!(again, value);
        }
        // What the grammar defaults is left out, so two spellings of one operation are one line.
        let spelled_out = Operation::parse(r#"{"op":"create","email":"a@x.com","licenses":[],"roles":[]}"#, 1).unwrap();
        assert_eq!(serde_json::to_value(spelled_out).unwrap(), serde_json::json!({"op":"create","email":"a@x.com"}));
        let err = Operation::from_value(serde_json::json!({"op":"create","emial":"a@x.com"})).unwrap_err();
        assert!(err.contains("unknown field `emial`"), "{err}");
    }
}
