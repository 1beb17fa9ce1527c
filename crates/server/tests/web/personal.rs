//! A person's birthday and addresses on the web: set through the person
//! form, shown on the customer page (the age when the year is known), in
//! the history panel, and refused beside their fields.

use rapport_domain::records::Person;
use serde_json::json;

use crate::common::{
    Backend, Resp, TestApp, as_form, create_person_with, field_error, form_fields, set_field, unescape,
};

backend_tests!(the_form_sets_them_and_the_page_shows_them, bad_values_are_shown_beside_their_fields);

#[track_caller]
fn has(resp: &Resp, needle: &str) {
    let text = unescape(&resp.text);
    assert!(text.contains(needle), "{}: no {needle:?} in:\n{}", resp.what, resp.text);
}

async fn the_form_sets_them_and_the_page_shows_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let blank = web.get("/people/new").await.want(200);
    for name in ["birthday", "address0_street", "address0_locality", "address0_postal_code", "address0_country"] {
        assert!(blank.text.contains(&format!("name=\"{name}\"")), "the new form lacks {name}");
    }
    assert!(!blank.text.contains("name=\"address1_street\""), "one empty group to start with");
    let sent = [
        ("first_name", "Ana"),
        ("lifecycle_stage", "lead"),
        ("birthday", "1985-04-15"),
        ("address0_label", "home"),
        ("address0_street", "Rua Augusta 10"),
        ("address0_locality", "Lisbon"),
        ("address0_postal_code", "1100-053"),
        ("address0_country", "Portugal"),
        ("address_primary", "0"),
    ];
    web.post_form("/people", &sent).await.want(303);
    let ana = app.all_people().await.into_iter().find(|p| p.fields.first_name.as_str() == "Ana").expect("Ana");
    assert_eq!(ana.fields.birthday.map(String::from).as_deref(), Some("1985-04-15"));
    assert_eq!(ana.fields.addresses.len(), 1);
    assert!(ana.fields.addresses[0].primary);

    // The page: the day (app.js writes it in the reader's locale), the age, the address on one line.
    let page = web.get(&format!("/people/{}", ana.id)).await.want(200);
    has(&page, "<time datetime=\"1985-04-15\" data-local-date>15 April 1985</time>");
    let today = time::OffsetDateTime::now_utc().date();
    let age = today.year() - 1985 - i32::from((today.month() as u8, today.day()) < (4, 15));
    has(&page, &format!("({age} years old)"));
    has(&page, "<dt>Address (home)</dt><dd class=\"address\">Rua Augusta 10, 1100-053 Lisbon, Portugal</dd>");

    // The edit form holds the address and a group for another; a second one is added, the primary moved.
    let edit = web.get(&format!("/people/{}/edit", ana.id)).await.want(200);
    let action = format!("/people/{}", ana.id);
    let mut fields = form_fields(&edit.text, &action);
    let value = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(value("address0_locality").as_deref(), Some("Lisbon"));
    assert_eq!(value("address1_locality").as_deref(), Some(""), "an empty group for another address");
    assert_eq!(value("address_primary").as_deref(), Some("0"));
    assert_eq!(value("birthday").as_deref(), Some("1985-04-15"));
    set_field(&mut fields, "birthday", "--12-24");
    set_field(&mut fields, "address1_label", "work");
    set_field(&mut fields, "address1_locality", "Porto");
    set_field(&mut fields, "address_primary", "1");
    web.post_form(&action, &as_form(&fields)).await.want(303);
    let ana: Person = app.admin.fetch("people", ana.id).await;
    assert_eq!(ana.fields.birthday.map(String::from).as_deref(), Some("--12-24"));
    let towns: Vec<(&str, bool)> =
        ana.fields.addresses.iter().map(|a| (a.locality.as_ref().unwrap().as_str(), a.primary)).collect();
    assert_eq!(towns, [("Lisbon", false), ("Porto", true)]);
    let page = web.get(&format!("/people/{}", ana.id)).await.want(200);
    has(&page, "<time datetime=\"--12-24\" data-local-date>24 December</time>");
    assert!(!page.text.contains("years old"), "no age without the year");
    let porto = page.text.find("Porto</dd>").expect("Porto shown");
    let lisbon = page.text.find("Lisbon, Portugal</dd>").expect("Lisbon shown");
    assert!(porto < lisbon, "the primary address first");
    // The history panel says what changed, in words.
    has(&page, "Rua Augusta 10, 1100-053 Lisbon, Portugal; Porto");

    // Emptying a group removes that address.
    let edit = web.get(&format!("/people/{}/edit", ana.id)).await.want(200);
    let mut fields = form_fields(&edit.text, &action);
    for part in ["label", "street", "locality", "postal_code", "country"] {
        set_field(&mut fields, &format!("address0_{part}"), "");
    }
    web.post_form(&action, &as_form(&fields)).await.want(303);
    let ana: Person = app.admin.fetch("people", ana.id).await;
    assert_eq!(ana.fields.addresses.len(), 1);
    assert_eq!(ana.fields.addresses[0].locality.as_ref().map(|l| l.as_str()), Some("Porto"));
    assert!(ana.fields.addresses[0].primary);
}

async fn bad_values_are_shown_beside_their_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let sent = [
        ("first_name", "Bea"),
        ("lifecycle_stage", "lead"),
        ("birthday", "1985-02-30"),
        ("address0_locality", "Berlin"),
        ("address0_postal_code", "10115;"),
        ("address1_label", "work"),
    ];
    let page = web.post_form("/people", &sent).await.want(422);
    assert_eq!(field_error(&page.text, "birthday").as_deref(), Some("Birthday February has no day 30"));
    let code = field_error(&page.text, "address0_postal_code").expect("the postal code's error");
    assert!(code.contains("not a postal code"), "{code}");
    assert!(field_error(&page.text, "address1_street").is_some(), "a label alone is no address");
    assert!(page.text.contains("value=\"Berlin\""), "what was typed is kept");
    assert!(app.all_people().await.is_empty(), "nothing was saved");
    // A person with neither has no empty line for them.
    let cy = create_person_with(&app.admin, json!({ "first_name": "Cy" })).await;
    let page = web.get(&format!("/people/{}", cy.id)).await.want(200);
    assert!(!page.text.contains("<dt>Birthday</dt>") && !page.text.contains("<dt>Address"), "{}", page.text);
}
