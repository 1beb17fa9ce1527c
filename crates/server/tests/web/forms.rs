//! Forms round-trip: what the person form saves, the edit form shows again,
//! and a save over someone else's change is refused, not applied.

use rapport_domain::custom_fields::{CustomFieldInput, EntityType, FieldKey, FieldKind};
use rapport_domain::records::{Channel, LifecycleStage};
use rapport_domain::text::Name;
use serde_json::json;

use crate::common::{
    Backend, TestApp, create_company, create_person_with, field_error, input_value, is_checked, selected_value,
    textarea_value,
};

backend_tests!(person_form_round_trips, stale_saves_are_refused, a_known_email_is_shown_with_its_owner);

async fn define_field(app: &TestApp, key: &str, label: &str, kind: FieldKind) {
    app.store
        .create_custom_field(
            &app.admin_actor(),
            CustomFieldInput {
                entity_type: EntityType::Person,
                key: FieldKey::try_from(key.to_owned()).unwrap(),
                label: Name::try_from(label).unwrap(),
                kind,
                choices: Vec::new(),
                required: false,
            },
        )
        .await
        .expect("define a custom field");
}

async fn person_form_round_trips(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    define_field(&app, "contract_tier", "Contract tier", FieldKind::Text).await;
    define_field(&app, "seats", "Seats", FieldKind::Number).await;
    define_field(&app, "vip_since", "VIP since", FieldKind::Date).await;
    let company = create_company(&app.admin, "Acme & Sons").await;
    let referrer = create_person_with(
        &app.admin,
        json!({ "first_name": "Ref", "emails": [{ "address": "referrer@example.com", "primary": true }] }),
    )
    .await;
    let web = app.web_admin().await;
    let owner = app.admin_user.id.to_string();

    // The new-person form offers the custom fields.
    let blank = web.get("/people/new").await.want(200);
    for name in ["custom_fields.contract_tier", "custom_fields.seats", "custom_fields.vip_since"] {
        assert!(blank.text.contains(&format!("name=\"{name}\"")), "the form lacks {name}");
    }

    let sent: Vec<(&str, &str)> = vec![
        ("first_name", "Grace"),
        ("last_name", "Hopper"),
        ("email", "grace@example.com"),
        ("other_emails", "g.hopper@example.com, grace.h@example.com"),
        ("phone", "+1 555 0100 123"),
        ("other_phones", "+44 20 7946 0958"),
        ("job_title", "Rear Admiral <retired>"),
        ("company", "acme & sons"),
        ("lifecycle_stage", "customer"),
        ("owner_id", &owner),
        ("source", "Conference \"Navy\""),
        ("referred_by", "referrer@example.com"),
        ("tags", "navy, vip"),
        ("keep_in_touch_days", "30"),
        ("preferred_channel", "email"),
        ("language", "en"),
        ("time_zone", "America/New_York"),
        ("interests", "cobol, compilers"),
        ("preference_notes", "Prefers mornings.\nNo calls on Fridays."),
        ("do_not_contact", "true"),
        ("custom_fields.contract_tier", "Gold"),
        ("custom_fields.seats", "12"),
        ("custom_fields.vip_since", "2024-03-01"),
    ];
    let created = web.post_form("/people", &sent).await.want(303);
    let people = app.all_people().await;
    let person = people.iter().find(|p| p.fields.first_name.as_str() == "Grace").expect("Grace was created");
    assert_eq!(created.header("location"), Some(format!("/people/{}", person.id)));

    // The store holds what was sent.
    let p = &person.fields;
    assert_eq!(p.last_name.as_ref().map(|n| n.as_str()), Some("Hopper"));
    let emails: Vec<(&str, bool)> = p.emails.iter().map(|e| (e.address.as_str(), e.primary)).collect();
    assert_eq!(
        emails,
        vec![("grace@example.com", true), ("g.hopper@example.com", false), ("grace.h@example.com", false)]
    );
    let phones: Vec<(&str, bool)> = p.phones.iter().map(|e| (e.number.as_str(), e.primary)).collect();
    assert_eq!(phones, vec![("+1 555 0100 123", true), ("+44 20 7946 0958", false)]);
    assert_eq!(p.job_title.as_ref().map(|t| t.as_str()), Some("Rear Admiral <retired>"));
    assert_eq!(p.company_id, Some(company.id));
    assert_eq!(p.lifecycle_stage, LifecycleStage::Customer);
    assert_eq!(p.owner_id, Some(app.admin_user.id));
    assert_eq!(p.referred_by_id, Some(referrer.id));
    assert_eq!(p.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(), vec!["navy", "vip"]);
    assert_eq!(p.keep_in_touch_days, Some(30));
    assert_eq!(p.preferences.preferred_channel, Some(Channel::Email));
    assert_eq!(p.preferences.language.as_ref().map(|l| l.as_str()), Some("en"));
    assert_eq!(p.preferences.time_zone.as_ref().map(|z| z.as_str()), Some("America/New_York"));
    assert_eq!(p.preferences.interests.iter().map(|t| t.as_str()).collect::<Vec<_>>(), vec!["cobol", "compilers"]);
    assert!(p.preferences.do_not_contact);
    assert_eq!(p.custom_fields.get("contract_tier"), Some(&json!("Gold")));
    assert_eq!(p.custom_fields.get("seats").and_then(|v| v.as_f64()), Some(12.0));
    assert_eq!(p.custom_fields.get("vip_since"), Some(&json!("2024-03-01")));

    // The edit form shows every value as it was typed.
    let edit = web.get(&format!("/people/{}/edit", person.id)).await.want(200);
    let html = &edit.text;
    let inputs = [
        ("first_name", "Grace"),
        ("last_name", "Hopper"),
        ("email", "grace@example.com"),
        ("other_emails", "g.hopper@example.com, grace.h@example.com"),
        ("phone", "+1 555 0100 123"),
        ("other_phones", "+44 20 7946 0958"),
        ("job_title", "Rear Admiral <retired>"),
        ("company", "Acme & Sons"),
        ("source", "Conference \"Navy\""),
        ("referred_by", "referrer@example.com"),
        ("tags", "navy, vip"),
        ("keep_in_touch_days", "30"),
        ("language", "en"),
        ("time_zone", "America/New_York"),
        ("interests", "cobol, compilers"),
        ("custom_fields.contract_tier", "Gold"),
        ("custom_fields.vip_since", "2024-03-01"),
        ("version", &person.meta.version.to_string()),
    ];
    for (name, want) in inputs {
        assert_eq!(input_value(html, name).as_deref(), Some(want), "the edit form's {name}");
    }
    assert_eq!(selected_value(html, "lifecycle_stage").as_deref(), Some("customer"));
    assert_eq!(selected_value(html, "owner_id"), Some(owner.clone()));
    assert_eq!(selected_value(html, "preferred_channel").as_deref(), Some("email"));
    assert_eq!(textarea_value(html, "preference_notes").as_deref(), Some("Prefers mornings.\nNo calls on Fridays."));
    assert!(is_checked(html, "do_not_contact"), "do_not_contact is not ticked");
    assert!(!html.contains("<retired>"), "the job title is not escaped");

    // Saving the edit form unchanged changes nothing but the version.
    let version = person.meta.version.to_string();
    let mut again = sent.clone();
    again.push(("version", &version));
    web.post_form(&format!("/people/{}", person.id), &again).await.want(303);
    let saved = app.store.get_person(person.id).await.unwrap();
    assert_eq!(saved.fields, person.fields, "an unchanged save changed the record");

    // Unticking and clearing through the form: really cleared.
    let version = saved.meta.version.to_string();
    let cleared: Vec<(&str, &str)> = vec![
        ("first_name", "Grace"),
        ("lifecycle_stage", "customer"),
        ("owner_id", ""),
        ("custom_fields.contract_tier", ""),
        ("version", &version),
    ];
    web.post_form(&format!("/people/{}", person.id), &cleared).await.want(303);
    let cleared = app.store.get_person(person.id).await.unwrap();
    assert!(!cleared.fields.preferences.do_not_contact);
    assert!(cleared.fields.tags.is_empty());
    assert!(cleared.fields.emails.is_empty());
    assert_eq!(cleared.fields.owner_id, None);
    assert_eq!(cleared.fields.company_id, None);
    assert!(!cleared.fields.custom_fields.contains_key("contract_tier"), "{:?}", cleared.fields.custom_fields);

    // A whole number typed as "12" is shown again as "12", not "12.0" (checked last, so the rest runs first).
    assert_eq!(input_value(html, "custom_fields.seats").as_deref(), Some("12"), "the edit form's custom_fields.seats");
}

async fn stale_saves_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = create_person_with(&app.admin, json!({ "first_name": "Stale", "last_name": "Original" })).await;
    let web = app.web_admin().await;
    let other = app.web_admin().await;
    let id = person.id;

    // Both open the form at the same version.
    let edit = web.get(&format!("/people/{id}/edit")).await.want(200);
    let version = input_value(&edit.text, "version").expect("a version input");
    assert_eq!(version, person.meta.version.to_string());
    let theirs = other.get(&format!("/people/{id}/edit")).await.want(200);
    assert_eq!(input_value(&theirs.text, "version"), Some(version.clone()));

    // The other one saves first.
    other
        .post_form(
            &format!("/people/{id}"),
            &[("first_name", "Stale"), ("last_name", "Theirs"), ("lifecycle_stage", "lead"), ("version", &version)],
        )
        .await
        .want(303);

    // This one's save, at the old version, is refused and shows what was typed.
    let resp = web
        .post_form(
            &format!("/people/{id}"),
            &[("first_name", "Stale"), ("last_name", "Mine"), ("lifecycle_stage", "prospect"), ("version", &version)],
        )
        .await
        .want(409);
    assert!(
        resp.text.contains("Someone else changed this record"),
        "no conflict message: {}",
        resp.text.chars().take(3000).collect::<String>()
    );
    assert_eq!(input_value(&resp.text, "last_name").as_deref(), Some("Mine"), "what was typed is lost");
    assert!(field_error(&resp.text, "last_name").is_none());
    let stored = app.store.get_person(id).await.unwrap();
    assert_eq!(stored.fields.last_name.as_ref().map(|n| n.as_str()), Some("Theirs"), "the stale save overwrote");
    assert_eq!(stored.fields.lifecycle_stage, LifecycleStage::Lead);
    assert_eq!(stored.meta.version, person.meta.version + 1);

    // A version from long ago does not overwrite either.
    let resp = web
        .post_form(
            &format!("/people/{id}"),
            &[("first_name", "Stale"), ("last_name", "Garbled"), ("lifecycle_stage", "lead"), ("version", "0")],
        )
        .await
        .want(409);
    assert!(resp.text.contains("Someone else changed this record"));
    let stored = app.store.get_person(id).await.unwrap();
    assert_eq!(stored.fields.last_name.as_ref().map(|n| n.as_str()), Some("Theirs"));
}

/// A new person with someone's address: the form says whose, links to them,
/// and offers to add the person anyway.
async fn a_known_email_is_shown_with_its_owner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = create_person_with(
        &app.admin,
        json!({ "first_name": "Ada", "last_name": "Lovelace", "emails": [{ "address": "ada@example.com" }] }),
    )
    .await;
    let web = app.web_admin().await;
    let sent = vec![
        ("first_name", "Augusta"),
        ("lifecycle_stage", "lead"),
        ("email", "grace@example.com"),
        ("other_emails", "ADA@example.com"),
    ];
    let page = web.post_form("/people", &sent).await.want(422);
    assert_eq!(
        field_error(&page.text, "other_emails").as_deref(),
        Some("Other emails include ada@example.com, already the address of Ada Lovelace"),
        "{}",
        page.text
    );
    assert!(page.text.contains(&format!("href=\"/people/{}\"", ada.id)), "no link to the person who has it");
    assert!(page.text.contains("name=\"allow_duplicate\""), "no way to add the person anyway");
    let mut anyway = sent.clone();
    anyway.push(("allow_duplicate", "true"));
    web.post_form("/people", &anyway).await.want(303);
    let page: crate::common::Page<serde_json::Value> = app.admin.list("/api/v1/people?q=augusta").await;
    assert_eq!(page.items.len(), 1);
}
