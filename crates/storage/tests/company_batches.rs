//! Many companies created in one transaction (`Store::create_companies`),
//! as `rapport demo` and a people import naming new companies do: each by
//! the rules of a single create, all or nothing. Every test runs as
//! `sqlite::NAME` and `postgres::NAME` (the latter when
//! RAPPORT_TEST_POSTGRES is set).

#[macro_use]
extern crate rapport_testing;

mod common;

use rapport_domain::custom_fields::{CustomFieldInput, EntityType, FieldKind};
use rapport_domain::history::{HistoryAction, RecordKind};
use rapport_domain::records::{Company, CompanyInput, Domain};
use rapport_domain::text::{Name, Tag};
use rapport_domain::{Actor, Role};
use rapport_storage::{CompanyFilter, ListQuery, StorageError, Store};
use rapport_testing::{Backend, TestDatabase};

backend_tests!(
    companies_made_together_are_stored_as_returned_with_tags_fields_and_history,
    new_companies_made_together_may_not_share_a_domain,
    new_companies_made_together_may_not_share_an_external_id,
    one_refused_new_company_creates_none,
);

struct Firms {
    _db: TestDatabase,
    store: Store,
    admin: Actor,
}

async fn open(backend: Backend) -> Firms {
    let (db, store, admin) = common::open(backend).await;
    let plan = CustomFieldInput {
        entity_type: EntityType::Company,
        key: "plan".to_string().try_into().expect("a valid key"),
        label: name("Plan"),
        kind: FieldKind::Choice,
        choices: vec![name("basic"), name("pro")],
        required: false,
    };
    store.create_custom_field(&admin, plan).await.expect("a custom field");
    Firms { _db: db, store, admin }
}

fn name(text: &str) -> Name {
    Name::try_from(text).expect("a valid name")
}

fn domain(text: &str) -> Option<Domain> {
    Some(Domain::try_from(text.to_owned()).expect("a valid domain"))
}

fn company(company_name: &str) -> CompanyInput {
    CompanyInput::named(name(company_name))
}

impl Firms {
    async fn create(&self, inputs: Vec<CompanyInput>) -> Result<Vec<Company>, StorageError> {
        self.store.create_companies(&self.admin, inputs).await
    }

    /// The names of the companies a list with `query` finds, sorted.
    async fn found(&self, query: ListQuery) -> Vec<String> {
        let page = self.store.list_companies(&query, &CompanyFilter::default()).await.expect("list companies");
        let mut names: Vec<String> = page.items.iter().map(|c| c.fields.name.to_string()).collect();
        names.sort();
        names
    }
}

async fn companies_made_together_are_stored_as_returned_with_tags_fields_and_history(backend: Backend) {
    let firms = open(backend).await;
    let mut inputs = vec![company("Acme"), company("Globex"), company("Initech")];
    inputs[0].tags = vec![Tag::try_from("vip".to_owned()).unwrap()];
    inputs[0].domain = domain("https://www.Acme.example");
    inputs[1].custom_fields.insert("plan".to_owned(), serde_json::json!("pro"));
    inputs[2].external_id = Some(name("crm-3"));
    let created = firms.create(inputs).await.expect("create three companies");
    // What a batch create returns is what a read gives back.
    for company in &created {
        assert_eq!(&firms.store.get_company(company.id).await.expect("read a company"), company);
    }
    assert_eq!(created[0].fields.domain, domain("acme.example"), "the domain is stored bare");
    let tagged = ListQuery { tag: Some("vip".to_owned()), ..Default::default() };
    assert_eq!(firms.found(tagged).await, ["Acme"]);
    let on_pro = ListQuery { custom: vec![("plan".to_owned(), "pro".to_owned())], ..Default::default() };
    assert_eq!(firms.found(on_pro).await, ["Globex"]);
    let searched = ListQuery { q: Some("initech".to_owned()), ..Default::default() };
    assert_eq!(firms.found(searched).await, ["Initech"], "found by its search index");
    for company in &created {
        let history = firms.store.history(RecordKind::Companies, company.id.0).await.expect("a company's history");
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].action, HistoryAction::Create);
        assert!(history[0].changes.iter().any(|change| change.field == "name"), "the create lists the fields");
    }
}

async fn new_companies_made_together_may_not_share_a_domain(backend: Backend) {
    let firms = open(backend).await;
    let mut held = company("Acme");
    held.domain = domain("acme.example");
    firms.create(vec![held]).await.expect("a company with a domain");

    let mut twice = vec![company("Globex"), company("Globex Europe")];
    twice[0].domain = domain("globex.example");
    twice[1].domain = domain("GLOBEX.example");
    let err = firms.create(twice).await.expect_err("one domain twice");
    assert!(matches!(&err, StorageError::Conflict(message) if message.contains("domain")), "{err:?}");

    let mut taken = vec![company("Initech"), company("Acme Two")];
    taken[1].domain = domain("www.acme.example");
    let err = firms.create(taken).await.expect_err("a domain already held");
    assert!(matches!(&err, StorageError::Conflict(message) if message.contains("domain")), "{err:?}");
    assert_eq!(firms.found(ListQuery::default()).await, ["Acme"], "only the first company was created");
}

async fn new_companies_made_together_may_not_share_an_external_id(backend: Backend) {
    let firms = open(backend).await;
    let mut held = company("Acme");
    held.external_id = Some(name("crm-1"));
    let held = firms.create(vec![held]).await.expect("a company with an external id");

    let mut twice = vec![company("Globex"), company("Initech")];
    twice[0].external_id = Some(name("crm-2"));
    twice[1].external_id = Some(name("crm-2"));
    let err = firms.create(twice).await.expect_err("one external id twice");
    assert!(matches!(&err, StorageError::Taken { field, .. } if field == "external_id"), "{err:?}");

    let mut taken = vec![company("Hooli")];
    taken[0].external_id = Some(name("crm-1"));
    let err = firms.create(taken).await.expect_err("an external id already held");
    assert!(matches!(&err, StorageError::Taken { existing, .. } if *existing == Some(held[0].id.0)), "{err:?}");
    assert_eq!(firms.found(ListQuery::default()).await, ["Acme"], "only the first company was created");
}

async fn one_refused_new_company_creates_none(backend: Backend) {
    let firms = open(backend).await;
    let mut unknown_choice = vec![company("Acme"), company("Globex")];
    unknown_choice[1].custom_fields.insert("plan".to_owned(), serde_json::json!("platinum"));
    let err = firms.create(unknown_choice).await.expect_err("no such choice");
    assert!(matches!(err, StorageError::Invalid(_)), "{err:?}");

    let viewer = common::user(&firms.store, "Viola", Role::Viewer, None).await;
    let err = firms.store.create_companies(&viewer, vec![company("Hooli")]).await.expect_err("a viewer creates none");
    assert!(matches!(err, StorageError::Denied(_)), "{err:?}");
    assert!(firms.found(ListQuery::default()).await.is_empty(), "no company was created");
}
