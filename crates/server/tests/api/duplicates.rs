//! Likely duplicates through the API: each reason found, people who merely
//! share a company not paired, strongest first, paged, and dismissals
//! remembered.

use rapport_domain::Role;
use rapport_domain::duplicates::{DuplicatePair, ReasonKind};
use rapport_domain::records::{Company, Person};
use serde_json::json;
use uuid::Uuid;

use crate::common::{Api, Page, TestApp, create_company, query, unknown_id};
use rapport_testing::Backend;

backend_tests!(
    people_are_paired_by_each_reason,
    companies_are_paired_by_domain_and_name,
    dismissed_pairs_stay_dismissed
);

async fn pairs(api: &Api, path: &str) -> Vec<DuplicatePair> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut params = vec![("limit", "1")];
        if let Some(cursor) = &cursor {
            params.push(("cursor", cursor));
        }
        let page: Page<DuplicatePair> = api.get(&query(path, &params)).await.want(200).json();
        assert!(page.items.len() <= 1);
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
}

fn pair_of(pairs: &[DuplicatePair], x: Uuid, y: Uuid) -> Option<&DuplicatePair> {
    pairs.iter().find(|p| (p.a.id, p.b.id) == (x.min(y), x.max(y)))
}

fn kinds(pair: &DuplicatePair) -> Vec<ReasonKind> {
    pair.reasons.iter().map(|r| r.kind).collect()
}

async fn people_are_paired_by_each_reason(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let acme = create_company(api, "Acme").await;
    let person = |body| create_twin(api, body);
    let ana: Person = person(json!({ "first_name": "Ana", "last_name": "Lima",
        "emails": [{ "address": "ana.lima@example.com" }] }))
    .await;
    let anna: Person = person(json!({ "first_name": "Anna", "last_name": "Lima-Costa",
        "emails": [{ "address": "ANA.LIMA@Example.com" }, { "address": "anna@elsewhere.example" }] }))
    .await;
    let bruno: Person = person(json!({ "first_name": "Bruno", "phones": [{ "number": "+44 20 7946 0958" }] })).await;
    let bruno_again: Person =
        person(json!({ "first_name": "B.", "last_name": "Costa", "phones": [{ "number": "020 7946 0958" }] })).await;
    let carla: Person = person(json!({ "first_name": "Carla", "last_name": "Souza", "company_id": acme.id })).await;
    let carla_again: Person =
        person(json!({ "first_name": "Carla", "last_name": "Sousa", "company_id": acme.id })).await;
    // Different people: at the same company, with names starting alike, a
    // phone one digit away and an address at the same domain.
    let pedro: Person = person(json!({ "first_name": "Pedro", "last_name": "Soares", "company_id": acme.id,
        "emails": [{ "address": "pedro@example.com" }], "phones": [{ "number": "+44 20 7946 0959" }] }))
    .await;
    let _same_name_elsewhere: Person = person(
        json!({ "first_name": "Carla", "last_name": "Souza", "emails": [{ "address": "carla@other.example" }] }),
    )
    .await;

    let found = pairs(api, "/api/v1/duplicates/people").await;
    let email = pair_of(&found, ana.id.0, anna.id.0).expect("the same address, typed in another case");
    assert!(kinds(email).contains(&ReasonKind::SameEmail), "{email:?}");
    assert!(email.reasons.iter().any(|r| r.detail == "ana.lima@example.com"), "{email:?}");
    let phone = pair_of(&found, bruno.id.0, bruno_again.id.0).expect("one number typed two ways");
    assert_eq!(kinds(phone), vec![ReasonKind::SamePhone]);
    assert_eq!(phone.reasons[0].detail, "+44 20 7946 0958 / 020 7946 0958");
    let name = pair_of(&found, carla.id.0, carla_again.id.0).expect("alike names at one company");
    assert_eq!(kinds(name), vec![ReasonKind::SimilarName]);
    assert!(name.reasons[0].detail.contains("Acme"), "{name:?}");
    assert_eq!(name.a.company.as_deref(), Some("Acme"));
    assert_eq!(found.len(), 3, "only those three pairs: {found:#?}");
    assert!(found.iter().all(|p| p.a.id != pedro.id.0 && p.b.id != pedro.id.0));
    assert!(found.iter().all(|p| p.a.id < p.b.id), "the older record comes first");
    assert!(found.windows(2).all(|w| w[0].score >= w[1].score), "strongest first: {found:#?}");
    // Each reason weighs: the pair found by email and name outranks the one found by name alone.
    assert!(email.score > name.score, "{email:?} {name:?}");

    // The paged listing and one big page agree.
    let whole: Page<DuplicatePair> = api.get("/api/v1/duplicates/people?limit=200").await.want(200).json();
    assert_eq!(whole.items, found);
    assert!(whole.next_cursor.is_none());
    // min_score keeps the pairs at or above it.
    let cut = found[1].score + 1;
    let strong: Page<DuplicatePair> =
        api.get(&format!("/api/v1/duplicates/people?min_score={cut}")).await.want(200).json();
    assert_eq!(strong.items, found.iter().filter(|p| p.score >= cut).cloned().collect::<Vec<_>>());
    assert!(!strong.items.is_empty() && strong.items.len() < found.len());

    // Bad parameters name themselves.
    for (bad, field) in [
        ("min_score=101", "min_score"),
        ("min_score=high", "min_score"),
        ("limit=0", "limit"),
        ("cursor=nope", "cursor"),
        ("colour=red", "colour"),
    ] {
        let error = api.get(&format!("/api/v1/duplicates/people?{bad}")).await.want_error(422, "validation");
        assert!(error.field(field).is_some(), "{bad}: {error:?}");
    }
    app.admin.get("/api/v1/duplicates/deals").await.want_error(404, "not_found");
    app.anonymous().get("/api/v1/duplicates/people").await.want_error(401, "unauthorized");
}

async fn companies_are_paired_by_domain_and_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let acme: Company = api.create("companies", json!({ "name": "Acme Inc", "domain": "acme.com" })).await;
    let acme_again = create_company(api, "ACME Inc.").await;
    let globex: Company = api.create("companies", json!({ "name": "Globex", "domain": "globex.com" })).await;
    let globex_de: Company =
        api.create("companies", json!({ "name": "Hallo Deutschland GmbH", "domain": "globex.de" })).await;
    // Alike at the start, different companies.
    let _north = create_company(api, "Northwind Traders").await;
    let _northrop = create_company(api, "Northrop Grumman").await;
    let _mail: Company = api.create("companies", json!({ "name": "Mailer", "domain": "mail.example.org" })).await;
    let _mail2: Company = api.create("companies", json!({ "name": "Posting", "domain": "mail.other.org" })).await;

    let found = pairs(api, "/api/v1/duplicates/companies").await;
    let name = pair_of(&found, acme.id.0, acme_again.id.0).expect("one name with and without punctuation");
    assert_eq!(kinds(name), vec![ReasonKind::SimilarName]);
    assert_eq!(name.score, 90, "the same name once the legal form is gone");
    assert_eq!(name.a.domain.as_deref(), Some("acme.com"));
    let domain = pair_of(&found, globex.id.0, globex_de.id.0).expect("one domain name under two endings");
    assert_eq!(kinds(domain), vec![ReasonKind::SameDomain]);
    assert_eq!(domain.reasons[0].detail, "globex.com / globex.de");
    assert_eq!(found.len(), 2, "{found:#?}");
}

async fn dismissed_pairs_stay_dismissed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let email = json!([{ "address": "shared@example.com" }]);
    let one: Person = create_twin(api, json!({ "first_name": "One", "emails": email })).await;
    let two: Person = create_twin(api, json!({ "first_name": "Two", "emails": email })).await;
    let three: Person = create_twin(api, json!({ "first_name": "Three", "emails": email })).await;
    assert_eq!(pairs(api, "/api/v1/duplicates/people").await.len(), 3);

    // Viewers change nothing; bad pairs are refused by field.
    let (_, viewer) = app.create_user(Role::Viewer, None).await;
    let dismiss = "/api/v1/duplicates/people/dismiss";
    viewer.post(dismiss, &json!({ "a": one.id, "b": two.id })).await.want_error(403, "forbidden");
    let error = api.post(dismiss, &json!({ "a": one.id, "b": one.id })).await.want_error(422, "validation");
    assert!(error.field("b").is_some(), "{error:?}");
    let error = api.post(dismiss, &json!({ "a": one.id, "b": unknown_id() })).await.want_error(422, "validation");
    assert!(error.field("b").is_some(), "{error:?}");
    let error = api.post(dismiss, &json!({ "a": one.id })).await.want_error(422, "validation");
    assert!(error.field("b").is_some(), "{error:?}");
    // A person's id is no company.
    let error = api
        .post("/api/v1/duplicates/companies/dismiss", &json!({ "a": one.id, "b": two.id }))
        .await
        .want_error(422, "validation");
    assert!(error.field("a").is_some(), "{error:?}");
    assert_eq!(pairs(api, "/api/v1/duplicates/people").await.len(), 3, "refused dismissals changed nothing");

    // Either order names the same pair; twice is no error.
    api.post(dismiss, &json!({ "a": two.id, "b": one.id })).await.want(204);
    api.post(dismiss, &json!({ "a": one.id, "b": two.id })).await.want(204);
    let left = pairs(api, "/api/v1/duplicates/people").await;
    assert_eq!(left.len(), 2, "{left:#?}");
    assert!(pair_of(&left, one.id.0, two.id.0).is_none());
    assert!(pair_of(&left, one.id.0, three.id.0).is_some() && pair_of(&left, two.id.0, three.id.0).is_some());
    // An agent may dismiss too, and everyone sees it dismissed.
    let (_, agent) = app.create_user(Role::Agent, None).await;
    agent.post(dismiss, &json!({ "a": three.id, "b": two.id })).await.want(204);
    let left = pairs(&viewer, "/api/v1/duplicates/people").await;
    assert_eq!(left.len(), 1);
}

/// Likely duplicates are made on purpose here: the API refuses a second
/// person with a known email unless asked to allow it.
async fn create_twin(api: &Api, body: serde_json::Value) -> Person {
    api.create("people?allow_duplicate=true", body).await
}
