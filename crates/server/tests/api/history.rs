//! History and trash through the API: `/api/v1/{type}/{id}/history`,
//! `/api/v1/trash` and its restore.

use rapport_domain::Role;
use rapport_domain::history::{HistoryAction, RecordKind};
use rapport_domain::records::{Person, Purchase};
use serde_json::json;

use crate::common::{Backend, TestApp, create_person, create_purchase, history, trash, unknown_id};

backend_tests!(
    every_write_is_in_the_history_with_its_changed_fields,
    a_deleted_person_is_restored_from_the_trash_with_their_purchases,
    the_trash_refuses_bad_parameters_and_who_may_not_restore,
);

async fn every_write_is_in_the_history_with_its_changed_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = create_person(&app.admin, "Ada").await;
    let path = format!("/api/v1/people/{}", ada.id);
    app.admin.patch(&path, &json!({ "job_title": "Engineer" })).await.want(200);

    let entries = history(&app.admin, "people", ada.id).await;
    assert_eq!(entries.iter().map(|e| e.action).collect::<Vec<_>>(), [HistoryAction::Update, HistoryAction::Create]);
    let update = &entries[0];
    assert_eq!(update.record_type, RecordKind::People);
    assert_eq!(update.actor_id, Some(app.admin_user.id));
    assert_eq!(update.actor_name.as_deref(), Some("Ada Admin"));
    assert_eq!(update.changes.len(), 1, "only the job title changed: {:?}", update.changes);
    assert_eq!((update.changes[0].field.as_str(), &update.changes[0].old), ("job_title", &serde_json::Value::Null));
    assert_eq!(update.changes[0].new, json!("Engineer"));

    app.admin.delete(&path).await.want(204);
    let entries = history(&app.admin, "people", ada.id).await;
    assert_eq!(entries[0].action, HistoryAction::Delete, "the history outlives the record");
    app.admin.get(&format!("/api/v1/people/{}/history", unknown_id())).await.want_error(404, "not_found");
    app.admin.get("/api/v1/people/not-an-id/history").await.want_error(404, "not_found");
}

async fn a_deleted_person_is_restored_from_the_trash_with_their_purchases(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = create_person(&app.admin, "Ada").await;
    let bought = create_purchase(&app.admin, ada.id, "2026-03-01T10:00:00Z", json!({ "reference": "A-7" })).await;
    app.admin.delete(&format!("/api/v1/people/{}", ada.id)).await.want(204);
    app.admin.get(&format!("/api/v1/people/{}", ada.id)).await.want_error(404, "not_found");
    app.admin.get(&format!("/api/v1/purchases/{}", bought.id)).await.want_error(404, "not_found");

    let entries = trash(&app.admin).await;
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!((entry.record_type, entry.record_id, entry.label.as_str()), (RecordKind::People, ada.id.0, "Ada"));
    assert_eq!(entry.deleted_by_name.as_deref(), Some("Ada Admin"));
    assert_eq!(entry.attached, 1, "the purchase went with her");

    let restored = app.admin.post(&format!("/api/v1/trash/{}/restore", entry.id), &json!({})).await.want(200).value();
    assert_eq!(restored["location"], json!(format!("/api/v1/people/{}", ada.id)));
    let back: Person = app.admin.fetch("people", ada.id).await;
    assert_eq!(back, ada);
    let purchase: Purchase = app.admin.fetch("purchases", bought.id).await;
    assert_eq!(purchase, bought);
    assert!(trash(&app.admin).await.is_empty());
    app.admin.post(&format!("/api/v1/trash/{}/restore", entry.id), &json!({})).await.want_error(404, "not_found");
    let entries = history(&app.admin, "people", ada.id).await;
    assert_eq!(entries[0].action, HistoryAction::Restore);
}

async fn the_trash_refuses_bad_parameters_and_who_may_not_restore(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = create_person(&app.admin, "Ada").await;
    app.admin.delete(&format!("/api/v1/people/{}", ada.id)).await.want(204);
    let entry = trash(&app.admin).await.remove(0);

    let (_, viewer) = app.create_user(Role::Viewer, None).await;
    assert_eq!(trash(&viewer).await.len(), 1, "viewers see the trash");
    viewer.post(&format!("/api/v1/trash/{}/restore", entry.id), &json!({})).await.want_error(403, "forbidden");
    app.anonymous().get("/api/v1/trash").await.want_error(401, "unauthorized");

    for (query, field) in
        [("type=robots", "type"), ("limit=0", "limit"), ("limit=201", "limit"), ("cursor=x", "cursor")]
    {
        let error = app.admin.get(&format!("/api/v1/trash?{query}")).await.want_error(422, "validation");
        assert!(error.field(field).is_some(), "{query} names {field}: {error:?}");
    }
    let only_deals = app.admin.get("/api/v1/trash?type=deals").await.want(200).value();
    assert_eq!(only_deals["items"], json!([]));
    let page = app.admin.get("/api/v1/trash?type=people&limit=1").await.want(200).value();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert!(page["next_cursor"].is_string(), "a full page has a next page: {page}");
    app.admin.get(&format!("/api/v1/people/{}", ada.id)).await.want_error(404, "not_found");
}
