//! People created at the same moment are committed together (group
//! commit); each create must still have the outcome it would have had
//! alone: its own refusal, the address or external id an earlier create
//! took, its history entry. Every test runs as `sqlite::NAME` and
//! `postgres::NAME` (the latter when RAPPORT_TEST_POSTGRES is set).

#[macro_use]
extern crate rapport_testing;

mod common;

use std::collections::HashSet;

use rapport_domain::history::RecordKind;
use rapport_domain::records::{Person, PersonInput};
use rapport_domain::text::Name;
use rapport_domain::{Actor, CompanyId, Email, Role};
use rapport_storage::{ListQuery, PersonFilter, SharedEmail, StorageError, Store};
use rapport_testing::Backend;

backend_tests!(concurrent_creates_each_get_their_own_outcome, a_viewer_among_concurrent_creates_is_refused_alone);

fn lead(first: &str, email: &str) -> PersonInput {
    PersonInput::lead(Name::try_from(first).expect("a name"), None, Email::parse(email).expect("an email"), None)
}

/// Starts every create at once and gives their outcomes in the same order.
async fn create_at_once(
    store: &Store,
    creates: Vec<(Actor, PersonInput, SharedEmail)>,
) -> Vec<Result<Person, StorageError>> {
    let tasks: Vec<_> = creates
        .into_iter()
        .map(|(actor, input, shared)| {
            let store = store.clone();
            tokio::spawn(async move { store.add_person(&actor, input, shared).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("the create's task"));
    }
    outcomes
}

async fn concurrent_creates_each_get_their_own_outcome(backend: Backend) {
    let (_db, store, admin) = common::open(backend).await;
    let holder = store.add_person(&admin, lead("Stored", "stored@example.com"), SharedEmail::Refuse).await.unwrap();

    let mut creates = Vec::new();
    for i in 0..30 {
        creates.push((admin, lead(&format!("Fine {i}"), &format!("fine{i}@example.com")), SharedEmail::Refuse));
    }
    // 30: an address a stored person has.
    creates.push((admin, lead("Late", "stored@example.com"), SharedEmail::Refuse));
    // 31: the same address, allowed by the client.
    creates.push((admin, lead("Allowed", "stored@example.com"), SharedEmail::Allow));
    // 32 and 33: two new people with one new address; the second is refused.
    creates.push((admin, lead("Twin A", "twin@example.com"), SharedEmail::Refuse));
    creates.push((admin, lead("Twin B", "twin@example.com"), SharedEmail::Refuse));
    // 34: a company that does not exist.
    let mut nowhere = lead("Nowhere", "nowhere@example.com");
    nowhere.company_id = Some(CompanyId::new());
    creates.push((admin, nowhere, SharedEmail::Refuse));
    // 35 and 36: one external id twice.
    for first in ["Ext A", "Ext B"] {
        let mut input = lead(first, &format!("{}@example.com", first.replace(' ', "").to_lowercase()));
        input.external_id = Some(Name::try_from("crm-42").unwrap());
        creates.push((admin, input, SharedEmail::Refuse));
    }
    let outcomes = create_at_once(&store, creates).await;

    let mut created: Vec<&Person> = Vec::new();
    for (i, outcome) in outcomes.iter().enumerate() {
        match (i, outcome) {
            (0..30 | 31 | 32 | 35, Ok(person)) => created.push(person),
            (30, Err(StorageError::Taken { field, existing, .. })) => {
                assert_eq!(field, "emails[0].address");
                assert_eq!(*existing, Some(holder.id.0));
            }
            (33, Err(StorageError::Taken { field, existing, .. })) => {
                assert_eq!(field, "emails[0].address");
                let twin_a = outcomes[32].as_ref().expect("Twin A created");
                assert_eq!(*existing, Some(twin_a.id.0), "Twin B is refused for Twin A's address");
            }
            (34, Err(StorageError::Invalid(errors))) => {
                assert!(format!("{errors:?}").contains("company_id"), "{errors:?}");
            }
            (36, Err(StorageError::Taken { field, .. })) => assert_eq!(field, "external_id"),
            (i, outcome) => panic!("create {i}: unexpected {outcome:?}"),
        }
    }

    // Exactly the created ones are stored, each whole, with its history.
    let page = store
        .list_people(&ListQuery { limit: Some(100), ..Default::default() }, &PersonFilter::default())
        .await
        .unwrap();
    let stored: HashSet<_> = page.items.iter().map(|p| p.id).collect();
    let expected: HashSet<_> = created.iter().map(|p| p.id).chain([holder.id]).collect();
    assert_eq!(stored, expected);
    for person in created {
        assert_eq!(store.get_person(person.id).await.unwrap(), *person);
        let history = store.history(RecordKind::People, person.id.0).await.unwrap();
        assert_eq!(history.len(), 1, "{}: one created entry", person.fields.first_name);
    }
}

async fn a_viewer_among_concurrent_creates_is_refused_alone(backend: Backend) {
    let (_db, store, admin) = common::open(backend).await;
    let viewer = common::user(&store, "Viewer", Role::Viewer, None).await;
    let creates = (0..12)
        .map(|i| {
            let actor = if i % 4 == 1 { viewer } else { admin };
            (actor, lead(&format!("P{i}"), &format!("p{i}@example.com")), SharedEmail::Refuse)
        })
        .collect();
    let outcomes = create_at_once(&store, creates).await;
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            Ok(person) => {
                assert_ne!(i % 4, 1, "a viewer's create went through");
                assert_eq!(person.meta.created_by, Some(admin.user_id));
            }
            Err(StorageError::Denied(_)) => assert_eq!(i % 4, 1),
            Err(other) => panic!("create {i}: {other}"),
        }
    }
    let page = store.list_people(&ListQuery::default(), &PersonFilter::default()).await.unwrap();
    assert_eq!(page.items.len(), 9);
}
