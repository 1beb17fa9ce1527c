//! The duplicates page: pairs with their reasons, tabs, and "Not a duplicate".

use rapport_domain::access::Role;
use rapport_domain::duplicates::DuplicateKind;
use rapport_domain::records::Person;
use rapport_storage::DuplicateQuery;
use serde_json::json;

use crate::common::{Backend, TestApp, create_person_with, unescape};

backend_tests!(the_duplicates_page_lists_and_dismisses_pairs, the_merge_page_compares_merges_and_undoes);

async fn the_duplicates_page_lists_and_dismisses_pairs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = json!([{ "address": "zoe@example.com" }]);
    let zoe =
        create_person_with(&app.admin, json!({ "first_name": "Zoë", "last_name": "Ortega", "emails": email })).await;
    // Made on purpose: the API refuses a second person with a known email unless asked.
    let zoey: Person =
        app.admin.create("people?allow_duplicate=true", json!({ "first_name": "Zoey", "emails": email })).await;
    let _acme = app.admin.post("/api/v1/companies", &json!({ "name": "Acme Inc" })).await.want(201);
    let _acme2 = app.admin.post("/api/v1/companies", &json!({ "name": "ACME Inc." })).await.want(201);
    let web = app.web_admin().await;

    web.get("/duplicates").await.want(303);
    let page = web.get("/duplicates/people").await.want(200);
    let text = unescape(&page.text);
    for expected in ["Zoë Ortega", "Zoey", "Same email:", "zoe@example.com", "Not a duplicate", "Compare and merge"] {
        assert!(text.contains(expected), "{expected:?} missing from the page");
    }
    assert!(!text.contains("ACME Inc."), "companies show on their own tab");
    let companies = unescape(&web.get("/duplicates/companies").await.want(200).text);
    assert!(companies.contains("ACME Inc.") && companies.contains("Similar name:"));
    web.get("/duplicates/deals").await.want(404);

    // A viewer sees the pairs but no controls.
    let (_, viewer) = app.web_user(Role::Viewer, None).await;
    let seen = unescape(&viewer.get("/duplicates/people").await.want(200).text);
    assert!(seen.contains("Zoey") && !seen.contains("Not a duplicate"));
    let (a, b) = (zoe.id.to_string(), zoey.id.to_string());
    viewer.post_form("/duplicates/people/dismiss", &[("a", &a), ("b", &b)]).await.want(403);

    let done = web.post_form("/duplicates/people/dismiss", &[("a", &a), ("b", &b)]).await.want(303);
    assert_eq!(done.header("location").as_deref(), Some("/duplicates/people"));
    let left = app.store.find_duplicates(DuplicateKind::People, &DuplicateQuery::default()).await.unwrap();
    assert!(left.items.is_empty(), "{left:?}");
    let after = unescape(&web.get("/duplicates/people").await.want(200).text);
    assert!(after.contains("No likely duplicates") && after.contains("Marked as not a duplicate"));
    web.post_form("/duplicates/people/dismiss", &[("a", "junk"), ("b", &b)]).await.want(400);
}

async fn the_merge_page_compares_merges_and_undoes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = json!([{ "address": "ines@example.com" }]);
    let ines =
        create_person_with(&app.admin, json!({ "first_name": "I.", "last_name": "Moreau", "emails": email })).await;
    let other =
        create_person_with(&app.admin, json!({ "first_name": "Ines", "last_name": "Moreau", "source": "event" })).await;
    let web = app.web_admin().await;

    // From the person page, then a search, then the comparison.
    let page = unescape(&web.get(&format!("/people/{}", ines.id)).await.want(200).text);
    assert!(page.contains(&format!("/people/{}/merge", ines.id)) && page.contains("Merge with…"));
    let found = unescape(&web.get(&format!("/people/{}/merge?q=moreau", ines.id)).await.want(200).text);
    assert!(found.contains(&format!("merge?other={}", other.id)) && found.contains("Compare with Ines Moreau"));
    let compare = unescape(&web.get(&format!("/people/{}/merge?other={}", ines.id, other.id)).await.want(200).text);
    for expected in ["name=\"take.first_name\"", "name=\"take.source\"", "I.", "Ines", "event"] {
        assert!(compare.contains(expected), "{expected:?} missing from the comparison");
    }

    let (a, b) = (ines.id.to_string(), other.id.to_string());
    let form = [("other", b.as_str()), ("version", "1"), ("other_version", "1"), ("take.first_name", "other")];
    web.post_form(&format!("/people/{a}/merge"), &[("other", b.as_str()), ("take.first_name", "both")]).await.want(400);
    let done = web.post_form(&format!("/people/{a}/merge"), &form).await.want(303);
    let location = done.header("location").expect("to the survivor");
    assert!(location.starts_with(&format!("/people/{a}?merged=")), "{location}");
    let survivor = app.store.get_person(ines.id).await.unwrap();
    assert_eq!(survivor.fields.first_name.as_str(), "Ines");
    assert!(app.store.get_person(other.id).await.is_err(), "the other is in the trash");
    let shown = unescape(&web.get(&location).await.want(200).text);
    assert!(shown.contains("Undo merge") && shown.contains("Merged into Ines Moreau"));

    let merge_id = location.split("merged=").nth(1).expect("the merge id");
    web.post_form(&format!("/merges/{merge_id}/undo"), &[]).await.want(303);
    assert_eq!(app.store.get_person(ines.id).await.unwrap().fields, ines.fields);
    assert_eq!(app.store.get_person(other.id).await.unwrap().fields, other.fields);
}
