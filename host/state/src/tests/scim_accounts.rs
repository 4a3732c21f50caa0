use super::*;

#[test]
fn an_external_id_is_set_replaced_found_and_forgotten_and_outlives_the_process() {
    let env = Env::new();
    let mut store = env.open();
    assert_eq!(store.external_id("1").unwrap(), None);
    store.set_external_id("1", Some("emp-7")).unwrap();
    store.set_external_id("2", Some("emp-7")).unwrap();
    store.set_external_id("1", Some("emp-8")).unwrap();
    assert_eq!(store.external_id("1").unwrap().as_deref(), Some("emp-8"));
    assert_eq!(store.accounts_with_external_id("emp-7").unwrap(), ["2"]);
    drop(store);
    let mut store = env.open();
    assert_eq!(store.accounts_with_external_id("emp-8").unwrap(), ["1"]);
    store.set_external_id("1", None).unwrap();
    assert_eq!(store.external_id("1").unwrap(), None);
    assert!(store.accounts_with_external_id("emp-8").unwrap().is_empty());
}

#[test]
fn a_deleted_account_stays_deleted_across_restarts_until_revived_and_keeps_its_external_id() {
    let env = Env::new();
    let mut store = env.open();
    store.set_external_id("1", Some("emp-1")).unwrap();
    store.mark_deleted("1").unwrap();
    store.mark_deleted("3").unwrap();
    drop(store);
    let mut store = env.open();
    assert_eq!(store.deleted_accounts().unwrap(), ["1".to_owned(), "3".to_owned()].into());
    assert!(store.revive("1").unwrap());
    assert!(!store.revive("1").unwrap(), "already back");
    assert!(!store.revive("2").unwrap(), "never deleted");
    assert_eq!(store.deleted_accounts().unwrap(), ["3".to_owned()].into());
    assert_eq!(store.external_id("1").unwrap().as_deref(), Some("emp-1"));
}

#[test]
fn a_version_4_database_gains_an_empty_scim_table() {
    let env = Env::new();
    drop(env.open());
    let conn = rusqlite::Connection::open(env.path()).unwrap();
    conn.execute_batch("DROP TABLE scim_accounts; PRAGMA user_version = 4;").unwrap();
    drop(conn);
    let mut store = env.open();
    assert!(store.deleted_accounts().unwrap().is_empty());
    store.set_external_id("5", Some("x")).unwrap();
    assert_eq!(store.external_id("5").unwrap().as_deref(), Some("x"));
}
