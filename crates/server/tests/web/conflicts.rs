//! Edit conflicts in the web forms: a save over someone else's change is
//! shown, not applied; the form keeps what this user typed, shows the stored
//! value beside each field both changed, takes the other person's value for
//! fields this user did not touch, and saving again applies this user's
//! changes over the current record.

use rapport_domain::Role;
use rapport_domain::records::{Company, Deal, LifecycleStage, Task};
use serde_json::json;

use crate::common::{
    Backend, TestApp, as_form, create_company, create_deal, create_person_with, create_sales_pipeline, create_task,
    form_fields, input_value, is_checked, rfc3339, selected_value, set_field, theirs_note,
};

backend_tests!(
    two_sessions_edit_one_person,
    company_changed_through_the_api_meanwhile,
    deal_changed_through_the_api_meanwhile,
    stale_task_completion_shows_the_task_again
);

async fn two_sessions_edit_one_person(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = create_person_with(
        &app.admin,
        json!({ "first_name": "Ada", "last_name": "Lovelace", "job_title": "Analyst", "source": "Web", "tags": ["math"] }),
    )
    .await;
    let id = person.id;
    let edit_path = format!("/people/{id}/edit");
    let save_path = format!("/people/{id}");
    let mine = app.web_admin().await;
    let (other_user, theirs) = app.web_user(Role::Admin, None).await;

    // Both open the edit form at the same version.
    let mut my_form = form_fields(&mine.get(&edit_path).await.want(200).text, &save_path);
    let mut their_form = form_fields(&theirs.get(&edit_path).await.want(200).text, &save_path);

    // They save first: a new last name and job title, a stage, and do-not-contact ticked.
    set_field(&mut their_form, "last_name", "Byron");
    set_field(&mut their_form, "job_title", "Countess");
    set_field(&mut their_form, "lifecycle_stage", "customer");
    set_field(&mut their_form, "do_not_contact", "true");
    theirs.post_form(&save_path, &as_form(&their_form)).await.want(303);
    let after_theirs = app.store.get_person(id).await.unwrap();

    // Mine, from the old form: another last name (a clash) and a new source.
    set_field(&mut my_form, "last_name", "King");
    set_field(&mut my_form, "source", "Conference");
    let conflict = mine.post_form(&save_path, &as_form(&my_form)).await.want(409);
    let html = &conflict.text;
    assert!(html.contains("Someone else changed this record"), "no conflict notice: {html}");
    assert!(html.contains(&format!("{} saved it", other_user.fields.name)), "the notice does not say who: {html}");
    assert!(html.contains(&format!("href=\"/people/{id}\">Discard mine</a>")), "no way to discard: {html}");
    assert!(html.contains(&format!("datetime=\"{}\"", rfc3339(after_theirs.meta.updated_at))), "no time of the change");

    // Nothing of mine was applied.
    let stored = app.store.get_person(id).await.unwrap();
    assert_eq!(stored.fields, after_theirs.fields, "the stale save changed the record");

    // The form keeps my values, shows theirs beside the field we both changed,
    // and takes theirs where I changed nothing.
    assert_eq!(input_value(html, "last_name").as_deref(), Some("King"));
    assert_eq!(theirs_note(html, "last_name").as_deref(), Some("Saved meanwhile: Byron"));
    assert_eq!(input_value(html, "source").as_deref(), Some("Conference"));
    assert_eq!(theirs_note(html, "source"), None, "they did not change the source");
    assert_eq!(input_value(html, "job_title").as_deref(), Some("Countess"));
    assert_eq!(theirs_note(html, "job_title"), None, "I did not change the job title");
    assert_eq!(selected_value(html, "lifecycle_stage").as_deref(), Some("customer"));
    assert!(is_checked(html, "do_not_contact"), "their tick was lost");
    assert_eq!(input_value(html, "first_name").as_deref(), Some("Ada"));
    assert_eq!(input_value(html, "tags").as_deref(), Some("math"));
    assert_eq!(input_value(html, "version"), Some(after_theirs.meta.version.to_string()));

    // Saving again applies my changes over theirs.
    let again = form_fields(html, &save_path);
    mine.post_form(&save_path, &as_form(&again)).await.want(303);
    let saved = app.store.get_person(id).await.unwrap();
    let f = &saved.fields;
    assert_eq!(f.last_name.as_ref().map(|n| n.as_str()), Some("King"));
    assert_eq!(f.source.as_ref().map(|s| s.as_str()), Some("Conference"));
    assert_eq!(f.job_title.as_ref().map(|t| t.as_str()), Some("Countess"), "their job title was overwritten");
    assert_eq!(f.lifecycle_stage, LifecycleStage::Customer, "their stage was overwritten");
    assert!(f.preferences.do_not_contact, "their do-not-contact was overwritten");
    assert_eq!(f.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(), vec!["math"]);
    assert_eq!(saved.meta.version, after_theirs.meta.version + 1);

    // Their untick after my reapply, then my stale form again: I changed
    // nothing they did, so only the clash-free fields come back to me.
    let mut their_form = form_fields(&theirs.get(&edit_path).await.want(200).text, &save_path);
    their_form.retain(|(name, _)| name != "do_not_contact");
    theirs.post_form(&save_path, &as_form(&their_form)).await.want(303);
    let stale = mine.post_form(&save_path, &as_form(&again)).await.want(409);
    assert!(!is_checked(&stale.text, "do_not_contact"), "an untouched box kept my stale tick");
    assert_eq!(theirs_note(&stale.text, "do_not_contact"), None);
}

async fn company_changed_through_the_api_meanwhile(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let company = create_company(&app.admin, "Initech").await;
    let id = company.id;
    let save_path = format!("/companies/{id}");
    let web = app.web_admin().await;
    let mut form = form_fields(&web.get(&format!("/companies/{id}/edit")).await.want(200).text, &save_path);

    let theirs: Company =
        app.admin.update("companies", id, json!({ "industry": "Software", "name": "Initech AG" })).await;

    set_field(&mut form, "name", "Initech GmbH");
    set_field(&mut form, "domain", "initech.example");
    let conflict = web.post_form(&save_path, &as_form(&form)).await.want(409);
    let html = &conflict.text;
    assert_eq!(input_value(html, "name").as_deref(), Some("Initech GmbH"));
    assert_eq!(theirs_note(html, "name").as_deref(), Some("Saved meanwhile: Initech AG"));
    assert_eq!(input_value(html, "industry").as_deref(), Some("Software"));
    assert_eq!(input_value(html, "domain").as_deref(), Some("initech.example"));
    assert_eq!(input_value(html, "version"), Some(theirs.meta.version.to_string()));
    assert!(html.contains(&format!("href=\"/companies/{id}\">Discard mine</a>")));
    assert!(html.contains(&format!("{} saved it", app.admin_user.fields.name)), "the notice does not say who");
    assert_eq!(app.store.get_company(id).await.unwrap().fields, theirs.fields);

    web.post_form(&save_path, &as_form(&form_fields(html, &save_path))).await.want(303);
    let saved = app.store.get_company(id).await.unwrap();
    assert_eq!(saved.fields.name.as_str(), "Initech GmbH");
    assert_eq!(saved.fields.domain.as_ref().map(|d| d.as_str()), Some("initech.example"));
    assert_eq!(saved.fields.industry.as_ref().map(|i| i.as_str()), Some("Software"));
}

async fn deal_changed_through_the_api_meanwhile(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let deal = create_deal(&app.admin, &pipeline, "Renewal", json!({})).await;
    let id = deal.id;
    let save_path = format!("/deals/{id}");
    let web = app.web_admin().await;
    let mut form = form_fields(&web.get(&format!("/deals/{id}/edit")).await.want(200).text, &save_path);

    let theirs: Deal = app
        .admin
        .update(
            "deals",
            id,
            json!({ "amount": { "amount_minor": 250_000, "currency": "EUR" }, "stage_id": pipeline.stages[2].id }),
        )
        .await;

    set_field(&mut form, "name", "Renewal 2027");
    set_field(&mut form, "stage", &pipeline.stages[1].id.to_string());
    let conflict = web.post_form(&save_path, &as_form(&form)).await.want(409);
    let html = &conflict.text;
    assert_eq!(input_value(html, "name").as_deref(), Some("Renewal 2027"));
    assert_eq!(input_value(html, "amount").as_deref(), Some("2500.00"), "their amount is not in the form");
    assert_eq!(selected_value(html, "stage"), Some(pipeline.stages[1].id.to_string()));
    assert_eq!(theirs_note(html, "stage").as_deref(), Some("Saved meanwhile: Sales: Closing"));
    assert_eq!(app.store.get_deal(id).await.unwrap().fields, theirs.fields);

    web.post_form(&save_path, &as_form(&form_fields(html, &save_path))).await.want(303);
    let saved = app.store.get_deal(id).await.unwrap();
    assert_eq!(saved.fields.name.as_str(), "Renewal 2027");
    assert_eq!(saved.fields.amount.amount_minor, 250_000, "their amount was overwritten");
    assert_eq!(saved.fields.stage_id, pipeline.stages[1].id);
}

async fn stale_task_completion_shows_the_task_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let task = create_task(&app.admin, json!({ "title": "Call back" })).await;
    let web = app.web_admin().await;
    let path = format!("/tasks/{}/done", task.id);
    let stale = task.meta.version.to_string();
    let renamed: Task = app.admin.update("tasks", task.id, json!({ "title": "Call back on Monday" })).await;

    // htmx: the row as it is now, with its new version, and a message.
    let resp = web.htmx_post(&path, &[("version", &stale)]).await.want(200);
    assert!(resp.text.contains("Call back on Monday"), "the row is not shown again: {}", resp.text);
    assert_eq!(input_value(&resp.text, "version"), Some(renamed.meta.version.to_string()));
    assert!(resp.header("hx-trigger").unwrap_or_default().contains("someone else changed"), "{:?}", resp.headers);
    assert!(!app.store.get_task(task.id).await.unwrap().fields.done, "a stale completion was applied");

    // Without htmx: back with the same message.
    web.post_form(&path, &[("version", &stale)]).await.want(303);
    assert!(!app.store.get_task(task.id).await.unwrap().fields.done);

    // At the version shown now, it completes.
    web.htmx_post(&path, &[("version", &renamed.meta.version.to_string())]).await.want(200);
    assert!(app.store.get_task(task.id).await.unwrap().fields.done);
}
