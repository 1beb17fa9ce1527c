//! Editing a cell of the people list in place in Chromium: the Edit button
//! (named for the cell and the person) opens a small form, Enter saves and
//! the focus stays on the cell, Esc cancels, and a change saved meanwhile
//! by someone else gets the conflict message instead of being overwritten.

use rapport_domain::access::Role;
use rapport_domain::text::Name;

use super::harness::{PHONE, scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_a_cell_in_place() {
    scenario("inline-edit", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let rosa = ctx.app.create_person(&ada, "Rosa", "Larsen", Some("rosa@example.com")).await;
        ctx.sign_in_ok("ada@example.com").await;
        ctx.visit("/people").await;
        ctx.check_page().await;

        // Edit → the form, focused on its field; Enter saves; focus back on the cell's button.
        let edit = "button[aria-label='Edit email of Rosa Larsen']";
        ctx.find(edit).await.click().await.unwrap();
        let field = ctx.find(&format!("#inline-{}-email", rosa.id)).await;
        ctx.wait_js("the editor has the focus", "return document.activeElement.name;", "value".into()).await;
        ctx.screenshots("editing").await;
        field.clear().await.unwrap();
        field.send_keys("rosa.larsen@example.com\n").await.unwrap();
        ctx.wait_js(
            "the focus back on the cell",
            "return document.activeElement.getAttribute('aria-label');",
            "Edit email of Rosa Larsen".into(),
        )
        .await;
        let stored = ctx.store().get_person(rosa.id).await.unwrap();
        assert_eq!(stored.fields.primary_email().map(|e| e.to_string()).as_deref(), Some("rosa.larsen@example.com"));

        // Esc cancels and returns the focus.
        ctx.find(edit).await.click().await.unwrap();
        let field = ctx.find(&format!("#inline-{}-email", rosa.id)).await;
        field.send_keys("typo").await.unwrap();
        field.send_keys("\u{e00c}").await.unwrap();
        ctx.wait_js(
            "the focus back after Esc",
            "return document.activeElement.getAttribute('aria-label');",
            "Edit email of Rosa Larsen".into(),
        )
        .await;
        assert_eq!(ctx.store().get_person(rosa.id).await.unwrap().meta.version, 2, "Esc saved something");

        // Someone else saves while the editor is open: the conflict message, not an overwrite.
        ctx.find("button[aria-label='Edit name of Rosa Larsen']").await.click().await.unwrap();
        let field = ctx.find(&format!("#inline-{}-name", rosa.id)).await;
        let mut theirs = ctx.store().get_person(rosa.id).await.unwrap().fields;
        theirs.last_name = Some(Name::try_from("Larsen-Berg".to_owned()).unwrap());
        ctx.store().update_person(&ada, rosa.id, theirs, None).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys("Rosa Lund\n").await.unwrap();
        let alert = ctx.find(".inline-edit [role=alert]").await.text().await.unwrap();
        assert!(alert.contains("Someone else changed this person meanwhile"), "the cell says {alert:?}");
        assert_eq!(ctx.store().get_person(rosa.id).await.unwrap().fields.full_name(), "Rosa Larsen-Berg");
        ctx.check_page().await;
        ctx.screenshots("conflict").await;

        // On a phone the Edit buttons show without hovering, as 44 px targets.
        ctx.visit("/people").await;
        ctx.set_size(PHONE).await;
        let size = ctx
            .js("const b = document.querySelector('.cell-edit'); const r = b.getBoundingClientRect(); \
                 return [getComputedStyle(b).opacity, r.height];")
            .await;
        assert_eq!(size[0], "1", "the Edit button is hidden on a phone");
        assert!(size[1].as_f64().unwrap() >= 44.0, "the Edit button is {size}");
        ctx.set_size(super::harness::DESKTOP).await;
    })
    .await;
}
