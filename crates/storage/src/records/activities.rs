//! Activities: notes, calls, emails, meetings and messages on a timeline.

use rapport_domain::access::Action;
use rapport_domain::records::{Activity, ActivityInput, ActivityKind, Direction, Links, normalize_timestamp, now};
use rapport_domain::text::Name;
use rapport_domain::{ActivityId, Actor, CompanyId, DealId, PersonId, UserId};
use sea_orm::prelude::*;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ConnectionTrait, Set};
use std::collections::{BTreeSet, HashSet};

use crate::common::*;
use crate::entities::{activities, companies, deals, people};
use crate::history;
use crate::listing::{SortField, SortKind, SortValue};
use crate::records::people::{refresh_last_contacted, refresh_last_contacted_of};
use crate::records::sales::on_days;
use crate::trash::{Removal, move_to_trash};
use crate::{ListQuery, Page, Result, StorageError, Store};
use rapport_domain::history::{RecordKind, TrashReason};

#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityFilter {
    pub person_id: Option<PersonId>,
    pub company_id: Option<CompanyId>,
    pub deal_id: Option<DealId>,
    pub author_id: Option<UserId>,
    pub kind: Option<ActivityKind>,
    /// Only activities of this staff member: their author, or who logged
    /// them when no author is named (as the sales report counts them).
    pub staff_id: Option<UserId>,
    /// `false`: only activities with neither an author nor who logged them.
    pub has_staff: Option<bool>,
    /// Only activities that happened on or after this day, `YYYY-MM-DD` (UTC).
    #[serde(default, with = "rapport_domain::time_input::date::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub occurred_from: Option<time::Date>,
    /// Only activities that happened on or before this day, `YYYY-MM-DD` (UTC).
    #[serde(default, with = "rapport_domain::time_input::date::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub occurred_to: Option<time::Date>,
}

impl crate::listing::ListShape for ActivityFilter {
    const SORTS: &'static [&'static str] = &["occurred_at", "created_at"];
    const SEARCH_AND_TAGS: bool = false;
}

pub(crate) fn activity_from(row: activities::Model) -> Result<Activity> {
    Ok(Activity {
        id: ActivityId(row.id),
        fields: ActivityInput {
            kind: parse_with(&row.kind, "activity kind", ActivityKind::parse)?,
            direction: Some(parse_with(&row.direction, "direction", Direction::parse)?),
            occurred_at: Some(row.occurred_at),
            subject: parse_opt(row.subject, "subject")?,
            body: parse_opt(row.body, "body")?,
            author_id: row.author_id.map(UserId),
            links: Links {
                person_id: row.person_id.map(PersonId),
                company_id: row.company_id.map(CompanyId),
                deal_id: row.deal_id.map(DealId),
            },
        },
        external_id: parse_opt(row.external_id, "external id")?,
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

/// Every link must point at a record that exists.
pub(crate) async fn check_links<C: ConnectionTrait>(conn: &C, links: &Links) -> Result<()> {
    LinkedRecords::read(conn, &[links]).await?.check(links)
}

fn fill(active: &mut activities::ActiveModel, input: &ActivityInput) {
    active.kind = Set(input.kind.as_str().to_owned());
    active.direction = Set(input.direction.unwrap_or(Direction::Internal).as_str().to_owned());
    active.occurred_at = Set(input.occurred_at.unwrap_or_else(now));
    active.subject = Set(input.subject.as_ref().map(|s| s.to_string()));
    active.body = Set(input.body.as_ref().map(|b| b.to_string()));
    active.author_id = Set(input.author_id.map(|u| u.0));
    active.person_id = Set(input.links.person_id.map(|p| p.0));
    active.company_id = Set(input.links.company_id.map(|c| c.0));
    active.deal_id = Set(input.links.deal_id.map(|d| d.0));
}

pub(crate) async fn insert_activity<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    input: ActivityInput,
) -> Result<Activity> {
    only_outcome(insert_activities(conn, actor, vec![input]).await?, "activity")
}

/// The records a batch of activities links to, looked up once for all.
struct LinkedRecords {
    people: HashSet<Uuid>,
    companies: HashSet<Uuid>,
    deals: HashSet<Uuid>,
}

impl LinkedRecords {
    async fn read<C: ConnectionTrait>(conn: &C, links: &[&Links]) -> Result<Self> {
        Ok(LinkedRecords {
            people: existing_ids::<people::Entity, _>(conn, links.iter().filter_map(|l| l.person_id.map(|p| p.0)))
                .await?,
            companies: existing_ids::<companies::Entity, _>(
                conn,
                links.iter().filter_map(|l| l.company_id.map(|c| c.0)),
            )
            .await?,
            deals: existing_ids::<deals::Entity, _>(conn, links.iter().filter_map(|l| l.deal_id.map(|d| d.0))).await?,
        })
    }

    /// Every link must point at a record that exists.
    fn check(&self, links: &Links) -> Result<()> {
        if let Some(id) = links.person_id
            && !self.people.contains(&id.0)
        {
            return Err(no_such("person_id", "person"));
        }
        if let Some(id) = links.company_id
            && !self.companies.contains(&id.0)
        {
            return Err(no_such("company_id", "company"));
        }
        if let Some(id) = links.deal_id
            && !self.deals.contains(&id.0)
        {
            return Err(no_such("deal_id", "deal"));
        }
        Ok(())
    }
}

/// Records activities together: each input is checked as one create would
/// check it, with the records they link to looked up once for all, and the
/// valid ones written with a few multi-row statements; each person's last
/// contact is then worked out once. The outcomes come back in input order;
/// a refused input writes nothing, and a database error fails the call.
pub(crate) async fn insert_activities<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    inputs: Vec<ActivityInput>,
) -> Result<Vec<Result<Activity>>> {
    insert_activities_known_as(conn, actor, inputs.into_iter().map(|input| (input, None)).collect()).await
}

/// `insert_activities`, each with the external id another system knows it
/// by (an import's; the caller has made sure nothing holds it yet).
pub(crate) async fn insert_activities_known_as<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    inputs: Vec<(ActivityInput, Option<Name>)>,
) -> Result<Vec<Result<Activity>>> {
    let linked = LinkedRecords::read(conn, &inputs.iter().map(|(i, _)| &i.links).collect::<Vec<_>>()).await?;
    let mut users = Users::default();
    let now = now();
    let mut rows = Vec::with_capacity(inputs.len());
    let mut contacted = BTreeSet::new();
    let mut outcomes = Vec::with_capacity(inputs.len());
    for (mut input, external_id) in inputs {
        let checked = async {
            actor.ensure_can_create()?;
            input.check()?;
            linked.check(&input.links)?;
            let author = *input.author_id.get_or_insert(actor.user_id);
            users.check_assignment(conn, actor, Some(author), Some(actor.user_id.0), "author_id").await?;
            Ok::<(), StorageError>(())
        }
        .await;
        if let Err(refused) = checked {
            outcomes.push(Err(refused));
            continue;
        }
        let id = ActivityId::new();
        let mut active = activities::ActiveModel {
            id: Set(id.0),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(Some(actor.user_id.0)),
            version: Set(1),
            external_id: Set(external_id.as_ref().map(|e| e.to_string())),
            ..Default::default()
        };
        fill(&mut active, &input);
        rows.push(active);
        contacted.extend(input.links.person_id.map(|p| p.0));
        outcomes.push(Ok(Activity { id, fields: input, external_id, meta: meta(now, now, Some(actor.user_id.0), 1) }));
    }
    insert_all(conn, rows).await?;
    refresh_last_contacted_of(conn, contacted).await?;
    history::created_all(conn, actor, outcomes.iter().filter_map(|outcome| outcome.as_ref().ok())).await?;
    Ok(outcomes)
}

/// Replaces a stored activity inside the caller's transaction, after the access and version checks.
pub(crate) async fn replace_activity<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: activities::Model,
    mut input: ActivityInput,
    expected_version: Option<i64>,
) -> Result<Activity> {
    input.check()?;
    actor.ensure_can(Action::Edit, &ownership(conn, row.author_id, row.created_by).await?)?;
    check_version(expected_version, row.version)?;
    let previous = activity_from(row.clone())?;
    check_links(conn, &input.links).await?;
    check_assignment(conn, actor, input.author_id, row.author_id, "author_id").await?;
    let previous_person = row.person_id;
    let version = row.version;
    let mut active: activities::ActiveModel = row.into();
    fill(&mut active, &input);
    active.updated_at = Set(now());
    active.version = Set(version + 1);
    let row = save(conn, active, activities::Column::Version, version).await?;
    for person in [previous_person, row.person_id].into_iter().flatten() {
        refresh_last_contacted(conn, person).await?;
    }
    history::updated(conn, actor, &previous, activity_from(row)?).await
}

impl Store {
    pub async fn get_activity(&self, id: ActivityId) -> Result<Activity> {
        activity_from(
            activities::Entity::find_by_id(id.0)
                .by_key(self.conn())
                .await?
                .ok_or(StorageError::NotFound("activity"))?,
        )
    }

    pub async fn list_activities(&self, query: &ListQuery, filter: &ActivityFilter) -> Result<Page<Activity>> {
        query.refuse_search_and_tags()?;
        let mut select = activities::Entity::find();
        if let Some(id) = filter.person_id {
            select = select.filter(activities::Column::PersonId.eq(id.0));
        }
        if let Some(id) = filter.company_id {
            select = select.filter(activities::Column::CompanyId.eq(id.0));
        }
        if let Some(id) = filter.deal_id {
            select = select.filter(activities::Column::DealId.eq(id.0));
        }
        if let Some(id) = filter.author_id {
            select = select.filter(activities::Column::AuthorId.eq(id.0));
        }
        if let Some(kind) = filter.kind {
            select = select.filter(activities::Column::Kind.eq(kind.as_str()));
        }
        if let Some(id) = filter.staff_id {
            select = select.filter(
                Condition::any().add(activities::Column::AuthorId.eq(id.0)).add(
                    Condition::all()
                        .add(activities::Column::AuthorId.is_null())
                        .add(activities::Column::CreatedBy.eq(id.0)),
                ),
            );
        }
        if let Some(named) = filter.has_staff {
            let nobody = Condition::all()
                .add(activities::Column::AuthorId.is_null())
                .add(activities::Column::CreatedBy.is_null());
            select = select.filter(if named { nobody.not() } else { nobody });
        }
        select = select.filter(on_days(activities::Column::OccurredAt, filter.occurred_from, filter.occurred_to));
        if let Some(since) = query.updated_since {
            select = select.filter(activities::Column::UpdatedAt.gte(normalize_timestamp(since)));
        }
        let fields = vec![
            SortField::new(
                "occurred_at",
                Expr::col((activities::Entity, activities::Column::OccurredAt)),
                SortKind::Time,
            ),
            SortField::new(
                "created_at",
                Expr::col((activities::Entity, activities::Column::CreatedAt)),
                SortKind::Time,
            ),
        ];
        let page = query
            .fetch(self, select, activities::Column::Id, fields, "-occurred_at", |a, field| {
                let value = match field {
                    "created_at" => SortValue::Time(a.created_at),
                    _ => SortValue::Time(a.occurred_at),
                };
                (value, a.id)
            })
            .await?;
        page.try_map(activity_from)
    }

    pub async fn update_activity(
        &self,
        actor: &Actor,
        id: ActivityId,
        input: ActivityInput,
        expected_version: Option<i64>,
    ) -> Result<Activity> {
        let w = self.begin_write().await?;
        let row = activities::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("activity"))?;
        let activity = replace_activity(&*w, actor, row, input, expected_version).await?;
        w.commit().await?;
        Ok(activity)
    }

    pub async fn delete_activity(&self, actor: &Actor, id: ActivityId) -> Result<()> {
        let w = self.begin_write().await?;
        let row = activities::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("activity"))?;
        actor.ensure_can(Action::Delete, &ownership(&*w, row.author_id, row.created_by).await?)?;
        let label = row.subject.clone().unwrap_or_else(|| format!("{} on {}", row.kind, row.occurred_at.date()));
        move_to_trash(
            &*w,
            actor,
            RecordKind::Activities,
            id.0,
            Removal { label, reason: TrashReason::Deleted, merged_into: None, detail: None },
        )
        .await?;
        w.commit().await
    }
}
