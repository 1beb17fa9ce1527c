//! Editing a task in the browser: from the inbox's Edit link to the form
//! with the task's history beside it; a save over someone else's change
//! shows both and keeps what was typed, and saving again applies it.

use rapport_domain::access::Role;
use rapport_domain::records::{Links, TaskInput};
use rapport_domain::text::{LongText, Name};

use super::harness::scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_a_task_over_someone_elses_change() {
    scenario("task-edit", |ctx| async move {
        let (ada_user, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let (_, bob) = ctx.app.create_user("Bob Other", "bob@example.com", Role::Admin).await;
        let input = TaskInput {
            title: Name::try_from("Call Grace").unwrap(),
            notes: Some(LongText::try_from("About the renewal".to_owned()).unwrap()),
            due_at: None,
            assignee_id: Some(ada_user.id),
            done: false,
            links: Links::default(),
        };
        let task = ctx.store().create_task(&ada, input).await.expect("a task");
        ctx.sign_in_ok("ada@example.com").await;

        // From the inbox's Edit link to the edit page.
        ctx.visit("/inbox").await;
        ctx.screenshots("inbox").await;
        ctx.button("Edit").await.click().await.unwrap();
        let edit = format!("/tasks/{}/edit", task.id);
        ctx.wait_path("the task's edit page", |p| p == edit).await;
        ctx.check_page().await;
        ctx.find_text("section.history", "created it").await;
        ctx.fill("#f-title", "Call Grace Hopper").await;

        // Bob saves first: another title and a due date.
        let mut theirs = task.fields.clone();
        theirs.title = Name::try_from("Call Grace today").unwrap();
        theirs.due_at = Some(time::macros::datetime!(2030-06-01 17:00 UTC));
        ctx.store().update_task(&bob, task.id, theirs, Some(task.meta.version)).await.expect("Bob's save");

        ctx.button("Save").await.click().await.unwrap();
        let notice = ctx.find(".form-conflict").await.text().await.unwrap();
        assert!(notice.contains("Someone else changed this record"), "the notice says {notice:?}");
        assert!(notice.contains("Bob Other saved it"), "the notice does not say who: {notice:?}");
        ctx.check_page().await;
        let mine = ctx.find("#f-title").await.value().await.unwrap().unwrap_or_default();
        assert_eq!(mine, "Call Grace Hopper", "the form lost what Ada typed");
        let their_note = ctx.find("#t-title").await.text().await.unwrap();
        assert!(their_note.contains("Call Grace today"), "Bob's title is not shown beside Ada's: {their_note:?}");
        let due = ctx.find("#f-due").await.value().await.unwrap().unwrap_or_default();
        assert_eq!(due, "2030-06-01", "Bob's untouched due date is not in the form");
        ctx.find_text("section.history", "Bob Other").await;
        ctx.button("Discard mine").await;
        ctx.screenshots("conflict").await;
        ctx.screenshot_at(1440, "conflict").await;

        // Saving again applies Ada's title over Bob's change, back on the task's page.
        ctx.button("Save").await.click().await.unwrap();
        ctx.wait_toast("Task saved: Call Grace Hopper").await;
        ctx.gone(".form-conflict").await;
        let saved = ctx.store().get_task(task.id).await.unwrap();
        assert_eq!(saved.fields.title.as_str(), "Call Grace Hopper");
        assert_eq!(saved.fields.due_at, Some(time::macros::datetime!(2030-06-01 17:00 UTC)), "Bob's due date was lost");
        ctx.wait_path("the task's page", |p| p == edit).await;
        ctx.find_text("section.history", "Call Grace today").await;
        ctx.check_console().await;
        ctx.screenshots("saved").await;
        ctx.screenshot_at(1440, "saved").await;
    })
    .await;
}
