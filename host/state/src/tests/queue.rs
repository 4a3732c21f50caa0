//! The retry queue: one entry per operation, in the order queued, kept across restarts.

use super::*;
use crate::{Failure, QueueId};

fn failure(message: &str) -> Failure {
    Failure { kind: "remote".to_owned(), message: message.to_owned() }
}

fn operations(store: &Store) -> Vec<Value> {
    store.queue().unwrap().into_iter().map(|q| q.operation).collect()
}

#[test]
fn the_same_operation_queued_twice_is_one_entry_with_two_attempts() {
    let env = Env::new();
    let mut store = env.open();
    let grant = json!({"op": "grant", "account": "a@x.com", "role": "RUN_REPORTS"});
    let first = store.enqueue(&grant, &failure("HTTP 503")).unwrap();
    let other = store.enqueue(&json!({"op": "delete", "account": "b@x.com"}), &failure("HTTP 502")).unwrap();
    // The same operation with its fields in another order is the same operation.
    let again = json!({"role": "RUN_REPORTS", "op": "grant", "account": "a@x.com"});
    assert_eq!(store.enqueue(&again, &failure("HTTP 500")).unwrap(), first);

    let queue = store.queue().unwrap();
    assert_eq!(queue.iter().map(|q| q.id).collect::<Vec<_>>(), [first, other]);
    assert_eq!((queue[0].attempts, queue[0].last_error.message.as_str()), (2, "HTTP 500"));
    assert_eq!((queue[0].queued_at, queue[0].last_attempt_at), (NOW, NOW));
    assert_eq!(queue[1].attempts, 1);
    assert_eq!(queue[0].operation, grant);
}

#[test]
fn nested_objects_are_canonical_too() {
    let env = Env::new();
    let mut store = env.open();
    let one = json!({"op": "create", "identity": {"given": "Ann", "family": "Lee"}});
    let two = json!({"identity": {"family": "Lee", "given": "Ann"}, "op": "create"});
    assert_eq!(store.enqueue(&one, &failure("x")).unwrap(), store.enqueue(&two, &failure("y")).unwrap());
    assert_eq!(store.queue().unwrap().len(), 1);
}

#[test]
fn a_failed_retry_counts_against_its_entry_and_a_removed_one_stays_gone() {
    let env = Env::new();
    let mut store = env.open();
    let id = store.enqueue(&json!({"op": "delete", "account": "a@x.com"}), &failure("HTTP 503")).unwrap();
    store.record_failure(id, &Failure { kind: "transport".to_owned(), message: "reset".to_owned() }).unwrap();
    let entry = &store.queue().unwrap()[0];
    assert_eq!(
        (entry.attempts, entry.last_error.kind.as_str(), entry.last_error.message.as_str()),
        (2, "transport", "reset")
    );
    store.dequeue(id).unwrap();
    store.record_failure(id, &failure("late")).unwrap();
    assert!(store.queue().unwrap().is_empty());
}

#[test]
fn dequeued_operations_leave_and_their_ids_are_never_reused() {
    let env = Env::new();
    let mut store = env.open();
    let a = store.enqueue(&json!({"op": "delete", "account": "a@x.com"}), &failure("x")).unwrap();
    let b = store.enqueue(&json!({"op": "delete", "account": "b@x.com"}), &failure("x")).unwrap();
    store.dequeue(b).unwrap();
    store.dequeue(b).unwrap();
    let c = store.enqueue(&json!({"op": "delete", "account": "c@x.com"}), &failure("x")).unwrap();
    assert!(c > b, "{c} reuses a removed id");
    assert_eq!(store.queue().unwrap().iter().map(|q| q.id).collect::<Vec<QueueId>>(), [a, c]);
}

#[test]
fn the_queue_outlives_the_process_and_sits_beside_import_runs() {
    let env = Env::new();
    {
        let mut store = env.open();
        import(&mut store, Scope::Accounts, &accounts(3), finished());
        store
            .enqueue(&json!({"op": "update", "account": "u0000@example.com", "locale": "fr_FR"}), &failure("x"))
            .unwrap();
    }
    let store = env.open();
    assert_eq!(operations(&store), [json!({"op": "update", "account": "u0000@example.com", "locale": "fr_FR"})]);
    assert_eq!(store.show(Some(Scope::Accounts)).unwrap().len(), 3);
}

#[test]
fn a_version_3_database_gains_an_empty_queue() {
    let env = Env::new();
    drop(env.open());
    let conn = rusqlite::Connection::open(env.path()).unwrap();
    conn.execute_batch("DROP TABLE queue; DROP TABLE scim_accounts; DROP TABLE scim_groups; PRAGMA user_version = 3;")
        .unwrap();
    drop(conn);
    let mut store = env.open();
    assert!(store.queue().unwrap().is_empty());
    store.enqueue(&json!({"op": "delete", "account": "a@x.com"}), &failure("x")).unwrap();
    assert_eq!(store.queue().unwrap().len(), 1);
}
