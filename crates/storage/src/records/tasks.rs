//! Tasks and reminders, with a due time and an assignee.

use rapport_domain::access::Action;
use rapport_domain::records::{Links, Task, TaskInput, normalize_timestamp, now};
use rapport_domain::{Actor, CompanyId, DealId, PersonId, TaskId, UserId};
use sea_orm::prelude::*;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::common::*;
use crate::entities::tasks;
use crate::history;
use crate::listing::{SortField, SortKind, SortValue};
use crate::records::activities::check_links;
use crate::records::sales::{on_days, presence};
use crate::trash::{Removal, move_to_trash};
use crate::{ListQuery, Page, Result, StorageError, Store};
use rapport_domain::history::{RecordKind, TrashReason};

#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskFilter {
    pub assignee_id: Option<UserId>,
    pub person_id: Option<PersonId>,
    pub company_id: Option<CompanyId>,
    pub deal_id: Option<DealId>,
    /// `Some(true)`: only tasks not done; `Some(false)`: only done ones.
    pub open: Option<bool>,
    /// Only tasks due before this time (RFC 3339, or a date for midnight UTC).
    #[serde(default, with = "rapport_domain::time_input::option")]
    pub due_before: Option<time::OffsetDateTime>,
    /// `false`: only tasks nobody is assigned; `true`: only assigned ones.
    pub has_assignee: Option<bool>,
    /// Only tasks done on or after this day, `YYYY-MM-DD` (UTC).
    #[serde(default, with = "rapport_domain::time_input::date::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub done_from: Option<time::Date>,
    /// Only tasks done on or before this day, `YYYY-MM-DD` (UTC).
    #[serde(default, with = "rapport_domain::time_input::date::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub done_to: Option<time::Date>,
}

impl crate::listing::ListShape for TaskFilter {
    const SORTS: &'static [&'static str] = &["due_at", "created_at", "updated_at"];
    const SEARCH_AND_TAGS: bool = false;
}

pub(crate) fn task_from(row: tasks::Model) -> Result<Task> {
    Ok(Task {
        id: TaskId(row.id),
        fields: TaskInput {
            title: parse(row.title, "task title")?,
            notes: parse_opt(row.notes, "task notes")?,
            due_at: row.due_at,
            assignee_id: row.assignee_id.map(UserId),
            done: row.done_at.is_some(),
            links: Links {
                person_id: row.person_id.map(PersonId),
                company_id: row.company_id.map(CompanyId),
                deal_id: row.deal_id.map(DealId),
            },
        },
        done_at: row.done_at,
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

fn fill(active: &mut tasks::ActiveModel, input: &TaskInput) {
    active.title = Set(input.title.to_string());
    active.notes = Set(input.notes.as_ref().map(|n| n.to_string()));
    active.due_at = Set(input.due_at);
    active.assignee_id = Set(input.assignee_id.map(|u| u.0));
    active.person_id = Set(input.links.person_id.map(|p| p.0));
    active.company_id = Set(input.links.company_id.map(|c| c.0));
    active.deal_id = Set(input.links.deal_id.map(|d| d.0));
}

pub(crate) async fn insert_task<C: ConnectionTrait>(conn: &C, actor: &Actor, mut input: TaskInput) -> Result<Task> {
    actor.ensure_can_create()?;
    input.check()?;
    check_links(conn, &input.links).await?;
    let assignee = *input.assignee_id.get_or_insert(actor.user_id);
    check_assignment(conn, actor, Some(assignee), Some(actor.user_id.0), "assignee_id").await?;
    let now = now();
    let mut active = tasks::ActiveModel {
        id: Set(TaskId::new().0),
        done_at: Set(input.done.then_some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(Some(actor.user_id.0)),
        version: Set(1),
        ..Default::default()
    };
    fill(&mut active, &input);
    history::created(conn, actor, task_from(active.insert(conn).await?)?).await
}

/// Replaces a stored task inside the caller's transaction, after the access and version checks.
pub(crate) async fn replace_task<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: tasks::Model,
    mut input: TaskInput,
    expected_version: Option<i64>,
) -> Result<Task> {
    input.check()?;
    let previous = task_from(row.clone())?;
    actor.ensure_can(Action::Edit, &ownership(conn, row.assignee_id, row.created_by).await?)?;
    check_version(expected_version, row.version)?;
    check_links(conn, &input.links).await?;
    check_assignment(conn, actor, input.assignee_id, row.assignee_id, "assignee_id").await?;
    let done_at = match (input.done, row.done_at) {
        (true, Some(at)) => Some(at),
        (true, None) => Some(now()),
        (false, _) => None,
    };
    let version = row.version;
    let mut active: tasks::ActiveModel = row.into();
    fill(&mut active, &input);
    active.done_at = Set(done_at);
    active.updated_at = Set(now());
    active.version = Set(version + 1);
    let row = save(conn, active, tasks::Column::Version, version).await?;
    history::updated(conn, actor, &previous, task_from(row)?).await
}

impl Store {
    pub async fn get_task(&self, id: TaskId) -> Result<Task> {
        task_from(tasks::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("task"))?)
    }

    pub async fn list_tasks(&self, query: &ListQuery, filter: &TaskFilter) -> Result<Page<Task>> {
        query.refuse_search_and_tags()?;
        let mut select = tasks::Entity::find();
        if let Some(id) = filter.assignee_id {
            select = select.filter(tasks::Column::AssigneeId.eq(id.0));
        }
        if let Some(id) = filter.person_id {
            select = select.filter(tasks::Column::PersonId.eq(id.0));
        }
        if let Some(id) = filter.company_id {
            select = select.filter(tasks::Column::CompanyId.eq(id.0));
        }
        if let Some(id) = filter.deal_id {
            select = select.filter(tasks::Column::DealId.eq(id.0));
        }
        match filter.open {
            Some(true) => select = select.filter(tasks::Column::DoneAt.is_null()),
            Some(false) => select = select.filter(tasks::Column::DoneAt.is_not_null()),
            None => {}
        }
        if let Some(before) = filter.due_before {
            select = select.filter(tasks::Column::DueAt.lt(normalize_timestamp(before)));
        }
        if let Some(assigned) = filter.has_assignee {
            select = select.filter(presence(tasks::Column::AssigneeId, assigned));
        }
        select = select.filter(on_days(tasks::Column::DoneAt, filter.done_from, filter.done_to));
        if let Some(since) = query.updated_since {
            select = select.filter(tasks::Column::UpdatedAt.gte(normalize_timestamp(since)));
        }
        // Tasks without a due time sort after every dated one. With a
        // due-before filter every task has one, so the plain column sorts
        // alike and `tasks_assignee` gives it in order: the home page reads
        // its first ten instead of sorting every due task of the assignee.
        let undated = time::macros::datetime!(9999-12-31 0:00 UTC);
        let due_at = Expr::col((tasks::Entity, tasks::Column::DueAt));
        let due_order: Expr = match filter.due_before {
            Some(_) => due_at,
            None => Func::coalesce([due_at, Expr::value(undated)]).into(),
        };
        let fields = vec![
            SortField::new("due_at", due_order, SortKind::Time),
            SortField::new("created_at", Expr::col((tasks::Entity, tasks::Column::CreatedAt)), SortKind::Time),
            SortField::new("updated_at", Expr::col((tasks::Entity, tasks::Column::UpdatedAt)), SortKind::Time),
        ];
        let page = query
            .fetch(self, select, tasks::Column::Id, fields, "due_at", |t, field| {
                let value = match field {
                    "created_at" => SortValue::Time(t.created_at),
                    "updated_at" => SortValue::Time(t.updated_at),
                    _ => SortValue::Time(t.due_at.unwrap_or(undated)),
                };
                (value, t.id)
            })
            .await?;
        page.try_map(task_from)
    }

    pub async fn update_task(
        &self,
        actor: &Actor,
        id: TaskId,
        input: TaskInput,
        expected_version: Option<i64>,
    ) -> Result<Task> {
        let w = self.begin_write().await?;
        let row = tasks::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("task"))?;
        let record = replace_task(&*w, actor, row, input, expected_version).await?;
        w.commit().await?;
        Ok(record)
    }

    pub async fn delete_task(&self, actor: &Actor, id: TaskId) -> Result<()> {
        let w = self.begin_write().await?;
        let row = tasks::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("task"))?;
        actor.ensure_can(Action::Delete, &ownership(&*w, row.assignee_id, row.created_by).await?)?;
        move_to_trash(
            &*w,
            actor,
            RecordKind::Tasks,
            id.0,
            Removal { label: row.title, reason: TrashReason::Deleted, merged_into: None, detail: None },
        )
        .await?;
        w.commit().await
    }
}
