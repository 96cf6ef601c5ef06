//! The store-level suite: the same scenarios run through the `Store` trait directly against
//! the SQLite and the PostgreSQL implementations.

mod support;

use std::sync::Arc;

use fieldsync::model::{EntityType, FieldMap, Operation};
use fieldsync::protocol::{Change, ChangeStatus, ErrorCode};
use fieldsync::server::store::{self, Officer, Store};
use fieldsync::server::StoreError;
use serde_json::json;
use uuid::Uuid;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

/// A fresh store of the kind; the TempDir keeps a SQLite file alive.
async fn open(kind: &str) -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    match kind {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("s.sqlite3").display().to_string();
            (store::open(&p).await.unwrap(), Some(dir))
        }
        _ => {
            let url = tokio::task::spawn_blocking(support::pg::fresh_database)
                .await
                .unwrap();
            (store::open(&url).await.unwrap(), None)
        }
    }
}

fn officer(id: &str, team: &str) -> Officer {
    Officer {
        id: id.into(),
        team: team.into(),
        created_at: String::new(),
        revoked: false,
    }
}

fn fm(v: serde_json::Value) -> FieldMap {
    serde_json::from_value(v).unwrap()
}

fn insert(id: Uuid, name: &str) -> Change {
    Change {
        op_id: Uuid::new_v4(),
        entity_type: EntityType::Household,
        entity_id: id,
        operation: Operation::Insert,
        base_version: None,
        fields: fm(json!({ "name": name })),
    }
}

macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::rt().block_on(super::$name("sqlite")) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::rt().block_on(super::$name("postgres")) } )*
        }
    };
}

both_stores!(
    officers_add_list_revoke_move,
    push_pull_and_dedupe,
    concurrent_pushes_commit_in_version_order,
    purge_raises_the_history_floor,
);

async fn officers_add_list_revoke_move(kind: &str) {
    let (st, _d) = open(kind).await;
    st.add_officer("amina", "north", "h1").await.unwrap();
    assert!(matches!(
        st.add_officer("amina", "south", "h2").await,
        Err(StoreError::DuplicateOfficer(_))
    ));
    assert!(matches!(
        st.add_officer("bad id", "south", "h3").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        st.revoke_officer("ghost").await,
        Err(StoreError::UnknownOfficer(_))
    ));
    assert!(matches!(
        st.move_officer("ghost", "x").await,
        Err(StoreError::UnknownOfficer(_))
    ));
    let o = st.officer_by_token_hash("h1").await.unwrap().unwrap();
    assert_eq!(
        (o.id.as_str(), o.team.as_str(), o.revoked),
        ("amina", "north", false)
    );
    st.move_officer("amina", "south").await.unwrap();
    st.revoke_officer("amina").await.unwrap();
    let o = st.officer_by_token_hash("h1").await.unwrap().unwrap();
    assert_eq!((o.team.as_str(), o.revoked), ("south", true));
    assert!(st.officer_by_token_hash("nope").await.unwrap().is_none());
    assert_eq!(st.list_officers().await.unwrap().len(), 1);
    // The cursor secret is stable and 32 bytes.
    let s1 = st.cursor_secret().await.unwrap();
    assert_eq!(s1.len(), 32);
    assert_eq!(st.cursor_secret().await.unwrap(), s1);
}

async fn push_pull_and_dedupe(kind: &str) {
    let (st, _d) = open(kind).await;
    let o = officer("amina", "north");
    let dev = Uuid::new_v4();
    let ids: Vec<Uuid> = (0..10).map(|_| Uuid::new_v4()).collect();
    let batch: Vec<Change> = ids.iter().map(|i| insert(*i, "h")).collect();
    let r = st.push(&o, dev, batch.clone()).await.unwrap();
    assert!(r.iter().all(|x| x.status == ChangeStatus::Accepted));
    assert_eq!(
        r.iter().map(|x| x.version.unwrap()).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(st.push(&o, dev, batch.clone()).await.unwrap(), r);
    let mut altered = batch[0].clone();
    altered.fields = fm(json!({"name": "other"}));
    let r2 = st.push(&o, dev, vec![altered]).await.unwrap();
    assert_eq!(r2[0].error.as_ref().unwrap().code, ErrorCode::OpIdReused);
    let page = st.pull("north", 0, 4).await.unwrap();
    assert_eq!(page.records.len(), 4);
    assert!(page.has_more);
    let page = st.pull("north", 8, 4).await.unwrap();
    assert_eq!(
        page.records.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![9, 10]
    );
    assert!(!page.has_more);
    assert!(st.pull("south", 0, 100).await.unwrap().records.is_empty());
}

async fn concurrent_pushes_commit_in_version_order(kind: &str) {
    let (st, _d) = open(kind).await;
    let o = officer("amina", "north");
    const TASKS: usize = 8;
    const BATCHES: usize = 20;
    const PER: usize = 5;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let puller = {
        let st = st.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut after = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                loop {
                    let p = st.pull("north", after, 3).await.unwrap();
                    for r in &p.records {
                        seen.push(r.version);
                        after = r.version;
                    }
                    if !p.has_more {
                        break;
                    }
                }
                if finished {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let pushers: Vec<_> = (0..TASKS)
        .map(|_| {
            let st = st.clone();
            let o = o.clone();
            tokio::spawn(async move {
                let dev = Uuid::new_v4();
                let mut n = 0;
                for _ in 0..BATCHES {
                    let b: Vec<Change> = (0..PER).map(|_| insert(Uuid::new_v4(), "h")).collect();
                    n += st.push(&o, dev, b).await.unwrap().len();
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for p in pushers {
        total += p.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = puller.await.unwrap();
    assert_eq!(total, TASKS * BATCHES * PER);
    assert_eq!(
        seen,
        (1..=total as i64).collect::<Vec<_>>(),
        "the puller skipped or repeated versions"
    );
}

async fn purge_raises_the_history_floor(kind: &str) {
    let (st, _d) = open(kind).await;
    let o = officer("amina", "north");
    let dev = Uuid::new_v4();
    let h = Uuid::new_v4();
    st.push(&o, dev, vec![insert(h, "a"), insert(Uuid::new_v4(), "b")])
        .await
        .unwrap();
    let del = Change {
        op_id: Uuid::new_v4(),
        entity_type: EntityType::Household,
        entity_id: h,
        operation: Operation::Delete,
        base_version: Some(1),
        fields: FieldMap::new(),
    };
    assert_eq!(
        st.push(&o, dev, vec![del]).await.unwrap()[0].version,
        Some(3)
    );
    assert_eq!(st.history_floor().await.unwrap(), 0);
    assert_eq!(
        st.purge_tombstones(3).await.unwrap(),
        0,
        "v3 is not below 3"
    );
    assert_eq!(st.purge_tombstones(4).await.unwrap(), 1);
    assert_eq!(st.history_floor().await.unwrap(), 3);
    assert_eq!(st.purge_tombstones(2).await.unwrap(), 0);
    assert_eq!(
        st.history_floor().await.unwrap(),
        3,
        "the floor never goes down"
    );
    assert_eq!(st.pull("north", 0, 10).await.unwrap().records.len(), 1);
}

/// A database written by a newer fieldsync is refused, not misread.
#[test]
fn sqlite_database_from_a_newer_fieldsync_is_refused() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.sqlite3");
        drop(store::open(&p.display().to_string()).await.unwrap());
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
        drop(c);
        match store::open(&p.display().to_string()).await {
            Err(StoreError::Invalid(m)) => assert!(m.contains("newer"), "{m}"),
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("a newer database was opened"),
        }
    });
}
