//! Background jobs through the API: the admins' list with its filters and
//! pages, who may see and change a job, cancel and retry with the statuses
//! that allow them, retried jobs run again by the server's workers, bad
//! parameters named, and imports listed with their result.
//!
//! The server's own workers run during these tests (and schedule the hourly
//! `trash.purge` and `jobs.prune`): jobs the tests add to stay queued are due
//! only in an hour, and lists are checked for the tests' own jobs.

use rapport_domain::Role;
use rapport_domain::jobs::{Job, JobStatus};
use rapport_storage::NewJob;
use serde_json::{Value, json};

use crate::common::{Backend, Page, TestApp, unknown_id, wait_for_job};

backend_tests!(
    admins_list_and_filter_jobs,
    the_list_pages_with_before,
    only_admins_list_jobs,
    a_job_is_seen_and_changed_only_by_its_starter_and_admins,
    a_queued_job_is_cancelled_once,
    a_retried_job_runs_again,
    a_failed_job_shows_its_error_and_can_be_retried,
    bad_parameters_are_named,
    imports_are_listed_with_their_result,
    the_jobs_api_is_documented
);

fn ids(page: &Page<Job>) -> Vec<String> {
    page.items.iter().map(|job| job.id.to_string()).collect()
}

async fn admins_list_and_filter_jobs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let import = app.enqueue_later("import", Some(app.admin_user.id)).await;
    let purge = app.enqueue_later("trash.purge", None).await;
    let prune = app.enqueue_later("jobs.prune", None).await;
    app.store.cancel_job(None, purge.id).await.expect("cancel the purge");

    // Everything, newest first, with every field of a job.
    let all: Page<Job> = app.admin.get("/api/v1/jobs").await.want(200).json();
    let all_ids = ids(&all);
    let position = |id: &rapport_domain::JobId| all_ids.iter().position(|seen| *seen == id.to_string());
    let (at_import, at_purge, at_prune) = (position(&import.id), position(&purge.id), position(&prune.id));
    assert!(at_import.is_some() && at_purge.is_some() && at_prune.is_some(), "not all listed: {all:?}");
    assert!(at_prune < at_purge && at_purge < at_import, "not newest first: {all_ids:?}");
    assert_eq!(all.next_cursor, None, "one page holds them all");
    let listed = all.items.iter().find(|job| job.id == import.id).expect("the import");
    assert_eq!(listed.kind, "import");
    assert_eq!(listed.status, JobStatus::Queued);
    assert_eq!(listed.created_by, Some(app.admin_user.id));
    assert_eq!((listed.attempts, listed.max_attempts), (0, 5));
    assert!(listed.run_at > listed.created_at, "due later: {listed:?}");
    assert_eq!(listed.payload, json!({}));
    let raw: Value = app.admin.get("/api/v1/jobs").await.want(200).value();
    for field in ["id", "kind", "status", "payload", "run_at", "attempts", "max_attempts", "last_error", "created_at"] {
        assert!(raw["items"][0].get(field).is_some(), "no {field} in {}", raw["items"][0]);
    }

    // By status.
    let cancelled: Page<Job> = app.admin.get("/api/v1/jobs?status=cancelled").await.want(200).json();
    assert!(ids(&cancelled).contains(&purge.id.to_string()), "{cancelled:?}");
    assert!(cancelled.items.iter().all(|job| job.status == JobStatus::Cancelled), "{cancelled:?}");
    let queued: Page<Job> = app.admin.get("/api/v1/jobs?status=queued").await.want(200).json();
    assert!(ids(&queued).contains(&import.id.to_string()) && ids(&queued).contains(&prune.id.to_string()));
    assert!(!ids(&queued).contains(&purge.id.to_string()), "a cancelled job is listed as queued");
    assert!(queued.items.iter().all(|job| job.status == JobStatus::Queued), "{queued:?}");

    // By kind, and by both.
    let imports: Page<Job> = app.admin.get("/api/v1/jobs?kind=import").await.want(200).json();
    assert_eq!(ids(&imports), [import.id.to_string()]);
    let prunes: Page<Job> = app.admin.get("/api/v1/jobs?kind=jobs.prune&status=queued").await.want(200).json();
    assert!(ids(&prunes).contains(&prune.id.to_string()), "{prunes:?}");
    assert!(prunes.items.iter().all(|job| job.kind == "jobs.prune" && job.status == JobStatus::Queued));
    let none: Page<Job> = app.admin.get("/api/v1/jobs?kind=import&status=failed").await.want(200).json();
    assert!(none.items.is_empty(), "{none:?}");
    // Every kind the runner has is a filter, mail and surveys included.
    for kind in rapport_jobs::KINDS {
        app.admin.get(&format!("/api/v1/jobs?kind={kind}")).await.want(200);
    }
}

async fn the_list_pages_with_before(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut added = Vec::new();
    for _ in 0..5 {
        added.push(app.enqueue_later("import", Some(app.admin_user.id)).await.id.0);
    }
    added.sort();
    added.reverse();
    let want: Vec<String> = added.iter().map(ToString::to_string).collect();

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut path = "/api/v1/jobs?kind=import&limit=2".to_owned();
    loop {
        let page: Page<Job> = app.admin.get(&path).await.want(200).json();
        sizes.push(page.items.len());
        seen.extend(ids(&page));
        match page.next_cursor {
            Some(cursor) => {
                assert_eq!(Some(&cursor), seen.last(), "the cursor is the page's last job");
                path = format!("/api/v1/jobs?kind=import&limit=2&before={cursor}");
            }
            None => break,
        }
        assert!(sizes.len() < 10, "the pages do not end: {seen:?}");
    }
    assert_eq!(sizes, [2, 2, 1], "pages of two, and no empty last page");
    assert_eq!(seen, want, "every job once, newest first");

    // A full last page says there is no next one.
    let exact: Page<Job> = app.admin.get("/api/v1/jobs?kind=import&limit=5").await.want(200).json();
    assert_eq!((exact.items.len(), exact.next_cursor), (5, None));
    let past_the_end: Page<Job> =
        app.admin.get(&format!("/api/v1/jobs?kind=import&before={}", added[4])).await.want(200).json();
    assert!(past_the_end.items.is_empty());

    // `count=true` adds how many match, every page alike (`before` aside).
    for path in ["/api/v1/jobs?kind=import&limit=2&count=true".to_owned(), format!("{path}&count=true")] {
        let page = app.admin.get(&path).await.want(200).value();
        assert_eq!(page["total"], 5, "{path}: {page}");
    }
    let none = app.admin.get("/api/v1/jobs?kind=import&status=failed&count=true").await.want(200).value();
    assert_eq!(none["total"], 0, "{none}");
}

async fn only_admins_list_jobs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (agent_user, agent) = app.create_user(Role::Agent, None).await;
    // Even their own jobs: they follow them through /api/v1/imports.
    app.enqueue_later("import", Some(agent_user.id)).await;
    let error = agent.get("/api/v1/jobs").await.want_error(403, "forbidden");
    assert!(error.message.contains("/api/v1/imports"), "{error:?}");
    agent.get("/api/v1/jobs?status=bogus").await.want_error(403, "forbidden");
    let (_, manager) = app.create_user(Role::Manager, None).await;
    manager.get("/api/v1/jobs").await.want_error(403, "forbidden");
    let (_, viewer) = app.create_user(Role::Viewer, None).await;
    viewer.get("/api/v1/jobs").await.want_error(403, "forbidden");
    app.anonymous().get("/api/v1/jobs").await.want_error(401, "unauthorized");
}

async fn a_job_is_seen_and_changed_only_by_its_starter_and_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (agent_user, agent) = app.create_user(Role::Agent, None).await;
    let admins = app.enqueue_later("import", Some(app.admin_user.id)).await;
    let scheduled = app.enqueue_later("jobs.prune", None).await;
    let theirs = app.enqueue_later("import", Some(agent_user.id)).await;

    // Someone else's job, or a scheduled one, does not exist for an agent.
    for job in [&admins, &scheduled] {
        agent.get(&format!("/api/v1/jobs/{}", job.id)).await.want_error(404, "not_found");
        agent.post(&format!("/api/v1/jobs/{}/cancel", job.id), &json!({})).await.want_error(404, "not_found");
        agent.post(&format!("/api/v1/jobs/{}/retry", job.id), &json!({})).await.want_error(404, "not_found");
        let stored = app.store.job(None, job.id).await.unwrap();
        assert_eq!(stored.status, JobStatus::Queued, "an agent changed someone else's job");
    }
    agent.get(&format!("/api/v1/jobs/{}", unknown_id())).await.want_error(404, "not_found");
    agent.get("/api/v1/jobs/not-an-id").await.want_error(404, "not_found");
    app.admin.post(&format!("/api/v1/jobs/{}/cancel", unknown_id()), &json!({})).await.want_error(404, "not_found");

    // Their own job they see and cancel; an admin sees every job.
    let seen: Job = agent.get(&format!("/api/v1/jobs/{}", theirs.id)).await.want(200).json();
    assert_eq!((seen.id, seen.created_by), (theirs.id, Some(agent_user.id)));
    let cancelled: Job = agent.post(&format!("/api/v1/jobs/{}/cancel", theirs.id), &json!({})).await.want(200).json();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    for job in [&admins, &scheduled, &theirs] {
        let seen: Job = app.admin.get(&format!("/api/v1/jobs/{}", job.id)).await.want(200).json();
        assert_eq!(seen.id, job.id);
    }
}

async fn a_queued_job_is_cancelled_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.enqueue_later("trash.purge", Some(app.admin_user.id)).await;
    let path = format!("/api/v1/jobs/{}/cancel", job.id);

    let cancelled: Job = app.admin.post(&path, &json!({})).await.want(200).json();
    assert_eq!((cancelled.id, cancelled.status), (job.id, JobStatus::Cancelled));
    assert!(cancelled.finished_at.is_some(), "{cancelled:?}");
    assert_eq!(app.store.job(None, job.id).await.unwrap().status, JobStatus::Cancelled);

    let again = app.admin.post(&path, &json!({})).await.want_error(409, "conflict");
    assert!(again.message.contains("cancelled"), "{again:?}");
    let seen: Job = app.admin.get(&format!("/api/v1/jobs/{}", job.id)).await.want(200).json();
    assert_eq!(seen.status, JobStatus::Cancelled);
    assert_eq!(seen.finished_at, cancelled.finished_at, "the second cancel changed the job");
}

async fn a_retried_job_runs_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.enqueue_later("jobs.prune", Some(app.admin_user.id)).await;
    // Queued jobs cannot be retried: they will run.
    app.admin.post(&format!("/api/v1/jobs/{}/retry", job.id), &json!({})).await.want_error(409, "conflict");
    app.admin.post(&format!("/api/v1/jobs/{}/cancel", job.id), &json!({})).await.want(200);

    let retried: Job = app.admin.post(&format!("/api/v1/jobs/{}/retry", job.id), &json!({})).await.want(200).json();
    assert!(
        retried.status == JobStatus::Queued && retried.attempts == 0 && retried.finished_at.is_none(),
        "{retried:?}"
    );
    assert!(retried.run_at <= rapport_domain::records::now(), "due at once: {retried:?}");

    // The server's workers take it and finish it.
    let done = wait_for_job(&app.admin, job.id, JobStatus::Done).await;
    assert_eq!(done.attempts, 1, "{done:?}");
    assert!(done.started_at.is_some() && done.finished_at.is_some(), "{done:?}");
    let result = done.result.expect("what the prune did");
    assert!(result.get("jobs").is_some() && result.get("uploads").is_some(), "{result}");

    // A done job can be neither retried nor cancelled.
    let error = app.admin.post(&format!("/api/v1/jobs/{}/retry", job.id), &json!({})).await.want_error(409, "conflict");
    assert!(error.message.contains("done"), "{error:?}");
    app.admin.post(&format!("/api/v1/jobs/{}/cancel", job.id), &json!({})).await.want_error(409, "conflict");
    assert_eq!(app.store.job(None, job.id).await.unwrap().status, JobStatus::Done);
}

async fn a_failed_job_shows_its_error_and_can_be_retried(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // An import without its file fails on its one attempt.
    let job = NewJob { max_attempts: 1, created_by: Some(app.admin_user.id), ..NewJob::new("import", json!({})) };
    let job = app.store.enqueue_job(job).await.unwrap().expect("added");
    let failed = wait_for_job(&app.admin, job.id, JobStatus::Failed).await;
    let error = failed.last_error.clone().expect("why it failed");
    assert!(error.contains("payload"), "{error}");
    let listed: Page<Job> = app.admin.get("/api/v1/jobs?status=failed&kind=import").await.want(200).json();
    assert_eq!(ids(&listed), [job.id.to_string()]);
    assert_eq!(listed.items[0].last_error.as_deref(), Some(error.as_str()));

    // Retried, it runs from the start, and fails the same way again.
    let retried: Job = app.admin.post(&format!("/api/v1/jobs/{}/retry", job.id), &json!({})).await.want(200).json();
    assert!(retried.status == JobStatus::Queued || retried.status == JobStatus::Running, "{retried:?}");
    assert_eq!(retried.attempts, 0);
    let again = wait_for_job(&app.admin, job.id, JobStatus::Failed).await;
    assert_eq!(again.attempts, 1, "the retry had all its attempts again: {again:?}");
    assert!(again.finished_at >= failed.finished_at);
}

async fn bad_parameters_are_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (query, field) in [
        ("status=bogus", "status"),
        ("status=Queued", "status"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("kind=mail.sned", "kind"),
        ("before=yesterday", "before"),
        ("page=2", "page"),
        ("cursor=abc", "cursor"),
        ("status=queued&status=failed", "status"),
    ] {
        let error = app.admin.get(&format!("/api/v1/jobs?{query}")).await.want_error(422, "validation");
        assert!(error.field(field).is_some(), "{query}: the error does not name {field}: {error:?}");
    }
    app.admin.get("/api/v1/jobs?limit=200&status=done&kind=trash.purge").await.want(200);
    app.admin.get("/api/v1/jobs?limit=1").await.want(200);
}

async fn imports_are_listed_with_their_result(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let people = "first_name;last_name;emails\nAna;Lima;ana@example.com\nBruno;Costa;bruno@example.com\n";
    let id = app.start_import(&app.admin, "people", "people.csv", people).await;
    wait_for_job(&app.admin, id, JobStatus::Done).await;

    let imports: Page<Job> = app.admin.get("/api/v1/jobs?kind=import").await.want(200).json();
    assert_eq!(ids(&imports), [id.to_string()]);
    let job = &imports.items[0];
    assert_eq!((job.kind.as_str(), job.status), ("import", JobStatus::Done));
    assert_eq!(job.created_by, Some(app.admin_user.id));
    assert_eq!(job.payload["file_name"], "people.csv", "{}", job.payload);
    let result = job.result.as_ref().expect("the import's report");
    assert_eq!((result["created"].as_u64(), result["rejected_rows"].as_u64()), (Some(2), Some(0)), "{result}");
    assert_eq!(job.last_error, None);
    let done: Page<Job> = app.admin.get("/api/v1/jobs?kind=import&status=done").await.want(200).json();
    assert_eq!(ids(&done), [id.to_string()]);
    // The same job as the import API shows it.
    let import: Value = app.admin.get(&format!("/api/v1/imports/{id}")).await.want(200).value();
    assert_eq!(import["report"]["created"], 2);
}

async fn the_jobs_api_is_documented(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc: Value = app.admin.get("/api/v1/openapi.json").await.want(200).value();
    let paths = &doc["paths"];
    let list = &paths["/api/v1/jobs"]["get"];
    let params: Vec<&str> =
        list["parameters"].as_array().expect("parameters").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(params, ["status", "kind", "limit", "before", "count"], "{list}");
    for status in ["200", "403", "422"] {
        assert!(list["responses"].get(status).is_some(), "GET /api/v1/jobs does not document {status}: {list}");
    }
    let page = &doc["components"]["schemas"]["JobPage"]["properties"];
    assert!(page.get("items").is_some() && page.get("next_cursor").is_some() && page.get("total").is_some(), "{page}");
    assert!(paths["/api/v1/jobs/{id}"].get("get").is_some());
    for action in ["retry", "cancel"] {
        let operation = &paths[format!("/api/v1/jobs/{{id}}/{action}").as_str()]["post"];
        assert!(operation["responses"].get("409").is_some(), "{action}: {operation}");
    }
}
