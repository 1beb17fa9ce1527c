//! Rewrites the search documents of stored records, for when the way a
//! document is made changes (m0020: accents folded, names ranked). Each
//! record's document is made by the same function its writes use.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, CaseStatement, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{companies as company_records, deals as deal_records, people as people_records};
use crate::Result;
use crate::entities::{companies, deals, people};

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
        let rows = batch::<people::Entity, _>(conn, people::Column::Id, after).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let mut docs = Vec::with_capacity(rows.len());
        for row in rows {
            let person = people_records::person_from(row)?;
            let company = person.fields.company_id.and_then(|id| company_names.get(&id.0));
            docs.push((person.id.0, people_records::search_text(&person.fields, company.map(String::as_str))));
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
