//! Many deals created (`Store::create_deals`) or changed
//! (`Store::update_deals`) in one transaction and their past dated
//! (`Store::date_deal_histories`), as `rapport demo` does: each by the
//! rules of a single create or update, all or nothing. Every test runs
//! as `sqlite::NAME` and `postgres::NAME` (the latter when
//! RAPPORT_TEST_POSTGRES is set).

#[macro_use]
extern crate rapport_testing;

mod common;

use rapport_domain::custom_fields::{CustomFieldInput, EntityType, FieldKind};
use rapport_domain::history::{HistoryAction, RecordKind};
use rapport_domain::records::{Deal, DealInput, DealStatus, Pipeline, PipelineInput, StageInput};
use rapport_domain::text::{LongText, Name, Tag};
use rapport_domain::{Actor, Currency, DealId, Money, PersonId, Role};
use rapport_storage::{DealFilter, ListQuery, StorageError, Store};
use rapport_testing::{Backend, TestDatabase};
use time::{Duration, OffsetDateTime};

backend_tests!(
    deals_move_and_close_together_each_with_its_history,
    one_refused_change_leaves_every_deal_as_it_was,
    a_viewer_may_not_change_deals_together,
    dating_deals_sets_their_history_creation_and_close,
    dating_with_the_wrong_number_of_times_changes_no_deal,
    deals_made_together_are_stored_as_returned_with_tags_fields_and_history,
    one_refused_new_deal_creates_none,
    tags_and_custom_values_changed_together_are_found_by_their_new_values,
    new_deals_made_together_may_not_share_an_external_id,
);

struct Sales {
    _db: TestDatabase,
    store: Store,
    admin: Actor,
    pipeline: Pipeline,
}

async fn open(backend: Backend) -> Sales {
    let (db, store, admin) = common::open(backend).await;
    let stages = ["Lead", "Proposal", "Negotiation"]
        .into_iter()
        .map(|stage| StageInput { id: None, name: name(stage), win_probability: 30 })
        .collect();
    let pipeline =
        store.create_pipeline(&admin, PipelineInput { name: name("Sales"), stages }).await.expect("a pipeline");
    Sales { _db: db, store, admin, pipeline }
}

fn name(text: &str) -> Name {
    Name::try_from(text).expect("a valid name")
}

impl Sales {
    async fn deals(&self, count: usize) -> Vec<Deal> {
        self.store.create_deals(&self.admin, self.new_deals(count)).await.expect("create deals")
    }

    fn new_deals(&self, count: usize) -> Vec<DealInput> {
        (0..count)
            .map(|i| DealInput {
                name: name(&format!("Renewal {i}")),
                amount: Money::new(10_000, Currency::parse("EUR").expect("a currency")),
                pipeline_id: self.pipeline.id,
                stage_id: self.pipeline.stages[0].id,
                person_id: None,
                company_id: None,
                owner_id: None,
                expected_close: None,
                status: DealStatus::Open,
                lost_reason: None,
                tags: Vec::new(),
                external_id: None,
                custom_fields: Default::default(),
            })
            .collect()
    }

    /// A choice field `plan` (basic or pro) on deals.
    async fn plan_field(&self) {
        let input = CustomFieldInput {
            entity_type: EntityType::Deal,
            key: "plan".to_string().try_into().expect("a valid key"),
            label: name("Plan"),
            kind: FieldKind::Choice,
            choices: vec![name("basic"), name("pro")],
            required: false,
        };
        self.store.create_custom_field(&self.admin, input).await.expect("a custom field");
    }

    /// The names of the deals a list with `query` finds, sorted.
    async fn found(&self, query: ListQuery) -> Vec<String> {
        let page = self.store.list_deals(&query, &DealFilter::default()).await.expect("list deals");
        let mut names: Vec<String> = page.items.iter().map(|deal| deal.fields.name.to_string()).collect();
        names.sort();
        names
    }

    /// Each deal moved to `stage` (an index into the pipeline's stages).
    fn moved(&self, deals: &[Deal], stage: usize) -> Vec<(DealId, DealInput)> {
        deals
            .iter()
            .map(|deal| (deal.id, DealInput { stage_id: self.pipeline.stages[stage].id, ..deal.fields.clone() }))
            .collect()
    }

    async fn reread(&self, deals: &[Deal]) -> Vec<Deal> {
        let mut stored = Vec::new();
        for deal in deals {
            stored.push(self.store.get_deal(deal.id).await.expect("read a deal"));
        }
        stored
    }
}

fn tag(text: &str) -> Tag {
    Tag::try_from(text.to_owned()).expect("a valid tag")
}

fn tagged(tag: &str) -> ListQuery {
    ListQuery { tag: Some(tag.to_owned()), ..Default::default() }
}

fn on_plan(plan: &str) -> ListQuery {
    ListQuery { custom: vec![("plan".to_owned(), plan.to_owned())], ..Default::default() }
}

async fn deals_move_and_close_together_each_with_its_history(backend: Backend) {
    let sales = open(backend).await;
    let deals = sales.deals(3).await;
    let moved = sales.store.update_deals(&sales.admin, sales.moved(&deals, 2)).await.expect("move three deals");
    assert_eq!(moved.iter().map(|d| d.id).collect::<Vec<_>>(), deals.iter().map(|d| d.id).collect::<Vec<_>>());
    assert!(moved.iter().all(|d| d.fields.stage_id == sales.pipeline.stages[2].id && d.meta.version == 2));

    let lost = DealInput {
        status: DealStatus::Lost,
        lost_reason: Some(LongText::try_from("Went with a cheaper offer").expect("a reason")),
        ..moved[0].fields.clone()
    };
    let won = DealInput { status: DealStatus::Won, ..moved[1].fields.clone() };
    let closed =
        sales.store.update_deals(&sales.admin, vec![(moved[0].id, lost), (moved[1].id, won)]).await.expect("close two");
    assert_eq!(closed[0].fields.status, DealStatus::Lost);
    assert_eq!(closed[1].fields.status, DealStatus::Won);
    assert!(closed.iter().all(|d| d.closed_at.is_some()), "a closed deal has its close time");

    assert_eq!(sales.reread(&deals).await, vec![closed[0].clone(), closed[1].clone(), moved[2].clone()]);
    let history = sales.store.history(RecordKind::Deals, deals[0].id.0).await.expect("the first deal's history");
    let actions: Vec<HistoryAction> = history.iter().map(|entry| entry.action).collect();
    assert_eq!(actions, [HistoryAction::Update, HistoryAction::Update, HistoryAction::Create]);
    assert!(history[1].changes.iter().any(|change| change.field == "stage_id"), "the move names its field");
    assert!(history[0].changes.iter().any(|change| change.field == "status"), "the close names its field");
}

async fn one_refused_change_leaves_every_deal_as_it_was(backend: Backend) {
    let sales = open(backend).await;
    let deals = sales.deals(3).await;
    let mut changes = sales.moved(&deals, 1);
    // A lost reason on a deal that stays open is refused, as by update_deal.
    changes[1].1.lost_reason = Some(LongText::try_from("Not lost at all").expect("a reason"));
    let err = sales.store.update_deals(&sales.admin, changes).await.expect_err("one change is invalid");
    match err {
        StorageError::Refused { what: "deal", id, source } => {
            assert_eq!(id, deals[1].id.0);
            assert!(matches!(*source, StorageError::Invalid(_)), "the refusal says why: {source:?}");
        }
        other => panic!("expected the second deal refused, got {other:?}"),
    }
    assert_eq!(sales.reread(&deals).await, deals, "the first deal's move was undone with the rest");

    let mut unknown = sales.moved(&deals, 1);
    unknown.push((DealId(uuid::Uuid::now_v7()), deals[0].fields.clone()));
    let err = sales.store.update_deals(&sales.admin, unknown).await.expect_err("an unknown deal");
    assert!(matches!(err, StorageError::Refused { what: "deal", .. }), "{err:?}");
    assert_eq!(sales.reread(&deals).await, deals);
}

async fn a_viewer_may_not_change_deals_together(backend: Backend) {
    let sales = open(backend).await;
    let deals = sales.deals(2).await;
    let viewer = common::user(&sales.store, "Viola", Role::Viewer, None).await;
    let err = sales.store.update_deals(&viewer, sales.moved(&deals, 1)).await.expect_err("a viewer edits nothing");
    match err {
        StorageError::Refused { source, .. } => assert!(matches!(*source, StorageError::Denied(_)), "{source:?}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(sales.reread(&deals).await, deals);
}

/// A minute past midnight UTC `days` ago: whole seconds, as stored.
fn days_ago(days: i64) -> OffsetDateTime {
    let today = OffsetDateTime::now_utc().replace_time(time::Time::MIDNIGHT);
    today - Duration::days(days) + Duration::minutes(1)
}

async fn dating_deals_sets_their_history_creation_and_close(backend: Backend) {
    let sales = open(backend).await;
    let deals = sales.deals(2).await;
    let moved = sales.store.update_deals(&sales.admin, sales.moved(&deals, 1)).await.expect("move");
    let won = DealInput { status: DealStatus::Won, ..moved[0].fields.clone() };
    sales.store.update_deals(&sales.admin, vec![(moved[0].id, won)]).await.expect("win the first");

    let first = vec![days_ago(90), days_ago(60), days_ago(30)];
    let second = vec![days_ago(20), days_ago(10)];
    sales
        .store
        .date_deal_histories(&[(deals[0].id, first.clone()), (deals[1].id, second.clone())])
        .await
        .expect("date both deals");

    for (deal, times) in deals.iter().zip([first, second]) {
        let stored = sales.store.get_deal(deal.id).await.expect("read the deal");
        assert_eq!(stored.meta.created_at, times[0]);
        let mut history: Vec<OffsetDateTime> = sales
            .store
            .history(RecordKind::Deals, deal.id.0)
            .await
            .expect("history")
            .iter()
            .map(|entry| entry.at)
            .collect();
        history.reverse();
        assert_eq!(history, times, "each entry, oldest first, has its time");
        if stored.fields.status == DealStatus::Won {
            assert_eq!(stored.closed_at, times.last().copied(), "a closed deal closed at its last time");
        } else {
            assert_eq!(stored.closed_at, None);
        }
    }
}

async fn dating_with_the_wrong_number_of_times_changes_no_deal(backend: Backend) {
    let sales = open(backend).await;
    let deals = sales.deals(2).await;
    let before = sales.reread(&deals).await;
    // The first deal is right; the second has one entry but two times.
    let err = sales
        .store
        .date_deal_histories(&[(deals[0].id, vec![days_ago(5)]), (deals[1].id, vec![days_ago(4), days_ago(3)])])
        .await
        .expect_err("two times for one entry");
    assert!(matches!(err, StorageError::Invalid(_)), "{err:?}");
    assert_eq!(sales.reread(&deals).await, before, "the first deal was not dated either");
}

async fn deals_made_together_are_stored_as_returned_with_tags_fields_and_history(backend: Backend) {
    let sales = open(backend).await;
    sales.plan_field().await;
    let mut inputs = sales.new_deals(3);
    inputs[0].tags = vec![tag("renewal"), tag("vip")];
    inputs[0].custom_fields.insert("plan".to_owned(), serde_json::json!("pro"));
    inputs[1].tags = vec![tag("renewal")];
    inputs[2].status = DealStatus::Won;
    let created = sales.store.create_deals(&sales.admin, inputs).await.expect("create three deals");
    // What a batch create returns is what a read gives back.
    assert_eq!(sales.reread(&created).await, created);
    assert!(created[2].closed_at.is_some(), "a deal created won has its close time");
    assert_eq!(sales.found(tagged("renewal")).await, ["Renewal 0", "Renewal 1"]);
    assert_eq!(sales.found(tagged("vip")).await, ["Renewal 0"]);
    assert_eq!(sales.found(on_plan("pro")).await, ["Renewal 0"]);
    for deal in &created {
        let history = sales.store.history(RecordKind::Deals, deal.id.0).await.expect("a deal's history");
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].action, HistoryAction::Create);
        assert!(history[0].changes.iter().any(|change| change.field == "name"), "the create lists the fields");
    }
}

async fn one_refused_new_deal_creates_none(backend: Backend) {
    let sales = open(backend).await;
    sales.plan_field().await;
    let mut unknown_person = sales.new_deals(3);
    unknown_person[1].person_id = Some(PersonId(uuid::Uuid::now_v7()));
    let err = sales.store.create_deals(&sales.admin, unknown_person).await.expect_err("no such person");
    match err {
        StorageError::Invalid(errors) => assert!(format!("{errors:?}").contains("person_id"), "{errors:?}"),
        other => panic!("expected the person refused, got {other:?}"),
    }
    let mut unknown_choice = sales.new_deals(2);
    unknown_choice[1].custom_fields.insert("plan".to_owned(), serde_json::json!("platinum"));
    let err = sales.store.create_deals(&sales.admin, unknown_choice).await.expect_err("no such choice");
    assert!(matches!(err, StorageError::Invalid(_)), "{err:?}");
    let mut other_pipeline = sales.new_deals(2);
    other_pipeline[0].stage_id = rapport_domain::StageId(uuid::Uuid::now_v7());
    let err = sales.store.create_deals(&sales.admin, other_pipeline).await.expect_err("no such stage");
    assert!(matches!(err, StorageError::Invalid(_)), "{err:?}");

    let viewer = common::user(&sales.store, "Viola", Role::Viewer, None).await;
    let err = sales.store.create_deals(&viewer, sales.new_deals(1)).await.expect_err("a viewer creates nothing");
    assert!(matches!(err, StorageError::Denied(_)), "{err:?}");
    assert!(sales.found(ListQuery::default()).await.is_empty(), "no deal was created");
}

async fn tags_and_custom_values_changed_together_are_found_by_their_new_values(backend: Backend) {
    let sales = open(backend).await;
    sales.plan_field().await;
    let mut inputs = sales.new_deals(3);
    for input in &mut inputs {
        input.tags = vec![tag("trial")];
        input.custom_fields.insert("plan".to_owned(), serde_json::json!("basic"));
    }
    let deals = sales.store.create_deals(&sales.admin, inputs).await.expect("create deals");
    let mut changes = sales.moved(&deals[..2], 1);
    for (_, input) in &mut changes {
        input.tags = vec![tag("customer")];
        input.custom_fields.insert("plan".to_owned(), serde_json::json!("pro"));
    }
    let changed = sales.store.update_deals(&sales.admin, changes).await.expect("change two deals");
    assert_eq!(sales.reread(&deals[..2]).await, changed);
    assert_eq!(sales.found(tagged("trial")).await, ["Renewal 2"]);
    assert_eq!(sales.found(tagged("customer")).await, ["Renewal 0", "Renewal 1"]);
    assert_eq!(sales.found(on_plan("basic")).await, ["Renewal 2"]);
    assert_eq!(sales.found(on_plan("pro")).await, ["Renewal 0", "Renewal 1"]);
    // A change of nothing a client sees leaves no history entry.
    let unchanged = vec![(deals[2].id, deals[2].fields.clone())];
    sales.store.update_deals(&sales.admin, unchanged).await.expect("save the same values");
    let history = sales.store.history(RecordKind::Deals, deals[2].id.0).await.expect("history");
    assert_eq!(history.len(), 1, "only the create: {history:?}");
}

async fn new_deals_made_together_may_not_share_an_external_id(backend: Backend) {
    let sales = open(backend).await;
    let external = |text: &str| Some(name(text));
    let mut held = sales.new_deals(1);
    held[0].external_id = external("crm-1");
    let held = sales.store.create_deals(&sales.admin, held).await.expect("a deal with an external id");

    let mut twice = sales.new_deals(3);
    twice[0].external_id = external("crm-2");
    twice[2].external_id = external("crm-2");
    let err = sales.store.create_deals(&sales.admin, twice).await.expect_err("one external id twice");
    assert!(matches!(&err, StorageError::Taken { field, .. } if field == "external_id"), "{err:?}");

    let mut taken = sales.new_deals(2);
    taken[1].external_id = external("crm-1");
    let err = sales.store.create_deals(&sales.admin, taken).await.expect_err("an external id already held");
    assert!(matches!(&err, StorageError::Taken { existing, .. } if *existing == Some(held[0].id.0)), "{err:?}");
    assert_eq!(sales.found(ListQuery::default()).await, ["Renewal 0"], "only the first deal was created");

    let mut distinct = sales.new_deals(2);
    distinct[0].external_id = external("crm-2");
    distinct[1].external_id = external("crm-3");
    sales.store.create_deals(&sales.admin, distinct).await.expect("distinct external ids");
}
