//! Deals: opportunities moving through a pipeline's stages.

use rapport_domain::access::Action;
use rapport_domain::custom_fields::{CheckedValue, CustomFieldInput, EntityType};
use rapport_domain::records::{Deal, DealInput, DealStatus, now};
use rapport_domain::text::Name;
use rapport_domain::{Actor, CompanyId, Currency, DealId, FieldErrors, Money, PersonId, PipelineId, StageId, UserId};
use std::collections::{BTreeSet, HashMap, HashSet};

use sea_orm::prelude::*;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult, QueryResult, QuerySelect, Set};

use crate::common::*;
use crate::entities::{companies, deals, people, stages};
use crate::history;
use crate::listing::{RELEVANCE, SortField, SortKind, SortValue, after_newest, newest_cursor};
use crate::trash::{Removal, move_to_trash};
use crate::{ListQuery, Page, Result, StorageError, Store};
use rapport_domain::history::{RecordKind, TrashReason};

#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DealFilter {
    pub pipeline_id: Option<PipelineId>,
    pub stage_id: Option<StageId>,
    pub status: Option<DealStatus>,
    pub owner_id: Option<UserId>,
    pub person_id: Option<PersonId>,
    pub company_id: Option<CompanyId>,
    /// Only deals closed on or after this day, `YYYY-MM-DD` (UTC).
    #[serde(default, with = "rapport_domain::time_input::date::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub closed_from: Option<time::Date>,
    /// Only deals closed on or before this day, `YYYY-MM-DD` (UTC).
    #[serde(default, with = "rapport_domain::time_input::date::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub closed_to: Option<time::Date>,
    /// Only deals expected to close on or after this day, `YYYY-MM-DD`.
    #[serde(default, with = "rapport_domain::time_input::date::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub expected_close_from: Option<time::Date>,
    /// Only deals expected to close on or before this day, `YYYY-MM-DD`.
    #[serde(default, with = "rapport_domain::time_input::date::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub expected_close_to: Option<time::Date>,
    /// Only deals whose person has this lead source (as stored, trimmed).
    pub source: Option<rapport_domain::text::Name>,
    /// Only deals in this currency (ISO 4217 code, like EUR).
    pub currency: Option<Currency>,
    /// `false`: only deals nobody owns; `true`: only owned ones.
    pub has_owner: Option<bool>,
    /// `false`: only deals whose person has no lead source (or that have no
    /// person); `true`: only deals whose person has one.
    pub has_source: Option<bool>,
    /// `false`: only deals without an expected close day; `true`: only those with one.
    pub has_expected_close: Option<bool>,
    /// Only deals that were ever in this stage: a stage their history shows
    /// them entering, or their stage now (as the sales report's "reached").
    pub reached_stage_id: Option<StageId>,
}

impl crate::listing::ListShape for DealFilter {
    const SORTS: &'static [&'static str] = &["created_at", "updated_at", "name", "amount", "expected_close", RELEVANCE];
    const SEARCH_AND_TAGS: bool = true;
    const CONDITIONS: &'static [rapport_domain::conditions::FieldSpec] = rapport_domain::conditions::DEALS;
}

pub(crate) fn deal_from(row: deals::Model) -> Result<Deal> {
    Ok(Deal {
        id: DealId(row.id),
        fields: DealInput {
            name: parse(row.name, "deal name")?,
            amount: Money::new(row.amount_minor, parse_with(&row.currency, "currency", Currency::parse)?),
            pipeline_id: PipelineId(row.pipeline_id),
            stage_id: StageId(row.stage_id),
            person_id: row.person_id.map(PersonId),
            company_id: row.company_id.map(CompanyId),
            owner_id: row.owner_id.map(UserId),
            expected_close: row.expected_close,
            status: parse_with(&row.status, "deal status", DealStatus::parse)?,
            lost_reason: parse_opt(row.lost_reason, "lost reason")?,
            tags: from_json(row.tags, "tags")?,
            external_id: parse_opt(row.external_id, "external id")?,
            custom_fields: from_json(row.custom_fields, "custom fields")?,
        },
        closed_at: row.closed_at,
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

/// What checking deals' inputs reads, read once for a batch: the
/// pipelines of their stages, which of their people and companies exist,
/// the custom field definitions of deals, and who holds the external ids
/// they name.
struct DealReferences {
    stage_pipelines: HashMap<Uuid, Uuid>,
    people: HashSet<Uuid>,
    companies: HashSet<Uuid>,
    definitions: Vec<CustomFieldInput>,
    /// External ids held, and by which deal; kept current as the batch's
    /// deals are written (`hold`), so later ones see what earlier ones took.
    external_ids: HashMap<String, Uuid>,
}

impl DealReferences {
    async fn read<C: ConnectionTrait>(conn: &C, inputs: &[&DealInput]) -> Result<Self> {
        let stages: BTreeSet<Uuid> = inputs.iter().map(|input| input.stage_id.0).collect();
        let mut stage_pipelines = HashMap::new();
        for chunk in stages.into_iter().collect::<Vec<_>>().chunks(IN_LIST_CHUNK) {
            let found: Vec<(Uuid, Uuid)> = stages::Entity::find()
                .select_only()
                .column(stages::Column::Id)
                .column(stages::Column::PipelineId)
                .filter(stages::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(conn)
                .await?;
            stage_pipelines.extend(found);
        }
        Ok(DealReferences {
            stage_pipelines,
            people: existing_ids::<people::Entity, _>(conn, inputs.iter().filter_map(|i| i.person_id.map(|p| p.0)))
                .await?,
            companies: existing_ids::<companies::Entity, _>(
                conn,
                inputs.iter().filter_map(|i| i.company_id.map(|c| c.0)),
            )
            .await?,
            definitions: definitions(conn, EntityType::Deal).await?,
            external_ids: ids_by_external_id::<deals::Entity, _>(
                conn,
                inputs.iter().filter_map(|i| i.external_id.as_ref().map(|e| e.as_str())),
            )
            .await?,
        })
    }

    /// Checks a deal's input (of the deal `this`, when it is stored) and
    /// gives its checked custom values; the input keeps them as stored.
    fn prepare(&self, input: &mut DealInput, this: Option<Uuid>) -> Result<Vec<CheckedValue>> {
        input.check()?;
        if let Some(external) = &input.external_id
            && let Some(&holder) = self.external_ids.get(external.as_str())
            && Some(holder) != this
        {
            return Err(taken_external_id(external, holder, "deal"));
        }
        match self.stage_pipelines.get(&input.stage_id.0) {
            Some(pipeline) if *pipeline == input.pipeline_id.0 => {}
            Some(_) => return Err(FieldErrors::single("stage_id", "this stage belongs to another pipeline").into()),
            None => return Err(FieldErrors::single("stage_id", "no such stage").into()),
        }
        if let Some(person) = input.person_id
            && !self.people.contains(&person.0)
        {
            return Err(no_such("person_id", "person"));
        }
        if let Some(company) = input.company_id
            && !self.companies.contains(&company.0)
        {
            return Err(no_such("company_id", "company"));
        }
        let (checked, stored) = checked_values(&self.definitions, &input.custom_fields)?;
        input.custom_fields = stored;
        Ok(checked)
    }

    /// Records that `deal` was written holding `taken` in place of `released`.
    fn hold(&mut self, deal: Uuid, released: Option<&Name>, taken: Option<&Name>) {
        if let Some(released) = released
            && self.external_ids.get(released.as_str()) == Some(&deal)
        {
            self.external_ids.remove(released.as_str());
        }
        if let Some(taken) = taken {
            self.external_ids.insert(taken.as_str().to_owned(), deal);
        }
    }
}

/// When a deal was closed: kept while it stays closed, set when it closes, cleared when reopened.
fn closed_at(
    status: DealStatus,
    before: Option<(DealStatus, Option<time::OffsetDateTime>)>,
) -> Option<time::OffsetDateTime> {
    match (status, before) {
        (DealStatus::Open, _) => None,
        (_, Some((previous, Some(at)))) if previous == status => Some(at),
        _ => Some(now()),
    }
}

/// Sets the columns that differ from the stored row (all of a new one):
/// SQLite updates only the indexes, and fires only the search trigger, of
/// columns an `UPDATE` names.
fn fill(active: &mut deals::ActiveModel, input: &DealInput) {
    active.name.set_ne(input.name.to_string());
    active.amount_minor.set_ne(input.amount.amount_minor);
    active.currency.set_ne(input.amount.currency.as_str().to_owned());
    active.pipeline_id.set_ne(input.pipeline_id.0);
    active.stage_id.set_ne(input.stage_id.0);
    active.person_id.set_ne(input.person_id.map(|p| p.0));
    active.company_id.set_ne(input.company_id.map(|c| c.0));
    active.owner_id.set_ne(input.owner_id.map(|u| u.0));
    active.expected_close.set_ne(input.expected_close);
    active.status.set_ne(input.status.as_str().to_owned());
    active.lost_reason.set_ne(input.lost_reason.as_ref().map(|r| r.to_string()));
    active.tags.set_ne(to_json(&input.tags));
    active.external_id.set_ne(input.external_id.as_ref().map(|e| e.to_string()));
    active.custom_fields.set_ne(to_json(&input.custom_fields));
    active.search_text.set_ne(search_text(input));
    active.sort_name.set_ne(input.name.as_str().to_lowercase());
}

/// A deal is found and ranked by name.
pub(crate) fn search_text(input: &DealInput) -> String {
    rapport_domain::search::document([input.name.as_str()], [])
}

pub(crate) async fn insert_deal<C: ConnectionTrait>(conn: &C, actor: &Actor, input: DealInput) -> Result<Deal> {
    only_outcome(insert_deals(conn, actor, vec![input]).await?, "deal")
}

/// Creates deals together: each input is checked as one create would
/// check it, with what it refers to looked up once for all, and the valid
/// ones written with a few multi-row statements, their index rows and
/// history too. The outcomes come back in input order; a refused input
/// writes nothing, and a database error fails the call.
pub(crate) async fn insert_deals<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    inputs: Vec<DealInput>,
) -> Result<Vec<Result<Deal>>> {
    let mut references = DealReferences::read(conn, &inputs.iter().collect::<Vec<_>>()).await?;
    let mut users = Users::default();
    let now = now();
    let mut rows = Vec::with_capacity(inputs.len());
    let mut index = IndexRows::default();
    let mut outcomes = Vec::with_capacity(inputs.len());
    for mut input in inputs {
        let checked = async {
            actor.ensure_can_create()?;
            let checked = references.prepare(&mut input, None)?;
            users.check_assignment(conn, actor, input.owner_id, None, "owner_id").await?;
            Ok::<_, StorageError>(checked)
        }
        .await;
        let Some(checked) = passed(checked, &mut outcomes)? else { continue };
        let id = DealId::new();
        references.hold(id.0, None, input.external_id.as_ref());
        let closed_at = closed_at(input.status, None);
        let mut active = deals::ActiveModel {
            id: Set(id.0),
            closed_at: Set(closed_at),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(Some(actor.user_id.0)),
            version: Set(1),
            ..Default::default()
        };
        fill(&mut active, &input);
        rows.push(active);
        index.add(EntityType::Deal, id.0, &input.tags, &checked);
        outcomes.push(Ok(Deal { id, fields: input, closed_at, meta: meta(now, now, Some(actor.user_id.0), 1) }));
    }
    insert_all(conn, rows).await?;
    index.write(conn).await?;
    history::created_all(conn, actor, outcomes.iter().filter_map(|outcome| outcome.as_ref().ok())).await?;
    Ok(outcomes)
}

/// Replaces a stored deal inside the caller's transaction, after the access and version checks.
pub(crate) async fn replace_deal<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: deals::Model,
    input: DealInput,
    expected_version: Option<i64>,
) -> Result<Deal> {
    only_outcome(replace_deals(conn, actor, vec![(row, input, expected_version)]).await?, "deal")
}

/// Replaces stored deals inside the caller's transaction, each by the
/// rules of one update (access, version, the checks of a create), with
/// what they refer to looked up once for all; only changed columns are
/// written, and the index rows (where tags or custom values changed) and
/// history with a few multi-row statements. The outcomes come
/// back in the changes' order; a refused change writes nothing, and a
/// database error fails the call.
pub(crate) async fn replace_deals<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    changes: Vec<(deals::Model, DealInput, Option<i64>)>,
) -> Result<Vec<Result<Deal>>> {
    let mut references =
        DealReferences::read(conn, &changes.iter().map(|(_, input, _)| input).collect::<Vec<_>>()).await?;
    let mut users = Users::default();
    let mut index = IndexRows::default();
    let mut reindex = Vec::new();
    let mut outcomes = Vec::with_capacity(changes.len());
    // Beside each outcome, the deal as it was when it was replaced, for its history.
    let mut previous = Vec::with_capacity(changes.len());
    for (row, mut input, expected_version) in changes {
        let outcome = async {
            let id = row.id;
            actor.ensure_can(Action::Edit, &users.ownership(conn, row.owner_id, row.created_by).await?)?;
            check_version(expected_version, row.version)?;
            let before = deal_from(row.clone())?;
            let checked = references.prepare(&mut input, Some(id))?;
            users.check_assignment(conn, actor, input.owner_id, row.owner_id, "owner_id").await?;
            // Index rows follow from these fields alone: unchanged, they are left as they are.
            let index_changed = row.tags != to_json(&input.tags) || row.custom_fields != to_json(&input.custom_fields);
            let prior_status = (parse_with(&row.status, "deal status", DealStatus::parse)?, row.closed_at);
            let version = row.version;
            let mut active: deals::ActiveModel = row.into();
            fill(&mut active, &input);
            active.closed_at = Set(closed_at(input.status, Some(prior_status)));
            active.updated_at = Set(now());
            active.version = Set(version + 1);
            let row = save(conn, active, deals::Column::Version, version).await?;
            Ok::<_, StorageError>((before, deal_from(row)?, index_changed.then_some(checked)))
        }
        .await;
        let Some((before, deal, reindexed)) = passed(outcome, &mut outcomes)? else {
            previous.push(None);
            continue;
        };
        references.hold(deal.id.0, before.fields.external_id.as_ref(), deal.fields.external_id.as_ref());
        if let Some(checked) = reindexed {
            reindex.push(deal.id.0);
            index.add(EntityType::Deal, deal.id.0, &deal.fields.tags, &checked);
        }
        outcomes.push(Ok(deal));
        previous.push(Some(before));
    }
    delete_index_rows_of(conn, EntityType::Deal, &reindex).await?;
    index.write(conn).await?;
    let replaced =
        previous.iter().zip(&outcomes).filter_map(|(before, after)| Some((before.as_ref()?, after.as_ref().ok()?)));
    history::updated_all(conn, actor, replaced).await?;
    Ok(outcomes)
}

/// The names a deal's card shows beside it: its person's and its company's.
type CardNames = (HashMap<PersonId, String>, HashMap<CompanyId, String>);

/// Deals with their person's and company's names, as cards show them: the
/// `deals` columns, then `person_first`, `person_last` and `company_name`.
fn card_select() -> SelectStatement {
    Query::select()
        .column((deals::Entity, Asterisk))
        .expr_as(Expr::col((people::Entity, people::Column::FirstName)), Alias::new("person_first"))
        .expr_as(Expr::col((people::Entity, people::Column::LastName)), Alias::new("person_last"))
        .expr_as(Expr::col((companies::Entity, companies::Column::Name)), Alias::new("company_name"))
        .from(deals::Entity)
        .left_join(
            people::Entity,
            Expr::col((people::Entity, people::Column::Id)).equals((deals::Entity, deals::Column::PersonId)),
        )
        .left_join(
            companies::Entity,
            Expr::col((companies::Entity, companies::Column::Id)).equals((deals::Entity, deals::Column::CompanyId)),
        )
        .to_owned()
}

/// A row of [`card_select`]: the deal, its names added to `names`.
fn card_from(row: &QueryResult, names: &mut CardNames) -> Result<deals::Model> {
    let deal = deals::Model::from_query_result(row, "")?;
    if let (Some(person), Some(first)) = (deal.person_id, row.try_get::<Option<String>>("", "person_first")?) {
        let last = row.try_get::<Option<String>>("", "person_last")?;
        names.0.insert(PersonId(person), super::overview::person_name(first, last));
    }
    if let (Some(company), Some(name)) = (deal.company_id, row.try_get::<Option<String>>("", "company_name")?) {
        names.1.insert(CompanyId(company), name);
    }
    Ok(deal)
}

impl Store {
    /// A deal with its person's and company's names, as its card shows it.
    pub async fn deal_card(&self, id: DealId) -> Result<(Deal, CardNames)> {
        let mut select = card_select();
        select.and_where(Expr::col((deals::Entity, deals::Column::Id)).eq(id.0));
        let row = self.conn().query_one(&select).await?.ok_or(StorageError::NotFound("deal"))?;
        let mut names = CardNames::default();
        let deal = deal_from(card_from(&row, &mut names)?)?;
        Ok((deal, names))
    }

    /// Pages of a pipeline's board columns, read together in one query: a
    /// column is a status and, for open deals, a stage (without one, every
    /// deal of the status), from its cursor if it has one. Each page is the
    /// column's next `limit` deals newest updated first, with the cursors
    /// [`Store::list_deals`] gives that sort (`-updated_at`); the pages come
    /// in `columns`' order, with the names of their people and companies.
    pub async fn board_columns(
        &self,
        pipeline: PipelineId,
        columns: &[(DealStatus, Option<StageId>, Option<String>)],
        limit: u64,
    ) -> Result<(Vec<Page<Deal>>, CardNames)> {
        let mut parts = Vec::with_capacity(columns.len());
        for (i, (status, stage, cursor)) in columns.iter().enumerate() {
            let (updated_at, id) =
                (Expr::col((deals::Entity, deals::Column::UpdatedAt)), Expr::col((deals::Entity, deals::Column::Id)));
            let mut part = card_select();
            part.expr_as(Expr::cust(i.to_string()), Alias::new("board_column"))
                .and_where(Expr::col((deals::Entity, deals::Column::PipelineId)).eq(pipeline.0))
                .and_where(Expr::col((deals::Entity, deals::Column::Status)).eq(status.as_str()));
            if let Some(stage) = stage {
                part.and_where(Expr::col((deals::Entity, deals::Column::StageId)).eq(stage.0));
            }
            if let Some(cursor) = cursor {
                part.and_where(after_newest(cursor, updated_at.clone(), id.clone())?);
            }
            part.order_by_expr(updated_at, Order::Desc).order_by_expr(id, Order::Desc).limit(limit + 1);
            // Each column its own sub-query: in a compound, SQLite takes ORDER
            // BY and LIMIT only after the last part.
            let part =
                Query::select().column(Asterisk).from_subquery(part, Alias::new(format!("column{i}"))).to_owned();
            parts.push(part);
        }
        let mut names = CardNames::default();
        let Some(union) = union_all(parts) else { return Ok((Vec::new(), names)) };
        let mut rows: Vec<Vec<deals::Model>> = columns.iter().map(|_| Vec::new()).collect();
        for row in self.conn().query_all(&union).await? {
            let column: i32 = row.try_get("", "board_column")?;
            let deal = card_from(&row, &mut names)?;
            usize::try_from(column)
                .ok()
                .and_then(|column| rows.get_mut(column))
                .ok_or_else(|| StorageError::Corrupt(format!("a board row of column {column}, of {}", columns.len())))?
                .push(deal);
        }
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let pages = rows
            .into_iter()
            .map(|mut deals| {
                // A compound keeps no order of its parts' rows: sorted here.
                deals.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
                let next_cursor = if deals.len() > limit {
                    deals.truncate(limit);
                    deals.last().map(|last| newest_cursor(last.updated_at, last.id))
                } else {
                    None
                };
                Page { items: deals, next_cursor }.try_map(deal_from)
            })
            .collect::<Result<_>>()?;
        Ok((pages, names))
    }

    pub async fn get_deal(&self, id: DealId) -> Result<Deal> {
        deal_from(deals::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("deal"))?)
    }

    pub async fn list_deals(&self, query: &ListQuery, filter: &DealFilter) -> Result<Page<Deal>> {
        let mut select = deals::Entity::find();
        if let Some(id) = filter.pipeline_id {
            select = select.filter(deals::Column::PipelineId.eq(id.0));
        }
        if let Some(id) = filter.stage_id {
            select = select.filter(deals::Column::StageId.eq(id.0));
        }
        if let Some(status) = filter.status {
            select = select.filter(deals::Column::Status.eq(status.as_str()));
        }
        if let Some(id) = filter.owner_id {
            select = select.filter(deals::Column::OwnerId.eq(id.0));
        }
        if let Some(id) = filter.person_id {
            select = select.filter(deals::Column::PersonId.eq(id.0));
        }
        if let Some(id) = filter.company_id {
            select = select.filter(deals::Column::CompanyId.eq(id.0));
        }
        select = crate::records::sales::filter_deals(select, filter, self.backend());
        let select = query
            .apply_common(self.conn(), select, EntityType::Deal, "deals", deals::Column::Id, deals::Column::UpdatedAt)
            .await?;
        let far_future = time::Date::from_calendar_date(9999, time::Month::December, 31).expect("a valid date");
        let fields = vec![
            SortField::new("created_at", Expr::col((deals::Entity, deals::Column::CreatedAt)), SortKind::Time),
            SortField::new("updated_at", Expr::col((deals::Entity, deals::Column::UpdatedAt)), SortKind::Time),
            SortField::new("name", Expr::col((deals::Entity, deals::Column::SortName)), SortKind::Text),
            SortField::new("amount", Expr::col((deals::Entity, deals::Column::AmountMinor)), SortKind::Int),
            SortField::new(
                "expected_close",
                Func::coalesce([Expr::col((deals::Entity, deals::Column::ExpectedClose)), Expr::value(far_future)]),
                SortKind::Date,
            ),
            query.relevance(self.backend(), "deals", EntityType::Deal),
        ];
        let page = query
            .fetch(self, select, deals::Column::Id, fields, "-created_at", |d, field| {
                let value = match field {
                    "updated_at" => SortValue::Time(d.updated_at),
                    "name" => SortValue::Text(d.sort_name.clone()),
                    "amount" => SortValue::Int(d.amount_minor),
                    "expected_close" => SortValue::Date(d.expected_close.unwrap_or(far_future)),
                    RELEVANCE => query.relevance_key(&d.search_text, &d.sort_name),
                    _ => SortValue::Time(d.created_at),
                };
                (value, d.id)
            })
            .await?;
        page.try_map(deal_from)
    }

    pub async fn update_deal(
        &self,
        actor: &Actor,
        id: DealId,
        input: DealInput,
        expected_version: Option<i64>,
    ) -> Result<Deal> {
        let w = self.begin_write().await?;
        let row = deals::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("deal"))?;
        let deal = replace_deal(&*w, actor, row, input, expected_version).await?;
        w.commit().await?;
        Ok(deal)
    }

    /// Moves a deal to the trash; gives the trash entry, for an Undo.
    pub async fn delete_deal(&self, actor: &Actor, id: DealId) -> Result<Uuid> {
        let w = self.begin_write().await?;
        let row = deals::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("deal"))?;
        actor.ensure_can(Action::Delete, &ownership(&*w, row.owner_id, row.created_by).await?)?;
        let entry = move_to_trash(
            &*w,
            actor,
            RecordKind::Deals,
            id.0,
            Removal { label: row.name, reason: TrashReason::Deleted, merged_into: None, detail: None },
        )
        .await?;
        w.commit().await?;
        Ok(entry)
    }
}
