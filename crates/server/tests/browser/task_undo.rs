//! Completing a task in the inbox: the row says "done" in place with an
//! Undo button that has the focus, the section's count goes down at once,
//! and Undo brings the row back (its Complete button focused, the count up).

use rapport_domain::access::Role;
use rapport_domain::records::{Links, TaskInput};
use rapport_domain::text::Name;

use super::harness::{PHONE, scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_then_undo_in_the_inbox() {
    scenario("task-undo", |ctx| async move {
        let (ada_user, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        for title in ["Call Grace", "Send the quote"] {
            let input = TaskInput {
                title: Name::try_from(title).unwrap(),
                notes: None,
                due_at: None,
                assignee_id: Some(ada_user.id),
                done: false,
                links: Links::default(),
            };
            ctx.store().create_task(&ada, input).await.expect("a task");
        }
        ctx.sign_in_ok("ada@example.com").await;
        ctx.visit("/inbox").await;
        let count = "return document.querySelector('#undated-heading .badge').textContent.trim();";
        assert_eq!(ctx.js(count).await, serde_json::json!("2"));

        ctx.find("button[aria-label='Complete Call Grace']").await.click().await.unwrap();
        let undo = ctx.find("button[aria-label='Undo: reopen Call Grace']").await;
        ctx.wait_toast("Task completed: Call Grace").await;
        assert_eq!(ctx.js(count).await, serde_json::json!("1"), "the count did not go down");
        let focus = "return document.activeElement.getAttribute('aria-label');";
        ctx.wait_js("the focus on Undo", focus, serde_json::json!("Undo: reopen Call Grace")).await;
        ctx.screenshots("completed").await;

        undo.click().await.unwrap();
        ctx.find("button[aria-label='Complete Call Grace']").await;
        ctx.wait_toast("Task reopened: Call Grace").await;
        assert_eq!(ctx.js(count).await, serde_json::json!("2"), "the count did not come back");
        ctx.wait_js("the focus on Complete", focus, serde_json::json!("Complete Call Grace")).await;
        let stored = ctx.store().list_tasks(&Default::default(), &Default::default()).await.unwrap();
        assert!(stored.items.iter().all(|t| !t.fields.done), "a task is still done after Undo");

        // On a phone, the same: Complete is a big enough target and works.
        ctx.set_size(PHONE).await;
        ctx.visit("/inbox").await;
        let height = ctx
            .js("return document.querySelector(\"button[aria-label='Complete Send the quote']\").getBoundingClientRect().height;")
            .await;
        assert!(height.as_f64().unwrap() >= 44.0, "Complete is {height} px tall on a phone");
        ctx.find("button[aria-label='Complete Send the quote']").await.click().await.unwrap();
        ctx.find("button[aria-label='Undo: reopen Send the quote']").await;
        assert_eq!(ctx.js(count).await, serde_json::json!("1"));
    })
    .await;
}
