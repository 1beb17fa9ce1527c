//! People: adding one through the form, a form sent back with its errors,
//! and a note added to the timeline through htmx.

use rapport_domain::access::Role;
use rapport_storage::{ActivityFilter, ListQuery};

use super::harness::scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_a_person() {
    scenario("create-person", |ctx| async move {
        ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        ctx.sign_in_ok("ada@example.com").await;

        ctx.visit("/people").await;
        ctx.screenshots("people-empty").await;
        ctx.button("New person").await.click().await.unwrap();
        ctx.wait_path("the new-person form", |p| p.starts_with("/people/new")).await;
        ctx.check_page().await;
        ctx.screenshots("new-person").await;

        ctx.fill("#f-first_name", "Katherine").await;
        ctx.fill("#f-last_name", "Johnson").await;
        ctx.fill("#f-email", "katherine@example.com").await;
        ctx.button("Add person").await.click().await.unwrap();

        let path = ctx
            .wait_path("the new person's page", |p| {
                p.starts_with("/people/") && !p.starts_with("/people/new") && p.len() > "/people/".len()
            })
            .await;
        ctx.check_page().await;
        let heading = ctx.find("main h1").await.text().await.unwrap();
        assert_eq!(heading.trim(), "Katherine Johnson", "the person page's heading");
        let toast = ctx.wait_toast("Katherine Johnson").await;
        assert!(toast.contains("added"), "the confirmation toast says {toast:?}");
        ctx.screenshots("person").await;

        // And the store has them, with the email.
        let id = path.trim_start_matches("/people/").split(['?', '/']).next().unwrap().to_owned();
        let person = ctx.store().get_person(id.parse().expect("a person id in the url")).await.unwrap();
        assert_eq!(person.fields.full_name(), "Katherine Johnson");
        assert_eq!(person.fields.primary_email().map(|e| e.as_str()), Some("katherine@example.com"));

        // The list shows them.
        ctx.visit("/people").await;
        ctx.find_text("#results a", "Katherine").await;
        ctx.screenshots("people").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_with_errors_comes_back() {
    scenario("validation", |ctx| async move {
        ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        ctx.sign_in_ok("ada@example.com").await;

        ctx.visit("/people/new").await;
        ctx.fill("#f-first_name", "").await;
        ctx.fill("#f-last_name", "Nobody").await;
        ctx.fill("#f-email", "not-an-email").await;
        ctx.button("Add person").await.click().await.unwrap();

        // The form is shown again, with a message under each bad field.
        let first = ctx.find(".field:has(#f-first_name) .error-text").await.text().await.unwrap();
        assert!(first.contains("First name"), "the first name's error does not name it: {first:?}");
        let email = ctx.find(".field:has(#f-email) .error-text").await.text().await.unwrap();
        assert!(email.contains("Email"), "the email's error does not name it: {email:?}");
        assert!(ctx.find(".form-problem").await.is_displayed().await.unwrap(), "no summary of the problem");
        // What was typed is kept.
        let kept = ctx.find("#f-email").await.value().await.unwrap().unwrap_or_default();
        assert_eq!(kept, "not-an-email", "the form lost what was typed");
        let invalid = ctx.find("#f-email").await.attr("aria-invalid").await.unwrap();
        assert_eq!(invalid.as_deref(), Some("true"), "the bad email field is not marked invalid");
        ctx.check_page().await;
        ctx.screenshots("errors").await;

        assert_eq!(ctx.app.count_people().await, 0, "a rejected form created someone");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_lands_on_the_timeline() {
    scenario("note", |ctx| async move {
        let (_, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let person = ctx.app.create_person(&admin, "Dorothy", "Vaughan", Some("dorothy@example.com")).await;
        ctx.sign_in_ok("ada@example.com").await;

        ctx.visit(&format!("/people/{}", person.id)).await;
        let note_kind = ctx.find("form.composer input[type=radio][name=kind][value=note]").await;
        assert!(note_kind.is_selected().await.unwrap(), "the composer does not start on Note");
        ctx.screenshots("person-before").await;

        // A marker that a full page load would wipe out.
        ctx.js("window.__rapportNoReload = 'still here'; return null;").await;
        let text = "Prefers calls after lunch; asked about the Q3 offer.";
        ctx.fill("#composer-body", text).await;
        ctx.button("Add to timeline").await.click().await.unwrap();

        ctx.find_text("ol.timeline li", text).await;
        let toast = ctx.find("#toasts .toast").await.text().await.unwrap();
        assert!(!toast.trim().is_empty(), "the toast is empty");
        let marker = ctx.js("return window.__rapportNoReload || null;").await;
        assert_eq!(marker, "still here", "adding a note reloaded the whole page");
        // The composer is ready for the next one.
        let body = ctx.find("#composer-body").await.value().await.unwrap().unwrap_or_default();
        assert!(body.is_empty(), "the composer still holds the note: {body:?}");
        ctx.check_console().await;
        ctx.screenshots("person-after").await;

        let entries = ctx.js("return document.querySelectorAll('ol.timeline li').length;").await;
        assert_eq!(entries, 1, "one entry on the timeline");

        // It is in the store, a note on this person.
        let filter = ActivityFilter { person_id: Some(person.id), ..ActivityFilter::default() };
        let notes = ctx.store().list_activities(&ListQuery::default(), &filter).await.unwrap().items;
        assert_eq!(notes.len(), 1, "one activity on the person");
        assert_eq!(notes[0].fields.kind.as_str(), "note");
        assert_eq!(notes[0].fields.body.as_ref().map(|b| b.as_str()), Some(text));
    })
    .await;
}
