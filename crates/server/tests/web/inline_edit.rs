//! The people list's cells edited in place, over HTTP as htmx sends them:
//! the form carries the version, a stale one gets the conflict message, a
//! refused value its error, and a save answers the cell as the list shows it.

use rapport_domain::Role;
use rapport_domain::records::Person;
use serde_json::json;

use crate::common::{Backend, TestApp, create_person_with, hidden_value, unescape};

backend_tests!(a_cell_is_edited_in_place_at_its_version);

async fn a_cell_is_edited_in_place_at_its_version(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rosa = create_person_with(
        &app.admin,
        json!({ "first_name": "Rosa", "last_name": "Larsen", "emails": [{ "address": "rosa@example.com", "primary": true }] }),
    )
    .await;
    let web = app.web_admin().await;
    let list = web.get("/people").await.want(200);
    let base = format!("/people/{}/cells/email", rosa.id);
    assert!(list.text.contains(&format!("hx-get=\"{base}/edit\"")), "no Edit button on the email cell");
    assert!(list.text.contains("aria-label=\"Edit email of Rosa Larsen\""), "the Edit button has no name");

    let editor = web.htmx_get(&format!("{base}/edit")).await.want(200);
    assert_eq!(hidden_value(&editor.text, "version").as_deref(), Some("1"));
    assert!(editor.text.contains("value=\"rosa@example.com\""));

    // Saved: the cell comes back as the list shows it, and the focus returns to it.
    let saved = web.htmx_post(&base, &[("version", "1"), ("value", "rosa.larsen@example.com")]).await.want(200);
    assert!(saved.text.contains("rosa.larsen@example.com") && saved.text.contains("data-inline-focus"));
    let now: Person = app.admin.fetch("people", rosa.id).await;
    assert_eq!(now.fields.primary_email().map(|e| e.to_string()).as_deref(), Some("rosa.larsen@example.com"));
    assert_eq!(now.meta.version, 2);

    // A stale version: the conflict message with the stored value, nothing overwritten.
    let stale = web.htmx_post(&base, &[("version", "1"), ("value", "other@example.com")]).await.want(409);
    assert!(
        unescape(&stale.text)
            .contains("Someone else changed this person meanwhile: it is now “rosa.larsen@example.com”")
    );
    assert_eq!(hidden_value(&stale.text, "version").as_deref(), Some("2"), "saving again applies over theirs");
    // A refused value: the field's error in the cell.
    let bad = web.htmx_post(&base, &[("version", "2"), ("value", "not an address")]).await.want(422);
    assert!(bad.text.contains("role=\"alert\"") && bad.text.contains("value=\"not an address\""));
    let after: Person = app.admin.fetch("people", rosa.id).await;
    assert_eq!(after, now, "nothing changed");

    // Owner and stage are drop-downs; name splits into first and last.
    let stage = format!("/people/{}/cells/stage", rosa.id);
    web.htmx_post(&stage, &[("version", "2"), ("value", "customer")]).await.want(200);
    let name = format!("/people/{}/cells/name", rosa.id);
    web.htmx_post(&name, &[("version", "3"), ("value", "Rosa Maria Larsen")]).await.want(200);
    let renamed: Person = app.admin.fetch("people", rosa.id).await;
    assert_eq!(renamed.fields.lifecycle_stage.as_str(), "customer");
    assert_eq!(renamed.fields.full_name(), "Rosa Maria Larsen");
    web.htmx_get(&format!("/people/{}/cells/company/edit", rosa.id)).await.want(404);

    // Viewers have no Edit buttons and no editor.
    let (_, viewer) = app.web_user(Role::Viewer, None).await;
    assert!(!viewer.get("/people").await.want(200).text.contains("class=\"cell-edit\""));
    viewer.htmx_get(&format!("{base}/edit")).await.want(403);
}
