//! Memory and start-up of the real `rapport serve` process (issue 14, part 4):
//! the time from start to the first answered request, resident memory idle,
//! under a 32-client API load, and over a long mixed-load run, printed every
//! 10 s. Runs the release binary as a child process over a database filled
//! beforehand (`scripts/bench-memory.sh` imports one), so the figures are the
//! shipped server's alone, without the load generator beside it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use tokio::task::JoinSet;

#[derive(Parser, Debug)]
#[command(about = "Measures start-up and resident memory of `rapport serve` over a filled database")]
struct Args {
    /// The database to serve, filled beforehand (people named FirstN LastN).
    #[arg(long)]
    database_url: String,
    /// The `rapport` binary to run.
    #[arg(long, default_value = "target/release/rapport")]
    rapport: PathBuf,
    /// Requests in flight at once during the loads.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds of the 32-client load.
    #[arg(long, default_value_t = 60)]
    load_seconds: u64,
    /// Minutes of the mixed-load run whose memory must stay flat (0 skips it).
    #[arg(long, default_value_t = 10)]
    soak_minutes: u64,
    /// Seconds the server is left idle after start before its idle memory is read.
    #[arg(long, default_value_t = 30)]
    idle_seconds: u64,
}

const BENCH_USER: &str = "bench@example.com";

/// The server process, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Resident and peak resident memory in MB, from /proc.
    fn memory_mb(&self) -> Result<(f64, f64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .context("reading the server's /proc status")?;
        let field = |name: &str| -> Result<f64> {
            let line = status.lines().find(|l| l.starts_with(name)).ok_or_else(|| anyhow!("no {name} in status"))?;
            let kb: f64 = line.split_whitespace().nth(1).ok_or_else(|| anyhow!("empty {name}"))?.parse()?;
            Ok(kb / 1024.0)
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }
}

/// Runs a `rapport` command to its end and gives its standard output.
fn rapport(args: &Args, command: &[&str], stdin: Option<&str>) -> Result<String> {
    let mut child = Command::new(&args.rapport)
        .arg("--database-url")
        .arg(&args.database_url)
        .args(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", args.rapport.display()))?;
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().ok_or_else(|| anyhow!("no stdin"))?.write_all(text.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    ensure!(
        output.status.success(),
        "rapport {}: {}",
        command.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// An API token for the bench user, who is made an admin first when missing.
fn token(args: &Args) -> Result<String> {
    let users = rapport(args, &["user", "list"], None)?;
    if !users.contains(BENCH_USER) {
        rapport(
            args,
            &["user", "add", "--email", BENCH_USER, "--name", "Memory Bench", "--role", "admin"],
            Some("memory-bench-password\n"),
        )?;
    }
    rapport(args, &["token", "create", "--user", BENCH_USER, "--name", "memory bench"], None)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts the server and waits until it answers: the time to `/readyz`
/// answering 200, and to the first page of people answered.
async fn start(args: &Args, client: &reqwest::Client) -> Result<(Server, Duration, Duration)> {
    let port = free_port()?;
    let started = Instant::now();
    let child = Command::new(&args.rapport)
        .arg("--database-url")
        .arg(&args.database_url)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", args.rapport.display()))?;
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    let ready = loop {
        match client.get(format!("{}/readyz", server.base)).send().await {
            Ok(response) if response.status().is_success() => break started.elapsed(),
            _ if started.elapsed() > Duration::from_secs(120) => bail!("the server did not get ready in 120 s"),
            _ => tokio::time::sleep(Duration::from_millis(2)).await,
        }
    };
    let response = client.get(format!("{}/api/v1/people?limit=50", server.base)).send().await?;
    ensure!(response.status().is_success(), "the first page of people answered {}", response.status());
    response.bytes().await?;
    Ok((server, ready, started.elapsed()))
}

/// What the mixed load asks for: the API benchmark's four kinds of request.
struct Mix {
    client: reqwest::Client,
    base: String,
    ids: Vec<String>,
    created: AtomicUsize,
}

impl Mix {
    fn request(&self, rng: &mut StdRng) -> reqwest::RequestBuilder {
        let base = &self.base;
        match rng.random_range(0..10) {
            0..=3 => self.client.get(format!("{base}/api/v1/people/{}", self.ids[rng.random_range(0..self.ids.len())])),
            4..=5 => {
                let filter = ["lifecycle_stage=customer", "tag=bench", "lifecycle_stage=lead"][rng.random_range(0..3)];
                self.client.get(format!("{base}/api/v1/people?limit=50&{filter}"))
            }
            6..=8 => self.client.get(format!("{base}/api/v1/people?q=Last{}&limit=50", rng.random_range(1..977))),
            _ => {
                let n = self.created.fetch_add(1, Ordering::Relaxed);
                let body = serde_json::json!({
                    "first_name": "Memory",
                    "last_name": format!("Bench{n}"),
                    "emails": [{"address": format!("memory.bench.{n}.{}@new.example", std::process::id()), "primary": true}],
                    "tags": ["memory-bench"],
                });
                self.client.post(format!("{base}/api/v1/people")).json(&body)
            }
        }
    }
}

/// Runs the mixed load for `length` and gives how many requests were answered.
async fn load(mix: Arc<Mix>, concurrency: usize, length: Duration, seed: u64) -> Result<usize> {
    let deadline = Instant::now() + length;
    let mut workers = JoinSet::new();
    for worker in 0..concurrency {
        let mix = mix.clone();
        workers.spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed * 1_000 + worker as u64);
            let mut answered = 0usize;
            while Instant::now() < deadline {
                let response = mix.request(&mut rng).send().await?;
                let status = response.status();
                let body = response.bytes().await?;
                ensure!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)]));
                answered += 1;
            }
            Ok(answered)
        });
    }
    let mut answered = 0;
    while let Some(result) = workers.join_next().await {
        answered += result??;
    }
    Ok(answered)
}

/// Runs the load while reading the server's memory every `every`: the readings, in MB.
async fn load_watching(
    server: &Server,
    mix: Arc<Mix>,
    concurrency: usize,
    length: Duration,
    every: Duration,
    print: bool,
) -> Result<(usize, Vec<f64>)> {
    let running = tokio::spawn(load(mix, concurrency, length, length.as_secs()));
    let started = Instant::now();
    let mut readings = Vec::new();
    while !running.is_finished() {
        tokio::time::sleep(every).await;
        let (rss, _) = server.memory_mb()?;
        if print {
            println!("  {:>5.0} s  RSS {rss:.1} MB", started.elapsed().as_secs_f64());
        }
        readings.push(rss);
    }
    Ok((running.await??, readings))
}

/// Ids of people to read, from the first pages of the list.
async fn some_ids(client: &reqwest::Client, base: &str) -> Result<Vec<String>> {
    let page: serde_json::Value =
        client.get(format!("{base}/api/v1/people?limit=200")).send().await?.error_for_status()?.json().await?;
    let ids: Vec<String> = page["items"]
        .as_array()
        .ok_or_else(|| anyhow!("no items in the people list"))?
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect();
    ensure!(!ids.is_empty(), "the database holds no people: fill it first");
    Ok(ids)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::max)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let token = token(&args)?;
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}"))?);
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;

    println!("database: {}", args.database_url);
    let (server, ready, first_list) = start(&args, &client).await?;
    let (started_rss, _) = server.memory_mb()?;
    println!(
        "start: /readyz answered after {:.0} ms, the first page of people after {:.0} ms (goal < 1 s)",
        ready.as_secs_f64() * 1000.0,
        first_list.as_secs_f64() * 1000.0
    );
    println!("RSS just started: {started_rss:.1} MB");
    // The insights job runs once after start: idle memory includes it.
    tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
    let (idle_rss, idle_peak) = server.memory_mb()?;
    println!("RSS idle after {} s: {idle_rss:.1} MB (peak so far {idle_peak:.1} MB; goal < 50 MB)", args.idle_seconds);

    let mix = Arc::new(Mix {
        ids: some_ids(&client, &server.base).await?,
        client,
        base: server.base.clone(),
        created: AtomicUsize::new(0),
    });
    let length = Duration::from_secs(args.load_seconds);
    let (answered, readings) =
        load_watching(&server, mix.clone(), args.concurrency, length, Duration::from_secs(1), false).await?;
    let (after_rss, peak) = server.memory_mb()?;
    println!(
        "under load ({} clients, {} s, {answered} requests, {:.0}/s): RSS max {:.1} MB, peak {peak:.1} MB, \
         {after_rss:.1} MB after (goal < 150 MB)",
        args.concurrency,
        args.load_seconds,
        answered as f64 / length.as_secs_f64(),
        max(&readings)
    );

    if args.soak_minutes > 0 {
        println!("mixed load for {} min, RSS every 10 s:", args.soak_minutes);
        let length = Duration::from_secs(args.soak_minutes * 60);
        let (answered, readings) =
            load_watching(&server, mix, args.concurrency, length, Duration::from_secs(10), true).await?;
        // Flat: the last minute's highest reading against the second minute's,
        // after the first minute has filled the caches.
        let minute = readings.len().min(6);
        let second: Vec<f64> = readings.iter().skip(minute).take(minute).copied().collect();
        let last = &readings[readings.len().saturating_sub(minute)..];
        println!(
            "mixed load: {answered} requests; RSS max of the 2nd minute {:.1} MB, of the last minute {:.1} MB \
             (growth {:+.1} %)",
            max(&second),
            max(last),
            (max(last) / max(&second) - 1.0) * 100.0
        );
    }
    Ok(())
}
