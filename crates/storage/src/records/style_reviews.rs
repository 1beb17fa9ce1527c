//! The monthly style review's emails: queued in the outbox together with the
//! mark that the month's review went out, in one transaction, so a review
//! is mailed once per month however many nodes run the job.

use rapport_domain::Email;
use rapport_domain::records::now;
use sea_orm::prelude::*;
use sea_orm::{ActiveModelTrait, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::common::{ByKey, from_json, to_json};
use crate::entities::app_settings;
use crate::mail::{OutgoingMail, queue_outgoing};
use crate::{Result, Store};

const REVIEW_SENT: &str = "style_review";

#[derive(Serialize, Deserialize)]
struct Sent {
    /// The last month mailed, `YYYY-MM`.
    month: String,
}

/// One review email: to whom, its subject and its text.
pub struct ReviewMail {
    pub to: Email,
    pub subject: String,
    pub body: String,
}

impl Store {
    /// The last month whose review was mailed, `YYYY-MM`.
    pub async fn style_review_sent(&self) -> Result<Option<String>> {
        match app_settings::Entity::find_by_id(REVIEW_SENT).by_key(self.conn()).await? {
            Some(row) => Ok(Some(from_json::<Sent>(row.value, "style review mark")?.month)),
            None => Ok(None),
        }
    }

    /// Queues `month`'s review emails and marks the month sent, unless it
    /// already was (then nothing is queued and this answers `false`).
    pub async fn queue_style_reviews(&self, month: &str, from_domain: &str, mails: Vec<ReviewMail>) -> Result<bool> {
        let w = self.begin_write().await?;
        let existing = app_settings::Entity::find_by_id(REVIEW_SENT).by_key(&*w).await?;
        if let Some(row) = &existing
            && from_json::<Sent>(row.value.clone(), "style review mark")?.month.as_str() >= month
        {
            return Ok(false);
        }
        for mail in mails {
            let outgoing = OutgoingMail {
                ticket_id: None,
                message_id: None,
                to: mail.to,
                subject: mail.subject,
                body: mail.body,
                email_message_id: format!("{}@{from_domain}", Uuid::now_v7().simple()),
                in_reply_to: None,
                references: None,
            };
            queue_outgoing(&*w, outgoing).await?;
        }
        let row = app_settings::ActiveModel {
            name: Set(REVIEW_SENT.to_owned()),
            value: Set(to_json(&Sent { month: month.to_owned() })),
            updated_at: Set(now()),
        };
        if existing.is_some() {
            row.update(&*w).await?;
        } else {
            row.insert(&*w).await?;
        }
        w.commit().await?;
        Ok(true)
    }
}
