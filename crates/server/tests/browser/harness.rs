//! The browser-test harness: Rapport in-process on port 0 over a throwaway
//! SQLite database, a `chromedriver` child process on a free port, and one
//! headless Chromium session per scenario. At most two scenarios run at once
//! (a process-wide semaphore), wait explicitly for what they expect, check every page
//! they visit for CSP violations, and save screenshots of key pages at desktop
//! and phone width under target/screenshots/.

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use rapport_domain::access::{Actor, Role};
use rapport_domain::email::Email;
use rapport_domain::records::{
    Company, CompanyInput, Deal, DealInput, DealStatus, EmailEntry, Password, Person, PersonInput, Pipeline,
    PipelineInput, StageInput, User, UserInput,
};
use rapport_domain::text::Name;
use rapport_domain::{Currency, Money};
use rapport_storage::{ListQuery, PersonFilter, Store};
use rapport_testing::{Backend, TestDatabase};
use thirtyfour::prelude::*;
use thirtyfour::{ChromeCapabilities, LoggingPrefsLogLevel};

/// How long any wait for the page lasts before the scenario fails.
pub const WAIT: Duration = Duration::from_secs(10);
/// How often a wait looks again.
pub const POLL: Duration = Duration::from_millis(100);

pub const PASSWORD: &str = "correct horse battery staple";

pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (390, 844);

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Browser scenarios run two at a time at most: each starts a browser, which
/// keeps about one core busy, and CI's machine has two.
static BROWSERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Runs `body` as the scenario `name`: with a fresh app, chromedriver and
/// browser, closed afterwards whatever happens. Without chromedriver the
/// scenario is skipped with a note, unless CI is set, where that fails.
pub async fn scenario<F, Fut>(name: &'static str, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let _turn = BROWSERS.acquire().await.expect("the browsers' semaphore is never closed");
    if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but {CHROMEDRIVER} or {CHROMIUM} is missing: install Debian's chromium and chromium-driver"
        );
        println!("skipped {name}: {CHROMEDRIVER} or {CHROMIUM} is missing (apt-get install chromium chromium-driver)");
        return;
    }
    let chromedriver = ChromeDriver::start().await;
    let app = Arc::new(App::spawn().await);
    let profile = tempfile::tempdir().expect("a browser profile directory");
    let driver = open_session(&chromedriver.url, profile.path()).await;
    let ctx = Ctx { name, app, driver: driver.clone() };
    ctx.set_size(DESKTOP).await;

    let outcome = AssertUnwindSafe(body(ctx.clone())).catch_unwind().await;
    if outcome.is_err() {
        // What the browser showed when the scenario failed.
        let path = screenshot_dir().join(format!("{name}-failure.png"));
        if driver.screenshot(&path).await.is_ok() {
            eprintln!("the page at failure: {}", path.display());
        }
        if let Ok(url) = driver.current_url().await {
            eprintln!("the browser was at {url}");
        }
    }
    if let Err(err) = driver.quit().await {
        eprintln!("closing the browser: {err}");
    }
    drop(chromedriver);
    drop(profile);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn open_session(server: &str, profile: &Path) -> WebDriver {
    let mut caps = ChromeCapabilities::new();
    caps.set_binary(CHROMIUM).expect("binary capability");
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-search-engine-choice-screen",
        "--window-size=1280,900",
        "--lang=en-US",
    ] {
        caps.add_arg(arg).expect("an argument");
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.display())).expect("an argument");
    // The console, where Chromium reports CSP violations.
    caps.set_browser_log_level(LoggingPrefsLogLevel::All).expect("logging preferences");
    WebDriver::new(server, caps).await.unwrap_or_else(|err| panic!("cannot open a Chromium session: {err}"))
}

/// `chromedriver --port=N`, killed (with the browsers it started) on drop.
struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    async fn start() -> ChromeDriver {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("a local address").port()
        };
        let mut command = Command::new(CHROMEDRIVER);
        command.arg(format!("--port={port}")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        // Its own process group, so the browsers it starts can be ended with it.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().unwrap_or_else(|err| panic!("cannot start {CHROMEDRIVER}: {err}"));
        let driver = ChromeDriver { child, url: format!("http://127.0.0.1:{port}") };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = client
                .get(format!("{}/status", driver.url))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return driver;
            }
            assert!(started.elapsed() < WAIT, "chromedriver did not answer on port {port} within {WAIT:?}");
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let group = self.child.id();
        // The process group we made at spawn: chromedriver and any browser it left behind.
        let _ = Command::new("kill").arg("-KILL").arg("--").arg(format!("-{group}")).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Rapport, served in-process.
pub struct App {
    pub base_url: String,
    pub store: Store,
    /// The server's insights (its job runs; `refresh_if_changed` brings them up to date at once).
    pub insights: std::sync::Arc<rapport_reports::Insights>,
    server: tokio::task::JoinHandle<()>,
    _database: TestDatabase,
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl App {
    async fn spawn() -> App {
        // Browser tests test pages, not storage: SQLite only.
        let database = TestDatabase::migrated(Backend::Sqlite, Store::migrate_database).await;
        let store = Store::connect(&database.url).await.expect("connect to the test database");
        // The insights job runs as in production, checking for new data often.
        let mut config = rapport_server::ServerConfig::default();
        config.jobs.poll = std::time::Duration::from_millis(50);
        let mut app = rapport_server::app(store.clone(), config);
        let jobs = app.start_jobs(std::time::Duration::from_millis(100));
        let insights = app.insights;
        let router = app.router;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("a local address");
        let server = tokio::spawn(async move {
            // Aborting the server drops this and stops the jobs with it.
            let _jobs = jobs;
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .await
                .expect("the server runs");
        });
        App { base_url: format!("http://{addr}"), store, insights, server, _database: database }
    }

    /// A staff member with the test password; returns them and their actor.
    pub async fn create_user(&self, name: &str, email: &str, role: Role) -> (User, Actor) {
        let password = Password::try_from(PASSWORD.to_owned()).expect("a valid password");
        let user = self
            .store
            .create_user(
                UserInput {
                    name: name_of(name),
                    email: Email::parse(email).expect("a valid email"),
                    role,
                    team_id: None,
                    active: true,
                },
                Some(&password),
                None,
            )
            .await
            .expect("create a user");
        let actor = Actor { user_id: user.id, role, team_id: None };
        (user, actor)
    }

    pub async fn create_person(&self, actor: &Actor, first: &str, last: &str, email: Option<&str>) -> Person {
        let input = PersonInput {
            first_name: name_of(first),
            last_name: (!last.is_empty()).then(|| name_of(last)),
            emails: email
                .map(|e| EmailEntry { address: Email::parse(e).expect("a valid email"), label: None, primary: true })
                .into_iter()
                .collect(),
            phones: Vec::new(),
            birthday: None,
            addresses: Vec::new(),
            job_title: None,
            company_id: None,
            owner_id: None,
            lifecycle_stage: Default::default(),
            source: None,
            referred_by_id: None,
            tags: Vec::new(),
            preferences: Default::default(),
            keep_in_touch_days: None,
            external_id: None,
            custom_fields: Default::default(),
        };
        self.store.create_person(actor, input).await.expect("create a person")
    }

    pub async fn create_company(&self, actor: &Actor, name: &str) -> Company {
        self.store.create_company(actor, CompanyInput::named(name_of(name))).await.expect("create a company")
    }

    /// A pipeline with the given (name, win probability) stages, in order.
    pub async fn create_pipeline(&self, actor: &Actor, name: &str, stages: &[(&str, i32)]) -> Pipeline {
        let input = PipelineInput {
            name: name_of(name),
            stages: stages
                .iter()
                .map(|(stage, p)| StageInput { id: None, name: name_of(stage), win_probability: *p })
                .collect(),
        };
        self.store.create_pipeline(actor, input).await.expect("create a pipeline")
    }

    /// An open deal of 1,000.00 EUR in the pipeline's stage number `stage`.
    pub async fn create_deal(&self, actor: &Actor, pipeline: &Pipeline, name: &str, stage: usize) -> Deal {
        let input = DealInput {
            name: name_of(name),
            amount: Money::new(100_000, Currency::parse("EUR").expect("a currency")),
            pipeline_id: pipeline.id,
            stage_id: pipeline.stages[stage].id,
            person_id: None,
            company_id: None,
            owner_id: None,
            expected_close: None,
            status: DealStatus::Open,
            lost_reason: None,
            tags: Vec::new(),
            external_id: None,
            custom_fields: Default::default(),
        };
        self.store.create_deal(actor, input).await.expect("create a deal")
    }

    /// How many people the store holds (up to 100).
    pub async fn count_people(&self) -> usize {
        let query = ListQuery { limit: Some(100), ..ListQuery::default() };
        self.store.list_people(&query, &PersonFilter::default()).await.expect("list people").items.len()
    }
}

pub fn name_of(raw: &str) -> Name {
    Name::try_from(raw).unwrap_or_else(|err| panic!("not a valid name {raw:?}: {err:?}"))
}

/// Where screenshots go: target/screenshots of this workspace (or of CARGO_TARGET_DIR).
pub fn screenshot_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    };
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
    dir
}

/// One scenario's app and browser.
#[derive(Clone)]
pub struct Ctx {
    pub name: &'static str,
    pub app: Arc<App>,
    pub driver: WebDriver,
}

impl Ctx {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.base_url)
    }

    pub fn store(&self) -> &Store {
        &self.app.store
    }

    /// Opens `path` and checks the page loaded under the CSP.
    pub async fn visit(&self, path: &str) {
        self.driver.goto(self.url(path)).await.unwrap_or_else(|err| panic!("cannot open {path}: {err}"));
        self.check_page().await;
    }

    /// The path (and query) the browser is at.
    pub async fn path(&self) -> String {
        let url = self.driver.current_url().await.expect("the current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the browser's path satisfies `want`.
    pub async fn wait_path(&self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let path = self.path().await;
            if want(&path) {
                return path;
            }
            assert!(started.elapsed() < WAIT, "{}: waited {WAIT:?} for {what}; the browser is at {path}", self.name);
            tokio::time::sleep(POLL).await;
        }
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> WebElement {
        match self.driver.query(By::Css(css)).wait(WAIT, POLL).first().await {
            Ok(found) => found,
            Err(err) => panic!("{}: no {css} on {} within {WAIT:?}: {err}", self.name, self.url_now().await),
        }
    }

    /// The first `selector` element whose text contains `text`, waiting for it.
    pub async fn find_text(&self, css: &str, text: &str) -> WebElement {
        let deadline = Instant::now() + WAIT;
        loop {
            // Each look is a fresh query: a page that navigates while its
            // elements' text is read leaves them stale, which a polling query gives up on.
            let found = self
                .driver
                .query(By::Css(css))
                .with_text(thirtyfour::stringmatch::StringMatch::new(text).partial())
                .nowait()
                .first()
                .await;
            match found {
                Ok(element) => return element,
                Err(_) if Instant::now() < deadline => tokio::time::sleep(POLL).await,
                Err(err) => panic!("{}: no {css} with the text {text:?} within {WAIT:?}: {err}", self.name),
            }
        }
    }

    /// Waits until nothing matches `css`.
    pub async fn gone(&self, css: &str) {
        self.driver
            .query(By::Css(css))
            .wait(WAIT, POLL)
            .wait_until_gone()
            .await
            .unwrap_or_else(|err| panic!("{}: {css} is still there after {WAIT:?}: {err}", self.name));
    }

    /// Every element matching `css` now, without waiting.
    pub async fn all_now(&self, css: &str) -> Vec<WebElement> {
        self.driver.find_all(By::Css(css)).await.expect("find elements")
    }

    /// The button (or submit input) whose text is `label`, waiting for it.
    pub async fn button(&self, label: &str) -> WebElement {
        let xpath = format!(
            "//button[normalize-space(.)={label:?}] | //input[@type='submit' and @value={label:?}] | //a[contains(concat(' ', normalize-space(@class), ' '), ' button ') and normalize-space(.)={label:?}]"
        );
        match self.driver.query(By::XPath(xpath)).wait(WAIT, POLL).first().await {
            Ok(found) => found,
            Err(err) => panic!("{}: no {label:?} button on {}: {err}", self.name, self.url_now().await),
        }
    }

    /// Clears the field `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear a field");
        if !text.is_empty() {
            field.send_keys(text).await.unwrap_or_else(|err| panic!("{}: typing into {css}: {err}", self.name));
        }
    }

    /// Runs a script and returns its JSON result (a returned promise is awaited).
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.driver
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|err| panic!("{}: script failed: {err}\n{script}", self.name))
            .json()
            .clone()
    }

    /// Opens `path` and waits for it to load and for htmx to settle.
    pub async fn open_settled(&self, path: &str) {
        self.driver.goto(self.url(path)).await.unwrap_or_else(|err| panic!("cannot open {path}: {err}"));
        let started = std::time::Instant::now();
        loop {
            let settled = self
                .js("return document.readyState === 'complete' && document.querySelector('.htmx-request') === null;")
                .await;
            if settled == true || started.elapsed() > WAIT {
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        tokio::time::sleep(POLL * 3).await;
    }

    /// Runs `script` until it returns `want` (what htmx does after a swap,
    /// such as moving the focus, can come a moment after the new content);
    /// fails naming `what` and the last result after `WAIT`.
    pub async fn wait_js(&self, what: &str, script: &str, want: serde_json::Value) {
        let started = std::time::Instant::now();
        loop {
            let got = self.js(script).await;
            if got == want {
                return;
            }
            assert!(started.elapsed() < WAIT, "{}: {what}: got {got}, not {want}", self.name);
            tokio::time::sleep(POLL).await;
        }
    }

    async fn url_now(&self) -> String {
        self.driver.current_url().await.map(|u| u.to_string()).unwrap_or_else(|_| "?".into())
    }

    /// The page has loaded as the CSP allows: no inline scripts, htmx present on
    /// the signed-in pages, and no CSP violation or uncaught error in the console.
    pub async fn check_page(&self) {
        let state = self
            .js("return { inline: document.querySelector('script:not([src])') !== null, \
                          signedIn: document.querySelector('meta[name=csrf-token]') !== null, \
                          ready: document.readyState, \
                          htmx: typeof window.htmx !== 'undefined' };")
            .await;
        let at = self.path().await;
        assert_eq!(state["inline"], false, "{}: {at} has an inline script", self.name);
        if state["signedIn"] == true {
            // Deferred scripts run before DOMContentLoaded; give them the time to.
            let started = Instant::now();
            let mut htmx = state["htmx"] == true;
            while !htmx && started.elapsed() < WAIT {
                tokio::time::sleep(POLL).await;
                htmx = self.js("return typeof window.htmx !== 'undefined';").await == true;
            }
            assert!(htmx, "{}: htmx did not load on {at}", self.name);
        }
        self.check_console().await;
    }

    /// Fails on CSP violations and uncaught script errors in the console so far.
    pub async fn check_console(&self) {
        let entries = self.driver.browser_log().await.unwrap_or_default();
        let bad: Vec<String> = entries
            .iter()
            .filter(|e| {
                let m = e.message.to_lowercase();
                m.contains("content security policy") || m.contains("content-security-policy") || m.contains("uncaught")
            })
            .map(|e| format!("{} {}", e.level, e.message))
            .collect();
        let at = self.path().await;
        assert!(bad.is_empty(), "{}: the console on {at} reports:\n{}", self.name, bad.join("\n"));
    }

    /// Resizes the browser so that its viewport is `width` × `height`.
    pub async fn set_size(&self, (width, height): (u32, u32)) {
        self.driver.set_window_rect(0, 0, width, height).await.expect("resize the window");
        // Headless windows may still have a frame: correct by what the page sees.
        let inner = self.js("return [window.innerWidth, window.innerHeight];").await;
        let (w, h) = (inner[0].as_i64().unwrap_or(0), inner[1].as_i64().unwrap_or(0));
        if (w, h) != (i64::from(width), i64::from(height)) && w > 0 && h > 0 {
            let outer_w = (i64::from(width) * 2 - w).max(1) as u32;
            let outer_h = (i64::from(height) * 2 - h).max(1) as u32;
            self.driver.set_window_rect(0, 0, outer_w, outer_h).await.expect("resize the window");
        }
    }

    /// The viewport's width now.
    pub async fn viewport_width(&self) -> i64 {
        self.js("return window.innerWidth;").await.as_i64().expect("a width")
    }

    /// Saves the page at desktop and phone width, whole (not only what fits
    /// the window), as target/screenshots/<scenario>-<page>-desktop.png and -phone.png;
    /// leaves the window at desktop size.
    pub async fn screenshots(&self, page: &str) {
        for (label, size) in [("desktop", DESKTOP), ("phone", PHONE)] {
            self.save_whole_page(page, label, size).await;
        }
        self.set_size(DESKTOP).await;
    }

    /// Saves the whole page at `width` as target/screenshots/<scenario>-<page>-<width>.png;
    /// leaves the window at desktop size.
    pub async fn screenshot_at(&self, width: u32, page: &str) {
        self.save_whole_page(page, &width.to_string(), (width, DESKTOP.1)).await;
        self.set_size(DESKTOP).await;
    }

    async fn save_whole_page(&self, page: &str, label: &str, size: (u32, u32)) {
        self.set_size(size).await;
        let full = self.js("return document.documentElement.scrollHeight;").await.as_u64().unwrap_or(0) as u32;
        let height = full.clamp(size.1, 5000);
        if height != size.1 {
            self.set_size((size.0, height)).await;
        }
        let path = screenshot_dir().join(format!("{}-{page}-{label}.png", self.name));
        // A tall page on a busy machine can keep the renderer past
        // chromedriver's 10 s: try again before calling it a failure.
        let mut attempts = 0;
        while let Err(err) = self.driver.screenshot(&path).await {
            attempts += 1;
            assert!(attempts < 3, "{}: screenshot {}: {err}", self.name, path.display());
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }

    /// Signs in through the login page (which must be open or reachable).
    pub async fn sign_in(&self, email: &str, password: &str) {
        if !self.path().await.starts_with("/login") {
            self.visit("/login").await;
        }
        self.fill("#f-email", email).await;
        self.fill("#f-password", password).await;
        self.button("Sign in").await.click().await.expect("click Sign in");
    }

    /// Signs in and waits to leave the login page.
    pub async fn sign_in_ok(&self, email: &str) {
        self.sign_in(email, PASSWORD).await;
        self.wait_path("to leave the login page after signing in", |p| !p.starts_with("/login")).await;
        self.check_page().await;
        self.find("meta[name=csrf-token]").await;
    }

    /// The text of the toasts shown now, waiting for one to contain `text`.
    pub async fn wait_toast(&self, text: &str) -> String {
        self.find_text("#toasts .toast", text).await.text().await.expect("toast text")
    }
}
