//! History (every create, update, delete and restore, with each changed
//! field) and the trash (a delete takes the record and what goes with it into
//! one snapshot; a restore puts it all back), against a real database. Every
//! test runs twice, as `sqlite::NAME` and `postgres::NAME` (the latter when
//! RAPPORT_TEST_POSTGRES is set).

#[macro_use]
extern crate rapport_testing;

use rapport_domain::history::{HistoryAction, RecordKind, TrashReason};
use rapport_domain::records::{
    ActivityInput, ActivityKind, CompanyInput, DealInput, DealStatus, Direction, EmailEntry, Links, Person,
    PersonInput, PipelineInput, PurchaseInput, StageInput, TaskInput, UserInput,
};
use rapport_domain::text::{Name, Tag};
use rapport_domain::{Actor, Currency, Email, Money, PersonId, Role};
use rapport_storage::{ListQuery, PersonFilter, StorageError, Store};
use rapport_testing::{Backend, TestDatabase};
use serde_json::json;
use time::{Duration, OffsetDateTime};

backend_tests!(
    history_lists_each_write_newest_first_with_changed_fields,
    a_save_that_changes_nothing_leaves_no_entry,
    a_deleted_person_comes_back_with_everything_deleted_or_unlinked,
    a_restore_clears_links_to_records_deleted_since,
    a_deleted_company_comes_back_linked_to_its_people,
    the_purge_removes_only_entries_older_than_the_cutoff,
    only_who_may_delete_a_record_may_restore_it,
);

async fn open(backend: Backend) -> (TestDatabase, Store, Actor) {
    let db = TestDatabase::migrated(backend, Store::migrate_database).await;
    let store = Store::connect(&db.url).await.unwrap_or_else(|err| panic!("connect to {}: {err}", db.url));
    let actor = user(&store, "Admin", Role::Admin).await;
    (db, store, actor)
}

async fn user(store: &Store, user_name: &str, role: Role) -> Actor {
    let input = UserInput {
        name: name(user_name),
        email: Email::parse(&format!("{}@example.com", user_name.to_lowercase())).expect("an email"),
        role,
        team_id: None,
        active: true,
    };
    let user = store.create_user(input, None, None).await.expect("create a user");
    Actor { user_id: user.id, role: user.fields.role, team_id: user.fields.team_id }
}

fn name(text: &str) -> Name {
    Name::try_from(text).expect("a valid name")
}

fn person_input(first: &str) -> PersonInput {
    PersonInput {
        first_name: name(first),
        last_name: None,
        emails: Vec::new(),
        phones: Vec::new(),
        birthday: None,
        addresses: Vec::new(),
        job_title: None,
        company_id: None,
        owner_id: None,
        lifecycle_stage: Default::default(),
        source: None,
        referred_by_id: None,
        tags: Vec::new(),
        preferences: Default::default(),
        keep_in_touch_days: None,
        external_id: None,
        custom_fields: Default::default(),
    }
}

fn company_input(company_name: &str) -> CompanyInput {
    CompanyInput::named(name(company_name))
}

fn links(person: Option<PersonId>) -> Links {
    Links { person_id: person, company_id: None, deal_id: None }
}

fn not_found<T: std::fmt::Debug>(result: Result<T, StorageError>) -> bool {
    matches!(result, Err(StorageError::NotFound(_)))
}

async fn the_only_trash_entry(store: &Store) -> rapport_domain::history::TrashEntry {
    let mut entries = store.list_trash(None, Duration::days(30), None, 50).await.expect("list the trash");
    assert_eq!(entries.len(), 1, "one entry in the trash: {entries:?}");
    entries.remove(0)
}

async fn history_lists_each_write_newest_first_with_changed_fields(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let created = store.create_person(&actor, person_input("Ada")).await.expect("create");
    let mut input = created.fields.clone();
    input.first_name = name("Adele");
    input.tags = vec![Tag::try_from("vip".to_owned()).expect("a tag")];
    store.update_person(&actor, created.id, input, Some(created.meta.version)).await.expect("update");
    store.delete_person(&actor, created.id).await.expect("delete");

    let history = store.history(RecordKind::People, created.id.0).await.expect("history");
    let actions: Vec<HistoryAction> = history.iter().map(|entry| entry.action).collect();
    assert_eq!(actions, [HistoryAction::Delete, HistoryAction::Update, HistoryAction::Create]);
    assert!(history.iter().all(|entry| entry.actor_id == Some(actor.user_id)));
    assert!(history.iter().all(|entry| entry.actor_name.as_deref() == Some("Admin")));
    let mut update = history[1].changes.clone();
    update.sort_by(|a, b| a.field.cmp(&b.field));
    let update: Vec<_> = update.into_iter().map(|c| (c.field, c.old, c.new)).collect();
    assert_eq!(
        update,
        [
            ("first_name".to_owned(), json!("Ada"), json!("Adele")),
            ("tags".to_owned(), serde_json::Value::Null, json!(["vip"])),
        ]
    );
    let create = &history[2].changes;
    assert!(create.iter().any(|c| c.field == "first_name" && c.old.is_null() && c.new == json!("Ada")));
    assert!(!create.iter().any(|c| c.field == "tags"), "an empty field is not listed as created: {create:?}");
}

async fn a_save_that_changes_nothing_leaves_no_entry(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let created = store.create_person(&actor, person_input("Ada")).await.expect("create");
    store.update_person(&actor, created.id, created.fields.clone(), None).await.expect("save unchanged");
    let history = store.history(RecordKind::People, created.id.0).await.expect("history");
    assert_eq!(history.len(), 1, "only the create: {history:?}");
}

async fn a_deleted_person_comes_back_with_everything_deleted_or_unlinked(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let mut input = person_input("Grace");
    input.emails =
        vec![EmailEntry { address: Email::parse("grace@example.com").expect("an email"), label: None, primary: true }];
    input.tags = vec![Tag::try_from("vip".to_owned()).expect("a tag")];
    let grace = store.create_person(&actor, input).await.expect("create Grace");
    let mut referred = person_input("Linus");
    referred.referred_by_id = Some(grace.id);
    let linus = store.create_person(&actor, referred).await.expect("create Linus");
    let activity = ActivityInput {
        kind: ActivityKind::Call,
        direction: Some(Direction::Outbound),
        occurred_at: Some(OffsetDateTime::now_utc() - Duration::days(2)),
        subject: Some(name("Renewal")),
        body: None,
        author_id: None,
        links: links(Some(grace.id)),
    };
    let activity = store.create_activity(&actor, activity).await.expect("log a call");
    let eur = Currency::parse("EUR").expect("a currency");
    let purchase = PurchaseInput {
        person_id: grace.id,
        occurred_at: OffsetDateTime::now_utc() - Duration::days(1),
        amount: Money::new(1_250, eur),
        reference: Some(name("A-1")),
        description: None,
    };
    let purchase = store.create_purchase(&actor, purchase).await.expect("a purchase");
    let pipeline = PipelineInput {
        name: name("Sales"),
        stages: vec![StageInput { id: None, name: name("Lead"), win_probability: 10 }],
    };
    let pipeline = store.create_pipeline(&actor, pipeline).await.expect("a pipeline");
    let deal = DealInput {
        name: name("Grace's renewal"),
        amount: Money::new(10_000, eur),
        pipeline_id: pipeline.id,
        stage_id: pipeline.stages[0].id,
        person_id: Some(grace.id),
        company_id: None,
        owner_id: None,
        expected_close: None,
        status: DealStatus::Open,
        lost_reason: None,
        tags: Vec::new(),
        external_id: None,
        custom_fields: Default::default(),
    };
    let deal = store.create_deal(&actor, deal).await.expect("a deal");
    let task = TaskInput {
        title: name("Call back"),
        notes: None,
        due_at: None,
        assignee_id: None,
        done: false,
        links: links(Some(grace.id)),
    };
    let task = store.create_task(&actor, task).await.expect("a task");
    let grace = store.get_person(grace.id).await.expect("Grace with her last contact");

    let made = store.delete_person(&actor, grace.id).await.expect("delete Grace");
    assert!(not_found(store.get_person(grace.id).await));
    assert!(not_found(store.get_activity(activity.id).await), "her activities go with her");
    assert!(not_found(store.get_purchase(purchase.id).await), "her purchases go with her");
    assert_eq!(store.get_deal(deal.id).await.expect("the deal stays").fields.person_id, None);
    assert_eq!(store.get_task(task.id).await.expect("the task stays").fields.links.person_id, None);
    assert_eq!(store.get_person(linus.id).await.expect("Linus stays").fields.referred_by_id, None);
    let entry = the_only_trash_entry(&store).await;
    assert_eq!(entry.id, made, "the delete gives its own trash entry");
    assert_eq!((entry.record_type, entry.record_id, entry.label.as_str()), (RecordKind::People, grace.id.0, "Grace"));
    assert_eq!(entry.reason, TrashReason::Deleted);
    assert_eq!(entry.deleted_by, Some(actor.user_id));
    assert!(entry.attached >= 3, "contact point, activity, purchase and tag: {}", entry.attached);
    assert_eq!(entry.purge_after, entry.deleted_at + Duration::days(30));

    let restored = store.restore_from_trash(&actor, entry.id).await.expect("restore Grace");
    assert_eq!(restored, (RecordKind::People, grace.id.0));
    let back: Person = store.get_person(grace.id).await.expect("Grace is back");
    assert_eq!(back, grace, "every field, version and last contact as before");
    assert_eq!(store.get_activity(activity.id).await.expect("her call is back"), activity);
    assert_eq!(store.get_purchase(purchase.id).await.expect("her purchase is back"), purchase);
    assert_eq!(store.get_deal(deal.id).await.expect("the deal").fields.person_id, Some(grace.id));
    assert_eq!(store.get_task(task.id).await.expect("the task").fields.links.person_id, Some(grace.id));
    assert_eq!(store.get_person(linus.id).await.expect("Linus").fields.referred_by_id, Some(grace.id));
    let tagged = ListQuery { tag: Some("vip".into()), ..Default::default() };
    let found = store.list_people(&tagged, &PersonFilter::default()).await.expect("filter by tag").items;
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), [grace.id], "her tag is indexed again");
    assert!(store.list_trash(None, Duration::days(30), None, 50).await.expect("the trash").is_empty());
    let history = store.history(RecordKind::People, grace.id.0).await.expect("history");
    assert_eq!(history[0].action, HistoryAction::Restore);
    assert_eq!(history[1].action, HistoryAction::Delete);
}

async fn a_restore_clears_links_to_records_deleted_since(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let company = store.create_company(&actor, company_input("Acme")).await.expect("a company");
    let mut input = person_input("Ada");
    input.company_id = Some(company.id);
    let ada = store.create_person(&actor, input).await.expect("Ada at Acme");
    store.delete_person(&actor, ada.id).await.expect("delete Ada");
    store.delete_company(&actor, company.id).await.expect("delete Acme");
    let entries = store.list_trash(Some(RecordKind::People), Duration::days(30), None, 50).await.expect("trash");
    store.restore_from_trash(&actor, entries[0].id).await.expect("restore Ada");
    assert_eq!(store.get_person(ada.id).await.expect("Ada is back").fields.company_id, None);
}

async fn a_deleted_company_comes_back_linked_to_its_people(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let company = store.create_company(&actor, company_input("Initech")).await.expect("a company");
    let mut input = person_input("Peter");
    input.company_id = Some(company.id);
    let peter = store.create_person(&actor, input).await.expect("Peter at Initech");
    store.delete_company(&actor, company.id).await.expect("delete Initech");
    assert_eq!(store.get_person(peter.id).await.expect("Peter stays").fields.company_id, None);
    let search = ListQuery { q: Some("initech".into()), ..Default::default() };
    assert!(store.list_people(&search, &PersonFilter::default()).await.expect("search").items.is_empty());

    let entry = the_only_trash_entry(&store).await;
    store.restore_from_trash(&actor, entry.id).await.expect("restore Initech");
    assert_eq!(store.get_company(company.id).await.expect("Initech is back"), company);
    assert_eq!(store.get_person(peter.id).await.expect("Peter").fields.company_id, Some(company.id));
    let found = store.list_people(&search, &PersonFilter::default()).await.expect("search").items;
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), [peter.id], "found by his company's name again");
}

async fn the_purge_removes_only_entries_older_than_the_cutoff(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    for first in ["Ada", "Grace"] {
        let person = store.create_person(&actor, person_input(first)).await.expect("create");
        store.delete_person(&actor, person.id).await.expect("delete");
    }
    let an_hour_ago = OffsetDateTime::now_utc() - Duration::hours(1);
    assert_eq!(store.purge_trash(an_hour_ago).await.expect("purge nothing"), 0);
    assert_eq!(store.list_trash(None, Duration::days(30), None, 50).await.expect("trash").len(), 2);
    let page = store.list_trash(None, Duration::days(30), None, 1).await.expect("first page");
    let rest = store.list_trash(None, Duration::days(30), Some(page[0].id), 50).await.expect("next page");
    assert_eq!((page[0].label.as_str(), rest.len(), rest[0].label.as_str()), ("Grace", 1, "Ada"), "newest first");
    let in_a_second = OffsetDateTime::now_utc() + Duration::seconds(1);
    assert_eq!(store.purge_trash(in_a_second).await.expect("purge both"), 2);
    assert!(store.list_trash(None, Duration::days(30), None, 50).await.expect("trash").is_empty());
}

async fn only_who_may_delete_a_record_may_restore_it(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let viewer = user(&store, "Viewer", Role::Viewer).await;
    let person = store.create_person(&actor, person_input("Ada")).await.expect("create");
    store.delete_person(&actor, person.id).await.expect("delete");
    let entry = the_only_trash_entry(&store).await;
    assert!(matches!(store.restore_from_trash(&viewer, entry.id).await, Err(StorageError::Denied(_))));
    assert!(not_found(store.get_person(person.id).await), "nothing restored");
    assert!(not_found(store.restore_from_trash(&actor, uuid::Uuid::now_v7()).await));
}
