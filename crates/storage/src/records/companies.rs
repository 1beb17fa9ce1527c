//! Companies: the organisations people work for.

use rapport_domain::access::Action;
use rapport_domain::custom_fields::EntityType;
use rapport_domain::records::{Company, CompanyInput, CompanySize, now};
use rapport_domain::{Actor, CompanyId, UserId};
use sea_orm::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, Set};

use crate::common::*;
use crate::entities::companies;
use crate::history;
use crate::listing::{RELEVANCE, SortField, SortKind, SortValue};
use crate::trash::{Removal, move_to_trash};
use crate::{ListQuery, Page, Result, StorageError, Store};
use rapport_domain::history::{RecordKind, TrashReason};

#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompanyFilter {
    pub owner_id: Option<UserId>,
}

impl crate::listing::ListShape for CompanyFilter {
    const SORTS: &'static [&'static str] = &["name", "created_at", "updated_at", RELEVANCE];
    const SEARCH_AND_TAGS: bool = true;
    const CONDITIONS: &'static [rapport_domain::conditions::FieldSpec] = rapport_domain::conditions::COMPANIES;
}

pub(crate) fn company_from(row: companies::Model) -> Result<Company> {
    Ok(Company {
        id: CompanyId(row.id),
        fields: CompanyInput {
            name: parse(row.name, "company name")?,
            domain: parse_opt(row.domain, "domain")?,
            industry: parse_opt(row.industry, "industry")?,
            size: row.size.map(|s| parse_with(&s, "company size", CompanySize::parse)).transpose()?,
            owner_id: row.owner_id.map(UserId),
            tags: from_json(row.tags, "tags")?,
            external_id: parse_opt(row.external_id, "external id")?,
            custom_fields: from_json(row.custom_fields, "custom fields")?,
        },
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

/// A company is found and ranked by name and domain.
pub(crate) fn search_text(input: &CompanyInput) -> String {
    rapport_domain::search::document(
        [input.name.as_str()].into_iter().chain(input.domain.as_ref().map(|d| d.as_str())),
        [],
    )
}

fn domain_taken(err: StorageError) -> StorageError {
    match err {
        StorageError::Conflict(_) => another_has_domain(),
        other => other,
    }
}

fn another_has_domain() -> StorageError {
    StorageError::Conflict("another company has this domain".into())
}

pub(crate) async fn insert_company<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    input: CompanyInput,
) -> Result<Company> {
    only_outcome(insert_companies(conn, actor, vec![input]).await?, "company")
}

/// Creates companies together: each input is checked as one create would
/// check it (its domain and external id free, also among the inputs before
/// it), with what they share read once for all of them, and the valid ones
/// are written with a few multi-row statements (companies, index rows,
/// history). The outcomes come back in input order; a refused input writes
/// nothing, and a database error fails the call.
pub(crate) async fn insert_companies<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    inputs: Vec<CompanyInput>,
) -> Result<Vec<Result<Company>>> {
    let definitions = definitions(conn, EntityType::Company).await?;
    let mut external_ids = ids_by_external_id::<companies::Entity, _>(
        conn,
        inputs.iter().filter_map(|i| i.external_id.as_ref().map(|e| e.as_str())),
    )
    .await?;
    let mut domains = existing_values::<companies::Entity, _, _>(
        conn,
        companies::Column::Domain,
        inputs.iter().filter_map(|i| i.domain.as_ref().map(|d| d.as_str().to_owned())),
    )
    .await?;
    let mut users = Users::default();
    let now = now();
    let mut rows = Vec::with_capacity(inputs.len());
    let mut index = IndexRows::default();
    let mut outcomes = Vec::with_capacity(inputs.len());
    for mut input in inputs {
        let checked = async {
            actor.ensure_can_create()?;
            input.check()?;
            let (checked, stored) = checked_values(&definitions, &input.custom_fields)?;
            input.custom_fields = stored;
            users.check_assignment(conn, actor, input.owner_id, None, "owner_id").await?;
            if let Some(external) = &input.external_id
                && let Some(&holder) = external_ids.get(external.as_str())
            {
                return Err(taken_external_id(external, holder, "company"));
            }
            if input.domain.as_ref().is_some_and(|d| domains.contains(d.as_str())) {
                return Err(another_has_domain());
            }
            Ok::<_, StorageError>(checked)
        }
        .await;
        let Some(checked) = passed(checked, &mut outcomes)? else { continue };
        let id = CompanyId::new();
        if let Some(external) = &input.external_id {
            external_ids.insert(external.to_string(), id.0);
        }
        if let Some(domain) = &input.domain {
            domains.insert(domain.as_str().to_owned());
        }
        rows.push(companies::ActiveModel {
            id: Set(id.0),
            name: Set(input.name.to_string()),
            domain: Set(input.domain.as_ref().map(|d| d.as_str().to_owned())),
            industry: Set(input.industry.as_ref().map(|n| n.to_string())),
            size: Set(input.size.map(|s| s.as_str().to_owned())),
            owner_id: Set(input.owner_id.map(|u| u.0)),
            tags: Set(to_json(&input.tags)),
            custom_fields: Set(to_json(&input.custom_fields)),
            search_text: Set(search_text(&input)),
            sort_name: Set(input.name.as_str().to_lowercase()),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(Some(actor.user_id.0)),
            version: Set(1),
            external_id: Set(input.external_id.as_ref().map(|e| e.to_string())),
        });
        index.add(EntityType::Company, id.0, &input.tags, &checked);
        outcomes.push(Ok(Company { id, fields: input, meta: meta(now, now, Some(actor.user_id.0), 1) }));
    }
    // The unique index stays the last word on a domain taken meanwhile.
    insert_all(conn, rows).await.map_err(domain_taken)?;
    index.write(conn).await?;
    history::created_all(conn, actor, outcomes.iter().filter_map(|outcome| outcome.as_ref().ok())).await?;
    Ok(outcomes)
}

/// Replaces a stored company's fields inside the caller's transaction, after
/// the access check and, when the client sent one, the version check.
pub(crate) async fn replace_company<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: companies::Model,
    input: CompanyInput,
    expected_version: Option<i64>,
) -> Result<Company> {
    actor.ensure_can(Action::Edit, &ownership(conn, row.owner_id, row.created_by).await?)?;
    check_version(expected_version, row.version)?;
    let previous = company_from(row.clone())?;
    let company = write_company(conn, actor, row, input).await?;
    history::updated(conn, actor, &previous, company).await
}

/// Writes a stored company's new fields, raising the version, without a
/// history entry: the caller checked the access and records what happened.
pub(crate) async fn write_company<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: companies::Model,
    mut input: CompanyInput,
) -> Result<Company> {
    input.check()?;
    let id = row.id;
    let (checked, stored) = check_custom(conn, EntityType::Company, &input.custom_fields).await?;
    input.custom_fields = stored;
    check_assignment(conn, actor, input.owner_id, row.owner_id, "owner_id").await?;
    refuse_taken_external_id::<companies::Entity, _>(conn, input.external_id.as_ref(), Some(id), "company").await?;
    let renamed = row.name != input.name.as_str();
    let version = row.version;
    let mut active: companies::ActiveModel = row.into();
    active.name.set_ne(input.name.to_string());
    active.domain.set_ne(input.domain.as_ref().map(|d| d.as_str().to_owned()));
    active.industry.set_ne(input.industry.as_ref().map(|n| n.to_string()));
    active.size.set_ne(input.size.map(|s| s.as_str().to_owned()));
    active.owner_id.set_ne(input.owner_id.map(|u| u.0));
    active.tags.set_ne(to_json(&input.tags));
    active.external_id.set_ne(input.external_id.as_ref().map(|e| e.to_string()));
    active.custom_fields.set_ne(to_json(&input.custom_fields));
    active.search_text.set_ne(search_text(&input));
    active.sort_name.set_ne(input.name.as_str().to_lowercase());
    active.updated_at = Set(now());
    active.version = Set(version + 1);
    let row = save(conn, active, companies::Column::Version, version).await.map_err(domain_taken)?;
    write_index_rows(conn, EntityType::Company, id, &input.tags, &checked).await?;
    if renamed {
        super::people::refresh_company_people(conn, id, Some(input.name.as_str())).await?;
    }
    company_from(row)
}

impl Store {
    pub async fn get_company(&self, id: CompanyId) -> Result<Company> {
        company_from(
            companies::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("company"))?,
        )
    }

    pub async fn list_companies(&self, query: &ListQuery, filter: &CompanyFilter) -> Result<Page<Company>> {
        let mut select = companies::Entity::find();
        if let Some(owner) = filter.owner_id {
            select = select.filter(companies::Column::OwnerId.eq(owner.0));
        }
        let select = query
            .apply_common(
                self.conn(),
                select,
                EntityType::Company,
                "companies",
                companies::Column::Id,
                companies::Column::UpdatedAt,
            )
            .await?;
        let fields = vec![
            SortField::new("name", Expr::col((companies::Entity, companies::Column::SortName)), SortKind::Text),
            SortField::new("created_at", Expr::col((companies::Entity, companies::Column::CreatedAt)), SortKind::Time),
            SortField::new("updated_at", Expr::col((companies::Entity, companies::Column::UpdatedAt)), SortKind::Time),
            query.relevance(self.backend(), "companies", EntityType::Company),
        ];
        let page = query
            .fetch(self, select, companies::Column::Id, fields, "name", |c, field| {
                let value = match field {
                    "created_at" => SortValue::Time(c.created_at),
                    "updated_at" => SortValue::Time(c.updated_at),
                    RELEVANCE => query.relevance_key(&c.search_text, &c.sort_name),
                    _ => SortValue::Text(c.sort_name.clone()),
                };
                (value, c.id)
            })
            .await?;
        page.try_map(company_from)
    }

    pub async fn update_company(
        &self,
        actor: &Actor,
        id: CompanyId,
        input: CompanyInput,
        expected_version: Option<i64>,
    ) -> Result<Company> {
        let w = self.begin_write().await?;
        let row = companies::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("company"))?;
        let company = replace_company(&*w, actor, row, input, expected_version).await?;
        w.commit().await?;
        Ok(company)
    }

    /// Moves a company to the trash with its activities; its people and
    /// deals stay, unlinked until the company is restored. Gives the trash
    /// entry the delete made, for an Undo.
    pub async fn delete_company(&self, actor: &Actor, id: CompanyId) -> Result<Uuid> {
        let w = self.begin_write().await?;
        let row = companies::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("company"))?;
        actor.ensure_can(Action::Delete, &ownership(&*w, row.owner_id, row.created_by).await?)?;
        let entry = move_to_trash(
            &*w,
            actor,
            RecordKind::Companies,
            id.0,
            Removal { label: row.name, reason: TrashReason::Deleted, merged_into: None, detail: None },
        )
        .await?;
        w.commit().await?;
        Ok(entry)
    }
}
