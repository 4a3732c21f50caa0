use super::*;
use crate::ScimAccount;

fn attributes(external_id: Option<&str>, user_name: Option<&str>) -> ScimAccount {
    ScimAccount { external_id: external_id.map(str::to_owned), user_name: user_name.map(str::to_owned) }
}

#[test]
fn the_client_s_attributes_are_set_replaced_found_and_outlive_the_process() {
    let env = Env::new();
    let mut store = env.open();
    assert_eq!(store.scim_account("1").unwrap(), ScimAccount::default());
    store.set_scim_account("1", &attributes(Some("emp-7"), Some("Ann.Lee"))).unwrap();
    store.set_scim_account("2", &attributes(Some("emp-7"), None)).unwrap();
    store.set_scim_account("1", &attributes(Some("emp-8"), Some("Ann.Lee"))).unwrap();
    assert_eq!(store.accounts_with_external_id("emp-7").unwrap(), ["2"]);
    drop(store);
    let mut store = env.open();
    assert_eq!(store.scim_account("1").unwrap(), attributes(Some("emp-8"), Some("Ann.Lee")));
    assert_eq!(store.account_with_user_name("ann.lee").unwrap().as_deref(), Some("1"), "without regard to case");
    assert!(store.set_scim_account("2", &attributes(None, Some("ANN.LEE"))).is_err(), "user names are unique");
    store.set_scim_account("1", &ScimAccount::default()).unwrap();
    assert_eq!(store.account_with_user_name("ann.lee").unwrap(), None);
    assert!(store.accounts_with_external_id("emp-8").unwrap().is_empty());
}

#[test]
fn a_deleted_account_stays_deleted_across_restarts_until_revived_and_keeps_its_attributes() {
    let env = Env::new();
    let mut store = env.open();
    store.set_scim_account("1", &attributes(Some("emp-1"), None)).unwrap();
    store.mark_deleted("1").unwrap();
    store.mark_deleted("3").unwrap();
    drop(store);
    let mut store = env.open();
    assert_eq!(store.deleted_accounts().unwrap(), ["1".to_owned(), "3".to_owned()].into());
    assert!(store.revive("1").unwrap());
    assert!(!store.revive("1").unwrap(), "already back");
    assert!(!store.revive("2").unwrap(), "never deleted");
    assert_eq!(store.deleted_accounts().unwrap(), ["3".to_owned()].into());
    assert_eq!(store.scim_account("1").unwrap().external_id.as_deref(), Some("emp-1"));
}

#[test]
fn a_group_s_external_id_is_set_replaced_and_forgotten() {
    let env = Env::new();
    let mut store = env.open();
    assert_eq!(store.group_external_id("9").unwrap(), None);
    store.set_group_external_id("9", Some("team-a")).unwrap();
    store.set_group_external_id("9", Some("team-b")).unwrap();
    assert_eq!(env_reopened(&env, store).group_external_id("9").unwrap().as_deref(), Some("team-b"));
}

fn env_reopened(env: &Env, store: Store) -> Store {
    drop(store);
    env.open()
}

#[test]
fn a_version_4_database_gains_an_empty_scim_table() {
    let env = Env::new();
    drop(env.open());
    let conn = rusqlite::Connection::open(env.path()).unwrap();
    conn.execute_batch("DROP TABLE scim_accounts; DROP TABLE scim_groups; PRAGMA user_version = 4;").unwrap();
    drop(conn);
    let mut store = env.open();
    assert!(store.deleted_accounts().unwrap().is_empty());
    store.set_scim_account("5", &attributes(Some("x"), None)).unwrap();
    assert_eq!(store.scim_account("5").unwrap().external_id.as_deref(), Some("x"));
}
