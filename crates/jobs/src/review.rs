//! The monthly style review by email: early each month, every active
//! manager (their team's review) and admin (the business's) gets last
//! month's review through the outbox, once, whichever node runs the job.

use rapport_domain::records::now;
use rapport_domain::{Actor, Role};
use rapport_reports::review::{MonthlyReview, month_start, monthly_review, previous_month};
use rapport_storage::{ListQuery, MAX_LIMIT, ReviewMail, UserFilter};

use crate::runner::{Handler, JobError, from_fn};

pub const KIND: &str = "style.review";

/// The review as plain text: subject and body.
pub fn review_email(review: &MonthlyReview) -> (String, String) {
    let subject = format!("Style review for {}: {}", review.month, review.scope_name);
    let mut body = format!("The style review of {} for {}.\n", review.month, review.scope_name);
    let changes = |title: &str, list: &[rapport_reports::review::FigureChange], body: &mut String| {
        body.push_str(&format!("\n{title}\n"));
        if list.is_empty() {
            body.push_str("  (none)\n");
        }
        for c in list {
            body.push_str(&format!(
                "  {}: {} (was {})\n",
                c.label,
                c.unit.format(Some(c.now)),
                c.unit.format(Some(c.before))
            ));
        }
    };
    changes("Improved", &review.improved, &mut body);
    changes("Got worse", &review.worse, &mut body);
    body.push_str("\nGoals\n");
    if review.goals.is_empty() {
        body.push_str("  (none set)\n");
    }
    for goal in &review.goals {
        body.push_str(&format!(
            "  {} ({}): now {}, {}\n",
            goal.title,
            goal.goal.scope_name,
            goal.unit.format(goal.forecast.current),
            goal.forecast.status.label().to_lowercase()
        ));
    }
    let customers = &review.customers;
    body.push_str(&format!(
        "\nCustomers\n  won back: {} (bought again after more than {} days)\n  lost: {} (no purchase for {} days)\n",
        customers.won_back, customers.churn_days, customers.lost, customers.churn_days
    ));
    body.push_str("\nMost-mentioned feedback themes\n");
    if review.themes.is_empty() {
        body.push_str("  (no comments this month)\n");
    }
    for theme in &review.themes {
        body.push_str(&format!(
            "  {}: {} mentions, {:.0} % of comments (was {:.0} %), {}\n",
            theme.name,
            theme.mentions,
            theme.share * 100.0,
            theme.previous_share * 100.0,
            theme.trend
        ));
    }
    body.push_str(&format!(
        "\nThe full review, with the names behind the figures: Style → Review → {}.\n",
        review.month
    ));
    (subject, body)
}

/// Mails last month's review to every manager and admin once mail is set
/// up, unless it went out already; a review with nothing in it is not sent.
pub fn send_reviews(churn_days: u32) -> Handler {
    from_fn(move |ctx| async move {
        let today = now().date();
        let month = previous_month(month_start(today));
        let label = format!("{}-{:02}", month.year(), u8::from(month.month()));
        if ctx.store.style_review_sent().await?.is_some_and(|sent| sent >= label) {
            return Ok(Some(serde_json::json!({ "month": label, "sent": 0, "already": true })));
        }
        let Some(smtp) = ctx.store.smtp_settings().await? else {
            return Ok(Some(serde_json::json!({ "month": label, "sent": 0, "skipped": "mail is not set up" })));
        };
        let filter = UserFilter { active: Some(true), ..Default::default() };
        let staff = ctx.store.list_users(&ListQuery { limit: Some(MAX_LIMIT), ..Default::default() }, &filter).await?;
        let mut mails = Vec::new();
        for user in staff.items {
            let actor = Actor { user_id: user.id, role: user.fields.role, team_id: user.fields.team_id };
            let manages = actor.role == Role::Admin || (actor.role == Role::Manager && actor.team_id.is_some());
            if !manages {
                continue;
            }
            let review = monthly_review(&ctx.store, &actor, month, today, churn_days)
                .await
                .map_err(|e| JobError::Retry(e.to_string()))?;
            // An empty review is not worth an email (a new installation's first month).
            if review.is_empty() {
                continue;
            }
            let (subject, body) = review_email(&review);
            mails.push(ReviewMail { to: user.fields.email.clone(), subject, body });
        }
        let count = mails.len();
        if count == 0 {
            return Ok(Some(serde_json::json!({ "month": label, "sent": 0, "skipped": "nothing to report" })));
        }
        let queued = ctx.store.queue_style_reviews(&label, smtp.from_address.domain(), mails).await?;
        Ok(Some(serde_json::json!({ "month": label, "sent": if queued { count } else { 0 } })))
    })
}
