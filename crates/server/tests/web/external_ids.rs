//! External ids through the forms: the person, company and deal forms set,
//! show, change and clear one, and a key another record has is shown beside
//! the field, with nothing saved.

use rapport_domain::records::{Company, Deal, Person};
use serde_json::json;

use crate::common::{Backend, TestApp, create_deal, create_sales_pipeline, field_error, form_fields, input_value};

backend_tests!(the_person_form_sets_and_changes_the_external_id, company_and_deal_forms_set_it_too);

/// FIELDS with NAME set to VALUE.
fn with(mut fields: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    match fields.iter_mut().find(|(key, _)| key == name) {
        Some(field) => field.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
    fields
}

fn borrowed(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn the_person_form_sets_and_changes_the_external_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let blank = web.get("/people/new").await.want(200);
    assert!(blank.text.contains("name=\"external_id\""), "the new-person form has no external id");

    // Set on create.
    let sent = [("first_name", "Grace"), ("lifecycle_stage", "lead"), ("external_id", " crm-1 ")];
    web.post_form("/people", &sent).await.want(303);
    let grace = app.all_people().await.into_iter().find(|p| p.fields.first_name.as_str() == "Grace").unwrap();
    assert_eq!(grace.fields.external_id.as_ref().map(|e| e.as_str()), Some("crm-1"));

    // The edit form shows it; a key another person has is refused beside the field.
    let ada: Person = app.admin.create("people", json!({ "first_name": "Ada", "external_id": "crm-2" })).await;
    let edit_path = format!("/people/{}/edit", grace.id);
    let edit = web.get(&edit_path).await.want(200);
    assert_eq!(input_value(&edit.text, "external_id").as_deref(), Some("crm-1"));
    let action = format!("/people/{}", grace.id);
    let fields = form_fields(&edit.text, &action);
    let page = web.post_form(&action, &borrowed(&with(fields.clone(), "external_id", "crm-2"))).await.want(422);
    let error = field_error(&page.text, "external_id").unwrap_or_else(|| panic!("no error shown: {}", page.text));
    assert!(error.contains("crm-2") && error.contains(&ada.id.to_string()), "{error}");
    assert_eq!(input_value(&page.text, "external_id").as_deref(), Some("crm-2"), "the typed value is kept");
    let unchanged: Person = app.admin.fetch("people", grace.id).await;
    assert_eq!(unchanged, grace, "a refused save wrote");

    // Changed, then cleared.
    web.post_form(&action, &borrowed(&with(fields.clone(), "external_id", "crm-3"))).await.want(303);
    let now: Person = app.admin.fetch("people", grace.id).await;
    assert_eq!(now.fields.external_id.as_ref().map(|e| e.as_str()), Some("crm-3"));
    let edit = web.get(&edit_path).await.want(200);
    let fields = form_fields(&edit.text, &action);
    web.post_form(&action, &borrowed(&with(fields, "external_id", ""))).await.want(303);
    let now: Person = app.admin.fetch("people", grace.id).await;
    assert_eq!(now.fields.external_id, None);
}

async fn company_and_deal_forms_set_it_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;

    web.post_form("/companies", &[("name", "Acme"), ("external_id", "co-1")]).await.want(303);
    let companies: crate::common::Page<Company> = app.admin.list("/api/v1/companies").await;
    let acme = companies.items.iter().find(|c| c.fields.name.as_str() == "Acme").unwrap().clone();
    assert_eq!(acme.fields.external_id.as_ref().map(|e| e.as_str()), Some("co-1"));
    let page = web.post_form("/companies", &[("name", "Acme again"), ("external_id", "co-1")]).await.want(422);
    let error = field_error(&page.text, "external_id").unwrap_or_else(|| panic!("no error shown: {}", page.text));
    assert!(error.contains(&acme.id.to_string()), "{error}");
    let companies: crate::common::Page<Company> = app.admin.list("/api/v1/companies").await;
    assert_eq!(companies.items.len(), 1, "a refused company was written");

    let pipeline = create_sales_pipeline(&app.admin).await;
    let deal = create_deal(&app.admin, &pipeline, "Big", json!({})).await;
    let edit = web.get(&format!("/deals/{}/edit", deal.id)).await.want(200);
    let action = format!("/deals/{}", deal.id);
    let fields = form_fields(&edit.text, &action);
    web.post_form(&action, &borrowed(&with(fields, "external_id", "d-1"))).await.want(303);
    let now: Deal = app.admin.fetch("deals", deal.id).await;
    assert_eq!(now.fields.external_id.as_ref().map(|e| e.as_str()), Some("d-1"));
    assert_eq!(now.fields.name, deal.fields.name, "the rest of the deal is as it was");
    let edit = web.get(&format!("/deals/{}/edit", deal.id)).await.want(200);
    assert_eq!(input_value(&edit.text, "external_id").as_deref(), Some("d-1"));
}
