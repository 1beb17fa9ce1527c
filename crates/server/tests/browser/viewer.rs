//! A viewer reads everything and changes nothing: the pages offer no edit
//! controls, and a forged request from the page itself is refused.

use rapport_domain::access::Role;
use rapport_storage::{ActivityFilter, ListQuery};

use super::harness::scenario;

/// Turns a fetch's answer into its status and what its page says went wrong.
const RESULT: &str = ".then(async r => { const page = new DOMParser().parseFromString(await r.text(), 'text/html'); \
    return { status: r.status, says: Array.from(page.querySelectorAll('.form-problem, .error-text, main h1, main p')).map(e => e.textContent.trim()).join(' | ') }; });";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_cannot_edit() {
    scenario("viewer", |ctx| async move {
        let (_, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        ctx.app.create_user("Val Viewer", "val@example.com", Role::Viewer).await;
        let person = ctx.app.create_person(&admin, "Christine", "Darden", Some("christine@example.com")).await;
        ctx.sign_in_ok("val@example.com").await;

        // The person page: readable, with no edit, delete or composer.
        ctx.visit(&format!("/people/{}", person.id)).await;
        assert_eq!(ctx.find("main h1").await.text().await.unwrap().trim(), "Christine Darden");
        assert!(ctx.all_now("a[href$='/edit']").await.is_empty(), "a viewer is offered an Edit link");
        let edit_links = ctx.js(
            "return Array.from(document.querySelectorAll('main a, main button')).filter(e => e.textContent.trim() === 'Edit').length;",
        )
        .await;
        assert_eq!(edit_links, 0, "a viewer is offered an Edit control");
        let delete_buttons = ctx.js(
            "return Array.from(document.querySelectorAll('main button, main input[type=submit]')).filter(e => /delete/i.test(e.textContent || e.value)).length;",
        )
        .await;
        assert_eq!(delete_buttons, 0, "a viewer is offered a Delete button");
        assert!(ctx.all_now("form.composer").await.is_empty(), "a viewer is offered the timeline composer");
        assert!(ctx.all_now("main form[method=post]").await.is_empty(), "a viewer is offered a form that changes something");
        ctx.screenshots("person").await;

        // The people list: no "New person".
        ctx.visit("/people").await;
        ctx.find_text("#results a", "Christine").await;
        assert!(ctx.all_now("a[href='/people/new']").await.is_empty(), "a viewer is offered New person");
        ctx.screenshots("people").await;

        // Forged requests from the page itself, with this session's valid CSRF token, are refused.
        ctx.visit(&format!("/people/{}", person.id)).await;
        let forge = |path: String, body: &str| {
            format!(
                "return fetch('{path}', {{method: 'POST', headers: {{'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content, \
                 'Content-Type': 'application/x-www-form-urlencoded'}}, body: '{body}'}}){RESULT}"
            )
        };
        // A complete, valid edit.
        let answer = ctx.js(&forge(format!("/people/{}", person.id), "first_name=Hacked&lifecycle_stage=lead")).await;
        assert_eq!(answer["status"], 403, "a viewer's forged (valid) edit answered {}: {}", answer["status"], answer["says"]);
        // A note on the timeline.
        let answer = ctx.js(&forge(format!("/people/{}/timeline", person.id), "kind=note&body=Hacked")).await;
        assert_eq!(answer["status"], 403, "a viewer's forged note answered {}: {}", answer["status"], answer["says"]);
        let after = ctx.store().get_person(person.id).await.unwrap();
        assert_eq!(after.fields.first_name.as_str(), "Christine", "the forged edit changed the person");
        assert_eq!(after.meta.version, person.meta.version, "the forged edit touched the person");
        let filter = ActivityFilter { person_id: Some(person.id), ..ActivityFilter::default() };
        let notes = ctx.store().list_activities(&ListQuery::default(), &filter).await.unwrap().items;
        assert!(notes.is_empty(), "the forged note was stored");

        // The edit form is not shown to a viewer either.
        let answer = ctx.js(&format!("return fetch('/people/{}/edit'){RESULT}", person.id)).await;
        assert_eq!(answer["status"], 403, "a viewer got the edit form: {} {}", answer["status"], answer["says"]);

        // The bare forged edit of the brief: refused before any validation, not
        // answered with the edit form and its errors.
        let answer = ctx.js(&forge(format!("/people/{}", person.id), "first_name=Hacked")).await;
        assert_eq!(answer["status"], 403, "a viewer's forged edit answered {}: {}", answer["status"], answer["says"]);
        let after = ctx.store().get_person(person.id).await.unwrap();
        assert_eq!(after.meta.version, person.meta.version, "the forged edit touched the person");
    })
    .await;
}
