//! The ticket pages: a ticket opened through the form, worked through its
//! conversation (replies, notes, the customer's words) and its statuses;
//! who may open it; files sent from the reply box; the queues; the form's
//! refusals; and the SLA settings.

use rapport_domain::Role;
use rapport_domain::records::Person;
use rapport_domain::sla::{Calendar, SlaPolicy};
use rapport_domain::tickets::{Ticket, TicketPriority, TicketStatus};
use serde_json::{Value, json};

use crate::common::{
    Backend, Part, TestApp, as_form, create_person_with, create_purchase, field_error, form_fields, input_value,
    selected_value, set_field,
};

backend_tests!(
    a_ticket_is_worked_through_its_pages,
    bad_forms_are_refused_beside_their_fields,
    another_teams_agent_cannot_open_a_ticket,
    the_queue_tabs_show_the_right_tickets,
    sla_settings_add_policies_and_calendars,
    home_lists_my_tickets_due_soon_or_late,
    the_ticket_form_saves_custom_fields,
    files_go_with_the_reply_box,
);

async fn grace(app: &TestApp) -> Person {
    create_person_with(
        &app.admin,
        json!({ "first_name": "Grace", "last_name": "Hopper",
                "emails": [{ "address": "grace@example.com", "primary": true }] }),
    )
    .await
}

async fn open_ticket(app: &TestApp, person: &Person, subject: &str, extra: Value) -> Ticket {
    let mut body = json!({ "requester_id": person.id, "subject": subject });
    crate::common::merge(&mut body, extra);
    app.admin.create("tickets", body).await
}

async fn ticket(app: &TestApp, id: impl std::fmt::Display) -> Ticket {
    app.admin.fetch("tickets", id).await
}

/// Where `needle` is in `html`, failing when it is not there.
#[track_caller]
fn at(html: &str, needle: &str) -> usize {
    html.find(needle).unwrap_or_else(|| panic!("{needle:?} is not on the page: {html}"))
}

/// The `<li class="message KIND">` holding `body`, as HTML.
#[track_caller]
fn message<'a>(html: &'a str, body: &str) -> &'a str {
    let body_at = at(html, body);
    let start = html[..body_at].rfind("<li class=\"message").expect("a message item");
    let end = body_at + html[body_at..].find("</li>").expect("a closed item");
    &html[start..end]
}

async fn a_ticket_is_worked_through_its_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = grace(&app).await;
    let web = app.web_admin().await;

    // The person's page offers a new ticket for them; the form comes with them chosen.
    let person_page = web.get(&format!("/people/{}", person.id)).await.want(200);
    assert!(person_page.text.contains("id=\"tickets-heading\""), "no Tickets section on the person page");
    assert!(person_page.text.contains(&format!("href=\"/tickets/new?person_id={}\"", person.id)));
    let form = web.get(&format!("/tickets/new?person_id={}", person.id)).await.want(200);
    assert_eq!(input_value(&form.text, "requester").as_deref(), Some("grace@example.com"));
    assert_eq!(selected_value(&form.text, "status").as_deref(), Some("new"));

    let mut fields = form_fields(&form.text, "/tickets");
    set_field(&mut fields, "subject", "The printer is on fire");
    set_field(&mut fields, "priority", "high");
    set_field(&mut fields, "channel", "phone");
    set_field(&mut fields, "tags", "Hardware, urgent-ish");
    let created = web.post_form("/tickets", &as_form(&fields)).await.want(303);
    let location = created.header("location").expect("a location");
    let id = location.strip_prefix("/tickets/").expect("to the ticket").to_owned();
    let stored = ticket(&app, &id).await;
    assert_eq!(stored.fields.subject.as_str(), "The printer is on fire");
    assert_eq!(stored.fields.requester_id, person.id);
    assert_eq!(stored.fields.priority, TicketPriority::High);
    assert_eq!(stored.fields.channel.as_str(), "phone");
    assert_eq!(stored.fields.status, TicketStatus::New);
    assert_eq!(stored.fields.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["hardware", "urgent-ish"]);

    // The page: subject, badges, the requester linked, no messages yet; beside it what they bought.
    create_purchase(&app.admin, person.id, "2026-11-02T10:00:00Z", json!({ "description": "Toner, 4 pack" })).await;
    let page = web.get(&location).await.want(200);
    let html = &page.text;
    let value = &html[html.find("id=\"customer-value\"").expect("the requester's value and purchases")..];
    assert!(value.contains("<strong>1</strong> purchases") && value.contains("Toner, 4 pack"), "{value}");
    assert!(html.contains("<h1>The printer is on fire</h1>"), "{html}");
    assert!(html.contains(&format!("<a href=\"/people/{}\">Grace Hopper</a>", person.id)), "{html}");
    assert!(html.contains("id=\"ticket-status\">New</span>"), "{html}");
    assert!(html.contains("High priority"), "{html}");
    assert!(html.contains("No messages yet."), "{html}");
    assert!(html.contains("No SLA policy applies"), "{html}");
    assert!(html.contains("href=\"/tickets\" aria-current=\"page\""), "the Tickets link is not current");

    // A reply (without JavaScript: back to the ticket), which opens it.
    let messages = format!("/tickets/{id}/messages");
    let sent = web.post_form(&messages, &[("kind", "reply"), ("body", "We are on our way."), ("status", "")]).await;
    let sent = sent.want(303);
    assert_eq!(sent.header("location"), Some(format!("/tickets/{id}#conversation")));
    assert_eq!(ticket(&app, &id).await.fields.status, TicketStatus::Open);

    // A note that also sets the ticket pending.
    let note = [("kind", "note"), ("body", "Check the <b>fuse box</b> first."), ("status", "pending")];
    web.post_form(&messages, &note).await.want(303);
    let after_note = ticket(&app, &id).await;
    assert_eq!(after_note.fields.status, TicketStatus::Pending);
    assert_eq!(after_note.message_count, 2);

    // The customer's words, through htmx: the page comes back with a toast, and they reopen it.
    let swapped = web.htmx_post(&messages, &[("kind", "customer"), ("body", "Still smoking, please hurry.")]).await;
    let swapped = swapped.want(200);
    assert!(swapped.header("hx-trigger").is_some_and(|t| t.contains("rapport-toast")), "no toast");
    assert!(swapped.text.contains("id=\"ticket\""), "htmx gets the ticket to swap in");
    assert!(swapped.text.contains("Still smoking, please hurry."));
    assert_eq!(ticket(&app, &id).await.fields.status, TicketStatus::Open);

    // All three, oldest first, each marked for what it is.
    let page = web.get(&location).await.want(200);
    let html = &page.text;
    let (reply, note, customer) =
        (at(html, "We are on our way."), at(html, "fuse box"), at(html, "Still smoking, please hurry."));
    assert!(reply < note && note < customer, "not oldest first: {html}");
    let reply = message(html, "We are on our way.");
    assert!(reply.starts_with("<li class=\"message reply\" id=\"message-"), "{reply}");
    assert!(reply.contains(">Reply</span>") && reply.contains("Ada Admin"), "{reply}");
    let note = message(html, "fuse box");
    assert!(note.starts_with("<li class=\"message note\" id=\"message-"), "{note}");
    assert!(note.contains(">Internal note</span>"), "{note}");
    assert!(!html.contains("<b>fuse box</b>"), "the note is not escaped");
    let customer = message(html, "Still smoking");
    assert!(customer.starts_with("<li class=\"message customer\" id=\"message-"), "{customer}");
    assert!(customer.contains(">Customer</span>") && customer.contains("Grace Hopper"), "{customer}");
    assert!(html.contains("id=\"ticket-status\">Open</span>"), "{html}");

    // The queue lists it; the person's page too.
    let list = web.get("/tickets").await.want(200);
    assert!(list.text.contains(&format!("<a href=\"/tickets/{id}\">The printer is on fire</a>")), "{}", list.text);
    assert!(list.text.contains(&format!("<a href=\"/people/{}\">Grace Hopper</a>", person.id)));
    let person_page = web.get(&format!("/people/{}", person.id)).await.want(200);
    assert!(person_page.text.contains(&format!("href=\"/tickets/{id}\">The printer is on fire</a>")));
    // Its timeline holds the ticket and each message, linked to its place in the conversation.
    let timeline = &person_page.text[person_page.text.find("id=\"timeline\"").expect("a timeline")..];
    assert!(timeline.contains(&format!("<a href=\"/tickets/{id}\"><strong>The printer is on fire</strong></a>")));
    assert!(timeline.contains(&format!("href=\"/tickets/{id}#message-")), "{timeline}");
    assert!(timeline.contains("Still smoking, please hurry.") && timeline.contains(">Internal note</span>"));

    // The edit form shows what is stored, and saves a new status.
    let edit = web.get(&format!("/tickets/{id}/edit")).await.want(200);
    assert_eq!(input_value(&edit.text, "requester").as_deref(), Some("grace@example.com"));
    assert_eq!(input_value(&edit.text, "subject").as_deref(), Some("The printer is on fire"));
    assert_eq!(selected_value(&edit.text, "priority").as_deref(), Some("high"));
    let mut fields = form_fields(&edit.text, &format!("/tickets/{id}"));
    set_field(&mut fields, "status", "solved");
    web.post_form(&format!("/tickets/{id}"), &as_form(&fields)).await.want(303);
    let solved = ticket(&app, &id).await;
    assert_eq!(solved.fields.status, TicketStatus::Solved);
    assert!(solved.clocks.solved_at.is_some());

    // A save from the same (now stale) form is refused and says why.
    set_field(&mut fields, "subject", "The printer was on fire");
    let stale = web.post_form(&format!("/tickets/{id}"), &as_form(&fields)).await.want(409);
    assert!(stale.text.contains("Someone else changed this record while you were editing."), "{}", stale.text);
    assert_eq!(ticket(&app, &id).await.fields.subject.as_str(), "The printer is on fire");

    // Closed is final: no reply box, and a message posted anyway is refused.
    let closed: Ticket = app.admin.update("tickets", &id, json!({ "status": "closed" })).await;
    assert_eq!(closed.fields.status, TicketStatus::Closed);
    let page = web.get(&location).await.want(200);
    assert!(!page.text.contains(&format!("action=\"{messages}\"")), "a closed ticket offers the reply box");
    web.post_form(&messages, &[("kind", "reply"), ("body", "One more thing")]).await.want(422);
    assert_eq!(ticket(&app, &id).await.message_count, 3);
}

async fn bad_forms_are_refused_beside_their_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = grace(&app).await;
    let web = app.web_admin().await;

    let empty = web
        .post_form("/tickets", &[("requester", "grace@example.com"), ("subject", "  "), ("status", "new")])
        .await
        .want(422);
    assert_eq!(field_error(&empty.text, "subject").as_deref(), Some("Subject is required"));
    assert!(empty.text.contains("Some fields need attention"), "{}", empty.text);
    assert_eq!(input_value(&empty.text, "requester").as_deref(), Some("grace@example.com"), "what was typed is kept");

    let nobody = web
        .post_form("/tickets", &[("requester", "nobody@example.com"), ("subject", "Hello"), ("status", "closed")])
        .await
        .want(422);
    assert_eq!(field_error(&nobody.text, "requester").as_deref(), Some("Requester is nobody's email address here"));
    let closed =
        web.post_form("/tickets", &[("requester", "grace@example.com"), ("subject", "Hello"), ("status", "closed")]);
    let closed = closed.await.want(422);
    assert_eq!(field_error(&closed.text, "status").as_deref(), Some("Status a new ticket cannot be closed"));
    let listed: Vec<Ticket> = app.admin.list_all("/api/v1/tickets", &[]).await;
    assert!(listed.is_empty(), "a refused form made a ticket: {listed:?}");

    // An empty message is refused on the ticket page, which keeps the choice made.
    let ticket = open_ticket(&app, &person, "Quiet", json!({})).await;
    let refused = web
        .post_form(&format!("/tickets/{}/messages", ticket.id), &[("kind", "note"), ("body", ""), ("status", "solved")])
        .await
        .want(422);
    assert_eq!(field_error(&refused.text, "body").as_deref(), Some("Message is required"));
    assert!(refused.text.contains("value=\"note\" checked"), "the kind chosen is lost");
    assert_eq!(selected_value(&refused.text, "status").as_deref(), Some("solved"));
    let bad_status = web
        .post_form(
            &format!("/tickets/{}/messages", ticket.id),
            &[("kind", "reply"), ("body", "Hi"), ("status", "someday")],
        )
        .await
        .want(422);
    assert!(
        field_error(&bad_status.text, "status").is_some_and(|e| e.contains("must be one of")),
        "{}",
        bad_status.text
    );
    assert_eq!(self::ticket(&app, ticket.id).await.message_count, 0);
}

async fn another_teams_agent_cannot_open_a_ticket(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = grace(&app).await;
    let north = app.create_team("North").await;
    let south = app.create_team("South").await;
    let (ann, ann_web) = app.web_user(Role::Agent, Some(north.id)).await;
    let (_, bob_web) = app.web_user(Role::Agent, Some(south.id)).await;
    let ticket = open_ticket(&app, &person, "North's secret", json!({ "assignee_id": ann.id })).await;
    assert_eq!(ticket.fields.team_id, Some(north.id));
    let page = format!("/tickets/{}", ticket.id);

    // Ann's own: she opens it and replies.
    ann_web.get(&page).await.want(200);
    ann_web.post_form(&format!("{page}/messages"), &[("kind", "reply"), ("body", "On it")]).await.want(303);

    // Bob, of another team: as if it did not exist, whichever way he comes.
    let missing = bob_web.get(&page).await.want(404);
    assert!(!missing.text.contains("North's secret") && !missing.text.contains("North&#39;s secret"));
    bob_web.get(&format!("{page}/edit")).await.want(404);
    bob_web.post_form(&format!("{page}/messages"), &[("kind", "note"), ("body", "Peek")]).await.want(404);
    bob_web.post_form(&page, &[("requester", "grace@example.com"), ("subject", "Mine now")]).await.want(404);
    let list = bob_web.get("/tickets").await.want(200);
    assert!(!list.text.contains(&page), "Bob's queue lists it");
    let person_page = bob_web.get(&format!("/people/{}", person.id)).await.want(200);
    assert!(!person_page.text.contains(&page), "Grace's page lists it to Bob");
    let stored = self::ticket(&app, ticket.id).await;
    assert_eq!(stored.message_count, 1);
    assert_eq!(stored.fields.subject.as_str(), "North's secret");
}

/// The subjects a queue page lists, in order.
async fn files_go_with_the_reply_box(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = grace(&app).await;
    let north = app.create_team("North").await;
    let south = app.create_team("South").await;
    let (ann, ann_web) = app.web_user(Role::Agent, Some(north.id)).await;
    let (_, bob_web) = app.web_user(Role::Agent, Some(south.id)).await;
    let ticket = open_ticket(&app, &person, "Wrong invoice", json!({ "assignee_id": ann.id })).await;
    let page = format!("/tickets/{}", ticket.id);
    let messages = format!("{page}/messages");

    // The reply box is a file upload that works without JavaScript, its token first.
    let html = ann_web.get(&page).await.want(200).text;
    let form = &html[at(&html, &format!("action=\"{messages}\""))..];
    let form = &form[..at(form, "</form>")];
    assert!(form.contains("enctype=\"multipart/form-data\""), "{form}");
    assert!(form[at(form, "<input")..].starts_with("<input type=\"hidden\" name=\"_csrf\""), "{form}");
    assert!(form.contains("name=\"attachments\" type=\"file\" multiple"), "{form}");

    // A reply with two files (and an empty file input, as browsers send one): back to the ticket.
    let invoice = b"number,total\r\n42,99.00\n";
    let parts = [
        Part::Text("kind", "reply"),
        Part::Text("body", "The corrected invoice is attached."),
        Part::Text("status", ""),
        Part::File("attachments", "invoice-42.csv", invoice),
        Part::File("attachments", "notes.txt", b"checked twice"),
        Part::File("attachments", "", b""),
    ];
    let sent = ann_web.post_upload(&messages, &parts).await.want(303);
    assert_eq!(sent.header("location"), Some(format!("{page}#conversation")));
    let html = ann_web.get(&page).await.want(200).text;
    // (The message's item holds its list of files: read on to the list's end.)
    let reply = &html[at(&html, "The corrected invoice is attached.")..];
    let reply = &reply[..at(reply, "</ul>")];
    assert!(reply.contains("aria-label=\"Attachments\""), "{reply}");
    assert!(reply.contains(">invoice-42.csv</a>") && reply.contains(">notes.txt</a>"), "{reply}");
    let href_at = at(reply, "href=\"/tickets/attachments/") + "href=\"".len();
    let href = &reply[href_at..href_at + reply[href_at..].find('"').unwrap()];
    let download = ann_web.get(href).await.want(200);
    assert_eq!(download.text.as_bytes(), invoice, "the bytes changed");
    assert!(download.header("content-disposition").is_some_and(|d| d.starts_with("attachment;")));
    // An agent who may not see the ticket cannot download its file.
    bob_web.get(href).await.want(404);
    assert_eq!(self::ticket(&app, ticket.id).await.message_count, 1);

    // A file over the limit: the form comes back saying so, what was typed kept, nothing written.
    let big = vec![b'x'; rapport_domain::mail::MAX_ATTACHMENT_BYTES + 1];
    let parts = [
        Part::Text("kind", "note"),
        Part::Text("body", "The full log."),
        Part::File("attachments", "server.log", &big),
        Part::Text("status", "pending"),
    ];
    let refused = ann_web.post_upload(&messages, &parts).await.want(422);
    assert_eq!(
        field_error(&refused.text, "attachments").as_deref(),
        Some("server.log is larger than 10 MB, the limit for one file.")
    );
    assert!(refused.text.contains("value=\"note\" checked"), "the kind chosen is lost");
    assert!(refused.text.contains(">The full log.</textarea>"), "the message typed is lost");
    assert_eq!(selected_value(&refused.text, "status").as_deref(), Some("pending"));
    let after = self::ticket(&app, ticket.id).await;
    assert_eq!((after.message_count, after.fields.status), (1, TicketStatus::Open), "nothing written");
}

fn listed(html: &str) -> Vec<String> {
    html.split("<td><a href=\"/tickets/")
        .skip(1)
        .filter_map(|cell| {
            let start = cell.find('>')? + 1;
            let end = cell.find("</a>")?;
            Some(crate::common::unescape(&cell[start..end]))
        })
        .collect()
}

#[track_caller]
fn same(mut got: Vec<String>, want: &[&str], queue: &str) {
    got.sort();
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "the {queue} queue");
}

async fn the_queue_tabs_show_the_right_tickets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = grace(&app).await;
    // A target of one minute (breached once the test waited a minute), and one of half an hour (due soon).
    let policy = |name: &str, tag: &str, minutes: u32| json!({ "name": name, "condition": { "tag": tag }, "first_response_minutes": minutes });
    let _: SlaPolicy = app.admin.create("sla-policies", policy("One minute", "fast", 1)).await;
    let _: SlaPolicy = app.admin.create("sla-policies", policy("Half an hour", "soon", 30)).await;
    let north = app.create_team("North").await;
    let south = app.create_team("South").await;
    let (ann, ann_web) = app.web_user(Role::Agent, Some(north.id)).await;
    let (amy, _) = app.web_user(Role::Agent, Some(north.id)).await;
    let (bob, _) = app.web_user(Role::Agent, Some(south.id)).await;

    // Opened two minutes ago: its one-minute target is a minute past.
    let fast: rapport_domain::tickets::TicketInput = serde_json::from_value(
        json!({ "requester_id": person.id, "subject": "Echo fast", "assignee_id": amy.id, "tags": ["fast"] }),
    )
    .expect("a ticket");
    let two_minutes_ago = time::OffsetDateTime::now_utc() - time::Duration::minutes(2);
    let fast = app.store.create_ticket_at(&app.admin_actor(), fast, two_minutes_ago).await.expect("a backdated ticket");
    assert!(fast.clocks.first_response_due.is_some(), "the one-minute policy does not apply: {fast:?}");
    open_ticket(&app, &person, "Alpha mine", json!({ "assignee_id": ann.id })).await;
    open_ticket(&app, &person, "Bravo teammate", json!({ "assignee_id": amy.id, "priority": "urgent" })).await;
    open_ticket(&app, &person, "Charlie nobody", json!({})).await;
    open_ticket(&app, &person, "Delta soon", json!({ "assignee_id": amy.id, "tags": ["soon"] })).await;
    open_ticket(&app, &person, "Foxtrot solved", json!({ "assignee_id": ann.id, "status": "solved" })).await;
    open_ticket(&app, &person, "Golf south", json!({ "assignee_id": bob.id })).await;

    let queue = |name: &'static str| {
        let web = ann_web.clone();
        async move {
            let path = if name.is_empty() { "/tickets".to_owned() } else { format!("/tickets?queue={name}") };
            web.get(&path).await.want(200).text
        }
    };
    let all = queue("").await;
    same(
        listed(&all),
        &["Alpha mine", "Bravo teammate", "Charlie nobody", "Delta soon", "Echo fast", "Foxtrot solved"],
        "all",
    );
    assert!(all.contains("href=\"/tickets\" aria-current=\"page\">All</a>"), "All is not the current tab: {all}");
    for (tab, label) in [("mine", "Mine"), ("team", "My team"), ("unassigned", "Unassigned"), ("due_soon", "Due soon")]
    {
        assert!(all.contains(&format!("href=\"/tickets?queue={tab}\">{label}</a>")), "no {label} tab: {all}");
    }
    let mine = queue("mine").await;
    same(listed(&mine), &["Alpha mine"], "mine");
    assert!(mine.contains("href=\"/tickets?queue=mine\" aria-current=\"page\">Mine</a>"));
    same(listed(&queue("team").await), &["Alpha mine", "Bravo teammate", "Delta soon", "Echo fast"], "team");
    same(listed(&queue("unassigned").await), &["Charlie nobody"], "unassigned");

    // Filters narrow a queue, and the tabs keep them.
    let urgent = ann_web.get("/tickets?queue=team&priority=urgent").await.want(200).text;
    same(listed(&urgent), &["Bravo teammate"], "team, urgent");
    let tabs = crate::common::unescape(&urgent);
    assert!(tabs.contains("href=\"/tickets?queue=mine&priority=urgent\""), "the tabs drop the filter: {urgent}");
    same(listed(&ann_web.get("/tickets?status=solved").await.want(200).text), &["Foxtrot solved"], "solved");

    // An admin in no team has no "My team" tab.
    let admin = app.web_admin().await;
    let admin_all = admin.get("/tickets").await.want(200).text;
    assert!(!admin_all.contains("queue=team"), "an admin without a team sees the My team tab");
    assert_eq!(listed(&admin_all).len(), 7);

    // The one-minute target is breached; the half-hour one is due soon.
    let soon = queue("due_soon").await;
    same(listed(&soon), &["Delta soon"], "due soon");
    assert!(
        soon.contains("<span class=\"due soon\">in 29") || soon.contains("<span class=\"due soon\">in 30"),
        "no countdown on the due-soon ticket: {soon}"
    );
    let breached = queue("breached").await;
    same(listed(&breached), &["Echo fast"], "breached");
    assert!(breached.contains("<span class=\"due late\">late by 1 min</span>"), "no lateness shown: {breached}");
}

async fn sla_settings_add_policies_and_calendars(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let (_, agent) = app.web_user(Role::Agent, None).await;
    agent.get("/settings/sla").await.want(403);

    let settings = web.get("/settings/sla").await.want(200);
    assert!(settings.text.contains("href=\"/settings/sla\" aria-current=\"page\">SLA</a>"), "no current SLA tab");
    assert!(settings.text.contains("No policies yet.") && settings.text.contains("No calendars yet."));

    // A calendar: a bad time is refused beside its day, with the domain's words.
    let form = web.get("/settings/sla/calendars/new").await.want(200);
    assert_eq!(input_value(&form.text, "hours_friday").as_deref(), Some("09:00-17:00"));
    let mut fields = form_fields(&form.text, "/settings/sla/calendars");
    set_field(&mut fields, "name", "Berlin office");
    set_field(&mut fields, "time_zone", "Europe/Berlin");
    set_field(&mut fields, "hours_monday", "09:00-12:00, 13:00-17:00");
    set_field(&mut fields, "hours_tuesday", "09:00-25:00");
    set_field(&mut fields, "hours_wednesday", "09:00-12:00, 11:00-14:00");
    set_field(&mut fields, "holidays", "2026-12-25\nBoxing day");
    let refused = web.post_form("/settings/sla/calendars", &as_form(&fields)).await.want(422);
    let tuesday = field_error(&refused.text, "hours_tuesday").expect("an error beside Tuesday");
    assert!(tuesday.starts_with("Tuesday: \"25:00\" is not a time of day: use HH:MM"), "{tuesday}");
    let holidays = field_error(&refused.text, "holidays").expect("an error beside the holidays");
    assert!(holidays.contains("line 2: “Boxing day” is not a date"), "{holidays}");
    assert_eq!(input_value(&refused.text, "hours_monday").as_deref(), Some("09:00-12:00, 13:00-17:00"));

    // Overlapping periods are the domain's check: refused beside their day too.
    set_field(&mut fields, "hours_tuesday", "09:00-17:00");
    set_field(&mut fields, "holidays", "2026-12-25\n2026-12-26");
    let overlap = web.post_form("/settings/sla/calendars", &as_form(&fields)).await.want(422);
    let wednesday = field_error(&overlap.text, "hours_wednesday").expect("an error beside Wednesday");
    assert!(wednesday.contains("overlaps another period on Wednesday"), "{wednesday}");

    set_field(&mut fields, "hours_wednesday", "09:00-17:00");
    let added = web.post_form("/settings/sla/calendars", &as_form(&fields)).await.want(303);
    assert_eq!(added.header("location").as_deref(), Some("/settings/sla"));
    let calendars: Vec<Calendar> =
        serde_json::from_value(app.admin.get("/api/v1/calendars").await.want(200).value()["items"].clone()).unwrap();
    let [calendar] = calendars.as_slice() else { panic!("one calendar: {calendars:?}") };
    assert_eq!(calendar.fields.name.as_str(), "Berlin office");
    assert_eq!(calendar.fields.hours.time_zone.as_str(), "Europe/Berlin");
    assert_eq!(calendar.fields.hours.periods.len(), 6, "Monday's two periods and Tuesday to Friday's one");
    assert_eq!(calendar.fields.hours.holidays.len(), 2);
    let listing = web.get("/settings/sla").await.want(200).text;
    assert!(listing.contains("Monday 09:00-12:00, 13:00-17:00"), "{listing}");
    assert!(listing.contains("Tuesday–Friday 09:00-17:00"), "{listing}");

    // The edit form shows it back.
    let edit = web.get(&format!("/settings/sla/calendars/{}", calendar.id)).await.want(200);
    assert_eq!(input_value(&edit.text, "hours_monday").as_deref(), Some("09:00-12:00, 13:00-17:00"));
    assert_eq!(input_value(&edit.text, "hours_saturday").as_deref(), Some(""));

    // A policy needs a target.
    let form = web.get("/settings/sla/policies/new").await.want(200);
    let mut fields = form_fields(&form.text, "/settings/sla/policies");
    set_field(&mut fields, "name", "Urgent");
    let none = web.post_form("/settings/sla/policies", &as_form(&fields)).await.want(422);
    assert_eq!(
        field_error(&none.text, "first_response").as_deref(),
        Some("First response: a policy needs at least one target")
    );
    set_field(&mut fields, "priority_urgent", "true");
    set_field(&mut fields, "priority_high", "true");
    set_field(&mut fields, "first_response", "1");
    set_field(&mut fields, "first_response_unit", "hours");
    set_field(&mut fields, "resolution", "1.5");
    set_field(&mut fields, "resolution_unit", "hours");
    set_field(&mut fields, "next_response", "45");
    set_field(&mut fields, "next_response_unit", "minutes");
    set_field(&mut fields, "calendar_id", &calendar.id.to_string());
    web.post_form("/settings/sla/policies", &as_form(&fields)).await.want(303);
    let policies: Vec<SlaPolicy> =
        serde_json::from_value(app.admin.get("/api/v1/sla-policies").await.want(200).value()["items"].clone()).unwrap();
    let [policy] = policies.as_slice() else { panic!("one policy: {policies:?}") };
    let p = &policy.fields;
    assert_eq!(p.targets.first_response_minutes, Some(60));
    assert_eq!(p.targets.next_response_minutes, Some(45));
    assert_eq!(p.targets.resolution_minutes, Some(90));
    assert_eq!(p.condition.priorities.len(), 2);
    assert_eq!(p.calendar_id, Some(calendar.id));
    assert!(p.active);

    // Its edit form shows whole hours in hours, the rest in minutes.
    let edit = web.get(&format!("/settings/sla/policies/{}", policy.id)).await.want(200);
    assert_eq!(input_value(&edit.text, "first_response").as_deref(), Some("1"));
    assert_eq!(selected_value(&edit.text, "first_response_unit").as_deref(), Some("hours"));
    assert_eq!(input_value(&edit.text, "resolution").as_deref(), Some("90"));
    assert_eq!(selected_value(&edit.text, "resolution_unit").as_deref(), Some("minutes"));
    assert!(crate::common::is_checked(&edit.text, "priority_urgent"));

    // An urgent ticket now runs on it, and its page says so.
    let person = grace(&app).await;
    let urgent = open_ticket(&app, &person, "Everything is down", json!({ "priority": "urgent" })).await;
    assert_eq!(urgent.clocks.sla_policy_id, Some(policy.id));
    let page = web.get(&format!("/tickets/{}", urgent.id)).await.want(200).text;
    assert!(page.contains("Under the policy “Urgent”."), "{page}");
    assert!(page.contains("<dt>First response</dt>") && page.contains("<dt>Resolution</dt>"), "{page}");

    // The calendar cannot go while the policy counts in it; the policy can, then the calendar.
    let kept = web.post_form(&format!("/settings/sla/calendars/{}/delete", calendar.id), &[]).await.want(409);
    assert!(kept.text.contains("was not deleted"), "{}", kept.text);
    web.post_form(&format!("/settings/sla/policies/{}/delete", policy.id), &[]).await.want(303);
    web.post_form(&format!("/settings/sla/calendars/{}/delete", calendar.id), &[]).await.want(303);
    let after = web.get("/settings/sla").await.want(200).text;
    assert!(after.contains("No policies yet.") && after.contains("No calendars yet."));
}

async fn home_lists_my_tickets_due_soon_or_late(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.admin.post("/api/v1/sla-policies", &json!({ "name": "All", "first_response_minutes": 120 })).await.want(201);
    let person = grace(&app).await;
    let (agent, web) = app.web_user(Role::Agent, None).await;
    let empty = web.get("/").await.want(200).text;
    assert!(empty.contains("My tickets due soon") && empty.contains("Nothing due."), "{empty}");

    let mine = |subject: &str| {
        serde_json::from_value::<rapport_domain::tickets::TicketInput>(
            json!({ "requester_id": person.id, "subject": subject, "assignee_id": agent.id }),
        )
        .unwrap()
    };
    let now = rapport_domain::records::now();
    let admin = app.admin_actor();
    app.store.create_ticket_at(&admin, mine("Printer on fire"), now - time::Duration::minutes(150)).await.unwrap();
    app.store.create_ticket_at(&admin, mine("Password reset"), now - time::Duration::minutes(80)).await.unwrap();
    app.store.create_ticket_at(&admin, mine("Not urgent at all"), now).await.unwrap();
    open_ticket(&app, &person, "Someone else's", json!({})).await;

    let home = web.get("/").await.want(200).text;
    let late = at(&home, "Printer on fire");
    let soon = at(&home, "Password reset");
    assert!(late < soon, "the late one first");
    assert!(home[late..].contains("late by 30 min"), "{home}");
    assert!(!home.contains("Not urgent at all"), "due in two hours: not yet");
    assert!(!home.contains("Someone else&#x27;s") && !home.contains("Someone else's"), "only mine");
}

async fn the_ticket_form_saves_custom_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = grace(&app).await;
    let web = app.web_admin().await;

    // Settings → Fields offers tickets, and defines their fields there.
    let settings = web.get("/settings/fields").await.want(200);
    assert!(settings.text.contains("<option value=\"ticket\""), "{}", settings.text);
    let defined = [("entity_type", "ticket"), ("key", "product"), ("label", "Product"), ("kind", "choice")];
    let mut form = defined.to_vec();
    form.push(("choices", "App, Web"));
    web.post_form("/settings/fields", &form).await.want(303);
    let seats = [("entity_type", "ticket"), ("key", "seats"), ("label", "Seats"), ("kind", "number")];
    web.post_form("/settings/fields", &seats).await.want(303);
    assert!(web.get("/settings/fields").await.want(200).text.contains("Product"));
    let mut required = seats.to_vec();
    required[1] = ("key", "os");
    required.push(("required", "true"));
    let refused = web.post_form("/settings/fields", &required).await.want(422);
    assert!(
        field_error(&refused.text, "required").is_some_and(|e| e.contains("not offered for ticket fields")),
        "{}",
        refused.text
    );

    let blank = web.get(&format!("/tickets/new?person_id={}", person.id)).await.want(200);
    let mut fields = form_fields(&blank.text, "/tickets");
    assert!(fields.iter().any(|(name, _)| name == "custom_fields.product"), "{fields:?}");
    assert!(fields.iter().any(|(name, _)| name == "custom_fields.seats"), "{fields:?}");
    set_field(&mut fields, "subject", "The app crashes");
    set_field(&mut fields, "custom_fields.product", "App");
    set_field(&mut fields, "custom_fields.seats", "many");
    let refused = web.post_form("/tickets", &as_form(&fields)).await.want(422);
    assert!(refused.text.contains("Seats must be a number"), "{}", refused.text);
    assert_eq!(
        selected_value(&refused.text, "custom_fields.product").as_deref(),
        Some("App"),
        "what was chosen is kept"
    );
    assert!(app.admin.list_all::<Ticket>("/api/v1/tickets", &[]).await.is_empty(), "a refused form made a ticket");

    set_field(&mut fields, "custom_fields.seats", "12");
    let created = web.post_form("/tickets", &as_form(&fields)).await.want(303);
    let location = created.header("location").expect("a location");
    let id = location.strip_prefix("/tickets/").expect("to the ticket").to_owned();
    let stored = ticket(&app, &id).await;
    assert_eq!(stored.fields.custom_fields.get("product"), Some(&json!("App")));
    assert_eq!(stored.fields.custom_fields.get("seats"), Some(&json!(12)));

    // The ticket's details show them; the edit form has them, and saves a change.
    let page = web.get(&location).await.want(200);
    assert!(page.text.contains("<dt>Product</dt><dd>App</dd>"), "{}", page.text);
    assert!(page.text.contains("<dt>Seats</dt><dd>12</dd>"), "{}", page.text);
    let edit = web.get(&format!("{location}/edit")).await.want(200);
    assert_eq!(selected_value(&edit.text, "custom_fields.product").as_deref(), Some("App"));
    assert_eq!(input_value(&edit.text, "custom_fields.seats").as_deref(), Some("12"));
    let mut fields = form_fields(&edit.text, &location);
    set_field(&mut fields, "custom_fields.product", "Web");
    set_field(&mut fields, "custom_fields.seats", "");
    web.post_form(&location, &as_form(&fields)).await.want(303);
    let saved = ticket(&app, &id).await;
    assert_eq!(serde_json::to_value(&saved.fields.custom_fields).unwrap(), json!({ "product": "Web" }));
    assert_eq!(saved.meta.version, stored.meta.version + 1);
}
