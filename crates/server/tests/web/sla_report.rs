//! The SLA report page: shares per group, each miss one click from its
//! tickets; managers and admins only; a bad period named.

use rapport_domain::tickets::TicketInput;
use rapport_domain::{Actor, Role};
use serde_json::json;

use crate::common::{Backend, TestApp, create_person, unescape};

backend_tests!(the_report_page_leads_from_a_miss_to_its_ticket);

async fn the_report_page_leads_from_a_miss_to_its_ticket(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.admin.post("/api/v1/sla-policies", &json!({ "name": "All", "first_response_minutes": 60 })).await.want(201);
    let ada = create_person(&app.admin, "Ada").await;
    let admin = Actor { user_id: app.admin_user.id, role: Role::Admin, team_id: None };
    let opened = rapport_domain::records::now() - time::Duration::hours(3);
    let mut tickets = Vec::new();
    for (subject, priority) in [("Printer on fire", "urgent"), ("Quick question", "low")] {
        let input: TicketInput =
            serde_json::from_value(json!({ "requester_id": ada.id, "subject": subject, "priority": priority }))
                .unwrap();
        let at = if priority == "urgent" { opened } else { rapport_domain::records::now() };
        tickets.push(app.store.create_ticket_at(&admin, input, at).await.unwrap());
    }
    for ticket in &tickets {
        let path = format!("/api/v1/tickets/{}/messages", ticket.id);
        app.admin.post(&path, &json!({ "kind": "reply", "body": "On it" })).await.want(201);
    }

    let web = app.web_admin().await;
    let listing = web.get("/tickets").await.want(200);
    assert!(listing.text.contains("href=\"/reports/sla\""), "the queue links the report");
    let page = web.get("/reports/sla?group=priority").await.want(200);
    let table = &page.text[page.text.find("id=\"sla-report\"").expect("the report table")..];
    assert!(table.contains(">Urgent</th>") && table.contains(">Low</th>"), "{table}");
    assert!(table.contains("<strong>0%</strong> <span class=\"muted small\">0 of 1</span>"), "{table}");
    assert!(table.contains("<strong>100%</strong> <span class=\"muted small\">1 of 1</span>"), "{table}");
    let start = table.find("1 missed").expect("a link to the misses");
    let href_at = table[..start].rfind("href=\"").expect("the miss is a link") + 6;
    let href = unescape(table[href_at..].split('"').next().unwrap());
    assert!(href.contains("key=urgent") && href.contains("target=first_response"), "{href}");

    let misses = web.get(&href).await.want(200);
    let section = &misses.text[misses.text.find("id=\"missed\"").expect("the misses")..];
    assert!(section.contains("First response missed · Priority: Urgent"), "{section}");
    assert!(section.contains(&format!("<a href=\"/tickets/{}\">Printer on fire</a>", tickets[0].id)), "{section}");
    assert!(!section.contains("Quick question"), "a met target is listed as missed");

    let (_, agent) = app.web_user(Role::Agent, None).await;
    agent.get("/reports/sla").await.want(403);
    let bad = web.get("/reports/sla?from=2026-12-31&to=2026-12-01").await.want(400);
    assert!(bad.text.contains("from: must not be after to"), "{}", bad.text);
}
