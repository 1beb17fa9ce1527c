//! A person's birthday and postal addresses through the API: created,
//! changed, refused by name, found by town, in the history and the document.

use rapport_domain::records::Person;
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, create_person_with, history, query};

backend_tests!(
    birthday_and_addresses_round_trip,
    bad_birthdays_and_addresses_are_named,
    people_are_found_by_their_town_and_country,
    the_openapi_document_says_what_is_accepted,
);

fn lisbon() -> Value {
    json!({ "label": "home", "street": "Rua Augusta 10\n2º Esq", "locality": "Lisbon",
            "postal_code": "1100-053", "country": "Portugal" })
}

async fn birthday_and_addresses_round_trip(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let person = create_person_with(
        api,
        json!({ "first_name": "Ana", "birthday": "1985-04-15",
                "addresses": [lisbon(), { "label": "work", "locality": "Porto", "country": "Portugal" }] }),
    )
    .await;
    let f = &person.fields;
    assert_eq!(f.birthday.map(String::from).as_deref(), Some("1985-04-15"));
    assert_eq!(f.addresses.len(), 2);
    assert!(f.addresses[0].primary && !f.addresses[1].primary, "the first is the primary: {:?}", f.addresses);
    assert_eq!(f.addresses[0].street.as_ref().map(|s| s.as_str()), Some("Rua Augusta 10\n2º Esq"));
    assert_eq!(f.addresses[0].postal_code.as_ref().map(|c| c.as_str()), Some("1100-053"));
    assert_eq!(f.addresses[1].region, None);
    let fetched: Person = api.fetch("people", person.id).await;
    assert_eq!(&fetched, &person, "stored as sent");
    let raw = api.get(&format!("/api/v1/people/{}", person.id)).await.want(200).value();
    assert_eq!(raw["birthday"], json!("1985-04-15"));
    assert_eq!(
        raw["addresses"][1],
        json!({ "label": "work", "primary": false, "street": null, "locality": "Porto",
        "region": null, "postal_code": null, "country": "Portugal" })
    );

    // A yearless birthday; a merge patch replaces the address list, and moves the primary mark.
    let patched: Person = api
        .update(
            "people",
            person.id,
            json!({ "birthday": "--02-29", "addresses": [lisbon(), { "locality": "Porto", "primary": true }] }),
        )
        .await;
    assert_eq!(patched.fields.birthday.map(String::from).as_deref(), Some("--02-29"));
    assert!(!patched.fields.addresses[0].primary && patched.fields.addresses[1].primary);
    let history = history(api, "people", person.id).await;
    let mut changed: Vec<&str> = history[0].changes.iter().map(|c| c.field.as_str()).collect();
    changed.sort();
    assert_eq!(changed, ["addresses", "birthday"], "{:?}", history[0].changes);
    let birthday = history[0].changes.iter().find(|c| c.field == "birthday").expect("the birthday's change");
    assert_eq!((&birthday.old, &birthday.new), (&json!("1985-04-15"), &json!("--02-29")));

    // A person made before, or without them, has none; PUT without them clears them.
    let replaced: Person =
        api.put(&format!("/api/v1/people/{}", person.id), &json!({ "first_name": "Ana" })).await.want(200).json();
    assert_eq!((replaced.fields.birthday, replaced.fields.addresses.len()), (None, 0));
    let plain = api.get(&format!("/api/v1/people/{}", replaced.id)).await.want(200).value();
    assert_eq!((&plain["birthday"], &plain["addresses"]), (&Value::Null, &json!([])));
    // And the list carries them too.
    let with: Person =
        create_person_with(api, json!({ "first_name": "Bia", "birthday": "--12-24", "addresses": [lisbon()] })).await;
    let page: crate::common::Page<Person> = api.list("/api/v1/people?sort=name").await;
    let listed = page.items.iter().find(|p| p.id == with.id).expect("listed");
    assert_eq!(listed.fields, with.fields);
}

async fn bad_birthdays_and_addresses_are_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let refused = |body: Value| async move { api.post("/api/v1/people", &body).await.want_error(422, "validation") };
    let error = refused(json!({ "first_name": "Ana", "birthday": "1985-02-30" })).await;
    assert_eq!(error.field("birthday"), Some("February has no day 30"), "{error:?}");
    let error = refused(json!({ "first_name": "Ana", "birthday": "15/04/1985" })).await;
    assert!(error.field("birthday").is_some_and(|m| m.contains("YYYY-MM-DD")), "{error:?}");
    let error = refused(json!({ "first_name": "Ana", "birthday": "2999-01-01" })).await;
    assert_eq!(error.field("birthday"), Some("must not be after today"), "{error:?}");
    let error = refused(json!({ "first_name": "Ana", "addresses": [lisbon(), { "postal_code": "10115;" }] })).await;
    assert!(error.field("addresses[1].postal_code").is_some_and(|m| m.contains("not a postal code")), "{error:?}");
    let error = refused(json!({ "first_name": "Ana", "addresses": [{ "label": "home" }] })).await;
    assert!(error.field("addresses[0]").is_some_and(|m| m.contains("at least one")), "{error:?}");
    let error = refused(json!({ "first_name": "Ana", "addresses": [{ "locality": "Lisbon", "town": "x" }] })).await;
    assert!(error.field("addresses[0].town").is_some(), "unknown keys are named: {error:?}");
    let eleven: Vec<Value> = (0..11).map(|i| json!({ "locality": format!("Town {i}") })).collect();
    let error = refused(json!({ "first_name": "Ana", "addresses": eleven })).await;
    assert_eq!(error.field("addresses"), Some("at most 10 addresses"), "{error:?}");
    let error = refused(json!({ "first_name": "Ana", "addresses": [lisbon(), { "locality": "Porto", "primary": true },
        { "locality": "Faro", "primary": true }] }))
    .await;
    assert!(error.field("addresses").is_some(), "two primaries: {error:?}");
    let error = refused(json!({ "first_name": "Ana", "addresses": [{ "locality": "x".repeat(201) }] })).await;
    assert!(error.field("addresses[0].locality").is_some(), "{error:?}");
    let page: crate::common::Page<Value> = api.list("/api/v1/people").await;
    assert!(page.items.is_empty(), "a refused request wrote");
}

async fn people_are_found_by_their_town_and_country(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let ana = create_person_with(api, json!({ "first_name": "Ana", "addresses": [lisbon()] })).await;
    let jorg = create_person_with(
        api,
        json!({ "first_name": "Jörg", "addresses": [{ "locality": "München", "country": "Germany" }] }),
    )
    .await;
    let found = |q: &'static str| async move {
        let page: crate::common::Page<Person> = api.list(&query("/api/v1/people", &[("q", q)])).await;
        page.items.into_iter().map(|p| p.id).collect::<Vec<_>>()
    };
    assert_eq!(found("Lisbon").await, [ana.id]);
    assert_eq!(found("lisb").await, [ana.id], "a prefix");
    assert_eq!(found("portugal").await, [ana.id]);
    assert_eq!(found("munchen").await, [jorg.id], "accents folded");
    assert!(found("Augusta").await.is_empty(), "streets are not searched");
    // Moving away: the old town no longer finds them.
    let _: Person = api.update("people", ana.id, json!({ "addresses": [{ "locality": "Faro" }] })).await;
    assert!(found("Lisbon").await.is_empty());
    assert_eq!(found("Faro").await, [ana.id]);
}

async fn the_openapi_document_says_what_is_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = app.anonymous().get("/api/v1/openapi.json").await.want(200).value();
    let schemas = &doc["components"]["schemas"];
    let birthday = &schemas["Birthday"];
    assert_eq!(birthday["type"], json!("string"), "{birthday}");
    assert_eq!(
        birthday["pattern"],
        json!("^(19[0-9]{2}|[2-9][0-9]{3}|-)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"),
        "the two forms the API takes, from 1900"
    );
    assert!(birthday["description"].as_str().is_some_and(|d| d.contains("--MM-DD") && d.contains("not after today")));
    let input = &schemas["PersonInput"]["properties"];
    assert_eq!(input["addresses"]["maxItems"], json!(10), "{}", input["addresses"]);
    let address = &schemas["PostalAddress"]["properties"];
    for part in ["label", "primary", "street", "locality", "region", "postal_code", "country"] {
        assert!(address.get(part).is_some(), "PostalAddress.{part}: {address}");
    }
    assert_eq!(schemas["PostalCode"]["maxLength"], json!(20));
    assert!(schemas["PostalAddress"]["description"].as_str().is_some_and(|d| d.contains("at least one")));
}
