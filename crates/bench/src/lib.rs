//! What the page benchmarks share: signing a staff member in, timing pages
//! by their `Server-Timing` header, and percentiles.

pub mod writer_lock;

use std::time::Instant;

use anyhow::{Result, anyhow};
use rapport_domain::records::{Password, UserInput};
use rapport_domain::text::Name;
use rapport_domain::{Email, Role, TeamId};
use rapport_storage::Store;
use reqwest::header::HeaderMap;

/// What one page kind's requests measured, in milliseconds, sorted.
pub struct Timings {
    pub label: String,
    pub server: Vec<f64>,
    pub client: Vec<f64>,
}

/// The value at percentile `p` (0–100) of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `value ÷ baseline` to `decimals` places, or "n/a" when the baseline is
/// zero (a `/healthz` server time can be under the header's last decimal).
pub fn ratio(value: f64, baseline: f64, decimals: usize) -> String {
    if baseline > 0.0 { format!("{:.*}", decimals, value / baseline) } else { "n/a".to_owned() }
}

/// The server's own time for a response, from its `Server-Timing` header.
pub fn server_millis(headers: &HeaderMap) -> Option<f64> {
    let value = headers.get("server-timing")?.to_str().ok()?;
    value.split(';').find_map(|part| part.trim().strip_prefix("dur=")).and_then(|d| d.parse().ok())
}

/// Fetches every URL, `concurrency` at a time, and times each.
pub async fn measure(client: &reqwest::Client, label: &str, urls: Vec<String>, concurrency: usize) -> Result<Timings> {
    time_all(label, urls.iter().map(|url| client.get(url)).collect(), concurrency, |_, _| Ok(())).await
}

/// What a timed request checks of its answer besides a success status: its headers and body.
pub type Check = fn(&HeaderMap, &[u8]) -> Result<()>;

/// Sends every request, `concurrency` at a time, times each, and checks its answer.
pub async fn time_all(
    label: &str,
    requests: Vec<reqwest::RequestBuilder>,
    concurrency: usize,
    check: Check,
) -> Result<Timings> {
    let mut timings = Timings { label: label.to_owned(), server: Vec::new(), client: Vec::new() };
    let mut requests = requests.into_iter().peekable();
    while requests.peek().is_some() {
        let mut in_flight = Vec::new();
        for request in requests.by_ref().take(concurrency) {
            in_flight.push(tokio::spawn(async move {
                let started = Instant::now();
                let response = request.send().await?;
                let (status, url) = (response.status(), response.url().clone());
                let headers = response.headers().clone();
                let body = response.bytes().await?;
                anyhow::ensure!(status.is_success(), "{url} answered {status}");
                check(&headers, &body).map_err(|err| anyhow!("{url}: {err}"))?;
                Ok::<_, anyhow::Error>((server_millis(&headers), started.elapsed().as_secs_f64() * 1000.0))
            }));
        }
        for task in in_flight {
            let (server, client) = task.await??;
            timings.server.push(server.ok_or_else(|| anyhow!("no Server-Timing header on {label}"))?);
            timings.client.push(client);
        }
    }
    timings.server.sort_by(f64::total_cmp);
    timings.client.sort_by(f64::total_cmp);
    Ok(timings)
}

/// Signs a staff member in (made first when missing): a session cookie for the pages.
pub async fn session(store: &Store, email: &str, role: Role, team_id: Option<TeamId>) -> Result<String> {
    let email = Email::parse(email).map_err(|e| anyhow!(e))?;
    let user = match store.find_user_by_email(&email).await? {
        Some(user) => user,
        None => {
            let name = format!("Bench {}", email.as_str().split('@').next().unwrap_or("user"));
            let input =
                UserInput { name: Name::try_from(name).map_err(|e| anyhow!(e))?, email, role, team_id, active: true };
            let password = Password::try_from("bench-pages-password".to_owned()).map_err(|e| anyhow!(e))?;
            store.create_user(input, Some(&password), None).await?
        }
    };
    let secret = store.create_session(user.id, time::Duration::hours(2)).await?;
    Ok(format!("{}={secret}", rapport_server::SESSION_COOKIE))
}

/// Serves Rapport's pages and API over `store` on a loopback port: its base URL, and the task to abort.
pub async fn serve(store: &Store) -> Result<(String, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let app = rapport_server::router(store.clone(), rapport_server::ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    Ok((base, server))
}

/// A client that sends `cookie` with every request.
pub fn client_with(cookie: &str) -> Result<reqwest::Client> {
    let mut headers = HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, reqwest::header::HeaderValue::from_str(cookie)?);
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .tcp_nodelay(true)
        .timeout(std::time::Duration::from_secs(60))
        .build()?)
}

/// Prints the server-time table of page runs, the first being the baseline.
pub fn print_timings(results: &[Timings], requests: usize, concurrency: usize) {
    println!();
    println!("## Server time, {requests} requests per page at concurrency {concurrency}");
    println!();
    println!("| Page | server p50 ms | server p99 ms | client p99 ms | server p99 ÷ /healthz p99 |");
    println!("|---|---:|---:|---:|---:|");
    let baseline = percentile(&results[0].server, 99.0);
    for t in results {
        println!(
            "| `{}` | {:.2} | {:.2} | {:.2} | {} |",
            t.label,
            percentile(&t.server, 50.0),
            percentile(&t.server, 99.0),
            percentile(&t.client, 99.0),
            ratio(percentile(&t.server, 99.0), baseline, 1)
        );
    }
    for t in &results[1..] {
        let p99 = percentile(&t.server, 99.0);
        println!("{}: server p99 {p99:.2} ms (goal < 30 ms: {})", t.label, if p99 < 30.0 { "met" } else { "missed" });
    }
}
