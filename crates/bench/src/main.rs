//! Rapport's API benchmark. For each backend it seeds a throwaway database
//! with people, starts the real server in this process, and loads it over
//! HTTP at a fixed concurrency, one scenario at a time. It prints figures; it
//! does not pass or fail.

// The same allocator as the `rapport` binary, so the in-process server is measured as it ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use clap::{Parser, ValueEnum};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rapport_domain::records::{
    CompanyInput, CompanySize, Domain, EmailEntry, LifecycleStage, Password, PersonInput, Phone, PhoneEntry, UserInput,
};
use rapport_domain::text::{Name, Tag};
use rapport_domain::{Actor, CompanyId, Email, PersonId, Role, UserId};
use rapport_storage::Store;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use sea_orm::{ConnectionTrait, Database, DbBackend};
use tokio::task::JoinSet;

#[derive(Parser, Debug)]
#[command(about = "Loads Rapport's API over HTTP on SQLite and PostgreSQL and prints the figures")]
struct Args {
    /// People to seed before measuring.
    #[arg(long, default_value_t = 100_000)]
    people: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measured seconds per scenario (after a one-second warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long, value_enum, default_value_t = BackendChoice::Both)]
    backend: BackendChoice,
    /// A PostgreSQL server URL without a database name; the benchmark creates
    /// and drops its own database there.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres_url: String,
    /// Keep the seeded databases afterwards (their location is printed), to
    /// look at query plans.
    #[arg(long)]
    keep_database: bool,
    /// Measure only these scenarios (repeat the flag); all five by default.
    #[arg(long = "scenario", value_enum)]
    scenarios: Vec<Scenario>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BackendChoice {
    Sqlite,
    Postgres,
    Both,
}

const SEED_BATCH: usize = 2_000;
const WARMUP: Duration = Duration::from_secs(1);

#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "Ana", "Bruno", "Carla", "Daniel", "Elena", "Felipe", "Grace", "Hugo", "Irene", "Jonas", "Karin", "Luis", "Maria",
    "Nadia", "Oscar", "Paula", "Quentin", "Rosa", "Samuel", "Tamara", "Ursula", "Victor", "Wanda", "Xavier", "Yara",
    "Zoe", "Aisha", "Ben", "Chloe", "Dmitri", "Emma", "Farid", "Giulia", "Hannah", "Ivan", "Julia", "Kenji", "Lena",
    "Mateo", "Nina", "Olivia", "Pedro", "Rafael", "Sofia", "Tomas", "Valentina", "William", "Yusuf", "Amelie", "Noah",
    "Priya", "Omar", "Ingrid", "Lucas", "Mei", "Arjun", "Fatima", "Liam", "Chiara", "Mohammed",
];

#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "Silva", "Santos", "Oliveira", "Pereira", "Costa", "Rodrigues", "Martins", "Ferreira", "Almeida", "Carvalho",
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas",
    "Moore", "Jackson", "Martin", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts",
    "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Rossi",
    "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Garcia", "Martinez",
    "Lopez", "Gonzalez", "Hernandez", "Sanchez", "Ramirez", "Torres", "Flores", "Rivera", "Dubois", "Moreau", "Laurent",
    "Lefebvre", "Leroy", "Roux", "Fournier", "Girard", "Bonnet", "Dupont", "Nakamura", "Tanaka", "Watanabe", "Yamamoto",
    "Kobayashi", "Novak", "Horvat", "Kowalski", "Nowak", "Wisniewski", "Jensen", "Nielsen", "Hansen", "Larsen",
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Petrov", "Ivanov", "Popescu", "Papadopoulos",
    "Yilmaz", "Kaya", "Demir", "Okafor", "Mensah", "Patel", "Sharma", "Singh", "Kumar", "Chen", "Wang", "Zhang",
    "Nguyen", "Tran", "Kim", "Park", "Murphy", "Kelly", "Byrne", "Walsh", "Oconnor", "Macdonald",
];

#[rustfmt::skip]
const COMPANY_NAMES: &[&str] = &[
    "Northwind", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne",
    "Tyrell", "Cyberdyne", "Soylent", "Aperture", "Oscorp", "Wonka", "Gringotts", "Monarch", "Dunder", "Sterling",
    "Pied Piper", "Massive Dynamic", "Blue Sun", "Acme", "Prestige", "Virtucon", "Nakatomi", "Gekko", "Zorg",
    "Buy n Large",
];

#[rustfmt::skip]
const JOB_TITLES: &[&str] = &[
    "Owner", "Manager", "Buyer", "Head of Sales", "Office Manager", "CTO", "Accountant", "Designer", "Engineer",
    "Consultant", "Director", "Marketing Lead",
];

const SOURCES: &[&str] = &["website", "event", "referral", "cold call", "newsletter", "walk-in"];
const MAIL_DOMAINS: &[&str] = &["example.com", "mail.example", "inbox.example.org", "post.example.net"];

fn name(text: &str) -> Name {
    Name::try_from(text).expect("the benchmark's names are valid")
}

fn tag(text: &str) -> Tag {
    Tag::try_from(text.to_owned()).expect("the benchmark's tags are valid")
}

/// A lifecycle stage with a plausible spread: most people are leads or customers.
fn random_stage(rng: &mut StdRng) -> LifecycleStage {
    match rng.random_range(0..100) {
        0..35 => LifecycleStage::Lead,
        35..55 => LifecycleStage::Prospect,
        55..85 => LifecycleStage::Customer,
        85..93 => LifecycleStage::Advocate,
        _ => LifecycleStage::Churned,
    }
}

fn random_tags(rng: &mut StdRng) -> Vec<&'static str> {
    let mut tags = Vec::new();
    if rng.random_bool(0.10) {
        tags.push("vip");
    }
    if rng.random_bool(0.40) {
        tags.push("newsletter");
    }
    if rng.random_bool(0.05) {
        tags.push("partner");
    }
    tags
}

fn random_phone(rng: &mut StdRng) -> String {
    format!("+1 555 {:03} {:04}", rng.random_range(0..1000), rng.random_range(0..10_000))
}

/// A varied, valid person; `n` keeps email addresses unique.
fn random_person(rng: &mut StdRng, n: usize, companies: &[CompanyId]) -> PersonInput {
    let first = *FIRST_NAMES.choose(rng).expect("names");
    let last = *LAST_NAMES.choose(rng).expect("names");
    let domain = MAIL_DOMAINS.choose(rng).expect("domains");
    let mut emails = vec![EmailEntry {
        address: Email::parse(&format!("{first}.{last}.{n}@{domain}")).expect("a valid address"),
        label: Some(name("work")),
        primary: true,
    }];
    if rng.random_bool(0.3) {
        emails.push(EmailEntry {
            address: Email::parse(&format!("{first}{n}@home.example")).expect("a valid address"),
            label: Some(name("home")),
            primary: false,
        });
    }
    PersonInput {
        first_name: name(first),
        last_name: Some(name(last)),
        emails,
        phones: vec![PhoneEntry {
            number: Phone::try_from(random_phone(rng)).expect("a valid phone"),
            label: None,
            primary: true,
        }],
        birthday: None,
        addresses: Vec::new(),
        job_title: rng.random_bool(0.7).then(|| name(JOB_TITLES.choose(rng).expect("titles"))),
        company_id: if rng.random_bool(0.7) { companies.choose(rng).copied() } else { None },
        owner_id: None,
        lifecycle_stage: random_stage(rng),
        source: rng.random_bool(0.5).then(|| name(SOURCES.choose(rng).expect("sources"))),
        referred_by_id: None,
        tags: random_tags(rng).into_iter().map(tag).collect(),
        preferences: Default::default(),
        keep_in_touch_days: rng.random_bool(0.2).then_some(90),
        external_id: None,
        custom_fields: Default::default(),
    }
}

struct Seeded {
    admin: UserId,
    people: Vec<PersonId>,
    companies: Vec<CompanyId>,
}

async fn seed(store: &Store, people: usize) -> Result<Seeded> {
    let password = Password::try_from("benchmark-password".to_string()).map_err(anyhow::Error::msg)?;
    let admin = store
        .create_user(
            UserInput {
                name: name("Benchmark Admin"),
                email: Email::parse("bench@example.com").map_err(anyhow::Error::msg)?,
                role: Role::Admin,
                team_id: None,
                active: true,
            },
            Some(&password),
            None,
        )
        .await?;
    let actor = Actor { user_id: admin.id, role: Role::Admin, team_id: None };
    let sizes = [CompanySize::S1to10, CompanySize::S11to50, CompanySize::S51to200, CompanySize::S201to1000];
    let mut companies = Vec::new();
    for (i, company) in COMPANY_NAMES.iter().enumerate() {
        let slug: String = company.to_lowercase().split_whitespace().collect::<Vec<_>>().join("-");
        let input = CompanyInput {
            name: name(company),
            domain: Some(Domain::try_from(format!("{slug}.example.com")).map_err(anyhow::Error::msg)?),
            industry: Some(name(["Retail", "Software", "Manufacturing", "Services"][i % 4])),
            size: Some(sizes[i % sizes.len()]),
            owner_id: None,
            tags: Vec::new(),
            external_id: None,
            custom_fields: Default::default(),
        };
        companies.push(store.create_company(&actor, input).await?.id);
    }

    // PostgreSQL takes batches side by side; SQLite has one writer anyway.
    let parallel = if store.backend() == DbBackend::Sqlite { 1 } else { 4 };
    let mut rng = StdRng::seed_from_u64(7);
    let mut ids = Vec::with_capacity(people);
    let mut running = JoinSet::new();
    let mut next_report = 10_000;
    let started = Instant::now();
    for start in (0..people).step_by(SEED_BATCH) {
        let batch: Vec<PersonInput> =
            (start..people.min(start + SEED_BATCH)).map(|n| random_person(&mut rng, n, &companies)).collect();
        if running.len() >= parallel {
            let created: Vec<PersonId> = running.join_next().await.expect("a running batch")??;
            ids.extend(created);
        }
        let store = store.clone();
        running.spawn(async move {
            let created = store.create_people(&actor, batch).await?;
            anyhow::Ok(created.into_iter().map(|p| p.id).collect::<Vec<_>>())
        });
        if ids.len() >= next_report {
            println!("  seeded {:>7} people ({:.1} s)", ids.len(), started.elapsed().as_secs_f64());
            next_report += 10_000;
        }
    }
    while let Some(created) = running.join_next().await {
        ids.extend(created??);
    }
    Ok(Seeded { admin: admin.id, people: ids, companies })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Healthz,
    GetPerson,
    ListFiltered,
    Search,
    Create,
}

impl Scenario {
    const ALL: [Scenario; 5] =
        [Scenario::Healthz, Scenario::GetPerson, Scenario::ListFiltered, Scenario::Search, Scenario::Create];

    fn label(self) -> &'static str {
        match self {
            Scenario::Healthz => "GET /healthz",
            Scenario::GetPerson => "GET /api/v1/people/{id}",
            Scenario::ListFiltered => "GET /api/v1/people?limit=50&<filter>",
            Scenario::Search => "GET /api/v1/people?q=<prefix>&limit=50",
            Scenario::Create => "POST /api/v1/people",
        }
    }
}

/// What the load generator needs to build requests.
struct Target {
    client: reqwest::Client,
    base: String,
    people: Vec<String>,
    companies: Vec<String>,
}

impl Target {
    fn request(&self, scenario: Scenario, rng: &mut StdRng) -> reqwest::RequestBuilder {
        let base = &self.base;
        match scenario {
            Scenario::Healthz => self.client.get(format!("{base}/healthz")),
            Scenario::GetPerson => {
                let id = self.people.choose(rng).expect("seeded people");
                self.client.get(format!("{base}/api/v1/people/{id}"))
            }
            Scenario::ListFiltered => {
                let filter = if rng.random_bool(0.5) { "tag=vip" } else { "lifecycle_stage=customer" };
                self.client.get(format!("{base}/api/v1/people?limit=50&{filter}"))
            }
            Scenario::Search => {
                let last = LAST_NAMES.choose(rng).expect("names").to_lowercase();
                let prefix = &last[..rng.random_range(3..=4).min(last.len())];
                self.client.get(format!("{base}/api/v1/people?q={prefix}&limit=50"))
            }
            Scenario::Create => {
                let first = FIRST_NAMES.choose(rng).expect("names");
                let last = LAST_NAMES.choose(rng).expect("names");
                let n: u64 = rng.random();
                let mut body = serde_json::json!({
                    "first_name": first,
                    "last_name": last,
                    "emails": [{"address": format!("{first}.{last}.{n:x}@new.example"), "primary": true}],
                    "phones": [{"number": random_phone(rng)}],
                    "lifecycle_stage": "lead",
                    "source": "website",
                    "tags": random_tags(rng),
                });
                if rng.random_bool(0.7) {
                    body["company_id"] = self.companies.choose(rng).expect("companies").clone().into();
                }
                self.client.post(format!("{base}/api/v1/people")).json(&body)
            }
        }
    }
}

struct Measured {
    scenario: Scenario,
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

impl Measured {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at percentile `p` (0–100), in milliseconds.
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1].as_secs_f64() * 1000.0
    }
}

#[derive(Default)]
struct WorkerTally {
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

async fn load(target: Arc<Target>, scenario: Scenario, concurrency: usize, length: Duration, seed: u64) -> Measured {
    let started = Instant::now();
    let deadline = started + length;
    let mut workers = JoinSet::new();
    for worker in 0..concurrency {
        let target = target.clone();
        workers.spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed * 1_000 + worker as u64);
            let mut tally = WorkerTally::default();
            while Instant::now() < deadline {
                let request = target.request(scenario, &mut rng);
                let sent = Instant::now();
                let problem = match request.send().await {
                    Ok(response) => {
                        let status = response.status();
                        match response.bytes().await {
                            Ok(body) if !status.is_success() => {
                                Some(format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)])))
                            }
                            Ok(_) => None,
                            Err(err) => Some(format!("reading the body: {err}")),
                        }
                    }
                    Err(err) => Some(format!("sending: {err}")),
                };
                tally.latencies.push(sent.elapsed());
                if let Some(problem) = problem {
                    tally.errors += 1;
                    tally.first_error.get_or_insert(problem);
                }
            }
            tally
        });
    }
    let mut all = WorkerTally::default();
    while let Some(tally) = workers.join_next().await {
        let tally = tally.expect("a load worker panicked");
        all.latencies.extend(tally.latencies);
        all.errors += tally.errors;
        if all.first_error.is_none() {
            all.first_error = tally.first_error;
        }
    }
    let elapsed = started.elapsed();
    all.latencies.sort_unstable();
    Measured {
        scenario,
        requests: all.latencies.len(),
        elapsed,
        latencies: all.latencies,
        errors: all.errors,
        first_error: all.first_error,
    }
}

/// Seeds `url`, serves it, and measures every scenario.
async fn bench(url: &str, label: &str, args: &Args) -> Result<Vec<Measured>> {
    let store = Store::connect(url).await.with_context(|| format!("opening {label}"))?;
    store.migrate().await?;

    println!("{label}: seeding {} people in batches of {SEED_BATCH}...", args.people);
    let started = Instant::now();
    let seeded = seed(&store, args.people).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{label}: seeded {} people and {} companies in {seconds:.1} s ({:.0} people/s)",
        seeded.people.len(),
        seeded.companies.len(),
        seeded.people.len() as f64 / seconds
    );

    // A live server keeps planner statistics current (SQLite: Rapport's hourly
    // job; PostgreSQL: autovacuum); right after a bulk load, refresh them now.
    store.analyze().await?;
    println!("{label}: refreshed planner statistics after seeding");

    let app = rapport_server::router(store.clone(), rapport_server::ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server =
        tokio::spawn(
            async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await },
        );
    let token = store.create_token(seeded.admin, name("bench"), None).await?.secret;

    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}"))?);
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(args.concurrency)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;
    let target = Arc::new(Target {
        client,
        base: format!("http://{address}"),
        people: seeded.people.iter().map(ToString::to_string).collect(),
        companies: seeded.companies.iter().map(ToString::to_string).collect(),
    });

    let mut results = Vec::new();
    let chosen = Scenario::ALL.into_iter().filter(|s| args.scenarios.is_empty() || args.scenarios.contains(s));
    for (i, scenario) in chosen.enumerate() {
        load(target.clone(), scenario, args.concurrency, WARMUP, 1 + 2 * i as u64).await;
        let measured =
            load(target.clone(), scenario, args.concurrency, Duration::from_secs(args.seconds), 2 + 2 * i as u64).await;
        println!(
            "{label}: {:<40} {:>9.0} req/s  ({} errors)",
            scenario.label(),
            measured.per_second(),
            measured.errors
        );
        results.push(measured);
    }

    drop(target);
    server.abort();
    let _ = server.await;
    store.close().await?;
    Ok(results)
}

async fn bench_sqlite(args: &Args) -> Result<Vec<Measured>> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let results = bench(&url, "SQLite", args).await;
    if args.keep_database {
        println!("SQLite: kept {url}");
        let _ = dir.keep();
    }
    results
}

async fn bench_postgres(args: &Args) -> Result<Vec<Measured>> {
    let base = args.postgres_url.trim_end_matches('/');
    let admin = Database::connect(format!("{base}/postgres"))
        .await
        .with_context(|| format!("connecting to {base}/postgres"))?;
    let database = format!("rapport_bench_{}", uuid::Uuid::now_v7().simple());
    admin.execute_unprepared(&format!("CREATE DATABASE {database}")).await?;
    let result = bench(&format!("{base}/{database}"), "PostgreSQL", args).await;
    if args.keep_database {
        println!("PostgreSQL: kept {base}/{database}");
        admin.close().await?;
        return result;
    }
    let dropped = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await;
    admin.close().await?;
    let results = result?;
    dropped.with_context(|| format!("dropping {database}"))?;
    Ok(results)
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, m)| m.trim().to_owned())
}

fn report(label: &str, args: &Args, results: &[Measured]) {
    println!();
    println!("## {label}: {} people, concurrency {}, {} s per scenario", args.people, args.concurrency, args.seconds);
    println!();
    println!("| Scenario | Requests | req/s | p50 ms | p99 ms | Errors |");
    println!("|---|---:|---:|---:|---:|---:|");
    for m in results {
        println!(
            "| `{}` | {} | {:.0} | {:.2} | {:.2} | {} |",
            m.scenario.label(),
            m.requests,
            m.per_second(),
            m.percentile_ms(50.0),
            m.percentile_ms(99.0),
            m.errors
        );
    }
    for m in results {
        if let Some(problem) = &m.first_error {
            println!("first error in {}: {problem}", m.scenario.label());
        }
    }
    let find = |s: fn(&Scenario) -> bool| results.iter().find(|m| s(&m.scenario));
    if let (Some(health), Some(get)) =
        (find(|s| matches!(s, Scenario::Healthz)), find(|s| matches!(s, Scenario::GetPerson)))
    {
        let ratio = get.per_second() / health.per_second();
        let verdict = match (label, ratio >= 0.40) {
            ("SQLite", true) => "goal >= 0.40 on SQLite: met",
            ("SQLite", false) => "goal >= 0.40 on SQLite: missed",
            _ => "the goal is set for SQLite only",
        };
        println!();
        println!("GET by id / healthz throughput: {ratio:.2} ({verdict})");
    }
    for m in results.iter().filter(|m| matches!(m.scenario, Scenario::ListFiltered | Scenario::Search)) {
        let p99 = m.percentile_ms(99.0);
        let verdict = if p99 < 25.0 { "met" } else { "missed" };
        println!("{} p99 {p99:.2} ms (goal < 25 ms: {verdict})", m.scenario.label());
    }
    if let Some(create) = find(|s| matches!(s, Scenario::Create)) {
        let goal = if label == "SQLite" { 5_000.0 } else { 3_000.0 };
        let verdict = if create.per_second() >= goal { "met" } else { "missed" };
        println!("{} {:.0} per second (goal >= {goal:.0}: {verdict})", create.scenario.label(), create.per_second());
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    // The router runs in this process: its allocator is set up as `serve`'s.
    rapport_server::return_freed_memory_at_once();
    let args = Args::parse();
    if args.concurrency == 0 || args.seconds == 0 || args.people == 0 {
        return Err(anyhow!("--people, --concurrency and --seconds must be at least 1"));
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "Machine: {cores} cores (nproc){}; the load generator and the server share this machine and process.",
        cpu_model().map(|m| format!(", {m}")).unwrap_or_default()
    );
    let mut reports = Vec::new();
    if matches!(args.backend, BackendChoice::Sqlite | BackendChoice::Both) {
        reports.push(("SQLite", bench_sqlite(&args).await?));
    }
    if matches!(args.backend, BackendChoice::Postgres | BackendChoice::Both) {
        reports.push(("PostgreSQL", bench_postgres(&args).await?));
    }
    for (label, results) in &reports {
        report(label, &args, results);
    }
    println!();
    println!(
        "Client and server ran in one process on the same {cores}-core machine; figures include the client's own cost."
    );
    Ok(())
}
