//! Saved views: each staff member's own named list queries.

use rapport_domain::records::now;
use rapport_domain::views::{ListKind, SavedView, SavedViewInput};
use rapport_domain::{Actor, ViewId};
use sea_orm::prelude::*;
use sea_orm::{ActiveModelTrait, QueryOrder, Set};

use crate::common::{parse, parse_with};
use crate::entities::saved_views;
use crate::{Result, StorageError, Store};

fn view_from(row: saved_views::Model) -> Result<SavedView> {
    Ok(SavedView {
        id: ViewId(row.id),
        user_id: row.user_id.into(),
        fields: SavedViewInput {
            list: parse_with(&row.list, "view list", ListKind::parse)?,
            name: parse(row.name, "view name")?,
            query: parse(row.query, "view query")?,
        },
        created_at: row.created_at,
    })
}

impl Store {
    /// Saves a view for the actor; a view of the same name on the same list is replaced.
    pub async fn save_view(&self, actor: &Actor, input: SavedViewInput) -> Result<SavedView> {
        let w = self.begin_write().await?;
        saved_views::Entity::delete_many()
            .filter(saved_views::Column::UserId.eq(actor.user_id.0))
            .filter(saved_views::Column::List.eq(input.list.as_str()))
            .filter(saved_views::Column::Name.eq(input.name.as_str()))
            .exec(&*w)
            .await?;
        let row = saved_views::ActiveModel {
            id: Set(ViewId::new().0),
            user_id: Set(actor.user_id.0),
            list: Set(input.list.as_str().to_owned()),
            name: Set(input.name.to_string()),
            query: Set(input.query.as_str().to_owned()),
            created_at: Set(now()),
        }
        .insert(&*w)
        .await?;
        w.commit().await?;
        view_from(row)
    }

    /// The actor's views, of one list or of all, by name.
    pub async fn list_views(&self, actor: &Actor, list: Option<ListKind>) -> Result<Vec<SavedView>> {
        let mut select = saved_views::Entity::find().filter(saved_views::Column::UserId.eq(actor.user_id.0));
        if let Some(list) = list {
            select = select.filter(saved_views::Column::List.eq(list.as_str()));
        }
        select
            .order_by_asc(saved_views::Column::List)
            .order_by_asc(saved_views::Column::Name)
            .all(self.conn())
            .await?
            .into_iter()
            .map(view_from)
            .collect()
    }

    /// Deletes one of the actor's own views; another user's view is not found.
    pub async fn delete_view(&self, actor: &Actor, id: ViewId) -> Result<()> {
        let deleted = saved_views::Entity::delete_many()
            .filter(saved_views::Column::Id.eq(id.0))
            .filter(saved_views::Column::UserId.eq(actor.user_id.0))
            .exec(self.conn())
            .await?;
        if deleted.rows_affected == 0 {
            return Err(StorageError::NotFound("view"));
        }
        Ok(())
    }
}
