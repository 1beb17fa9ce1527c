//! The lists' total count, bulk selection and bulk actions, as a browser
//! without JavaScript uses them: plain forms.

use rapport_domain::Role;
use rapport_domain::records::Person;
use serde_json::json;

use crate::common::{Backend, TestApp, as_form, create_company, create_person_with, form_fields, set_field, unescape};

backend_tests!(
    lists_count_every_matching_record,
    ticked_people_change_together,
    all_matching_changes_every_page,
    a_bulk_delete_offers_one_undo_for_all,
    a_refusal_names_the_record_and_changes_none,
    the_selection_exports_as_csv,
);

async fn lead(app: &TestApp, name: &str) -> Person {
    create_person_with(&app.admin, json!({ "first_name": name, "lifecycle_stage": "lead" })).await
}

/// The people list's bulk form as the browser would send it, with `people` ticked.
fn bulk_form(html: &str, people: &[&Person], changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields = form_fields(html, "/people/bulk");
    for (name, value) in changes {
        set_field(&mut fields, name, value);
    }
    fields.extend(people.iter().map(|p| ("ids".to_owned(), p.id.to_string())));
    fields
}

async fn ticked_people_change_together(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (agent, _) = app.create_user(Role::Agent, None).await;
    let ada = lead(&app, "Ada").await;
    let bo = lead(&app, "Bo").await;
    let cy = lead(&app, "Cy").await;
    let web = app.web_admin().await;

    let page = web.get("/people?lifecycle_stage=lead").await.want(200);
    for who in [&ada, &bo, &cy] {
        let name = who.fields.first_name.as_str();
        assert!(page.text.contains(&format!("name=\"ids\" value=\"{}\" aria-label=\"Select {name}\"", who.id)));
    }
    let count = web.htmx_get("/people/count?lifecycle_stage=lead").await.want(200);
    assert!(count.text.contains("Select all 3 people matching"), "no all-matching choice");
    let form = bulk_form(&page.text, &[&ada, &bo], &[("action", "set_owner"), ("owner_id", &agent.id.to_string())]);
    let done = web.post_form("/people/bulk", &as_form(&form)).await.want(303);
    assert_eq!(done.header("location").as_deref(), Some("/people?lifecycle_stage=lead"), "back to the same list");
    let back = web.get("/people?lifecycle_stage=lead").await.want(200);
    assert!(back.text.contains("Updated 2 people."), "no confirmation");
    for who in [&ada, &bo] {
        assert_eq!(app.admin.fetch::<Person>("people", who.id).await.fields.owner_id, Some(agent.id));
    }
    assert_eq!(app.admin.fetch::<Person>("people", cy.id).await.meta.version, 1);

    // Only the control the action uses counts: a tag typed for set_stage is not sent on.
    let page = web.get("/people").await.want(200);
    let form = bulk_form(&page.text, &[&cy], &[("action", "set_stage"), ("lifecycle_stage", "customer"), ("tag", "x")]);
    web.post_form("/people/bulk", &as_form(&form)).await.want(303);
    let cy_now: Person = app.admin.fetch("people", cy.id).await;
    assert_eq!(cy_now.fields.lifecycle_stage.as_str(), "customer");
    assert!(cy_now.fields.tags.is_empty());

    // Nothing ticked: back with why.
    let form = bulk_form(&page.text, &[], &[("action", "delete")]);
    web.post_form("/people/bulk", &as_form(&form)).await.want(303);
    let back = web.get("/people").await.want(200);
    assert!(unescape(&back.text).contains("Tick the people to change first"), "no hint");
}

/// "All matching" is the list's query run again by the server: every page, not the ticked rows.
async fn all_matching_changes_every_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for name in ["Ada", "Bo", "Cy"] {
        lead(&app, name).await;
    }
    let dee = create_person_with(&app.admin, json!({ "first_name": "Dee", "lifecycle_stage": "customer" })).await;
    let web = app.web_admin().await;
    let page = web.get("/people?lifecycle_stage=lead&limit=1&cols=name,email").await.want(200);
    let form = bulk_form(&page.text, &[], &[("all", "matching"), ("action", "add_tag"), ("tag", "vip")]);
    web.post_form("/people/bulk", &as_form(&form)).await.want(303);
    let back = web.get("/people?tag=vip&count=true").await.want(200);
    assert!(back.text.contains(">3 people<"), "all three leads, past the first page");
    assert!(back.text.contains("Updated 3 people."));
    assert!(app.admin.fetch::<Person>("people", dee.id).await.fields.tags.is_empty());
}

async fn a_bulk_delete_offers_one_undo_for_all(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = lead(&app, "Ada").await;
    let bo = lead(&app, "Bo").await;
    let cy = lead(&app, "Cy").await;
    let web = app.web_admin().await;
    let page = web.get("/people").await.want(200);
    let form = bulk_form(&page.text, &[&ada, &bo], &[("action", "delete")]);
    web.post_form("/people/bulk", &as_form(&form)).await.want(303);
    let back = web.get("/people?count=true").await.want(200);
    assert!(back.text.contains("Moved 2 people to the trash."));
    assert!(back.text.contains(">1 person<"));
    let at = back.text.find("action=\"/bulk/").expect("an Undo for the whole delete");
    let undo: String = back.text[at + 8..].chars().take_while(|c| *c != '"').collect();
    assert!(undo.ends_with("/undo"), "{undo}");
    let done = web.post_form(&undo, &[]).await.want(303);
    assert_eq!(done.header("location").as_deref(), Some("/people"));
    let restored = web.get("/people?count=true").await.want(200);
    assert!(restored.text.contains("Restored 2 people from the trash."));
    assert!(restored.text.contains(">3 people<"));
    for who in [&ada, &bo, &cy] {
        app.admin.get(&format!("/api/v1/people/{}", who.id)).await.want(200);
    }
}

async fn a_refusal_names_the_record_and_changes_none(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (agent, web) = app.web_user(Role::Agent, None).await;
    let own = create_person_with(&app.admin, json!({ "first_name": "Mine", "owner_id": agent.id })).await;
    let other = create_person_with(&app.admin, json!({ "first_name": "Theirs", "owner_id": app.admin_user.id })).await;
    let page = web.get("/people").await.want(200);
    let form = bulk_form(&page.text, &[&own, &other], &[("action", "delete")]);
    web.post_form("/people/bulk", &as_form(&form)).await.want(303);
    let back = web.get("/people").await.want(200);
    assert!(unescape(&back.text).contains("Nothing changed: “Theirs” was refused"), "the refusal names them");
    app.admin.get(&format!("/api/v1/people/{}", own.id)).await.want(200);

    // A viewer gets no bulk form.
    let (_, viewer) = app.web_user(Role::Viewer, None).await;
    let page = viewer.get("/people").await.want(200);
    assert!(!page.text.contains("action=\"/people/bulk\""), "a viewer sees the bulk bar");
}

async fn the_selection_exports_as_csv(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = lead(&app, "Ada").await;
    let bo = lead(&app, "Bo").await;
    lead(&app, "Cy").await;
    let web = app.web_admin().await;
    let page = web.get("/people").await.want(200);
    let form = bulk_form(&page.text, &[&ada, &bo], &[("action", "export")]);
    let csv = web.post_form("/people/bulk", &as_form(&form)).await.want(200);
    assert!(csv.header("content-disposition").is_some_and(|d| d.contains("rapport-people.csv")));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines.len(), 3, "a header and the two ticked: {}", csv.text);
    assert!(csv.text.contains("Ada") && csv.text.contains("Bo") && !csv.text.contains("Cy"));
}

/// The count says how many records the filters match, all pages together:
/// on the page asked with `count=true` (a browser without JavaScript), and
/// from the count fragment htmx loads after the page (see list_count.rs).
async fn lists_count_every_matching_record(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for n in 0..3 {
        create_person_with(&app.admin, json!({ "first_name": format!("Lead{n}"), "lifecycle_stage": "lead" })).await;
    }
    create_person_with(&app.admin, json!({ "first_name": "Happy", "lifecycle_stage": "customer" })).await;
    create_company(&app.admin, "Acme").await;
    let web = app.web_admin().await;

    let all = web.get("/people?count=true").await.want(200);
    assert!(all.text.contains(">4 people<"), "no total on the people list");
    let leads = web.get("/people?lifecycle_stage=lead&limit=2&count=true").await.want(200);
    assert!(leads.text.contains(">3 people<"), "the total counts past the page, with the filter");
    let one = web.htmx_get("/people/count?lifecycle_stage=customer").await.want(200);
    assert!(one.text.contains(">1 person<"), "the count fragment has no total");
    let companies = web.get("/companies?count=true").await.want(200);
    assert!(companies.text.contains(">1 company<"));
    let deals = web.get("/deals?count=true").await.want(200);
    assert!(deals.text.contains(">0 deals<"));
}
