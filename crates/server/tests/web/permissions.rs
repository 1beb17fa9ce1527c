//! Who may do what through the pages: viewers change nothing, agents change
//! what is theirs or their team's, and only admins see the settings of staff.

use rapport_domain::access::Role;
use serde_json::json;

use crate::common::{Backend, TestApp, create_deal, create_person_with, create_sales_pipeline, create_task};

backend_tests!(viewers_change_nothing, agents_edit_only_within_reach, only_admins_manage_staff);

async fn viewers_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person =
        create_person_with(&app.admin, json!({ "first_name": "Guarded", "owner_id": app.admin_user.id })).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let deal = create_deal(&app.admin, &pipeline, "Guarded deal", json!({})).await;
    let task = create_task(&app.admin, json!({ "title": "Guarded task", "person_id": person.id })).await;
    let (viewer, web) = app.web_user(Role::Viewer, None).await;
    let id = person.id;
    let entries_before = app.store.person_timeline(&app.admin_actor(), id).await.unwrap().len();

    // Reading is fine.
    web.get("/people").await.want(200);
    let page = web.get(&format!("/people/{id}")).await.want(200);
    assert!(page.text.contains("Guarded"));
    web.get(&format!("/pipelines/{}/board", pipeline.id)).await.want(200);

    // Forms and writes are not.
    web.get("/people/new").await.want(403);
    web.get(&format!("/people/{id}/edit")).await.want(403);
    web.get("/companies/new").await.want(403);
    web.get("/deals/new").await.want(403);
    web.get(&format!("/deals/{}/edit", deal.id)).await.want(403);
    web.get("/tasks/new").await.want(403);
    web.post_form("/people", &[("first_name", "Sneaky"), ("lifecycle_stage", "lead")]).await.want(403);
    web.post_form(&format!("/people/{id}"), &[("first_name", "Renamed"), ("lifecycle_stage", "customer")])
        .await
        .want(403);
    web.post_form(&format!("/people/{id}/delete"), &[]).await.want(403);
    web.post_form(&format!("/people/{id}/timeline"), &[("kind", "note"), ("body", "Viewer note")]).await.want(403);
    let htmx = web.htmx_post(&format!("/people/{id}/timeline"), &[("kind", "note"), ("body", "Viewer note")]).await;
    assert_eq!(htmx.status, 403, "{} answered {}: {}", htmx.what, htmx.status, htmx.text);
    web.post_form(&format!("/tasks/{}/done", task.id), &[]).await.want(403);
    web.post_form(&format!("/tasks/{}/reopen", task.id), &[]).await.want(403);

    let after = app.store.get_person(id).await.expect("the person is still there");
    assert_eq!(after.fields.first_name.as_str(), "Guarded");
    assert_eq!(after.meta.version, person.meta.version, "a viewer changed the person");
    assert_eq!(app.all_people().await.len(), 1, "a viewer created someone");
    assert_eq!(
        app.store.person_timeline(&app.admin_actor(), id).await.unwrap().len(),
        entries_before,
        "a viewer added to the timeline"
    );
    assert!(!app.store.get_task(task.id).await.unwrap().fields.done, "a viewer completed a task");

    // Moving a deal on the board: the board comes back, with the reason as a toast, and the deal stays.
    let target = pipeline.stages[1].id.to_string();
    let version = deal.meta.version.to_string();
    let moved = web
        .htmx_post(&format!("/deals/{}/move", deal.id), &[("target", &target), ("version", &version)])
        .await
        .want(200);
    let toast = moved.header("hx-trigger").unwrap_or_default();
    assert!(toast.contains("rapport-toast") && toast.contains("not moved"), "no refusal toast: {toast:?}");
    assert!(moved.text.contains("Guarded deal"), "the board was not answered: {}", moved.text);
    let plain = web.post_form(&format!("/deals/{}/move", deal.id), &[("target", "won"), ("version", &version)]).await;
    assert!(plain.status == 303 || plain.status == 403, "{} answered {}: {}", plain.what, plain.status, plain.text);
    let stored = app.store.get_deal(deal.id).await.unwrap();
    assert_eq!(stored.fields.stage_id, pipeline.stages[0].id, "a viewer moved a deal");
    assert_eq!(stored.fields.status, deal.fields.status, "a viewer won a deal");
    assert_eq!(stored.meta.version, deal.meta.version);

    // Settings of staff: admins only.
    web.get("/settings/users").await.want(403);
    web.get(&format!("/settings/users/{}", viewer.id)).await.want(403);
    let promote = web
        .post_form(
            &format!("/settings/users/{}", viewer.id),
            &[("name", "Promoted"), ("email", viewer.fields.email.as_str()), ("role", "admin")],
        )
        .await;
    assert_eq!(promote.status, 403, "{} answered {}: {}", promote.what, promote.status, promote.text);
    assert_eq!(app.store.get_user(viewer.id).await.unwrap().fields.role, Role::Viewer, "a viewer promoted itself");

    // Viewers see no edit controls.
    assert!(!page.text.contains(&format!("/people/{id}/edit")), "a viewer is offered the edit form");
}

async fn agents_edit_only_within_reach(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let north = app.create_team("North").await;
    let south = app.create_team("South").await;
    let (stranger, _) = app.web_user(Role::Manager, Some(south.id)).await;
    let (teammate, _) = app.web_user(Role::Agent, Some(north.id)).await;
    let (agent, web) = app.web_user(Role::Agent, Some(north.id)).await;

    let theirs = create_person_with(&app.admin, json!({ "first_name": "Theirs", "owner_id": stranger.id })).await;
    let own = create_person_with(&app.admin, json!({ "first_name": "Own", "owner_id": agent.id })).await;
    let team = create_person_with(&app.admin, json!({ "first_name": "Team", "owner_id": teammate.id })).await;

    // Someone outside the team: no form, no save, no delete.
    web.get(&format!("/people/{}/edit", theirs.id)).await.want(403);
    let form = [("first_name", "Taken"), ("lifecycle_stage", "customer"), ("version", "1")];
    let refused = web.post_form(&format!("/people/{}", theirs.id), &form).await.want(403);
    assert!(refused.text.contains("Not allowed"), "not the 403 page: {}", refused.text);
    web.post_form(&format!("/people/{}/delete", theirs.id), &[]).await.want(403);
    let stored = app.store.get_person(theirs.id).await.unwrap();
    assert_eq!(stored.fields.first_name.as_str(), "Theirs");
    assert_eq!(stored.meta.version, theirs.meta.version);
    // Their page shows no edit control.
    let page = web.get(&format!("/people/{}", theirs.id)).await.want(200);
    assert!(!page.text.contains(&format!("/people/{}/edit", theirs.id)), "an agent is offered an edit it cannot do");

    // Their own: editable.
    web.get(&format!("/people/{}/edit", own.id)).await.want(200);
    let owner = agent.id.to_string();
    let version = own.meta.version.to_string();
    let saved = web
        .post_form(
            &format!("/people/{}", own.id),
            &[
                ("first_name", "Own"),
                ("last_name", "Edited"),
                ("lifecycle_stage", "customer"),
                ("owner_id", &owner),
                ("version", &version),
            ],
        )
        .await
        .want(303);
    assert_eq!(saved.header("location"), Some(format!("/people/{}", own.id)));
    let stored = app.store.get_person(own.id).await.unwrap();
    assert_eq!(stored.fields.last_name.as_ref().map(|n| n.as_str()), Some("Edited"));

    // A teammate's: editable, but not deletable by an agent.
    web.get(&format!("/people/{}/edit", team.id)).await.want(200);
    web.post_form(&format!("/people/{}/delete", team.id), &[]).await.want(403);
    assert!(app.store.get_person(team.id).await.is_ok(), "an agent deleted a teammate's record");

    // Nor can an agent give its own record to the stranger and then keep editing it.
    let stranger_id = stranger.id.to_string();
    let version = stored.meta.version.to_string();
    let resp = web
        .post_form(
            &format!("/people/{}", own.id),
            &[
                ("first_name", "Own"),
                ("lifecycle_stage", "customer"),
                ("owner_id", &stranger_id),
                ("version", &version),
            ],
        )
        .await;
    assert!(resp.status == 303 || resp.status == 403 || resp.status == 422, "{} answered {}", resp.what, resp.status);
    if resp.status == 303 {
        web.get(&format!("/people/{}/edit", own.id)).await.want(403);
    }
}

async fn only_admins_manage_staff(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, manager) = app.web_user(Role::Manager, None).await;
    let (_, agent) = app.web_user(Role::Agent, None).await;
    let admin = app.web_admin().await;
    for path in ["/settings/users", "/settings/teams", "/settings/pipelines", "/settings/fields"] {
        manager.get(path).await.want(403);
        agent.get(path).await.want(403);
        admin.get(path).await.want(200);
    }
    let form = [
        ("name", "Sneaky"),
        ("email", "sneaky@example.com"),
        ("role", "admin"),
        ("password", "a long enough password"),
    ];
    manager.post_form("/settings/users", &form).await.want(403);
    let sneaky = rapport_domain::Email::parse("sneaky@example.com").unwrap();
    assert!(app.store.find_user_by_email(&sneaky).await.unwrap().is_none(), "a manager added a user");
}
