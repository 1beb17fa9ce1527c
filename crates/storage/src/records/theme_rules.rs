//! Admins' choices over the feedback themes: which theme a phrase belongs
//! to (a rename, or a merge), and which themes stay pinned.

use rapport_domain::Actor;
use rapport_domain::records::now;
use rapport_text::ThemeRule;
use sea_orm::prelude::*;
use sea_orm::{ActiveModelTrait, QueryOrder, Set};

use crate::entities::feedback_theme_rules;
use crate::{Result, StorageError, Store};

/// The longest phrase or theme name kept.
const MAX_LEN: usize = 200;

impl Store {
    pub async fn theme_rules(&self) -> Result<Vec<ThemeRule>> {
        Ok(feedback_theme_rules::Entity::find()
            .order_by_asc(feedback_theme_rules::Column::Phrase)
            .all(self.conn())
            .await?
            .into_iter()
            .map(|r| ThemeRule { phrase: r.phrase, theme: r.theme, pinned: r.pinned })
            .collect())
    }

    /// Sets the rules for several phrases at once (a merge names every
    /// phrase of the merged theme), replacing earlier rules for them.
    pub async fn set_theme_rules(&self, actor: &Actor, rules: Vec<ThemeRule>) -> Result<()> {
        if !actor.is_admin() {
            return Err(rapport_domain::access::Denied("only admins rename, merge and pin themes").into());
        }
        let mut errors = rapport_domain::FieldErrors::new();
        for (i, rule) in rules.iter().enumerate() {
            for (field, value) in [("phrase", &rule.phrase), ("theme", &rule.theme)] {
                let len = value.trim().chars().count();
                if len == 0 || len > MAX_LEN || value.chars().any(char::is_control) {
                    errors.add(format!("rules[{i}].{field}"), format!("must be 1–{MAX_LEN} characters of text"));
                }
            }
        }
        errors.into_result().map_err(StorageError::Invalid)?;
        let w = self.begin_write().await?;
        for rule in rules {
            let phrase = rule.phrase.trim().to_lowercase();
            feedback_theme_rules::Entity::delete_by_id(phrase.clone()).exec(&*w).await?;
            feedback_theme_rules::ActiveModel {
                phrase: Set(phrase),
                theme: Set(rule.theme.trim().to_owned()),
                pinned: Set(rule.pinned),
                updated_at: Set(now()),
            }
            .insert(&*w)
            .await?;
        }
        w.commit().await?;
        Ok(())
    }

    /// Forgets the rule of a phrase: the grouping decides for it again.
    pub async fn clear_theme_rule(&self, actor: &Actor, phrase: &str) -> Result<()> {
        if !actor.is_admin() {
            return Err(rapport_domain::access::Denied("only admins rename, merge and pin themes").into());
        }
        feedback_theme_rules::Entity::delete_by_id(phrase.trim().to_lowercase()).exec(self.conn()).await?;
        Ok(())
    }
}
