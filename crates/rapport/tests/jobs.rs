//! Jobs across real `rapport serve` processes on one database: a node killed
//! with SIGKILL in the middle of an import, whose job another node takes over
//! once the lease ran out and finishes exactly; and two nodes running side
//! by side, each job run once.

#[macro_use]
extern crate rapport_testing;

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use rapport_domain::JobId;
use rapport_domain::jobs::JobStatus;
use rapport_storage::{JobFilter, NewJob, Store};
use rapport_testing::{Backend, TestDatabase};
use serde::Deserialize;
use serde_json::json;

use common::{rapport, refused, succeeded};

backend_tests!(
    a_node_killed_mid_import_is_taken_over_and_the_import_is_exact,
    two_nodes_run_each_job_once,
    the_jobs_commands_list_retry_and_cancel,
);

const ADMIN: &str = "admin@example.com";

/// A `rapport serve` child, killed (SIGKILL on Unix) and reaped when dropped,
/// whatever way the test ends.
struct Node {
    name: &'static str,
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Node {
    /// Starts `rapport serve` on a free port and waits until it listens.
    fn start(name: &'static str, url: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(["--database-url", url, "serve", "--bind", "127.0.0.1:0"])
            // No rapport.toml from the working directory.
            .current_dir(dir)
            .env("RAPPORT_LOG", "info,sea_orm_migration=warn")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the rapport binary starts");
        // The log is read to its end by a thread of its own (a full pipe
        // would stop the node), and kept for the failure messages.
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(String::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("Rapport is listening on ").nth(1) {
                    let base = rest.split_whitespace().next().unwrap_or_default().to_owned();
                    let _ = address_tx.send(base);
                }
                let mut log = kept.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut node = Node { name, child, base: String::new(), log };
        match address_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(base) => node.base = base,
            Err(_) => panic!("node {name} did not start listening:\n{}", node.log()),
        }
        node
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGKILL: no shutdown, no job given back.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap the killed node");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A migrated database with an admin, and an API token for them.
async fn database(backend: Backend) -> (TestDatabase, Store, String) {
    let db = TestDatabase::new(backend).await;
    succeeded(rapport(&db.url, &["migrate"], ""));
    succeeded(rapport(
        &db.url,
        &["user", "add", "--email", ADMIN, "--name", "Admin", "--role", "admin"],
        "a-long-password\n",
    ));
    let token = succeeded(rapport(&db.url, &["token", "create", "--user", ADMIN], "")).stdout.trim().to_owned();
    assert!(!token.is_empty(), "token create prints the token");
    let store = Store::connect(&db.url).await.expect("open the database");
    (db, store, token)
}

#[derive(Debug, Deserialize)]
struct ImportJob {
    id: String,
    status: String,
    attempts: i32,
    progress: Progress,
    report: Option<Report>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Progress {
    rows_read: u64,
}

#[derive(Debug, Deserialize)]
struct Report {
    created: u64,
    updated: u64,
    unchanged: u64,
    rejected_rows: u64,
    rows_read: u64,
    written: bool,
}

struct Api {
    client: reqwest::Client,
    token: String,
}

impl Api {
    fn new(token: &str) -> Api {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Api { client, token: token.to_owned() }
    }

    /// `POST /api/v1/imports` on `node`: a people CSV, skipping invalid rows.
    async fn import(&self, node: &Node, file_name: &str, csv: &str) -> ImportJob {
        let boundary = "rapport-jobs-test-boundary";
        let mut body = Vec::new();
        for (name, value) in [("kind", "people"), ("mode", "skip-invalid")] {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
                 Content-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(csv.as_bytes());
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let resp = self
            .client
            .post(format!("{}/api/v1/imports", node.base))
            .bearer_auth(&self.token)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap_or_else(|err| panic!("upload to node {}: {err}", node.name));
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(status.as_u16(), 202, "the import was not accepted: {text}");
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"))
    }

    async fn job(&self, node: &Node, id: &str) -> ImportJob {
        let resp = self
            .client
            .get(format!("{}/api/v1/imports/{id}", node.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap_or_else(|err| panic!("ask node {} for the job: {err}\n{}", node.name, node.log()));
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(status.as_u16(), 200, "{text}");
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"))
    }
}

fn people_csv(from: usize, rows: usize) -> String {
    let mut csv = String::from("first_name,last_name,email,phone\n");
    for i in from..from + rows {
        csv.push_str(&format!("P{i},Person,p{i}@example.com,+1 555 {i:07}\n"));
    }
    csv
}

/// The kill tests of both backends take turns: each imports tens of
/// thousands of rows on a debug build, and two at once on two cores would
/// take each twice as long.
static ONE_BIG_IMPORT_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn a_node_killed_mid_import_is_taken_over_and_the_import_is_exact(backend: Backend) {
    // Fifteen batches. 30,000 rows pass as well, but take the second node
    // 40 s (SQLite) and 75 s (PostgreSQL) on a debug build on two cores.
    const ROWS: u64 = 15_000;
    let _turn = ONE_BIG_IMPORT_AT_A_TIME.lock().await;
    let (db, store, token) = database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let lease = [("RAPPORT_JOB_LEASE_SECONDS", "3")];
    let api = Api::new(&token);

    let mut a = Node::start("A", &db.url, dir.path(), &lease);
    let started = Instant::now();
    let job = api.import(&a, "people.csv", &people_csv(0, ROWS as usize)).await;

    // Running, with rows read and some written: then SIGKILL.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = api.job(&a, &job.id).await;
        assert!(
            !["done", "failed"].contains(&now.status.as_str()),
            "the import ended before it could be killed: {now:?}"
        );
        if now.status == "running" && now.progress.rows_read > 0 && store.count_people().await.unwrap() > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the import did not get going on node A: {now:?}\n{}", a.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let running_after = started.elapsed();
    a.kill();
    let killed_at = Instant::now();
    // A commit sent just before the kill lands in a moment; then nothing more moves.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let written = store.count_people().await.unwrap();
    assert!(written > 0 && written < ROWS, "killed part way: {written} people written");
    let stranded = store.job(None, job.id.parse::<JobId>().unwrap()).await.unwrap();
    assert_eq!((stranded.status, stranded.attempts), (JobStatus::Running, 1), "{stranded:?}");

    let b = Node::start("B", &db.url, dir.path(), &lease);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut taken_over = None;
    let done = loop {
        let now = api.job(&b, &job.id).await;
        if taken_over.is_none() && now.attempts == 2 {
            taken_over = Some(killed_at.elapsed());
        }
        if ["done", "failed", "cancelled"].contains(&now.status.as_str()) {
            break now;
        }
        assert!(Instant::now() < deadline, "node B did not finish the job in two minutes: {now:?}\n{}", b.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let finished_after = killed_at.elapsed();
    eprintln!(
        "{backend:?}: node A killed {running_after:?} after the upload with {written} people written; \
         node B took over {taken_over:?} and finished {finished_after:?} after the kill"
    );

    assert_eq!(done.status, "done", "{done:?}\n{}", b.log());
    assert_eq!(done.attempts, 2, "one attempt on A, one on B: {done:?}");
    assert_eq!(done.error, None);
    assert_eq!(store.count_people().await.unwrap(), ROWS, "every row once, nobody twice");
    // The second attempt read the whole file again: what A wrote is found unchanged.
    let report = done.report.expect("a report");
    assert_eq!(report.rows_read, ROWS, "{report:?}");
    assert_eq!((report.created, report.unchanged, report.updated), (ROWS - written, written, 0), "{report:?}");
    assert_eq!(report.rejected_rows, 0, "{report:?}");
    assert!(report.written);
    let job = store.job(None, job.id.parse::<JobId>().unwrap()).await.unwrap();
    assert_eq!((job.status, job.attempts, job.lease_owner), (JobStatus::Done, 2, None));
    assert!(b.log().contains("taking over a job whose lease ran out"), "{}", b.log());
    drop(b);
    store.close().await.unwrap();
}

async fn two_nodes_run_each_job_once(backend: Backend) {
    const PURGES: usize = 16;
    const IMPORTS: usize = 4;
    let (db, store, token) = database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let api = Api::new(&token);

    // Queued before the nodes start, so both go for them at once.
    let mut ours: HashSet<JobId> = HashSet::new();
    for n in 0..PURGES {
        let mut job = NewJob::new("trash.purge", json!({}));
        job.unique_key = Some(format!("test.purge@{n}"));
        ours.insert(store.enqueue_job(job).await.unwrap().expect("a new key").id);
    }
    let settings = [("RAPPORT_JOB_WORKERS", "4"), ("RAPPORT_JOB_LEASE_SECONDS", "10")];
    let a = Node::start("A", &db.url, dir.path(), &settings);
    let b = Node::start("B", &db.url, dir.path(), &settings);
    for n in 0..IMPORTS {
        let node = if n % 2 == 0 { &a } else { &b };
        let job = api.import(node, &format!("tiny-{n}.csv"), &people_csv(n * 10, 10)).await;
        ours.insert(job.id.parse().unwrap());
    }
    assert_eq!(ours.len(), PURGES + IMPORTS);

    let deadline = Instant::now() + Duration::from_secs(60);
    let jobs = loop {
        let jobs = store.list_jobs(None, &JobFilter { limit: 1_000, ..JobFilter::default() }).await.unwrap();
        if ours.iter().all(|id| jobs.iter().any(|j| j.id == *id && j.status.is_finished())) {
            break jobs;
        }
        assert!(Instant::now() < deadline, "the jobs did not all finish: {jobs:#?}\n{}\n{}", a.log(), b.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for job in &jobs {
        assert!(job.attempts <= 1, "a job ran twice: {job:?}");
        if ours.contains(&job.id) {
            assert_eq!((job.status, job.attempts), (JobStatus::Done, 1), "{job:?}");
        }
    }
    assert_eq!(store.count_people().await.unwrap(), (IMPORTS * 10) as u64);

    // Each job started once across both logs, on one node or the other.
    let (log_a, log_b) = (a.log(), b.log());
    let mut ran_by: HashMap<&'static str, usize> = HashMap::new();
    for id in &ours {
        let id = id.to_string();
        let started = |log: &str| log.lines().filter(|l| l.contains("job started") && l.contains(&id)).count();
        let (on_a, on_b) = (started(&log_a), started(&log_b));
        assert_eq!(on_a + on_b, 1, "job {id} started {on_a} times on A and {on_b} on B\n{log_a}\n{log_b}");
        *ran_by.entry(if on_a == 1 { "A" } else { "B" }).or_default() += 1;
    }
    eprintln!("{backend:?}: jobs run by node: {ran_by:?}");
    drop((a, b));
    store.close().await.unwrap();
}

async fn the_jobs_commands_list_retry_and_cancel(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    succeeded(rapport(&db.url, &["migrate"], ""));
    let store = Store::connect(&db.url).await.expect("open the database");
    let empty = succeeded(rapport(&db.url, &["jobs", "list"], ""));
    assert_eq!(empty.stdout, "No jobs.\n");

    let add = |kind: &str| NewJob::new(kind, json!({}));
    let done = store.enqueue_job(add("trash.purge")).await.unwrap().unwrap().id;
    let claimed = store.claim_job("node", &["trash.purge"], time::Duration::seconds(30)).await.unwrap().unwrap();
    assert!(store.finish_job(&claimed.lease, Some(json!({ "purged": 0 }))).await.unwrap());
    let failed = store.enqueue_job(add("jobs.prune")).await.unwrap().unwrap().id;
    let claimed = store.claim_job("node", &["jobs.prune"], time::Duration::seconds(30)).await.unwrap().unwrap();
    let error = format!("the database did not answer {}\nsecond line", "and then some ".repeat(10));
    assert!(store.fail_job(&claimed.lease, &error, None).await.unwrap());
    let queued = store.enqueue_job(add("insights.refresh")).await.unwrap().unwrap().id;

    // Newest first, one line each, the error cut short.
    let table = succeeded(rapport(&db.url, &["jobs", "list"], "")).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    for header in ["id", "kind", "status", "attempts", "created", "finished", "last error"] {
        assert!(lines[0].contains(header), "{table}");
    }
    assert!(lines[2].starts_with(&queued.to_string()) && lines[2].contains("queued"), "{table}");
    assert!(lines[2].contains("0/5"), "{table}");
    assert!(lines[3].starts_with(&failed.to_string()) && lines[3].contains("failed"), "{table}");
    assert!(lines[3].contains("1/5") && lines[3].contains("the database did not answer and then"), "{table}");
    assert!(lines[3].ends_with('…') && !table.contains("second line"), "{table}");
    assert!(lines[4].starts_with(&done.to_string()) && lines[4].contains("done"), "{table}");

    let only = succeeded(rapport(&db.url, &["jobs", "list", "--status", "failed", "--format", "json"], "")).stdout;
    let only: serde_json::Value = serde_json::from_str(&only).expect("JSON");
    assert_eq!(only.as_array().map(Vec::len), Some(1), "{only}");
    assert_eq!(only[0]["id"], json!(failed.to_string()));
    assert_eq!(only[0]["last_error"], json!(error), "the whole error in JSON");
    let kind = succeeded(rapport(&db.url, &["jobs", "list", "--kind", "trash.purge", "--limit", "1"], "")).stdout;
    assert_eq!(kind.lines().count(), 3, "{kind}");
    refused(rapport(&db.url, &["jobs", "list", "--status", "later"], ""), "possible values: queued, running");
    refused(rapport(&db.url, &["jobs", "list", "--limit", "0"], ""), "--limit must be between");

    // Retry and cancel by the state rules; the refusals are clear and change nothing.
    let retried = succeeded(rapport(&db.url, &["jobs", "retry", &failed.to_string()], "")).stdout;
    assert!(retried.contains("queued again"), "{retried}");
    assert_eq!(store.job(None, failed).await.unwrap().status, JobStatus::Queued);
    refused(rapport(&db.url, &["jobs", "retry", &done.to_string()], ""), "a done job cannot be retried");
    refused(rapport(&db.url, &["jobs", "cancel", &done.to_string()], ""), "a done job cannot be cancelled");
    refused(rapport(&db.url, &["jobs", "retry", &queued.to_string()], ""), "a queued job cannot be retried");
    let cancelled = succeeded(rapport(&db.url, &["jobs", "cancel", &queued.to_string()], "")).stdout;
    assert!(cancelled.contains("cancelled"), "{cancelled}");
    assert_eq!(store.job(None, queued).await.unwrap().status, JobStatus::Cancelled);
    assert_eq!(store.job(None, done).await.unwrap().status, JobStatus::Done);
    let unknown = JobId::new().to_string();
    refused(rapport(&db.url, &["jobs", "cancel", &unknown], ""), &format!("no job {unknown}"));
    refused(rapport(&db.url, &["jobs", "retry", "nope"], ""), "\"nope\" is not a job id");
    store.close().await.unwrap();
}
