//! Two `rapport serve` nodes on one PostgreSQL database behind HAProxy: a
//! minute of mixed load from eight clients (creates, lists, concurrent edits
//! of the same records with If-Match, imports), node B restarted half way.
//! No request fails but the few the restart cuts, no edit is lost, every
//! job runs once, and a session made through the proxy works on both nodes.
//! The figures it prints are the ones in docs/SCALING.md.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use rapport_domain::JobId;
use rapport_domain::jobs::JobStatus;
use rapport_storage::Store;
use rapport_testing::{Backend, TestDatabase};
use serde_json::{Value, json};

use common::{rapport, succeeded};

const ADMIN: &str = "admin@example.com";
const PASSWORD: &str = "a-long-password";
const HAPROXY: &str = "/usr/sbin/haproxy";
/// How long the load runs, and when node B is restarted.
const LOAD: Duration = Duration::from_secs(60);
const RESTART_AT: Duration = Duration::from_secs(30);
const CLIENTS: usize = 8;
/// A bound on each client's loop besides the time.
const MAX_ROUNDS: usize = 50_000;
/// Records every client edits at once.
const SHARED: usize = 5;
const IMPORT_ROWS: usize = 20;
/// Errors cut by the restart are accepted from this long before SIGTERM
/// until this long after node B is ready again.
const RESTART_GRACE: Duration = Duration::from_secs(3);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Keeps a child's stderr, read to its end by a thread of its own (a full
/// pipe would stop the child), and sends each line to `lines`.
fn keep_log(child: &mut Child, lines: Option<mpsc::Sender<String>>) -> Arc<Mutex<String>> {
    let stderr = child.stderr.take().expect("stderr is piped");
    let log = Arc::new(Mutex::new(String::new()));
    let kept = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(lines) = &lines {
                let _ = lines.send(line.clone());
            }
            let mut log = kept.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    log
}

/// A `rapport serve` child on a given port, killed and reaped when dropped.
struct Node {
    name: &'static str,
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Node {
    /// Starts `rapport serve` on `port` and waits until it is ready.
    async fn start(name: &'static str, url: &str, dir: &Path, port: u16) -> Node {
        // A port just given up may take a moment to be free again.
        for _ in 0..20 {
            let mut child = Command::new(env!("CARGO_BIN_EXE_rapport"))
                .args(["--database-url", url, "serve", "--bind", &format!("127.0.0.1:{port}")])
                .current_dir(dir)
                .env("RAPPORT_LOG", "info,sea_orm_migration=warn")
                .env("RAPPORT_JOB_LEASE_SECONDS", "10")
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the rapport binary starts");
            let (tx, rx) = mpsc::channel();
            let log = keep_log(&mut child, Some(tx));
            let deadline = Instant::now() + Duration::from_secs(30);
            let listening = loop {
                match rx.try_recv() {
                    Ok(line) if line.contains("Rapport is listening on") => break true,
                    Ok(_) => {}
                    Err(mpsc::TryRecvError::Disconnected) => break false,
                    Err(mpsc::TryRecvError::Empty) => {
                        assert!(Instant::now() < deadline, "node {name} did not start listening");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            };
            let mut node = Node { name, child, base: format!("http://127.0.0.1:{port}"), log };
            if !listening {
                let status = node.child.wait().expect("reap the node");
                if node.log().contains("cannot listen") {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
                panic!("node {name} ended ({status}) before it listened:\n{}", node.log());
            }
            node.wait_ready().await;
            return node;
        }
        panic!("node {name} could not listen on port {port}");
    }

    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client.get(format!("{}/readyz", self.base)).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(Instant::now() < deadline, "node {} is not ready:\n{}", self.name, self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGTERM, then waits for the node to exit.
    async fn terminate(&mut self) -> ExitStatus {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the node") {
                return status;
            }
            assert!(Instant::now() < deadline, "node {} did not exit after SIGTERM:\n{}", self.name, self.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
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

/// HAProxy in the foreground, killed when dropped.
struct Proxy {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Proxy {
    async fn start(dir: &Path, nodes: [u16; 2]) -> Proxy {
        assert!(
            Path::new(HAPROXY).exists(),
            "{HAPROXY} is missing: install it (apt-get install haproxy) to run this test"
        );
        let port = free_port();
        let config = format!(
            "global\n\
             \x20   maxconn 2000\n\
             defaults\n\
             \x20   mode http\n\
             \x20   timeout connect 500ms\n\
             \x20   timeout client 30s\n\
             \x20   timeout server 30s\n\
             \x20   retries 3\n\
             \x20   option redispatch\n\
             frontend rapport\n\
             \x20   bind 127.0.0.1:{port}\n\
             \x20   default_backend nodes\n\
             backend nodes\n\
             \x20   balance roundrobin\n\
             \x20   option httpchk GET /readyz\n\
             \x20   default-server check inter 300ms fastinter 200ms downinter 300ms fall 2 rise 1\n\
             \x20   server a 127.0.0.1:{a}\n\
             \x20   server b 127.0.0.1:{b}\n",
            a = nodes[0],
            b = nodes[1],
        );
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let mut child = Command::new(HAPROXY)
            .arg("-f")
            .arg(&path)
            .arg("-db")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("haproxy starts");
        let log = keep_log(&mut child, None);
        let mut proxy = Proxy { child, base: format!("http://127.0.0.1:{port}"), log };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = client.get(format!("{}/readyz", proxy.base)).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return proxy;
            }
            if let Some(status) = proxy.child.try_wait().unwrap() {
                panic!("haproxy ended ({status}):\n{}", proxy.log.lock().unwrap());
            }
            assert!(Instant::now() < deadline, "haproxy does not answer:\n{}", proxy.log.lock().unwrap());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one request got: an HTTP status, or no answer at all.
#[derive(Clone, Debug)]
enum Outcome {
    /// The status, and the start of the body when it is an error.
    Status(u16, String),
    Connection(String),
}

#[derive(Clone, Debug)]
struct Sample {
    op: &'static str,
    /// When it was sent, from the start of the load.
    at: Duration,
    took: Duration,
    outcome: Outcome,
}

impl Sample {
    /// Whether the answer is a correct one for the operation.
    fn fine(&self) -> bool {
        match (&self.outcome, self.op) {
            // A stale If-Match is refused before the write (412); an edit
            // saved by another node between that check and the write is
            // refused by the write itself (409 "someone else saved this
            // record at the same moment"). Neither writes anything.
            (Outcome::Status(412 | 409, _), "edit") => true,
            (Outcome::Status(status, _), "create") => *status == 201,
            (Outcome::Status(status, _), "import") => *status == 202,
            (Outcome::Status(status, _), _) => *status == 200,
            (Outcome::Connection(_), _) => false,
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Status(status, body) => write!(f, "HTTP {status} {body}"),
            Outcome::Connection(err) => write!(f, "no answer: {err}"),
        }
    }
}

impl Sample {
    /// An error a restarting node may cause: no answer, 502 or 503.
    fn cut(&self) -> bool {
        matches!(self.outcome, Outcome::Connection(_) | Outcome::Status(502 | 503, _))
    }
}

/// What the load shares between clients.
struct Load {
    base: String,
    token: String,
    started: Instant,
    shared: Vec<String>,
    samples: Mutex<Vec<Sample>>,
    /// Per shared record: edits answered 200, and edits whose answer was lost
    /// (they may or may not have been written).
    edits: Mutex<HashMap<String, (i64, i64)>>,
    imports: Mutex<Vec<String>>,
    import_count: AtomicUsize,
}

impl Load {
    /// Sends one request and records it; the body when there was an answer.
    async fn send(&self, op: &'static str, request: reqwest::RequestBuilder) -> (Outcome, Option<Value>) {
        let sent = Instant::now();
        let at = sent - self.started;
        let (outcome, body) = match request.bearer_auth(&self.token).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.bytes().await {
                    Ok(bytes) => {
                        let detail = if status >= 400 {
                            String::from_utf8_lossy(&bytes).chars().take(160).collect()
                        } else {
                            String::new()
                        };
                        (Outcome::Status(status, detail), serde_json::from_slice(&bytes).ok())
                    }
                    Err(err) => (Outcome::Connection(format!("reading the body: {err}")), None),
                }
            }
            Err(err) => (Outcome::Connection(err.to_string()), None),
        };
        let took = sent.elapsed();
        self.samples.lock().unwrap().push(Sample { op, at, took, outcome: outcome.clone() });
        (outcome, body)
    }

    async fn client(self: Arc<Self>, n: usize) {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        let url = |path: &str| format!("{}{path}", self.base);
        // Two imports per client, spread over the minute (one set before the
        // restart, one after or around it).
        let mut next_import = Duration::from_millis(1_000 + 3_500 * n as u64);
        for round in 0..MAX_ROUNDS {
            if self.started.elapsed() >= LOAD {
                break;
            }
            if self.started.elapsed() >= next_import {
                next_import += Duration::from_secs(28);
                let k = self.import_count.fetch_add(1, Ordering::Relaxed);
                let (boundary, body) = import_body(k);
                let request = http
                    .post(url("/api/v1/imports"))
                    .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                    .body(body);
                if let (Outcome::Status(202, _), Some(job)) = self.send("import", request).await {
                    self.imports.lock().unwrap().push(job["id"].as_str().expect("a job id").to_owned());
                }
                continue;
            }
            match round % 3 {
                0 => {
                    let person = json!({ "first_name": format!("Load {n}-{round}"), "tags": ["load"] });
                    self.send("create", http.post(url("/api/v1/people")).json(&person)).await;
                }
                1 => {
                    self.send("list", http.get(url("/api/v1/people?limit=25"))).await;
                }
                _ => {
                    let id = &self.shared[(n + round) % SHARED];
                    let (_, current) = self.send("read", http.get(url(&format!("/api/v1/people/{id}")))).await;
                    let Some(version) = current.as_ref().and_then(|p| p["version"].as_i64()) else { continue };
                    let change = json!({ "job_title": format!("Edited by {n} in round {round}") });
                    let request = http
                        .patch(url(&format!("/api/v1/people/{id}")))
                        .header("if-match", format!("\"{version}\""))
                        .json(&change);
                    let (outcome, _) = self.send("edit", request).await;
                    let mut edits = self.edits.lock().unwrap();
                    let entry = edits.entry(id.clone()).or_default();
                    match outcome {
                        Outcome::Status(200, _) => entry.0 += 1,
                        Outcome::Status(409 | 412, _) => {}
                        Outcome::Connection(_) | Outcome::Status(502 | 503, _) => entry.1 += 1,
                        Outcome::Status(_, _) => {}
                    }
                }
            }
        }
    }
}

/// A tiny people CSV as a multipart body: the boundary and the bytes.
fn import_body(k: usize) -> (&'static str, Vec<u8>) {
    let boundary = "rapport-nodes-test-boundary";
    let mut body = Vec::new();
    for (name, value) in [("kind", "people"), ("mode", "skip-invalid")] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"load-{k}.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(b"first_name,last_name,email\n");
    for r in 0..IMPORT_ROWS {
        body.extend_from_slice(format!("Imported{r},Batch{k},import-{k}-{r}@example.com\n").as_bytes());
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The session cookie's `name=value` from a sign-in answer.
fn session_cookie(resp: &reqwest::Response) -> String {
    let set = resp.headers().get("set-cookie").expect("a session cookie").to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_behind_haproxy_survive_a_restart_under_load() {
    if !rapport_testing::postgres_enabled() {
        return;
    }
    let db = TestDatabase::new(Backend::Postgres).await;
    succeeded(rapport(&db.url, &["migrate"], ""));
    let add = ["user", "add", "--email", ADMIN, "--name", "Admin", "--role", "admin"];
    succeeded(rapport(&db.url, &add, &format!("{PASSWORD}\n")));
    let token = succeeded(rapport(&db.url, &["token", "create", "--user", ADMIN], "")).stdout.trim().to_owned();
    let store = Store::connect(&db.url).await.expect("open the database");
    let dir = tempfile::tempdir().unwrap();

    let ports = [free_port(), free_port()];
    let a = Node::start("A", &db.url, dir.path(), ports[0]).await;
    let mut b = Node::start("B", &db.url, dir.path(), ports[1]).await;
    let proxy = Proxy::start(dir.path(), ports).await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();

    // A session opened through the proxy, on whichever node it reached.
    let resp = http
        .post(format!("{}/api/v1/session", proxy.base))
        .json(&json!({ "email": ADMIN, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "sign in through the proxy");
    let cookie = session_cookie(&resp);

    // The records every client edits.
    let mut shared = Vec::new();
    for i in 0..SHARED {
        let resp = http
            .post(format!("{}/api/v1/people", proxy.base))
            .bearer_auth(&token)
            .json(&json!({ "first_name": format!("Shared {i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let person: Value = resp.json().await.unwrap();
        assert_eq!(person["version"], json!(1), "{person}");
        shared.push(person["id"].as_str().unwrap().to_owned());
    }

    let load = Arc::new(Load {
        base: proxy.base.clone(),
        token: token.clone(),
        started: Instant::now(),
        shared: shared.clone(),
        samples: Mutex::new(Vec::new()),
        edits: Mutex::new(HashMap::new()),
        imports: Mutex::new(Vec::new()),
        import_count: AtomicUsize::new(0),
    });
    let clients: Vec<_> = (0..CLIENTS).map(|n| tokio::spawn(Arc::clone(&load).client(n))).collect();

    // Half way: node B is stopped as an operator would, and started again.
    tokio::time::sleep(RESTART_AT.saturating_sub(load.started.elapsed())).await;
    let sigterm_at = load.started.elapsed();
    let status = b.terminate().await;
    let old_b_log = b.log();
    assert_eq!(status.code(), Some(0), "node B exited with {status} on SIGTERM:\n{old_b_log}");
    let stopped_at = load.started.elapsed();
    drop(b);
    let b = Node::start("B", &db.url, dir.path(), ports[1]).await;
    let ready_at = load.started.elapsed();

    for client in clients {
        client.await.expect("a client panicked");
    }
    let elapsed = load.started.elapsed();

    // Every request answered correctly, but those the restart cut.
    let samples = load.samples.lock().unwrap().clone();
    let window = sigterm_at.saturating_sub(RESTART_GRACE)..ready_at + RESTART_GRACE;
    let mut cut = 0;
    let mut wrong = Vec::new();
    for sample in &samples {
        if sample.fine() {
            continue;
        }
        if sample.cut() && window.contains(&sample.at) {
            cut += 1;
        } else {
            wrong.push(sample);
        }
    }
    let mut by_op: HashMap<&str, usize> = HashMap::new();
    for sample in &samples {
        *by_op.entry(sample.op).or_default() += 1;
    }
    let mut latencies: Vec<Duration> = samples.iter().filter(|s| s.fine()).map(|s| s.took).collect();
    latencies.sort();
    let stale = samples.iter().filter(|s| matches!(s.outcome, Outcome::Status(412, _))).count();
    let raced = samples.iter().filter(|s| s.op == "edit" && matches!(s.outcome, Outcome::Status(409, _))).count();
    let edits = load.edits.lock().unwrap().clone();
    let succeeded_edits: i64 = edits.values().map(|e| e.0).sum();
    eprintln!(
        "two nodes behind HAProxy, {CLIENTS} clients for {elapsed:.1?}: {} requests, {:.0} requests/s, \
         p50 {:.1?}, p99 {:.1?}, max {:.1?}; by operation {by_op:?}; edits {succeeded_edits} written, \
         {stale} refused as stale (412), {raced} refused by the write (409); node B restarted: SIGTERM at {sigterm_at:.1?}, exited 0 after {:.1?}, \
         ready again at {ready_at:.1?}; {cut} requests cut by the restart; {} imports",
        samples.len(),
        samples.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default(),
        stopped_at - sigterm_at,
        load.imports.lock().unwrap().len(),
    );
    let mut cut_by: HashMap<String, (usize, Duration, Duration)> = HashMap::new();
    for sample in samples.iter().filter(|s| !s.fine() && s.cut() && window.contains(&s.at)) {
        let entry = cut_by.entry(sample.outcome.to_string()).or_insert((0, sample.at, sample.at));
        *entry = (entry.0 + 1, entry.1.min(sample.at), entry.2.max(sample.at));
    }
    for (outcome, (count, first, last)) in cut_by {
        eprintln!("  cut by the restart: {count} × {outcome} (sent {first:.2?} to {last:.2?})");
    }
    assert!(
        wrong.is_empty(),
        "{} requests failed outside the restart (window {window:?}): {:#?}",
        wrong.len(),
        &wrong[..wrong.len().min(20)]
    );
    assert!(succeeded_edits > 0 && stale + raced > 0, "the edits did not contend: {edits:?}");

    // No lost update: each shared record's version is one plus its edits
    // (plus, at most, edits whose answer the restart cut).
    for id in &shared {
        let person: Value = http
            .get(format!("{}/api/v1/people/{id}", proxy.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let version = person["version"].as_i64().unwrap();
        let (written, unknown) = edits.get(id).copied().unwrap_or_default();
        assert!(
            (1 + written..=1 + written + unknown).contains(&version),
            "person {id}: version {version} after {written} edits answered 200 and {unknown} unanswered"
        );
    }

    // Every import job done exactly once.
    let imports = load.imports.lock().unwrap().clone();
    assert!(imports.len() >= CLIENTS, "imports were accepted: {imports:?}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let jobs = loop {
        let mut jobs = Vec::new();
        for id in &imports {
            jobs.push(store.job(None, id.parse::<JobId>().unwrap()).await.unwrap());
        }
        if jobs.iter().all(|j| j.status.is_finished()) {
            break jobs;
        }
        assert!(Instant::now() < deadline, "imports did not finish: {jobs:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let logs = [a.log(), old_b_log.clone(), b.log()];
    let mut given_back = 0;
    for job in &jobs {
        let id = job.id.to_string();
        assert_eq!((job.status, job.attempts), (JobStatus::Done, 1), "{job:?}");
        let started: usize =
            logs.iter().map(|log| log.lines().filter(|l| l.contains("job started") && l.contains(&id)).count()).sum();
        let returned = old_b_log.lines().any(|l| l.contains("given back") && l.contains(&id));
        given_back += usize::from(returned);
        let expected = if returned { 2 } else { 1 };
        assert_eq!(started, expected, "job {id} started {started} times (given back: {returned})");
        let report: Value = http
            .get(format!("{}/api/v1/imports/{id}", proxy.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let rows = |field: &str| report["report"][field].as_u64().unwrap_or(u64::MAX);
        assert_eq!(rows("rows_read"), IMPORT_ROWS as u64, "{report}");
        assert_eq!(rows("created") + rows("unchanged"), IMPORT_ROWS as u64, "{report}");
    }
    eprintln!("{} import jobs done once each ({given_back} given back at shutdown and run again)", jobs.len());

    // The session opened through the proxy before the restart works on both
    // nodes, the restarted one included.
    for node in [&a, &b] {
        let resp = http.get(format!("{}/api/v1/session", node.base)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(resp.status(), 200, "the session does not work on node {}", node.name);
    }
    drop(proxy);
    drop((a, b));
    store.close().await.unwrap();
}
