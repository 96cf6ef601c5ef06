//! Pull pages built as wire JSON straight from the stored text (`server::wire`), on both
//! stores: every record a pull sends, page by page or in one page, is exactly the record the
//! store holds (fields, tombstones, server ids, versions and audit stamps, as the store's own
//! typed read gives them), each once, in version order, and nothing of another team.

mod support;

use std::sync::Arc;

use fieldsync::model::EntityType;
use fieldsync::protocol::{ChangeStatus, PullResponse, PushRequest, Record};
use fieldsync::server::store::{self, ExportFilter, Store};
use fieldsync::server::PullQuery;
use fieldsync::server::Service;
use serde_json::{json, Value};
use support::body::{delete, household, insert, uid, update, visit};
use support::both_stores;

async fn open(kind: &str) -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    match kind {
        "sqlite" => {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let p = dir.path().join("s.sqlite3").display().to_string();
            (store::open(&p).await.expect("open SQLite"), Some(dir))
        }
        _ => {
            let url = tokio::task::spawn_blocking(support::pg::fresh_database)
                .await
                .expect("a PostgreSQL database");
            (store::open(&url).await.expect("open PostgreSQL"), None)
        }
    }
}

/// Pushes `changes` as `officer`; the versions of the accepted ones.
async fn push(svc: &Service, token: &str, changes: Vec<Value>) -> Vec<i64> {
    let officer = svc.authenticate(token).await.expect("authenticate");
    let req: PushRequest = serde_json::from_value(json!({"device_id": uid(), "changes": changes}))
        .expect("a push request");
    let resp = svc.push(&officer, req).await.expect("push");
    resp.results
        .iter()
        .map(|r| {
            assert_eq!(r.status, ChangeStatus::Accepted, "{r:?}");
            r.version.expect("an accepted change has a version")
        })
        .collect()
}

/// The team's records as the store's typed read (the export path) has them, by version.
async fn stored(st: &dyn Store, team: &str) -> Vec<Record> {
    let mut all = Vec::new();
    for entity in EntityType::ALL {
        let filter = ExportFilter {
            entity,
            team: Some(team.to_string()),
            after: 0,
            upto: i64::MAX,
            include_deleted: true,
        };
        let page = st.export_page(&filter, 10_000).await.expect("export");
        all.extend(page.iter().map(|r| r.to_wire()));
    }
    all.sort_by_key(|r| r.version);
    all
}

/// Every page of the wire pull, `limit` at a time, as the JSON the HTTP layer sends, parsed
/// as a client parses it.
async fn wire_pull(svc: &Service, token: &str, limit: u32) -> Vec<Record> {
    let officer = svc.authenticate(token).await.expect("authenticate");
    let mut cursor: Option<String> = None;
    let mut got = Vec::new();
    loop {
        let page = svc
            .pull_wire(
                &officer,
                PullQuery {
                    cursor: cursor.as_deref(),
                    limit: Some(limit),
                    ..PullQuery::default()
                },
            )
            .await
            .expect("pull");
        let text = serde_json::to_string(&page).expect("a page serialises");
        let parsed: PullResponse = serde_json::from_str(&text).expect("a client parses it");
        assert!(parsed.records.len() <= limit as usize);
        got.extend(parsed.records);
        cursor = Some(parsed.next_cursor);
        if !parsed.has_more {
            return got;
        }
    }
}

async fn wire_pages_are_the_stored_records(kind: &str) {
    let (st, _dir) = open(kind).await;
    let svc = Service::new(st.clone()).await.expect("the service");
    let amina = svc.add_officer("amina", "north").await.expect("amina");
    let bob = svc.add_officer("bob", "north").await.expect("bob");
    let carl = svc.add_officer("carl", "south").await.expect("carl");

    let (h1, h2, v1) = (uid(), uid(), uid());
    let tricky = json!({"name": "Ama \"K\" \\ é 漢字 \u{1F33D}", "village": "",
                        "gps": [-1.292066, 36.821945], "notes": "line\nnext\ttab"});
    push(
        &svc,
        &amina,
        vec![insert("household", h1, tricky), household(h2, "Wanjiru")],
    )
    .await;
    let v = push(
        &svc,
        &amina,
        vec![visit(
            v1,
            h1,
            "amina",
            json!({"answers.crop": "maize", "notes": ""}),
        )],
    )
    .await;
    // Bob changes one field (its stamp is his), then deletes the other household.
    push(
        &svc,
        &bob,
        vec![update("visit", v1, v[0], json!({"notes": "dry"}))],
    )
    .await;
    let h2v = stored(st.as_ref(), "north")
        .await
        .iter()
        .find(|r| r.id == h2)
        .map(|r| r.version)
        .expect("h2 stored");
    push(&svc, &bob, vec![delete("household", h2, h2v)]).await;
    for i in 0..7 {
        push(&svc, &bob, vec![household(uid(), &format!("house {i}"))]).await;
    }
    push(&svc, &carl, vec![household(uid(), "south's own")]).await;

    let want = stored(st.as_ref(), "north").await;
    assert_eq!(want.len(), 10, "3 records of amina's, 7 of bob's");
    assert!(
        want.iter().any(|r| r.deleted),
        "the tombstone is among them"
    );
    assert!(want.iter().any(|r| !r.audit.field_stamps.is_empty()));
    for limit in [1, 3, 1000] {
        assert_eq!(
            wire_pull(&svc, &amina, limit).await,
            want,
            "pages of {limit}"
        );
    }
    // The typed pull (in-process callers) is the same page parsed.
    let officer = svc.authenticate(&bob).await.expect("authenticate");
    let typed = svc
        .pull(
            &officer,
            PullQuery {
                limit: Some(1000),
                ..PullQuery::default()
            },
        )
        .await
        .expect("pull");
    assert_eq!(typed.records, want);
}

both_stores!(wire_pages_are_the_stored_records);
