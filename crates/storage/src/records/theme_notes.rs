//! "You said, we did": notes managers and admins write on a feedback theme
//! about what was done, filed under the theme's name in lower case.

use crate::common::ByKey;
use rapport_domain::records::now;
use rapport_domain::surveys::{ThemeNote, ThemeNoteInput};
use rapport_domain::{Actor, ThemeNoteId, UserId};
use sea_orm::prelude::*;
use sea_orm::{ActiveModelTrait, QueryOrder, QuerySelect, Set};

use crate::entities::feedback_theme_notes;
use crate::{Result, StorageError, Store};

fn note_from(row: feedback_theme_notes::Model) -> ThemeNote {
    ThemeNote {
        id: ThemeNoteId(row.id),
        theme: row.theme,
        body: row.body,
        author_id: row.author_id.map(UserId),
        created_at: row.created_at,
    }
}

impl Store {
    pub async fn add_theme_note(&self, actor: &Actor, input: ThemeNoteInput) -> Result<ThemeNote> {
        actor.ensure_can_see_everyone().map_err(|_| {
            StorageError::from(rapport_domain::access::Denied("only managers and admins write notes on themes"))
        })?;
        let row = feedback_theme_notes::ActiveModel {
            id: Set(ThemeNoteId::new().0),
            theme_key: Set(ThemeNoteInput::theme_key(input.theme.as_str())),
            theme: Set(input.theme.to_string()),
            body: Set(input.body.to_string()),
            author_id: Set(Some(actor.user_id.0)),
            created_at: Set(now()),
        }
        .insert(self.conn())
        .await?;
        Ok(note_from(row))
    }

    /// Notes, newest first: of one theme (by name, without case), or of all.
    pub async fn theme_notes(&self, theme: Option<&str>, limit: u64) -> Result<Vec<ThemeNote>> {
        let mut select = feedback_theme_notes::Entity::find();
        if let Some(theme) = theme {
            select = select.filter(feedback_theme_notes::Column::ThemeKey.eq(ThemeNoteInput::theme_key(theme)));
        }
        Ok(select
            .order_by_desc(feedback_theme_notes::Column::CreatedAt)
            .order_by_desc(feedback_theme_notes::Column::Id)
            .limit(limit)
            .all(self.conn())
            .await?
            .into_iter()
            .map(note_from)
            .collect())
    }

    /// Removes a note: its author or an admin.
    pub async fn delete_theme_note(&self, actor: &Actor, id: ThemeNoteId) -> Result<()> {
        let row = feedback_theme_notes::Entity::find_by_id(id.0)
            .by_key(self.conn())
            .await?
            .ok_or(StorageError::NotFound("theme note"))?;
        if !actor.is_admin() && row.author_id != Some(actor.user_id.0) {
            return Err(rapport_domain::access::Denied("only its author or an admin removes a note").into());
        }
        feedback_theme_notes::Entity::delete_by_id(id.0).exec(self.conn()).await?;
        Ok(())
    }
}
