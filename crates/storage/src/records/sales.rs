//! The sales dashboard's facts: deals closed in a period and every open
//! deal, with their person's lead source and the stages their history shows
//! them entering; the activities and tasks done in the period. Like the deals
//! list, every signed-in staff member reads them all.

use std::collections::HashMap;

use rapport_domain::history::{FieldChange, RecordKind};
use rapport_domain::records::{ActivityKind, DealStatus};
use rapport_domain::sales::{ActivityFact, DealFact, SalesFacts, SalesReportRequest, SalesStage};
use rapport_domain::{Currency, DealId, FieldErrors, Money, PipelineId, StageId, UserId};
use sea_orm::DbBackend;
use sea_orm::prelude::*;
use sea_orm::sea_query::{Condition, Expr, SimpleExpr};
use sea_orm::{ActiveModelTrait, QueryOrder, QuerySelect, QueryTrait, Set};
use time::{Date, OffsetDateTime};

use crate::common::{ByKey, from_json, parse_with};
use crate::entities::{activities, deals, people, record_history, tasks, users};
use crate::{DealFilter, Result, StorageError, Store};

/// The deals the report reads: closed in the period, or open, in the pipeline asked for.
fn deals_in_scope(request: &SalesReportRequest) -> Condition {
    let closed_in_period = Condition::all()
        .add(deals::Column::Status.ne(DealStatus::Open.as_str()))
        .add(deals::Column::ClosedAt.gte(request.from))
        .add(deals::Column::ClosedAt.lt(request.to));
    let mut scope = Condition::all()
        .add(Condition::any().add(deals::Column::Status.eq(DealStatus::Open.as_str())).add(closed_in_period));
    if let Some(pipeline) = request.pipeline_id {
        scope = scope.add(deals::Column::PipelineId.eq(pipeline.0));
    }
    scope
}

/// Timestamps on the days `from` to `to` (UTC, both included; either end open).
pub(crate) fn on_days(column: impl ColumnTrait, from: Option<Date>, to: Option<Date>) -> Condition {
    let midnight = |day: Date| day.midnight().assume_utc();
    let mut days = Condition::all();
    if let Some(day) = from {
        days = days.add(column.gte(midnight(day)));
    }
    if let Some(day) = to {
        let end = day.next_day().map(midnight).unwrap_or(OffsetDateTime::new_utc(Date::MAX, time::Time::MAX));
        days = days.add(column.lt(end));
    }
    days
}

/// `column` is set (`true`) or empty (`false`).
pub(crate) fn presence(column: impl ColumnTrait, present: bool) -> SimpleExpr {
    if present { column.is_not_null() } else { column.is_null() }
}

/// The deals whose history shows them entering `stage` (a `stage_id` change's
/// new value, the create's included), read from the JSON as `stage_moves` reads it.
fn entered_stage(backend: DbBackend, stage: StageId) -> SimpleExpr {
    let (each, field, new, placeholder) = match backend {
        DbBackend::Postgres => ("json_array_elements(h.changes)", "c.value->>'field'", "c.value->>'new'", "$1"),
        _ => ("json_each(h.changes)", "json_extract(c.value, '$.field')", "json_extract(c.value, '$.new')", "?"),
    };
    Expr::cust_with_values(
        format!(
            "EXISTS (SELECT 1 FROM record_history h, {each} c WHERE h.record_type = '{deals}' \
             AND h.record_id = \"deals\".\"id\" AND {field} = 'stage_id' AND {new} = {placeholder})",
            deals = RecordKind::Deals.as_str()
        ),
        [stage.to_string()],
    )
}

/// The deals list's filters the sales report links to: closing and
/// expected-close days (inclusive), the person's lead source, the currency,
/// no owner, no source, no expected close, and the stages a deal reached.
pub(crate) fn filter_deals(
    mut select: Select<deals::Entity>,
    filter: &DealFilter,
    backend: DbBackend,
) -> Select<deals::Entity> {
    select = select.filter(on_days(deals::Column::ClosedAt, filter.closed_from, filter.closed_to));
    if let Some(day) = filter.expected_close_from {
        select = select.filter(deals::Column::ExpectedClose.gte(day));
    }
    if let Some(day) = filter.expected_close_to {
        select = select.filter(deals::Column::ExpectedClose.lte(day));
    }
    // A source as the report reads it: set and not blank.
    let people_with_source = |source: Option<&str>| {
        let mut people = people::Entity::find()
            .select_only()
            .column(people::Column::Id)
            .filter(people::Column::Source.is_not_null())
            .filter(Expr::cust("TRIM(\"people\".\"source\") <> ''"));
        if let Some(source) = source {
            people = people.filter(people::Column::Source.eq(source));
        }
        people.into_query()
    };
    if let Some(source) = &filter.source {
        select = select.filter(deals::Column::PersonId.in_subquery(people_with_source(Some(source.as_str()))));
    }
    match filter.has_source {
        Some(true) => select = select.filter(deals::Column::PersonId.in_subquery(people_with_source(None))),
        Some(false) => {
            select = select.filter(
                Condition::any()
                    .add(deals::Column::PersonId.is_null())
                    .add(deals::Column::PersonId.not_in_subquery(people_with_source(None))),
            )
        }
        None => {}
    }
    if let Some(currency) = filter.currency {
        select = select.filter(deals::Column::Currency.eq(currency.as_str()));
    }
    if let Some(owned) = filter.has_owner {
        select = select.filter(presence(deals::Column::OwnerId, owned));
    }
    if let Some(dated) = filter.has_expected_close {
        select = select.filter(presence(deals::Column::ExpectedClose, dated));
    }
    if let Some(stage) = filter.reached_stage_id {
        select =
            select.filter(Condition::any().add(deals::Column::StageId.eq(stage.0)).add(entered_stage(backend, stage)));
    }
    select
}

/// The stages each deal entered, from its history's `stage_id` changes
/// (the create's and every update's), oldest first.
fn stage_moves(rows: Vec<record_history::Model>) -> Result<HashMap<Uuid, Vec<(OffsetDateTime, StageId)>>> {
    let mut moves: HashMap<Uuid, Vec<(OffsetDateTime, StageId)>> = HashMap::new();
    for row in rows {
        let changes: Vec<FieldChange> = from_json(row.changes, "history changes")?;
        let entered = changes
            .iter()
            .find(|change| change.field == "stage_id")
            .and_then(|change| change.new.as_str())
            .and_then(|raw| raw.parse::<StageId>().ok());
        if let Some(stage) = entered {
            moves.entry(row.record_id).or_default().push((row.at, stage));
        }
    }
    Ok(moves)
}

impl Store {
    /// What the sales report is computed from, for the period and pipeline
    /// asked for; `today` dates the forecast. An unknown pipeline is a
    /// `pipeline_id` field error.
    pub async fn sales_facts(&self, request: &SalesReportRequest, today: time::Date) -> Result<SalesFacts> {
        let pipelines = self.list_pipelines().await?;
        if let Some(id) = request.pipeline_id
            && !pipelines.iter().any(|p| p.id == id)
        {
            return Err(FieldErrors::single("pipeline_id", "no such pipeline").into());
        }
        let stages = pipelines
            .iter()
            .filter(|p| request.pipeline_id.is_none_or(|id| id == p.id))
            .flat_map(|p| {
                p.stages.iter().map(|s| SalesStage {
                    id: s.id,
                    pipeline_id: p.id,
                    pipeline: p.name.to_string(),
                    name: s.name.to_string(),
                    win_probability: s.win_probability,
                })
            })
            .collect();

        let scope = deals_in_scope(request);
        let deal_rows = deals::Entity::find().filter(scope.clone()).all(self.conn()).await?;
        let deal_ids = deals::Entity::find().select_only().column(deals::Column::Id).filter(scope.clone());
        let person_ids = deals::Entity::find().select_only().column(deals::Column::PersonId).filter(scope).into_query();
        let sources: HashMap<Uuid, String> = people::Entity::find()
            .select_only()
            .column(people::Column::Id)
            .column(people::Column::Source)
            .filter(people::Column::Id.in_subquery(person_ids))
            .filter(people::Column::Source.is_not_null())
            .into_tuple::<(Uuid, Option<String>)>()
            .all(self.conn())
            .await?
            .into_iter()
            .filter_map(|(id, source)| source.filter(|s| !s.trim().is_empty()).map(|s| (id, s)))
            .collect();
        // One pass over the history of every deal in scope.
        let history = record_history::Entity::find()
            .filter(record_history::Column::RecordType.eq(RecordKind::Deals.as_str()))
            .filter(record_history::Column::RecordId.in_subquery(deal_ids.into_query()))
            .order_by_asc(record_history::Column::At)
            .order_by_asc(record_history::Column::Id)
            .all(self.conn())
            .await?;
        let mut moves = stage_moves(history)?;
        let mut deals = Vec::with_capacity(deal_rows.len());
        for row in deal_rows {
            deals.push(DealFact {
                amount: Money::new(row.amount_minor, parse_with(&row.currency, "currency", Currency::parse)?),
                pipeline_id: PipelineId(row.pipeline_id),
                stage_id: StageId(row.stage_id),
                owner_id: row.owner_id.map(UserId),
                status: parse_with(&row.status, "deal status", DealStatus::parse)?,
                created_at: row.created_at,
                closed_at: row.closed_at,
                expected_close: row.expected_close,
                source: row.person_id.and_then(|person| sources.get(&person).cloned()),
                stage_moves: moves.remove(&row.id).unwrap_or_default(),
            });
        }

        let activity_rows: Vec<(String, Option<Uuid>, Option<Uuid>, OffsetDateTime)> = activities::Entity::find()
            .select_only()
            .column(activities::Column::Kind)
            .column(activities::Column::AuthorId)
            .column(activities::Column::CreatedBy)
            .column(activities::Column::OccurredAt)
            .filter(activities::Column::OccurredAt.gte(request.from))
            .filter(activities::Column::OccurredAt.lt(request.to))
            .into_tuple()
            .all(self.conn())
            .await?;
        let activities = activity_rows
            .into_iter()
            .map(|(kind, author, created_by, at)| {
                Ok(ActivityFact {
                    kind: parse_with(&kind, "activity kind", ActivityKind::parse)?,
                    staff_id: author.or(created_by).map(UserId),
                    at,
                })
            })
            .collect::<Result<_>>()?;
        let tasks_done: Vec<Option<Uuid>> = tasks::Entity::find()
            .select_only()
            .column(tasks::Column::AssigneeId)
            .filter(tasks::Column::DoneAt.gte(request.from))
            .filter(tasks::Column::DoneAt.lt(request.to))
            .into_tuple()
            .all(self.conn())
            .await?;
        let staff: Vec<(Uuid, String)> = users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .column(users::Column::Name)
            .into_tuple()
            .all(self.conn())
            .await?;
        Ok(SalesFacts {
            request: *request,
            today,
            stages,
            staff: staff.into_iter().map(|(id, name)| (UserId(id), name)).collect(),
            deals,
            activities,
            tasks_done: tasks_done.into_iter().map(|id| id.map(UserId)).collect(),
        })
    }

    /// Dates deals' past, for demo data: each deal's `times` go to its
    /// history entries oldest first (its creation, each later change); the
    /// deal's creation is the first, and its close (when closed) the last.
    /// All deals in one transaction, all or nothing.
    pub async fn date_deal_histories(&self, deals: &[(DealId, Vec<OffsetDateTime>)]) -> Result<()> {
        let w = self.begin_write().await?;
        for (id, times) in deals {
            date_deal_history(&*w, *id, times).await?;
        }
        w.commit().await?;
        Ok(())
    }
}

async fn date_deal_history<C: ConnectionTrait>(conn: &C, id: DealId, times: &[OffsetDateTime]) -> Result<()> {
    let row = deals::Entity::find_by_id(id.0).by_key(conn).await?.ok_or(StorageError::NotFound("deal"))?;
    let entries = record_history::Entity::find()
        .filter(record_history::Column::RecordType.eq(RecordKind::Deals.as_str()))
        .filter(record_history::Column::RecordId.eq(id.0))
        .order_by_asc(record_history::Column::At)
        .order_by_asc(record_history::Column::Id)
        .all(conn)
        .await?;
    if entries.len() != times.len() || times.windows(2).any(|pair| pair[0] > pair[1]) {
        return Err(FieldErrors::single("times", "give one time per history entry, oldest first").into());
    }
    for (entry, at) in entries.into_iter().zip(times) {
        let mut active: record_history::ActiveModel = entry.into();
        active.at = Set(*at);
        active.update(conn).await?;
    }
    let closed = row.closed_at.is_some();
    let mut active: deals::ActiveModel = row.into();
    active.created_at = Set(times[0]);
    if closed {
        active.closed_at = Set(times.last().copied());
    }
    active.update(conn).await?;
    Ok(())
}
