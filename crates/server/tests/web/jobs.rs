//! The jobs page (Settings → Jobs): admins see every job by status and kind,
//! with counts, the whole last error and the buttons each status allows;
//! everyone else is refused; Cancel and Retry work and say so.

use rapport_domain::access::Role;
use rapport_domain::jobs::{Job, JobStatus};
use rapport_storage::NewJob;
use serde_json::json;

use crate::common::{Backend, TestApp, as_form, form_fields};

backend_tests!(admins_see_the_jobs_page, others_are_refused, the_buttons_cancel_and_retry);

/// A kind no worker runs: its jobs stay as the test leaves them.
const IDLE_KIND: &str = "test.idle";

/// A job that failed for good with a two-line error holding markup.
async fn failed_job(app: &TestApp) -> Job {
    let job = NewJob { max_attempts: 1, ..NewJob::new(IDLE_KIND, json!({})) };
    let job = app.store.enqueue_job(job).await.unwrap().expect("added");
    let claimed = app
        .store
        .claim_job("test-node", &[IDLE_KIND], time::Duration::minutes(1))
        .await
        .unwrap()
        .expect("the job is due");
    assert_eq!(claimed.job.id, job.id);
    assert!(
        app.store
            .fail_job(&claimed.lease, "the mail server said no\n<b>550</b> mailbox unavailable", None)
            .await
            .unwrap()
    );
    app.store.job(None, job.id).await.unwrap()
}

/// The table row of a job on a page.
fn row<'a>(html: &'a str, job: &Job) -> &'a str {
    let start = html.find(&format!("id=\"job-{}\"", job.id)).unwrap_or_else(|| panic!("no row for {}: {html}", job.id));
    let end = start + html[start..].find("</tr>").expect("a closed row");
    &html[start..end]
}

async fn admins_see_the_jobs_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let import = app.enqueue_later("import", Some(app.admin_user.id)).await;
    let failed = failed_job(&app).await;
    let web = app.web_admin().await;

    // Settings lead there.
    let settings = web.get("/settings/users").await.want(200);
    assert!(settings.text.contains("href=\"/jobs\""), "no link to the jobs page in the settings");

    let page = web.get("/jobs").await.want(200);
    let html = &page.text;
    assert!(html.contains("<h2 id=\"jobs-heading\">Background jobs</h2>"), "{html}");
    assert!(html.contains("href=\"/jobs\" aria-current=\"page\""), "the Jobs tab is not current");

    // The queued import: its page linked, who started it, a Cancel button and no Retry.
    let queued = row(html, &import);
    assert!(queued.contains(&format!("href=\"/import/jobs/{}\"", import.id)), "{queued}");
    assert!(queued.contains("data-status=\"queued\""), "{queued}");
    assert!(queued.contains(app.admin_user.fields.name.as_str()), "{queued}");
    assert!(queued.contains("0/5"), "attempts: {queued}");
    assert!(queued.contains("Waits until"), "{queued}");
    assert!(queued.contains(&format!("action=\"/jobs/{}/cancel\"", import.id)), "{queued}");
    assert!(!queued.contains("/retry\""), "a queued job offers Retry: {queued}");

    // The failed job: its whole error, line by line and escaped, and Retry and Cancel.
    let failing = row(html, &failed);
    assert!(failing.contains("data-status=\"failed\""), "{failing}");
    assert!(
        failing.contains("the mail server said no<br>&lt;b&gt;550&lt;/b&gt; mailbox unavailable")
            || failing.contains("the mail server said no<br>&#60;b&#62;550&#60;/b&#62; mailbox unavailable"),
        "the error is not shown whole: {failing}"
    );
    assert!(failing.contains("1/1") && failing.contains("Rapport"), "{failing}");
    assert!(failing.contains(&format!("action=\"/jobs/{}/retry\"", failed.id)), "{failing}");
    assert!(failing.contains(&format!("action=\"/jobs/{}/cancel\"", failed.id)), "{failing}");

    // Counts on the status tabs.
    let counts = app.store.job_counts().await.unwrap();
    assert_eq!(counts.failed, 1);
    assert!(html.contains("<span data-count=\"Failed\">1</span>"), "no failed count: {html}");
    assert!(html.contains("<span data-count=\"Queued\">"), "no queued count");

    // By status and by kind.
    let failed_only = web.get("/jobs?status=failed").await.want(200).text;
    assert!(failed_only.contains(&format!("id=\"job-{}\"", failed.id)));
    assert!(!failed_only.contains(&format!("id=\"job-{}\"", import.id)), "a queued job under Failed");
    assert!(failed_only.contains("href=\"/jobs?status=failed\" aria-current=\"page\""));
    let imports = web.get("/jobs?kind=import").await.want(200).text;
    assert!(imports.contains(&format!("id=\"job-{}\"", import.id)));
    assert!(!imports.contains(&format!("id=\"job-{}\"", failed.id)), "another kind under Import");
    assert!(imports.contains("<option value=\"import\" selected>"), "the kind is not kept in the filter");
    let none = web.get("/jobs?status=done&kind=import").await.want(200).text;
    assert!(none.contains("No jobs here."), "{none}");
    web.get("/jobs?status=bogus").await.want(400);
    web.get("/jobs?kind=mail").await.want(400);
}

async fn others_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for role in [Role::Agent, Role::Manager, Role::Viewer] {
        let (user, web) = app.web_user(role, None).await;
        let theirs = app.enqueue_later("import", Some(user.id)).await;
        let page = web.get("/jobs").await.want(403);
        assert!(page.text.contains("Only an admin"), "{}", page.text);
        web.post_form(&format!("/jobs/{}/cancel", theirs.id), &[("back", "/jobs")]).await.want(403);
        web.post_form(&format!("/jobs/{}/retry", theirs.id), &[]).await.want(403);
        assert_eq!(app.store.job(None, theirs.id).await.unwrap().status, JobStatus::Queued);
        let tokens = web.get("/settings/tokens").await.want(200);
        assert!(!tokens.text.contains("href=\"/jobs\""), "{role:?} is offered the jobs page");
    }
    // Signed out: to the login page.
    let anonymous = app.web("anonymous").get("/jobs").await.want(303);
    assert!(anonymous.header("location").unwrap_or_default().starts_with("/login"));
}

async fn the_buttons_cancel_and_retry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let import = app.enqueue_later("import", Some(app.admin_user.id)).await;
    let idle = failed_job(&app).await;
    let web = app.web_admin().await;

    // Cancel, as the page's form sends it: back to the same tab, with a confirmation.
    let page = web.get("/jobs?status=queued").await.want(200);
    let cancel = format!("/jobs/{}/cancel", import.id);
    let fields = form_fields(&page.text, &cancel);
    assert_eq!(fields, [("back".to_owned(), "/jobs?status=queued".to_owned())]);
    // Not without the form token.
    web.post_raw(&cancel, &as_form(&fields)).await.want(403);
    assert_eq!(app.store.job(None, import.id).await.unwrap().status, JobStatus::Queued);
    let done = web.post_form(&cancel, &as_form(&fields)).await.want(303);
    assert_eq!(done.header("location").as_deref(), Some("/jobs?status=queued"));
    assert_eq!(app.store.job(None, import.id).await.unwrap().status, JobStatus::Cancelled);
    let after = web.get("/jobs?status=queued").await.want(200).text;
    assert!(after.contains("The import job was cancelled."), "no confirmation: {after}");
    assert!(!after.contains(&format!("id=\"job-{}\"", import.id)), "still under Queued");
    let all = web.get("/jobs").await.want(200).text;
    let cancelled = row(&all, &import);
    assert!(cancelled.contains("data-status=\"cancelled\""), "{cancelled}");
    assert!(cancelled.contains("/retry\"") && !cancelled.contains("/cancel\""), "{cancelled}");

    // Again: refused with the reason, nothing changes.
    let again = web.post_form(&cancel, &[("back", "/jobs")]).await.want(303);
    assert_eq!(again.header("location").as_deref(), Some("/jobs"));
    let refused = web.get("/jobs").await.want(200).text;
    assert!(refused.contains("Not cancelled: a cancelled job cannot be cancelled."), "{refused}");

    // Retry of the failed job: queued again, at once, with all its attempts.
    let retried = web.post_form(&format!("/jobs/{}/retry", idle.id), &[("back", "https://evil.example/")]).await;
    assert_eq!(retried.want(303).header("location").as_deref(), Some("/jobs"), "only back to the jobs page");
    let job = app.store.job(None, idle.id).await.unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Queued, 0));
    assert!(web.get("/jobs").await.want(200).text.contains("The test.idle job was queued again."));

    // An unknown job or id: a message, or not found.
    let gone = web.post_form(&format!("/jobs/{}/retry", uuid::Uuid::now_v7()), &[]).await.want(303);
    assert_eq!(gone.header("location").as_deref(), Some("/jobs"));
    assert!(web.get("/jobs").await.want(200).text.contains("Not retried: the job no longer exists"));
    web.post_form("/jobs/not-an-id/cancel", &[]).await.want(404);
}
