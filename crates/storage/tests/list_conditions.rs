//! A list page's tests on related rows (tags, custom values) take one of two
//! shapes: a test that many rows pass is checked record by record in the
//! sort order, one that few pass is read from its own index first. Both
//! must give the same page; these tests hold more tagged people than the
//! threshold (2,000) so that both shapes run. Every test runs twice, as
//! `sqlite::NAME` and `postgres::NAME` (the latter when RAPPORT_TEST_POSTGRES
//! is set).

#[macro_use]
extern crate rapport_testing;

mod common;

use rapport_domain::conditions::{PEOPLE, Where};
use rapport_domain::text::{Name, Tag};
use rapport_storage::{ImportMode, ListQuery, PersonFilter, PersonImport, Store};
use rapport_testing::Backend;

backend_tests!(common_and_rare_tags_give_the_same_page_either_way);

/// People in the common tag; every 500th also has the rare one.
const TAGGED: usize = 2_100;

async fn fill(store: &Store, actor: &rapport_domain::Actor) {
    let tag = |text: &str| Tag::try_from(text.to_owned()).expect("a tag");
    let rows = (0..TAGGED)
        .map(|i| PersonImport {
            line: i as u64 + 1,
            first_name: Some(Name::try_from(format!("Person {i:04}")).expect("a name")),
            tags: if i % 500 == 0 { vec![tag("common"), tag("rare")] } else { vec![tag("common")] },
            ..Default::default()
        })
        // A few untagged people, sorted among the tagged ones.
        .chain((0..20).map(|i| PersonImport {
            line: (TAGGED + i) as u64 + 1,
            first_name: Some(Name::try_from(format!("Person {:04}a", i * 3)).expect("a name")),
            ..Default::default()
        }))
        .collect();
    let mut import = store.begin_import(actor, ImportMode::AllOrNothing).await.expect("begin the import");
    import.people(rows).await.expect("import the people");
    import.finish().await.expect("finish the import");
}

async fn first_names(store: &Store, query: ListQuery) -> Vec<String> {
    let page = store.list_people(&query, &PersonFilter::default()).await.expect("list people");
    page.items.iter().map(|p| p.fields.first_name.to_string()).collect()
}

fn conditions(raw: &[&str]) -> Vec<Where> {
    raw.iter().map(|text| Where::parse(PEOPLE, text).expect("a condition")).collect()
}

async fn common_and_rare_tags_give_the_same_page_either_way(backend: Backend) {
    let (_db, store, admin) = common::open(backend).await;
    fill(&store, &admin).await;
    let by_name = |extra: ListQuery| ListQuery { limit: Some(10), sort: Some("name".into()), ..extra };

    // Many pass: the first ten by name, skipping the untagged "Person 0000a".
    let expected: Vec<String> = (0..10).map(|i| format!("Person {i:04}")).collect();
    let common = conditions(&["tag.has.common"]);
    assert_eq!(first_names(&store, by_name(ListQuery { conditions: common, ..Default::default() })).await, expected);
    let tagged = ListQuery { tag: Some("common".into()), ..Default::default() };
    assert_eq!(first_names(&store, by_name(tagged)).await, expected);

    // Few pass: exactly the rare ones, in order, whichever filter asks.
    let rare: Vec<String> = (0..TAGGED).step_by(500).map(|i| format!("Person {i:04}")).collect();
    let query = ListQuery { conditions: conditions(&["tag.has.rare"]), ..Default::default() };
    assert_eq!(first_names(&store, by_name(query)).await, rare);
    let query = ListQuery { tag: Some("rare".into()), ..Default::default() };
    assert_eq!(first_names(&store, by_name(query)).await, rare);

    // One of each in one query, and a "has not" beside a common one.
    let both = conditions(&["tag.has.common", "tag.has.rare"]);
    assert_eq!(first_names(&store, by_name(ListQuery { conditions: both, ..Default::default() })).await, rare);
    let not_rare = conditions(&["tag.has.common", "tag.hasnot.rare"]);
    let expected: Vec<String> = (1..11).map(|i| format!("Person {i:04}")).collect();
    assert_eq!(first_names(&store, by_name(ListQuery { conditions: not_rare, ..Default::default() })).await, expected);

    // The next page of a common tag follows on from the first.
    let first = store
        .list_people(
            &by_name(ListQuery { conditions: conditions(&["tag.has.common"]), ..Default::default() }),
            &PersonFilter::default(),
        )
        .await
        .expect("the first page");
    let next =
        ListQuery { cursor: first.next_cursor, conditions: conditions(&["tag.has.common"]), ..Default::default() };
    let expected: Vec<String> = (10..20).map(|i| format!("Person {i:04}")).collect();
    assert_eq!(first_names(&store, by_name(next)).await, expected);
}
