//! The queue's bulk assign: "select all" ticks every row, two tickets
//! ticked by hand are handed to an agent, and the queue shows it.

use rapport_domain::access::Role;
use rapport_domain::tickets::{TicketChannel, TicketInput};

use super::harness::{name_of, scenario};
use super::tickets::{member, team};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_assign_from_the_queue() {
    scenario("ticket-bulk", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let north = team(&ctx, &ada, "North").await;
        let ann = member(&ctx, "Ann Agent", "ann@example.com", Role::Agent, north).await;
        let grace = ctx.app.create_person(&ada, "Grace", "Hopper", Some("grace@example.com")).await;
        let mut tickets = Vec::new();
        for subject in ["Printer on fire", "Cannot log in", "Invoice question"] {
            let input = TicketInput::new(grace.id, name_of(subject), TicketChannel::Web);
            tickets.push(ctx.store().create_ticket(&ada, input).await.expect("create a ticket"));
        }
        ctx.sign_in_ok("ada@example.com").await;
        ctx.visit("/tickets?queue=unassigned").await;
        ctx.check_page().await;

        // "Select all" (there with JavaScript) ticks and unticks every row.
        let all = ctx.find("input[data-select-all='ids']").await;
        assert!(all.is_displayed().await.unwrap(), "the select-all box is hidden");
        all.click().await.unwrap();
        let ticked = ctx.js("return document.querySelectorAll('input[name=ids]:checked').length;").await;
        assert_eq!(ticked, 3, "select all ticked {ticked} boxes");
        all.click().await.unwrap();
        let ticked = ctx.js("return document.querySelectorAll('input[name=ids]:checked').length;").await;
        assert_eq!(ticked, 0, "select all left {ticked} boxes ticked");

        // Two by hand, to Ann.
        for ticket in &tickets[..2] {
            ctx.find(&format!("input[name='ids'][value='{}']", ticket.id)).await.click().await.unwrap();
        }
        ctx.find(&format!("#bulk-assignee option[value='{}']", ann.id)).await.click().await.unwrap();
        ctx.screenshots("queue").await;
        ctx.button("Apply").await.click().await.unwrap();
        ctx.wait_toast("Updated 2 tickets").await;
        ctx.wait_path("back to the queue", |p| p == "/tickets?queue=unassigned").await;
        ctx.check_page().await;
        // They left the unassigned queue; the third is still there.
        ctx.find_text("table.tickets a", "Invoice question").await;
        let rows = ctx.all_now("table.tickets tbody tr").await;
        assert_eq!(rows.len(), 1, "the unassigned queue still lists the assigned tickets");

        // All tickets: the assignee column shows Ann for the two.
        ctx.find("#queue-tabs a[href='/tickets']").await.click().await.unwrap();
        ctx.wait_path("all tickets", |p| p == "/tickets").await;
        for ticket in &tickets[..2] {
            let row =
                ctx.find(&format!("table.tickets tr:has(input[value='{}'])", ticket.id)).await.text().await.unwrap();
            assert!(row.contains("Ann Agent"), "the row reads {row:?}");
            let stored = ctx.store().get_ticket(&ada, ticket.id).await.unwrap();
            assert_eq!(stored.fields.assignee_id, Some(ann.id));
        }
        ctx.check_page().await;
    })
    .await;
}
