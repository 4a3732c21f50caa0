//! Behaviour tests against real databases in temporary directories, with a fixed clock.

mod correlation;
mod lifecycle;
mod proof;
mod queries;
mod queue;
mod recording;
mod scim_accounts;

use std::path::PathBuf;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::{Attributes, DeletionPolicy, End, Item, Scope, Store, Summary};

pub(crate) const NOW: i64 = 1_700_000_000;

fn clock() -> i64 {
    NOW
}

/// A state directory that outlives any one `Store`, so tests can "restart the process".
pub(crate) struct Env {
    dir: TempDir,
}

impl Env {
    pub(crate) fn new() -> Env {
        Env { dir: tempfile::tempdir().unwrap() }
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("state.db")
    }

    pub(crate) fn open(&self) -> Store {
        Store::open_with_clock(&self.path(), clock).unwrap()
    }
}

pub(crate) fn attrs(value: Value) -> Attributes {
    Attributes::new(&value).unwrap()
}

pub(crate) fn account(key: &str, title: &str) -> Item {
    let email = format!("{key}@example.com");
    Item { key: key.to_owned(), email: Some(email.clone()), attributes: attrs(json!({"email": email, "title": title})) }
}

pub(crate) fn group(key: &str, name: &str) -> Item {
    Item { key: key.to_owned(), email: None, attributes: attrs(json!({"name": name})) }
}

/// Accounts u0000, u0001, ... with the same title.
pub(crate) fn accounts(count: usize) -> Vec<Item> {
    (0..count).map(|n| account(&format!("u{n:04}"), "staff")).collect()
}

pub(crate) fn finished() -> End {
    End::Finished { deletions: DeletionPolicy::default() }
}

pub(crate) fn confirmed() -> End {
    End::Finished { deletions: DeletionPolicy { confirmed: true, ..DeletionPolicy::default() } }
}

/// A whole unfiltered import of `items` in pages of `page`, each page reporting the full total.
pub(crate) fn import_paged(store: &mut Store, scope: Scope, items: &[Item], page: usize, end: End) -> Summary {
    let run = store.begin(scope, None).unwrap();
    let total = items.len() as u64;
    if items.is_empty() {
        store.record_page(run, 0, &[]).unwrap();
    }
    for chunk in items.chunks(page) {
        store.record_page(run, total, chunk).unwrap();
    }
    store.finish(run, end).unwrap()
}

pub(crate) fn import(store: &mut Store, scope: Scope, items: &[Item], end: End) -> Summary {
    import_paged(store, scope, items, 2, end)
}

pub(crate) fn keys(items: &[Item]) -> Vec<String> {
    items.iter().map(|item| item.key.clone()).collect()
}
