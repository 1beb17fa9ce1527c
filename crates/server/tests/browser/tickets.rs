//! Support tickets: opening one from a customer's page, replying in the
//! conversation (swapped in by htmx), and an agent of another team who
//! cannot open it.

use rapport_domain::access::{Actor, Role};
use rapport_domain::email::Email;
use rapport_domain::records::{Password, TeamInput, User, UserInput};
use rapport_domain::tickets::TicketStatus;
use rapport_domain::{TeamId, TicketId};

use super::harness::{Ctx, PASSWORD, name_of, scenario};

/// A staff member in a team, with the test password.
pub async fn member(ctx: &Ctx, name: &str, email: &str, role: Role, team: TeamId) -> User {
    let password = Password::try_from(PASSWORD.to_owned()).expect("a valid password");
    let input = UserInput {
        name: name_of(name),
        email: Email::parse(email).expect("a valid email"),
        role,
        team_id: Some(team),
        active: true,
    };
    ctx.store().create_user(input, Some(&password), None).await.expect("create a user")
}

pub async fn team(ctx: &Ctx, admin: &Actor, name: &str) -> TeamId {
    ctx.store().create_team(admin, TeamInput { name: name_of(name) }).await.expect("create a team").id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_a_ticket_and_reply() {
    scenario("tickets", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let north = team(&ctx, &ada, "North").await;
        let south = team(&ctx, &ada, "South").await;
        let ann = member(&ctx, "Ann Agent", "ann@example.com", Role::Agent, north).await;
        member(&ctx, "Bob Agent", "bob@example.com", Role::Agent, south).await;
        let grace = ctx.app.create_person(&ada, "Grace", "Hopper", Some("grace@example.com")).await;
        ctx.sign_in_ok("ann@example.com").await;

        // From Grace's page to the form, with her chosen as the requester.
        ctx.visit(&format!("/people/{}", grace.id)).await;
        ctx.find_text("#tickets-heading", "Tickets").await;
        ctx.button("New ticket").await.click().await.unwrap();
        ctx.wait_path("the new-ticket form", |p| p.starts_with("/tickets/new?person_id=")).await;
        ctx.check_page().await;
        let requester = ctx.find("#f-requester").await.value().await.unwrap();
        assert_eq!(requester.as_deref(), Some("grace@example.com"), "the requester is not preselected");
        ctx.fill("#f-subject", "The invoice is wrong").await;
        ctx.find(&format!("#f-assignee_id option[value='{}']", ann.id)).await.click().await.unwrap();
        ctx.find("#f-priority option[value='high']").await.click().await.unwrap();
        ctx.screenshots("new-ticket").await;
        ctx.button("Open ticket").await.click().await.unwrap();

        let path =
            ctx.wait_path("the ticket's page", |p| p.starts_with("/tickets/") && !p.starts_with("/tickets/new")).await;
        ctx.check_page().await;
        let heading = ctx.find("main h1").await.text().await.unwrap();
        assert_eq!(heading.trim(), "The invoice is wrong");
        ctx.wait_toast("was opened").await;
        let id: TicketId = path.trim_start_matches("/tickets/").parse().expect("a ticket id in the url");
        let ticket = ctx.store().get_ticket(&ada, id).await.unwrap();
        assert_eq!(ticket.fields.requester_id, grace.id);
        assert_eq!(ticket.fields.assignee_id, Some(ann.id));
        assert_eq!(ticket.fields.team_id, Some(north), "the team is the assignee's");

        // A reply, typed and sent: htmx swaps the conversation in, no page load.
        ctx.js("window.__stayed = true; return true;").await;
        ctx.fill("#f-body", "Sorry about that: a corrected invoice is on its way.").await;
        ctx.button("Send").await.click().await.unwrap();
        let reply = ctx.find_text(".conversation .message.reply", "corrected invoice").await;
        let text = reply.text().await.unwrap();
        assert!(text.contains("Reply") && text.contains("Ann Agent"), "the reply reads {text:?}");
        ctx.wait_toast("Reply added").await;
        ctx.find_text("#ticket-status", "Open").await;
        assert_eq!(ctx.js("return window.__stayed === true;").await, true, "the reply reloaded the page");
        assert_eq!(ctx.find("#f-body").await.value().await.unwrap().as_deref(), Some(""), "the box is not cleared");

        // An internal note, marked as one.
        ctx.fill("#f-body", "Finance says the VAT rate was wrong.").await;
        ctx.find("input[name='kind'][value='note']").await.click().await.unwrap();
        ctx.button("Send").await.click().await.unwrap();
        let note = ctx.find_text(".conversation .message.note", "VAT rate").await.text().await.unwrap();
        assert!(note.contains("Internal note"), "the note reads {note:?}");
        ctx.check_page().await;
        ctx.screenshots("ticket").await;
        let stored = ctx.store().get_ticket(&ada, id).await.unwrap();
        assert_eq!(stored.fields.status, TicketStatus::Open);
        assert_eq!(stored.message_count, 2);

        ctx.find("nav a[href='/tickets']").await.click().await.unwrap();
        ctx.wait_path("the queues", |p| p == "/tickets").await;
        ctx.find_text("table.tickets a", "The invoice is wrong").await;
        ctx.check_page().await;
        ctx.screenshots("queues").await;

        // A filter narrows the list in place, and the queue tabs keep it.
        ctx.find("#filter-status option[value='solved']").await.click().await.unwrap();
        ctx.wait_path("the filtered list", |p| p.starts_with("/tickets?status=solved")).await;
        ctx.find_text("#results .empty", "No ticket matches").await;
        ctx.find("#queue-tabs a[href='/tickets?queue=mine&status=solved']").await;
        ctx.check_page().await;

        // Bob, of another team, cannot open it.
        ctx.button("Sign out").await.click().await.unwrap();
        ctx.wait_path("the login page", |p| p.starts_with("/login")).await;
        ctx.sign_in_ok("bob@example.com").await;
        ctx.visit(&path).await;
        let heading = ctx.find("h1").await.text().await.unwrap();
        assert_eq!(heading.trim(), "Not found", "Bob sees the ticket");
        let body = ctx.find("body").await.text().await.unwrap();
        assert!(!body.contains("The invoice is wrong"), "the page leaks the subject: {body}");
        ctx.visit("/tickets").await;
        ctx.find("main h1").await;
        assert!(ctx.all_now("table.tickets").await.is_empty(), "Bob's queue lists a ticket");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_up_response_targets() {
    scenario("sla-settings", |ctx| async move {
        ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        ctx.sign_in_ok("ada@example.com").await;

        // A calendar: Berlin office hours.
        ctx.visit("/settings/sla").await;
        ctx.find("nav.settings-tabs a[href='/settings/sla'][aria-current='page']").await;
        ctx.button("New calendar").await.click().await.unwrap();
        ctx.wait_path("the calendar form", |p| p == "/settings/sla/calendars/new").await;
        ctx.check_page().await;
        ctx.fill("#f-name", "Berlin office").await;
        ctx.fill("#f-time_zone", "Europe/Berlin").await;
        ctx.fill("#f-hours_monday", "09:00-12:00, 13:00-25:00").await;
        ctx.fill("#f-holidays", "2026-12-25").await;
        ctx.screenshots("calendar-form").await;
        ctx.button("Add calendar").await.click().await.unwrap();
        let error = ctx.find("#e-hours_monday").await.text().await.unwrap();
        assert!(error.contains("\"25:00\" is not a time of day"), "Monday's error reads {error:?}");
        ctx.check_page().await;
        ctx.fill("#f-hours_monday", "09:00-12:00, 13:00-17:00").await;
        ctx.button("Add calendar").await.click().await.unwrap();
        ctx.wait_path("the SLA settings", |p| p == "/settings/sla").await;
        ctx.wait_toast("Berlin office").await;
        let calendars = ctx.store().list_calendars().await.unwrap();
        assert_eq!(calendars.len(), 1);

        // A policy for urgent tickets, counted in that calendar.
        ctx.button("New policy").await.click().await.unwrap();
        ctx.wait_path("the policy form", |p| p == "/settings/sla/policies/new").await;
        ctx.check_page().await;
        ctx.fill("#f-name", "Urgent").await;
        ctx.find("input[name='priority_urgent']").await.click().await.unwrap();
        ctx.fill("#f-first_response", "1").await;
        ctx.fill("#f-resolution", "8").await;
        ctx.find(&format!("#f-calendar_id option[value='{}']", calendars[0].id)).await.click().await.unwrap();
        ctx.screenshots("policy-form").await;
        ctx.button("Add policy").await.click().await.unwrap();
        ctx.wait_path("the SLA settings", |p| p == "/settings/sla").await;
        let row = ctx.find_text("table tr", "Urgent").await.text().await.unwrap();
        assert!(row.contains("First response: 1 h") && row.contains("Berlin office"), "the policy row reads {row:?}");
        ctx.check_page().await;
        ctx.screenshots("sla").await;
        let policies = ctx.store().list_sla_policies().await.unwrap();
        assert_eq!(policies[0].fields.targets.resolution_minutes, Some(480));
    })
    .await;
}
