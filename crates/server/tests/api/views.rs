//! Saved views through the API: each user's own, replaced by name, and the
//! same ones the list pages show.

use rapport_domain::Role;
use rapport_domain::views::SavedView;
use serde_json::json;

use crate::common::{Backend, Page, TestApp};

backend_tests!(saved_views_belong_to_their_user);

async fn saved_views_belong_to_their_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, agent) = app.create_user(Role::Agent, None).await;

    let customers: SavedView = app
        .admin
        .post(
            "/api/v1/views",
            &json!({"list": "people", "name": "Customers", "query": "?lifecycle_stage=customer&cursor=abc"}),
        )
        .await
        .want(201)
        .json();
    assert_eq!(customers.fields.query.as_str(), "lifecycle_stage=customer", "the cursor and '?' are dropped");
    app.admin.post("/api/v1/views", &json!({"list": "deals", "name": "Open", "query": "status=open"})).await.want(201);
    // The same name on the same list replaces the view.
    let replaced: SavedView = app
        .admin
        .post(
            "/api/v1/views",
            &json!({"list": "people", "name": "Customers", "query": "lifecycle_stage=customer&sort=-updated_at"}),
        )
        .await
        .want(201)
        .json();

    let mine: Page<SavedView> = app.admin.get("/api/v1/views?list=people").await.want(200).json();
    assert_eq!(mine.items.len(), 1, "one people view after the replacement: {:?}", mine.items);
    assert_eq!(mine.items[0].id, replaced.id);
    assert_eq!(mine.items[0].fields.query.as_str(), "lifecycle_stage=customer&sort=-updated_at");
    let all: Page<SavedView> = app.admin.get("/api/v1/views").await.want(200).json();
    assert_eq!(all.items.len(), 2);

    // Another user sees none of them and cannot delete them.
    let theirs: Page<SavedView> = agent.get("/api/v1/views").await.want(200).json();
    assert!(theirs.items.is_empty(), "views are private: {:?}", theirs.items);
    agent.delete(&format!("/api/v1/views/{}", replaced.id)).await.want_error(404, "not_found");

    // Bad input names the field and saves nothing.
    let error = app
        .admin
        .post("/api/v1/views", &json!({"list": "cats", "name": "x", "query": ""}))
        .await
        .want_error(422, "validation");
    assert!(error.field("list").is_some(), "{error:?}");
    let error = app
        .admin
        .post("/api/v1/views", &json!({"list": "people", "name": "Long", "query": "q=".to_owned() + &"a".repeat(2001)}))
        .await
        .want_error(422, "validation");
    assert!(error.field("query").is_some(), "{error:?}");
    app.admin.get("/api/v1/views?list=cats").await.want_error(422, "validation");
    let all: Page<SavedView> = app.admin.get("/api/v1/views").await.want(200).json();
    assert_eq!(all.items.len(), 2, "refused requests saved nothing");

    app.admin.delete(&format!("/api/v1/views/{}", replaced.id)).await.want(204);
    let left: Page<SavedView> = app.admin.get("/api/v1/views").await.want(200).json();
    assert_eq!(left.items.len(), 1);
}
