//! The SLA report through the API: shares per group, the missed tickets
//! behind them, a ticket's events; managers and admins only; bad
//! parameters named.

use rapport_domain::sla_events::{MissedTarget, SlaEvent, SlaReportRow, SlaTarget};
use rapport_domain::tickets::TicketInput;
use rapport_domain::{Actor, Role};
use serde_json::json;

use crate::common::{Backend, TestApp, create_person};

backend_tests!(the_report_counts_targets_met_and_missed);

async fn the_report_counts_targets_met_and_missed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.admin
        .post(
            "/api/v1/sla-policies",
            &json!({ "name": "All", "first_response_minutes": 60, "resolution_minutes": 600 }),
        )
        .await
        .want(201);
    let ada = create_person(&app.admin, "Ada").await;
    let admin = Actor { user_id: app.admin_user.id, role: Role::Admin, team_id: None };
    let input: TicketInput =
        serde_json::from_value(json!({ "requester_id": ada.id, "subject": "Late", "priority": "urgent" })).unwrap();
    let opened = rapport_domain::records::now() - time::Duration::hours(3);
    let late = app.store.create_ticket_at(&admin, input, opened).await.unwrap();
    app.admin
        .post(&format!("/api/v1/tickets/{}/messages", late.id), &json!({ "kind": "reply", "body": "Sorry!" }))
        .await
        .want(201);

    let rows: Vec<SlaReportRow> = serde_json::from_value(
        app.admin.get("/api/v1/reports/sla?group=priority").await.want(200).value()["items"].clone(),
    )
    .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].key.as_deref(), rows[0].target, rows[0].met, rows[0].missed),
        (Some("urgent"), SlaTarget::FirstResponse, 0, 1)
    );
    let missed: Vec<MissedTarget> = serde_json::from_value(
        app.admin.get("/api/v1/reports/sla/missed?target=first_response").await.want(200).value()["items"].clone(),
    )
    .unwrap();
    assert_eq!(missed.iter().map(|m| (m.event.ticket_id, m.subject.as_str())).collect::<Vec<_>>(), [(late.id, "Late")]);
    // One row's misses: the urgent row holds it, the unassigned agents' row too, the low row nothing.
    for (query, expected) in [("group=priority&key=urgent", 1), ("key=none", 1), ("group=priority&key=low", 0)] {
        let body = app.admin.get(&format!("/api/v1/reports/sla/missed?{query}")).await.want(200).value();
        assert_eq!(body["items"].as_array().map(Vec::len), Some(expected), "{query}: {body}");
    }
    let events: Vec<SlaEvent> = serde_json::from_value(
        app.admin.get(&format!("/api/v1/tickets/{}/sla-events", late.id)).await.want(200).value()["items"].clone(),
    )
    .unwrap();
    // The outcome, and the breach too if the watcher job looked before the reply.
    assert!(events.iter().any(|e| e.kind == rapport_domain::sla_events::SlaEventKind::Missed), "{events:?}");

    let listed = app.admin.get("/api/v1/tickets?count=true").await.want(200).value();
    assert_eq!(listed["total"], 1, "tickets count like every list: {listed}");

    let (_, agent) = app.create_user(Role::Agent, None).await;
    agent.get("/api/v1/reports/sla").await.want_error(403, "forbidden");
    let error = app.admin.get("/api/v1/reports/sla?group=colour").await.want_error(422, "validation");
    assert!(error.field("group").is_some(), "{error:?}");
    let error = app.admin.get("/api/v1/reports/sla?from=2026-13-01").await.want_error(422, "validation");
    assert!(error.field("from").is_some_and(|m| m.contains("YYYY-MM-DD")), "{error:?}");
    let error = app.admin.get("/api/v1/reports/sla?from=2026-11-30&to=2026-11-01").await.want_error(422, "validation");
    assert!(error.field("from").is_some(), "{error:?}");
    app.admin.get("/api/v1/reports/sla?grop=agent").await.want_error(422, "validation");
}
