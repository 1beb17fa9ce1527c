//! Saved views: each user's own named list queries.

use rapport_domain::access::Role;
use rapport_domain::views::ListKind;

use serde_json::json;

use crate::common::{
    Backend, TestApp, actor_of, create_company, create_deal, create_person_with, create_purchase,
    create_sales_pipeline, create_task, unescape,
};

backend_tests!(views_are_saved_per_user, other_users_views_cannot_be_deleted, every_column_header_sorts);

const QUERY: &str = "lifecycle_stage=customer&sort=-name";

async fn views_are_saved_per_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_person_with(&app.admin, serde_json::json!({ "first_name": "Viewable", "lifecycle_stage": "customer" }))
        .await;
    let web = app.web_admin().await;
    let (other_user, other) = app.web_user(Role::Agent, None).await;

    let saved =
        web.post_form("/views", &[("list", "people"), ("name", "Best customers"), ("query", QUERY)]).await.want(303);
    assert_eq!(saved.header("location"), Some(format!("/people?{QUERY}")));

    let views = app.store.list_views(&app.admin_actor(), None).await.unwrap();
    assert_eq!(views.len(), 1, "{views:?}");
    let view = &views[0];
    assert_eq!(view.user_id, app.admin_user.id);
    assert_eq!(view.fields.list, ListKind::People);
    assert_eq!(view.fields.name.as_str(), "Best customers");
    assert_eq!(view.fields.query.as_str(), QUERY);

    // It shows as a link on the owner's list, marked current when its query is the page's.
    let page = web.get("/people").await.want(200);
    let href = format!("href=\"/people?{QUERY}\"");
    assert!(page.text.contains("Best customers"), "the view is not listed");
    assert!(unescape(&page.text).contains(&href), "no link to the view's query ({href})");
    assert!(page.text.contains(&format!("/views/{}/delete", view.id)));
    let current = web.get(&format!("/people?{QUERY}")).await.want(200);
    assert!(current.text.contains("aria-current=\"true\""), "the open view is not marked current");
    assert!(current.text.contains("Viewable"));
    // Not on the other lists.
    let companies = web.get("/companies").await.want(200);
    assert!(!companies.text.contains("Best customers"), "a people view shows on companies");

    // Not for anyone else.
    let theirs = other.get("/people").await.want(200);
    assert!(!theirs.text.contains("Best customers"), "another user sees the view");
    assert!(!theirs.text.contains(&view.id.to_string()));
    assert!(app.store.list_views(&actor_of(&other_user), None).await.unwrap().is_empty());

    // Saving under the same name replaces, not duplicates.
    web.post_form("/views", &[("list", "people"), ("name", "Best customers"), ("query", "lifecycle_stage=lead")])
        .await
        .want(303);
    let views = app.store.list_views(&app.admin_actor(), None).await.unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].fields.query.as_str(), "lifecycle_stage=lead");

    // Junk is refused, and nothing saved.
    let bad = [
        vec![("list", "people"), ("name", ""), ("query", QUERY)],
        vec![("list", "nonsense"), ("name", "Junk"), ("query", QUERY)],
        vec![("list", "people"), ("name", "Junk\u{1}"), ("query", QUERY)],
        vec![("list", "people"), ("name", "Junk"), ("query", "a=\u{0}")],
    ];
    for form in &bad {
        let resp = web.post_form("/views", form).await;
        assert!((400..500).contains(&resp.status), "{} {form:?} answered {}", resp.what, resp.status);
    }
    assert_eq!(app.store.list_views(&app.admin_actor(), None).await.unwrap().len(), 1);

    // The owner deletes it.
    let id = views[0].id;
    let deleted = web.post_form(&format!("/views/{id}/delete"), &[("list", "people")]).await.want(303);
    assert_eq!(deleted.header("location").as_deref(), Some("/people"));
    assert!(app.store.list_views(&app.admin_actor(), None).await.unwrap().is_empty());
}

async fn other_users_views_cannot_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let (_, other) = app.web_user(Role::Manager, None).await;
    web.post_form("/views", &[("list", "people"), ("name", "Mine"), ("query", QUERY)]).await.want(303);
    let view = app.store.list_views(&app.admin_actor(), None).await.unwrap().remove(0);

    let resp = other.post_form(&format!("/views/{}/delete", view.id), &[("list", "people")]).await.want(404);
    assert!(resp.header("content-type").unwrap_or_default().starts_with("text/html"));
    assert_eq!(app.store.list_views(&app.admin_actor(), None).await.unwrap().len(), 1, "another user deleted the view");
    // Even an admin cannot delete someone else's view.
    let (_, second_admin) = app.web_user(Role::Admin, None).await;
    second_admin.post_form(&format!("/views/{}/delete", view.id), &[]).await.want(404);
    assert_eq!(app.store.list_views(&app.admin_actor(), None).await.unwrap().len(), 1);
}

/// Each list page's sortable column headers lead to a page that shows, both
/// ways round: a header never offers a sort its list does not have.
async fn every_column_header_sorts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let person = create_person_with(api, json!({ "first_name": "Sortable", "lifecycle_stage": "customer" })).await;
    create_company(api, "Sortable Ltd").await;
    let pipeline = create_sales_pipeline(api).await;
    create_deal(api, &pipeline, "Sortable deal", json!({})).await;
    create_task(api, json!({ "title": "Sort the list" })).await;
    create_purchase(api, person.id, "2026-01-05T10:00:00Z", json!({})).await;
    let web = app.web_admin().await;
    // Every column shown, optional ones too, so that every header is there.
    let all_columns = "cols=name,email,company,stage,owner,last_contacted,phone,job_title,tags,source,updated,created,\
                       amount,stage,expected_close,domain,industry,date,due,title,person,deal,reference,assignee";
    for list in ["/people", "/companies", "/deals", "/tasks", "/purchases"] {
        let page = web.get(&format!("{list}?{all_columns}")).await.want(200);
        let text = unescape(&page.text);
        let sorts: Vec<&str> = text
            .split(&format!("href=\"{list}?"))
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|query| query.contains("sort="))
            .collect();
        assert!(!sorts.is_empty(), "{list} has no sortable headers");
        for query in sorts {
            web.get(&format!("{list}?{query}")).await.want(200);
            let flipped = if query.contains("sort=-") {
                query.replace("sort=-", "sort=")
            } else {
                query.replace("sort=", "sort=-")
            };
            web.get(&format!("{list}?{flipped}")).await.want(200);
        }
    }
}
