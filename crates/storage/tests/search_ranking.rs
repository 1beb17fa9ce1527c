//! A search sorted by relevance is read rank by rank from `search_keys`
//! (exact matches of a name or email, then prefixes, then the rest), which
//! triggers keep beside every searchable record. These tests hold the keys to
//! the records' own search documents after every kind of write, and the pages
//! to the order the sort expression gives (the descending sort still reads
//! it), across ranks, batches and filters. Every test runs twice, as
//! `sqlite::NAME` and `postgres::NAME` (the latter when RAPPORT_TEST_POSTGRES
//! is set).

#[macro_use]
extern crate rapport_testing;

mod common;

use std::collections::BTreeSet;

use rapport_domain::bulk::BulkChange;
use rapport_domain::records::{CompanyInput, EmailEntry, PersonInput};
use rapport_domain::text::{Name, Tag};
use rapport_domain::{Actor, Email, PersonId};
use rapport_storage::{CompanyFilter, ImportMode, ListQuery, PersonFilter, PersonImport, Store};
use rapport_testing::{Backend, TestDatabase};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

backend_tests!(
    search_keys_follow_every_write_of_a_searchable_record,
    relevance_pages_come_exact_then_prefix_then_the_rest,
    a_filter_that_passes_few_of_a_rank_reads_it_in_growing_batches,
);

fn name(text: &str) -> Name {
    Name::try_from(text).expect("a valid name")
}

fn email(text: &str) -> Email {
    Email::parse(text).expect("a valid email")
}

fn tag(text: &str) -> Tag {
    Tag::try_from(text.to_owned()).expect("a tag")
}

fn input(first: &str, last: Option<&str>, address: &str) -> PersonInput {
    PersonInput::lead(name(first), last.map(name), email(address), None)
}

async fn create(store: &Store, actor: &Actor, input: PersonInput) -> PersonId {
    store.create_person(actor, input).await.expect("create a person").id
}

async fn raw(db: &TestDatabase) -> DatabaseConnection {
    sea_orm::Database::connect(db.url.as_str()).await.expect("a raw connection to the test database")
}

type Key = (String, uuid::Uuid, String, String);

async fn rows(conn: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql)).await.expect(sql)
}

/// The key parts each record's search document starts with ("|ana lima|lima
/// ana|ana lima example com| ana …"), filed under its type with its sort name.
async fn keys_from_documents(conn: &DatabaseConnection) -> BTreeSet<Key> {
    let mut keys = BTreeSet::new();
    for (table, entity) in [("people", "person"), ("companies", "company"), ("deals", "deal")] {
        for row in rows(conn, &format!("SELECT id, search_text, sort_name FROM {table}")).await {
            let id: uuid::Uuid = row.try_get("", "id").expect("id");
            let document: String = row.try_get("", "search_text").expect("search_text");
            let sort_name: String = row.try_get("", "sort_name").expect("sort_name");
            let head = document[1..].split("| ").next().unwrap_or_default();
            for part in head.split('|').filter(|part| !part.is_empty()) {
                keys.insert((entity.to_owned(), id, part.to_owned(), sort_name.clone()));
            }
        }
    }
    keys
}

async fn stored_keys(conn: &DatabaseConnection) -> BTreeSet<Key> {
    let mut keys = BTreeSet::new();
    for row in rows(conn, "SELECT entity_type, record_id, key_part, sort_name FROM search_keys").await {
        keys.insert((
            row.try_get("", "entity_type").expect("entity_type"),
            row.try_get("", "record_id").expect("record_id"),
            row.try_get("", "key_part").expect("key_part"),
            row.try_get("", "sort_name").expect("sort_name"),
        ));
    }
    keys
}

async fn assert_keys_match(conn: &DatabaseConnection, step: &str) {
    let expected = keys_from_documents(conn).await;
    assert!(!expected.is_empty(), "records to check after {step}");
    assert_eq!(stored_keys(conn).await, expected, "search keys after {step}");
}

async fn search_keys_follow_every_write_of_a_searchable_record(backend: Backend) {
    let (db, store, admin) = common::open(backend).await;
    let conn = raw(&db).await;
    let acme = store.create_company(&admin, CompanyInput::named(name("Acme Örebro"))).await.expect("a company");
    let mut zoe = input("Zoë", Some("O'Brien"), "zoe@example.com");
    zoe.emails.push(EmailEntry { address: email("z.obrien@acme.example"), label: None, primary: false });
    zoe.company_id = Some(acme.id);
    let zoe_id = create(&store, &admin, zoe.clone()).await;
    let solo = create(&store, &admin, input("Solo", None, "solo@example.com")).await;
    assert_keys_match(&conn, "creates").await;

    let mut renamed = zoe.clone();
    renamed.last_name = Some(name("Larsen-Berg"));
    renamed.emails.truncate(1);
    store.update_person(&admin, zoe_id, renamed, None).await.expect("rename");
    store.update_company(&admin, acme.id, CompanyInput::named(name("Acme Umeå")), None).await.expect("rename");
    assert_keys_match(&conn, "a rename, an email removed and the company renamed").await;

    let entry = store.delete_person(&admin, solo).await.expect("delete");
    assert_keys_match(&conn, "a delete").await;
    store.restore_from_trash(&admin, entry).await.expect("restore");
    assert_keys_match(&conn, "a restore").await;

    let rows = vec![
        PersonImport {
            line: 1,
            first_name: Some(name("Imported")),
            last_name: Some(name("Person")),
            emails: vec![email("imported@example.com")],
            company_name: Some(name("Brand New Co")),
            ..Default::default()
        },
        // Found by email: an upsert, which rewrites Zoë's document.
        PersonImport {
            line: 2,
            first_name: Some(name("Zoe")),
            emails: vec![email("zoe@example.com")],
            ..Default::default()
        },
    ];
    let mut import = store.begin_import(&admin, ImportMode::AllOrNothing).await.expect("begin the import");
    import.people(rows).await.expect("import the people");
    import.finish().await.expect("finish the import");
    assert_keys_match(&conn, "an import").await;

    store.bulk_people(&admin, &[zoe_id, solo], &BulkChange::Delete).await.expect("bulk delete");
    store.delete_company(&admin, acme.id).await.expect("delete the company");
    assert_keys_match(&conn, "a bulk delete and a company deleted").await;
    conn.close().await.expect("close the raw connection");
}

/// Every page of a search, `limit` at a time, as first names.
async fn all_pages(store: &Store, mut query: ListQuery) -> Vec<String> {
    let mut names = Vec::new();
    loop {
        let page = store.list_people(&query, &PersonFilter::default()).await.expect("a page");
        names.extend(page.items.iter().map(|p| p.fields.first_name.to_string()));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return names,
        }
    }
}

fn search(q: &str, limit: u64, sort: Option<&str>) -> ListQuery {
    ListQuery { q: Some(q.to_owned()), limit: Some(limit), sort: sort.map(str::to_owned), ..Default::default() }
}

/// The same search, descending, read through the sort expression, reversed.
async fn by_expression(store: &Store, query: ListQuery) -> Vec<String> {
    let mut names = all_pages(store, ListQuery { sort: Some("-relevance".into()), cursor: None, ..query }).await;
    names.reverse();
    names
}

async fn relevance_pages_come_exact_then_prefix_then_the_rest(backend: Backend) {
    let (_db, store, admin) = common::open(backend).await;
    let silverline = store.create_company(&admin, CompanyInput::named(name("Silverline"))).await.expect("company");
    let vip = |mut input: PersonInput| {
        input.tags = vec![tag("vip")];
        input
    };
    // Exact: a name that is the query (two, tied on the name: the id decides).
    create(&store, &admin, input("Sil", None, "one@example.com")).await;
    create(&store, &admin, input("Sil", None, "two@example.com")).await;
    // Prefix: a name either way round, or an email, starting with it.
    create(&store, &admin, vip(input("Elsa", Some("Sil"), "elsa@example.com"))).await;
    create(&store, &admin, input("Ana", Some("Silva"), "ana@example.com")).await;
    create(&store, &admin, vip(input("Silas", Some("Berg"), "silas@example.com"))).await;
    create(&store, &admin, input("Zed", Some("Quist"), "sil.q@example.com")).await;
    create(&store, &admin, vip(input("Åsa", Some("Silvén"), "asa@example.com"))).await;
    // The rest: another word starts with it.
    let mut works = input("Bob", Some("Jones"), "bob@example.com");
    works.company_id = Some(silverline.id);
    create(&store, &admin, vip(works)).await;
    let mut also = input("Cleo", Some("Jones"), "cleo@example.com");
    also.company_id = Some(silverline.id);
    create(&store, &admin, also).await;
    // No match at all.
    create(&store, &admin, vip(input("Tom", Some("Hanks"), "tom@example.com"))).await;

    // Within a rank by sort name ("last first"): "sil" twice; "berg silas",
    // "quist zed", "sil elsa", "silva ana", "silvén åsa"; "jones bob", "jones cleo".
    let expected = ["Sil", "Sil", "Silas", "Zed", "Elsa", "Ana", "Åsa", "Bob", "Cleo"];
    for limit in [1, 2, 3, 50] {
        assert_eq!(all_pages(&store, search("sil", limit, None)).await, expected, "{limit} a page");
        assert_eq!(all_pages(&store, search("SIL", limit, Some("relevance"))).await, expected, "{limit} a page");
    }
    assert_eq!(by_expression(&store, search("sil", 2, None)).await, expected, "the expression agrees");

    // Another filter beside `q`: the ranks keep their order, filtered.
    let tagged = |limit| ListQuery { tag: Some("vip".into()), ..search("sil", limit, None) };
    let vips = ["Silas", "Elsa", "Åsa", "Bob"];
    for limit in [1, 3, 50] {
        assert_eq!(all_pages(&store, tagged(limit)).await, vips, "vips, {limit} a page");
    }
    assert_eq!(by_expression(&store, tagged(2)).await, vips);

    // A longer phrase: exact and prefix matches of names either way round.
    assert_eq!(all_pages(&store, search("silva a", 1, None)).await, ["Ana"]);
    assert_eq!(all_pages(&store, search("ana silva", 1, None)).await, ["Ana"]);

    // Counted, the same page in one snapshot.
    let counted = ListQuery { count: Some(Default::default()), ..search("sil", 3, None) };
    let page = store.list_people(&counted, &PersonFilter::default()).await.expect("a counted page");
    let first: Vec<String> = page.items.iter().map(|p| p.fields.first_name.to_string()).collect();
    assert_eq!(first, expected[..3]);
    assert_eq!(counted.count.as_ref().and_then(|total| total.get()), Some(9));

    // Companies rank the same way: "Silver", then "Silverline", then "Nordic Silver".
    store.create_company(&admin, CompanyInput::named(name("Silver"))).await.expect("company");
    store.create_company(&admin, CompanyInput::named(name("Nordic Silver"))).await.expect("company");
    let first = store.list_companies(&search("silver", 1, None), &CompanyFilter::default()).await.unwrap().items;
    assert_eq!(first.iter().map(|c| c.fields.name.to_string()).collect::<Vec<_>>(), ["Silver"]);

    // A cursor from another sort is refused, not misread.
    let by_name = store.list_people(&search("sil", 1, Some("name")), &PersonFilter::default()).await.unwrap();
    let cursor = by_name.next_cursor.expect("a second page");
    let error = store
        .list_people(&ListQuery { cursor: Some(cursor), ..search("sil", 1, None) }, &PersonFilter::default())
        .await
        .expect_err("a name cursor on a relevance list");
    assert!(error.to_string().contains("cursor"), "{error}");
}

async fn a_filter_that_passes_few_of_a_rank_reads_it_in_growing_batches(backend: Backend) {
    let (_db, store, admin) = common::open(backend).await;
    // Forty prefix matches; only every thirteenth is tagged, so a page of two
    // tagged ones takes several batches of keys (2, then 8, then 32).
    let mut expected = Vec::new();
    for i in 0..40 {
        let mut person = input(&format!("Anna{i:02}"), Some("Person"), &format!("anna{i:02}@example.com"));
        if i % 13 == 0 {
            person.tags = vec![tag("rare")];
            expected.push(format!("Anna{i:02}"));
        }
        create(&store, &admin, person).await;
    }
    let query = |limit| ListQuery { tag: Some("rare".into()), ..search("ann", limit, None) };
    for limit in [1, 2, 10] {
        assert_eq!(all_pages(&store, query(limit)).await, expected, "{limit} a page");
    }
    assert_eq!(by_expression(&store, query(2)).await, expected);
}
