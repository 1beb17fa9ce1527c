//! The sales report through the API: win rate, cycle and stages from deals
//! closed in the period, the weighted forecast of open deals, activity per
//! staff member; the deals list's filters its figures link to; every
//! signed-in staff member reads it; bad parameters named.

use rapport_domain::Role;
use rapport_domain::records::{Activity, Deal, Task};
use rapport_insights::sales::{ForecastBucket, NO_SOURCE};
use serde_json::json;

use crate::common::{
    Backend, TestApp, create_activity, create_deal, create_person_with, create_sales_pipeline, create_task,
    sales_report, unknown_id,
};

backend_tests!(
    the_report_gives_figures_from_deals_and_activities,
    every_signed_in_staff_member_reads_the_report_and_bad_parameters_are_named,
    the_lists_take_the_filters_the_figures_lead_through
);

async fn the_report_gives_figures_from_deals_and_activities(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let (lead, proposal) = (pipeline.stages[0].id, pipeline.stages[1].id);
    let (agent, agent_api) = app.create_user(Role::Agent, None).await;
    let referred = create_person_with(&app.admin, json!({ "first_name": "Ada", "source": "referral" })).await;
    let walk_in = create_person_with(&app.admin, json!({ "first_name": "Bo" })).await;
    let today = time::OffsetDateTime::now_utc().date();

    // Won after a move from Lead to Proposal; lost from Lead; one more won, by the agent.
    let moved = create_deal(&app.admin, &pipeline, "Moved", json!({ "person_id": referred.id })).await;
    let moved: Deal = app.admin.update("deals", moved.id, json!({ "stage_id": proposal })).await;
    let _: Deal = app.admin.update("deals", moved.id, json!({ "status": "won" })).await;
    create_deal(&app.admin, &pipeline, "Lost", json!({ "status": "lost", "person_id": walk_in.id })).await;
    let agents = create_deal(
        &app.admin,
        &pipeline,
        "Agent's",
        json!({ "status": "won", "owner_id": agent.id, "person_id": referred.id }),
    )
    .await;
    // Open: 1,000.00 EUR in Proposal (50%) expected today; 300.00 USD in Lead (10%) with no date.
    create_deal(&app.admin, &pipeline, "Open", json!({ "stage_id": proposal, "expected_close": today.to_string() }))
        .await;
    create_deal(&app.admin, &pipeline, "Dollars", json!({ "amount": { "amount_minor": 30_000, "currency": "USD" } }))
        .await;
    create_activity(&agent_api, json!({ "kind": "call", "subject": "Hello", "person_id": walk_in.id })).await;
    create_activity(&agent_api, json!({ "kind": "email", "subject": "Hello", "person_id": walk_in.id })).await;
    create_activity(&app.admin, json!({ "kind": "meeting", "subject": "Hello", "person_id": walk_in.id })).await;
    let task = create_task(&app.admin, json!({ "title": "Follow up", "assignee_id": agent.id })).await;
    app.admin.patch(&format!("/api/v1/tasks/{}", task.id), &json!({ "done": true })).await.want(200);

    let figures = sales_report(&app.admin, "").await;
    assert_eq!((figures.overall.won, figures.overall.lost), (2, 1));
    let rate = figures.overall.win_rate.unwrap();
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{rate}");
    assert!(figures.overall.median_cycle_days.unwrap() < 1.0, "created and closed today");

    let owners: Vec<(Option<String>, u64, u64)> =
        figures.by_owner.iter().map(|g| (g.key.clone(), g.won, g.lost)).collect();
    assert!(owners.contains(&(Some(agent.id.to_string()), 1, 0)), "{owners:?}");
    assert!(owners.contains(&(None, 1, 1)), "the admin's deals have no owner: {owners:?}");
    let sources: Vec<(&str, u64, u64)> = figures.by_source.iter().map(|g| (g.label.as_str(), g.won, g.lost)).collect();
    assert_eq!(sources, vec![("referral", 2, 0), (NO_SOURCE, 0, 1)]);

    let stage = |id| figures.by_stage.iter().find(|s| s.stage_id == id).unwrap();
    assert_eq!((stage(lead).reached, stage(lead).reached_won), (3, 2), "every closed deal began in Lead");
    assert_eq!((stage(proposal).reached, stage(proposal).reached_won), (1, 1), "only the moved one reached Proposal");
    assert_eq!((stage(lead).won_here, stage(lead).lost_here), (1, 1));
    assert_eq!(stage(proposal).won_here, 1);
    assert!(stage(proposal).median_days_in_stage.is_some());

    let month = format!("{:04}-{:02}", today.year(), u8::from(today.month()));
    let eur = figures
        .forecast
        .iter()
        .find(|r| r.month.as_deref() == Some(month.as_str()) && r.currency == "EUR")
        .expect("this month's EUR row");
    assert_eq!((eur.deals, eur.amount_minor, eur.weighted_minor), (1, 100_000, 50_000));
    let usd = figures.forecast.iter().find(|r| r.bucket == ForecastBucket::NoDate).expect("the no-date row");
    assert_eq!((usd.currency.as_str(), usd.deals, usd.weighted_minor), ("USD", 1, 3_000));

    let agent_row = figures.activity.iter().find(|r| r.user_id == Some(agent.id)).expect("the agent's row");
    assert_eq!((agent_row.calls, agent_row.emails, agent_row.tasks_done, agent_row.total), (1, 1, 1, 3));
    let admin_row = figures.activity.iter().find(|r| r.user_id == Some(app.admin_user.id)).expect("the admin's row");
    assert_eq!((admin_row.meetings, admin_row.total), (1, 1));

    // The deals list gives the deals behind the figures.
    let day = today.to_string();
    let names = |path: String| {
        let api = &app.admin;
        async move {
            let page = api.list::<Deal>(&path).await;
            let mut names: Vec<String> = page.items.iter().map(|d| d.fields.name.to_string()).collect();
            names.sort();
            names
        }
    };
    let closed = format!("closed_from={day}&closed_to={day}");
    assert_eq!(names(format!("/api/v1/deals?owner_id={}&status=won&{closed}", agent.id)).await, ["Agent's"]);
    assert_eq!(names(format!("/api/v1/deals?source=referral&{closed}")).await, ["Agent's", "Moved"]);
    assert_eq!(names(format!("/api/v1/deals?stage_id={lead}&status=lost&{closed}")).await, ["Lost"]);
    let forecast = format!("/api/v1/deals?status=open&currency=EUR&expected_close_from={day}&expected_close_to={day}");
    assert_eq!(names(forecast).await, ["Open"]);
    let yesterday = (today - time::Duration::days(1)).to_string();
    assert!(names(format!("/api/v1/deals?closed_to={yesterday}")).await.is_empty(), "nothing closed before today");
    assert_eq!(agents.fields.owner_id, Some(agent.id));

    // One pipeline: another pipeline's deals and stages leave.
    let other = crate::common::create_pipeline(&app.admin, "Other", &[("Only", 20)]).await;
    create_deal(&app.admin, &other, "Elsewhere", json!({ "status": "won" })).await;
    let everywhere = sales_report(&app.admin, "").await;
    assert_eq!(everywhere.overall.won, 3);
    let one = sales_report(&app.admin, &format!("?pipeline_id={}", pipeline.id)).await;
    assert_eq!((one.overall.won, one.by_stage.len(), one.pipeline_id), (2, 3, Some(pipeline.id)));
    // A period before today holds no closed deal: no rate, not NaN.
    let past = sales_report(&app.admin, "?from=2020-01-01&to=2020-01-31").await;
    assert_eq!((past.overall.won, past.overall.win_rate), (0, None));
    assert!(past.activity.is_empty());
}

async fn every_signed_in_staff_member_reads_the_report_and_bad_parameters_are_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    create_deal(&app.admin, &pipeline, "Won", json!({ "status": "won" })).await;
    let admin_view = sales_report(&app.admin, "").await;
    // Like the deals list, the figures are the same for a viewer and an agent outside any team.
    for role in [Role::Viewer, Role::Agent] {
        let (_, api) = app.create_user(role, None).await;
        let figures = sales_report(&api, "").await;
        assert_eq!((figures.overall.won, figures.by_stage.len()), (admin_view.overall.won, 3), "{role}");
    }
    app.anonymous().get("/api/v1/reports/sales").await.want(401);

    for (query, field) in [
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-12-02&to=2026-12-01", "from"),
        ("pipeline_id=sales", "pipeline_id"),
        (&*format!("pipeline_id={}", unknown_id()), "pipeline_id"),
    ] {
        let error = app.admin.get(&format!("/api/v1/reports/sales?{query}")).await.want(422).error();
        assert!(error.field(field).is_some(), "{query}: {error:?}");
    }
    app.admin.get("/api/v1/deals?closed_from=someday").await.want(422);
}

/// The deals, activities and tasks lists' filters behind the sales page's
/// drill-downs: no owner, no source, no expected close, a stage reached;
/// activities by staff member and days; tasks by assignee and done days.
/// Each is in the OpenAPI document, and a bad value is named.
async fn the_lists_take_the_filters_the_figures_lead_through(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let (lead, proposal, closing) = (pipeline.stages[0].id, pipeline.stages[1].id, pipeline.stages[2].id);
    let (agent, agent_api) = app.create_user(Role::Agent, None).await;
    let fair = create_person_with(&app.admin, json!({ "first_name": "Ada", "source": "Trade fair" })).await;
    let walk_in = create_person_with(&app.admin, json!({ "first_name": "Bo" })).await;
    let today = time::OffsetDateTime::now_utc().date();

    let moved =
        create_deal(&app.admin, &pipeline, "Moved", json!({ "owner_id": agent.id, "person_id": fair.id })).await;
    let _: Deal = app.admin.update("deals", moved.id, json!({ "stage_id": proposal })).await;
    let _: Deal = app.admin.update("deals", moved.id, json!({ "stage_id": lead, "status": "lost" })).await;
    create_deal(&app.admin, &pipeline, "Alone", json!({ "expected_close": today.to_string() })).await;
    create_deal(&app.admin, &pipeline, "Walk-in", json!({ "person_id": walk_in.id, "stage_id": closing })).await;
    let names = |path: String| {
        let api = &app.admin;
        async move {
            let page = api.list::<Deal>(&path).await;
            let mut names: Vec<String> = page.items.iter().map(|d| d.fields.name.to_string()).collect();
            names.sort();
            names
        }
    };
    assert_eq!(names("/api/v1/deals?has_owner=false".into()).await, ["Alone", "Walk-in"]);
    assert_eq!(names("/api/v1/deals?has_owner=true".into()).await, ["Moved"]);
    assert_eq!(names("/api/v1/deals?has_source=false".into()).await, ["Alone", "Walk-in"], "no person, or no source");
    assert_eq!(names("/api/v1/deals?has_source=true".into()).await, ["Moved"]);
    assert_eq!(names("/api/v1/deals?has_expected_close=false".into()).await, ["Moved", "Walk-in"]);
    assert_eq!(names("/api/v1/deals?has_expected_close=true".into()).await, ["Alone"]);
    // Moved went Lead → Proposal → Lead: it reached Proposal though it is not there now.
    assert_eq!(names(format!("/api/v1/deals?reached_stage_id={proposal}")).await, ["Moved"]);
    assert_eq!(names(format!("/api/v1/deals?reached_stage_id={lead}")).await, ["Alone", "Moved"]);
    assert_eq!(names(format!("/api/v1/deals?reached_stage_id={closing}")).await, ["Walk-in"], "created there");
    let closed = format!("closed_from={today}&closed_to={today}");
    assert_eq!(names(format!("/api/v1/deals?reached_stage_id={proposal}&has_owner=true&{closed}")).await, ["Moved"]);
    assert!(names(format!("/api/v1/deals?reached_stage_id={closing}&{closed}")).await.is_empty(), "not closed");

    // Activities: by whom the report counts them for, kind and day.
    create_activity(&agent_api, json!({ "kind": "call", "subject": "Now", "person_id": fair.id })).await;
    create_activity(&app.admin, json!({ "kind": "call", "subject": "Admin's", "person_id": fair.id })).await;
    create_activity(
        &agent_api,
        json!({ "kind": "call", "subject": "Old", "person_id": fair.id, "occurred_at": "2020-01-05T23:59:59Z" }),
    )
    .await;
    let subjects = |path: String| {
        let api = &app.admin;
        async move {
            let page = api.list::<Activity>(&path).await;
            let mut subjects: Vec<String> =
                page.items.iter().map(|a| a.fields.subject.as_ref().unwrap().to_string()).collect();
            subjects.sort();
            subjects
        }
    };
    let staff = format!("/api/v1/activities?staff_id={}", agent.id);
    assert_eq!(subjects(staff.clone()).await, ["Now", "Old"]);
    assert_eq!(subjects(format!("{staff}&occurred_from={today}&occurred_to={today}")).await, ["Now"]);
    assert_eq!(
        subjects(format!("{staff}&occurred_from=2020-01-05&occurred_to=2020-01-05")).await,
        ["Old"],
        "the whole day"
    );
    assert_eq!(subjects(format!("{staff}&occurred_to=2020-01-04")).await, Vec::<String>::new());
    assert_eq!(subjects("/api/v1/activities?has_staff=true&kind=call".into()).await, ["Admin's", "Now", "Old"]);
    assert!(subjects("/api/v1/activities?has_staff=false".into()).await.is_empty(), "everyone's is named");

    // Tasks: done in the days asked for, assigned or not.
    let done = create_task(&app.admin, json!({ "title": "Done", "assignee_id": agent.id })).await;
    app.admin.patch(&format!("/api/v1/tasks/{}", done.id), &json!({ "done": true })).await.want(200);
    create_task(&app.admin, json!({ "title": "Open", "assignee_id": agent.id })).await;
    let titles = |path: String| {
        let api = &app.admin;
        async move {
            let page = api.list::<Task>(&path).await;
            page.items.iter().map(|t| t.fields.title.to_string()).collect::<Vec<_>>()
        }
    };
    let yesterday = today - time::Duration::days(1);
    assert_eq!(
        titles(format!("/api/v1/tasks?assignee_id={}&done_from={today}&done_to={today}", agent.id)).await,
        ["Done"]
    );
    assert!(titles(format!("/api/v1/tasks?done_to={yesterday}")).await.is_empty());
    assert_eq!(titles("/api/v1/tasks?has_assignee=true&done_from=2020-01-01".into()).await, ["Done"]);
    assert!(titles("/api/v1/tasks?has_assignee=false".into()).await.is_empty());

    // Each filter is documented on its list, and a bad value is a 422 naming it.
    let doc = app.anonymous().get("/api/v1/openapi.json").await.want(200).value();
    for (path, filters) in [
        ("/api/v1/deals", &["has_owner", "has_source", "has_expected_close", "reached_stage_id"][..]),
        ("/api/v1/activities", &["staff_id", "has_staff", "occurred_from", "occurred_to"][..]),
        ("/api/v1/tasks", &["has_assignee", "done_from", "done_to"][..]),
    ] {
        let params = doc["paths"][path]["get"]["parameters"].as_array().expect("the list's parameters");
        for filter in filters {
            assert!(params.iter().any(|p| p["name"] == *filter), "{path} documents {filter}");
        }
        for filter in filters {
            let error = app.admin.get(&format!("{path}?{filter}=nonsense")).await.want(422).error();
            assert!(error.field(filter).is_some(), "{path}?{filter}: {error:?}");
        }
    }
}
