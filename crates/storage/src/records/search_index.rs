//! Rewrites the search documents of stored records, for when the way a
//! document is made changes (m0020: accents folded, names ranked). Each
//! record's document is made by the same function its writes use.

use std::collections::HashMap;

use rapport_domain::records::PersonInput;
use sea_orm::prelude::{ColumnTrait, Json};
use sea_orm::sea_query::{Alias, CaseStatement, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{companies as company_records, deals as deal_records, people as people_records};
use crate::entities::{companies, deals, people};
use crate::{Result, StorageError};

/// Records read and rewritten per statement.
const BATCH: u64 = 500;

/// Rewrites every person's, company's and deal's search document.
pub(crate) async fn rewrite_all<C: ConnectionTrait>(conn: &C) -> Result<()> {
    let mut company_names: HashMap<Uuid, String> = HashMap::new();
    let mut after = Uuid::nil();
    loop {
        let rows = batch::<companies::Entity, _>(conn, companies::Column::Id, after).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let mut docs = Vec::with_capacity(rows.len());
        for row in rows {
            company_names.insert(row.id, row.name.clone());
            let company = company_records::company_from(row)?;
            docs.push((company.id.0, company_records::search_text(&company.fields)));
        }
        write(conn, "companies", docs).await?;
    }
    after = Uuid::nil();
    loop {
        let rows = people_batch(conn, after).await?;
        let Some((last, _)) = rows.last() else { break };
        after = *last;
        let mut docs = Vec::with_capacity(rows.len());
        for (id, person) in rows {
            let company = person.company_id.and_then(|id| company_names.get(&id.0));
            docs.push((id, people_records::search_text(&person, company.map(String::as_str))));
        }
        write(conn, "people", docs).await?;
    }
    after = Uuid::nil();
    loop {
        let rows = batch::<deals::Entity, _>(conn, deals::Column::Id, after).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let docs = rows
            .into_iter()
            .map(|row| deal_records::deal_from(row).map(|deal| (deal.id.0, deal_records::search_text(&deal.fields))))
            .collect::<Result<Vec<_>>>()?;
        write(conn, "deals", docs).await?;
    }
    Ok(())
}

/// The next people by id after `after`, read from the columns their
/// documents were made of when m0020 ran: a migration runs before later
/// ones add their columns (m0023's birthday and addresses), so it cannot
/// read whole rows. (People had no addresses then; a later rewrite that
/// must see them reads that column too.)
async fn people_batch<C: ConnectionTrait>(conn: &C, after: Uuid) -> Result<Vec<(Uuid, PersonInput)>> {
    type Row = (Uuid, String, Option<String>, Json, Json, Option<Uuid>);
    let rows: Vec<Row> = people::Entity::find()
        .select_only()
        .columns([
            people::Column::Id,
            people::Column::FirstName,
            people::Column::LastName,
            people::Column::Emails,
            people::Column::Phones,
            people::Column::CompanyId,
        ])
        .filter(people::Column::Id.gt(after))
        .order_by_asc(people::Column::Id)
        .limit(BATCH)
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(id, first_name, last_name, emails, phones, company_id)| {
            let fields = serde_json::json!({
                "first_name": first_name, "last_name": last_name, "emails": emails, "phones": phones,
                "company_id": company_id,
            });
            let person =
                serde_json::from_value(fields).map_err(|err| StorageError::Corrupt(format!("person {id}: {err}")))?;
            Ok((id, person))
        })
        .collect()
}

/// The next rows by id after `after`.
async fn batch<E: EntityTrait, C: ConnectionTrait>(conn: &C, id: E::Column, after: Uuid) -> Result<Vec<E::Model>> {
    Ok(E::find().filter(Expr::col((E::default(), id)).gt(after)).order_by_asc(id).limit(BATCH).all(conn).await?)
}

/// Sets the search documents of a batch of rows in one statement.
async fn write<C: ConnectionTrait>(conn: &C, table: &str, docs: Vec<(Uuid, String)>) -> Result<()> {
    if docs.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = docs.iter().map(|(id, _)| *id).collect();
    let mut case = CaseStatement::new();
    for (id, doc) in docs {
        case = case.case(Expr::col("id").eq(id), doc);
    }
    let update = Query::update()
        .table(Alias::new(table))
        .value(Alias::new("search_text"), case.finally(Expr::col("search_text")))
        .and_where(Expr::col("id").is_in(ids))
        .to_owned();
    conn.execute(&update).await?;
    Ok(())
}
