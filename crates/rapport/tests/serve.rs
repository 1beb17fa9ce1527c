//! `rapport serve` stopped with SIGTERM under load: it stops accepting,
//! answers every request it took in full, gives its running job back to the
//! queue and exits 0; every person it answered 201 for is in the database.
//! A connection idle at the signal is closed after the drain grace of 2 s.

#[macro_use]
extern crate rapport_testing;

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use rapport_domain::jobs::JobStatus;
use rapport_domain::{JobId, PersonId};
use rapport_storage::Store;
use rapport_testing::{Backend, TestDatabase};
use serde_json::{Value, json};

use common::{rapport, succeeded};

backend_tests!(sigterm_drains_requests_gives_jobs_back_and_exits_0, an_idle_connection_is_closed_after_the_grace);

const ADMIN: &str = "admin@example.com";
const CLIENTS: usize = 16;

/// A `rapport serve` child, killed and reaped when dropped if it still runs.
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(url: &str, dir: &std::path::Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(["--database-url", url, "serve", "--bind", "127.0.0.1:0"])
            // No rapport.toml from the working directory.
            .current_dir(dir)
            .env("RAPPORT_LOG", "info,sea_orm_migration=warn,rapport::request=warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the rapport binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(String::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("Rapport is listening on ").nth(1) {
                    let _ = address_tx.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                }
                let mut log = kept.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut server = Server { child, base: String::new(), log };
        match address_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(base) => server.base = base,
            Err(_) => panic!("the server did not start listening:\n{}", server.log()),
        }
        server
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn sigterm(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// The exit status, once the process ended within `limit`.
    async fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What the clients saw.
#[derive(Default)]
struct Seen {
    answered: usize,
    /// Clients that were refused at least once.
    clients_refused: usize,
    refused: usize,
    created: Vec<PersonId>,
    broken: Vec<String>,
}

async fn client(n: usize, base: String, token: String, signalled: Arc<OnceLock<Instant>>, seen: Arc<Mutex<Seen>>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let (mut i, mut refused_here) = (0usize, 0usize);
    // Until the signal, and then until refused once (or for at most 12 s in all).
    let give_up = Instant::now() + Duration::from_secs(12);
    while !(signalled.get().is_some() && (refused_here > 0 || Instant::now() > give_up)) {
        i += 1;
        let request = match i % 4 {
            0 => http.get(format!("{base}/api/v1/companies?limit=20")),
            1 => http.get(format!("{base}/api/v1/people?limit=20")),
            _ => http
                .post(format!("{base}/api/v1/people"))
                .json(&json!({"first_name": format!("Client{n}"), "last_name": format!("Request{i}")})),
        };
        let is_post = i % 4 >= 2;
        let outcome = async {
            let resp = request.bearer_auth(&token).send().await?;
            let status = resp.status();
            // The whole body, so a response cut short is an error here.
            let body = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, body))
        }
        .await;
        let refused = matches!(&outcome, Err(err) if err.is_connect());
        {
            let mut seen = seen.lock().unwrap();
            match outcome {
                Ok((status, body)) => {
                    seen.answered += 1;
                    if is_post && status.as_u16() == 201 {
                        let person: Value = match serde_json::from_slice(&body) {
                            Ok(person) => person,
                            Err(err) => {
                                seen.broken.push(format!("201 with a body that is not JSON ({err})"));
                                continue;
                            }
                        };
                        seen.created.push(person["id"].as_str().expect("an id").parse().expect("a person id"));
                    }
                }
                Err(err) if err.is_connect() => seen.refused += 1,
                Err(err) => {
                    let when = match signalled.get() {
                        Some(at) => format!("{:?} after the signal", at.elapsed()),
                        None => "before the signal".to_owned(),
                    };
                    seen.broken.push(format!("{} {when}: {err:?}", if is_post { "POST" } else { "GET" }));
                }
            }
        }
        if refused {
            refused_here += 1;
            // Nobody listens any more: no need to spin.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    if refused_here > 0 {
        seen.lock().unwrap().clients_refused += 1;
    }
}

fn people_csv(rows: usize) -> String {
    let mut csv = String::from("first_name,last_name,email\n");
    for i in 0..rows {
        csv.push_str(&format!("Imported{i},Person,imported{i}@example.com\n"));
    }
    csv
}

async fn sigterm_drains_requests_gives_jobs_back_and_exits_0(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    succeeded(rapport(&db.url, &["migrate"], ""));
    succeeded(rapport(
        &db.url,
        &["user", "add", "--email", ADMIN, "--name", "Admin", "--role", "admin"],
        "a-long-password\n",
    ));
    let token = succeeded(rapport(&db.url, &["token", "create", "--user", ADMIN], "")).stdout.trim().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&db.url, dir.path());
    // Keeping no idle connection, it does not hold the drain open for its
    // grace, at whose end the server closes idle connections: one a client
    // was just sending on would be cut (HTTP/1.1 has no way round that race).
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();

    // An import big enough to still be running when the signal comes.
    let boundary = "rapport-serve-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\npeople\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    );
    body.push_str(&people_csv(30_000));
    body.push_str(&format!("\r\n--{boundary}--\r\n"));
    let resp = http
        .post(format!("{}/api/v1/imports", server.base))
        .bearer_auth(&token)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let job: Value = resp.json().await.unwrap();
    let job_id: JobId = job["id"].as_str().unwrap().parse().unwrap();

    let signalled = Arc::new(OnceLock::new());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| tokio::spawn(client(n, server.base.clone(), token.clone(), signalled.clone(), seen.clone())))
        .collect();

    // Let every client get answers first (longer on a busy machine).
    let going = Instant::now() + Duration::from_secs(15);
    tokio::time::sleep(Duration::from_secs(2)).await;
    while seen.lock().unwrap().answered <= CLIENTS && Instant::now() < going {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let job_now: Value = http
        .get(format!("{}/api/v1/imports/{job_id}", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job_now["status"], "running", "the import should be running at the signal: {job_now}");
    let answered_before = seen.lock().unwrap().answered;
    server.sigterm();
    let signalled = *signalled.get_or_init(Instant::now);
    for client in clients {
        client.await.expect("a client panicked");
    }

    let status = server.exited_within(Duration::from_secs(10).saturating_sub(signalled.elapsed())).await;
    let log = server.log();
    let status = status.unwrap_or_else(|| panic!("the server did not exit within 10 s of SIGTERM:\n{log}"));
    assert!(status.success(), "the server exited with {status}:\n{log}");
    let exited_after = signalled.elapsed();

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    eprintln!(
        "{backend:?}: {} requests answered ({answered_before} before the signal), {} refused, {} people created; \
         exited {exited_after:?} after SIGTERM",
        seen.answered,
        seen.refused,
        seen.created.len()
    );
    assert!(seen.broken.is_empty(), "requests cut off instead of answered or refused: {:#?}\n{log}", seen.broken);
    assert!(answered_before > CLIENTS, "the clients got going: {answered_before} answered");
    assert_eq!(seen.clients_refused, CLIENTS, "after the signal, every client's new connection is refused");
    assert!(!seen.created.is_empty(), "some people were created");

    let store = Store::connect(&db.url).await.expect("open the database");
    for id in &seen.created {
        if let Err(err) = store.get_person(*id).await {
            panic!("person {id} was answered 201 but is not in the database: {err}");
        }
    }
    let job = store.job(None, job_id).await.unwrap();
    assert_eq!((job.status, job.lease_owner.as_deref()), (JobStatus::Queued, None), "{job:?}");
    assert!(log.contains("job given back at shutdown") && log.contains(&job_id.to_string()), "{log}");
    store.close().await.unwrap();
}

/// A client that keeps a connection open without sending on it (a browser
/// tab, a load balancer's spare) does not keep the node from stopping: the
/// connection is closed once the drain grace has passed.
async fn an_idle_connection_is_closed_after_the_grace(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    succeeded(rapport(&db.url, &["migrate"], ""));
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&db.url, dir.path());
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut idle = TcpStream::connect(&address).expect("connect to the server");
    idle.set_read_timeout(Some(Duration::from_secs(10))).unwrap();

    server.sigterm();
    let signalled = Instant::now();
    let mut received = Vec::new();
    idle.read_to_end(&mut received).expect("the server closes the idle connection");
    let closed_after = signalled.elapsed();
    assert!(received.is_empty(), "nothing is sent on a connection that sent nothing: {received:?}");
    assert!(closed_after >= Duration::from_millis(1500), "the idle connection was given its grace: {closed_after:?}");

    let status = server.exited_within(Duration::from_secs(10)).await;
    let log = server.log();
    let status = status.unwrap_or_else(|| panic!("the server did not exit within 10 s of SIGTERM:\n{log}"));
    assert!(status.success(), "the server exited with {status}:\n{log}");
}
