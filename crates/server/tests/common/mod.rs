//! The integration-test harness: a real Rapport server on port 0 over a
//! throwaway database (a SQLite file in a temporary directory, or a fresh
//! PostgreSQL database dropped afterwards), and typed helpers to talk to it.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rapport_domain::access::Role;
use rapport_domain::custom_fields::CustomFieldDefinition;
use rapport_domain::email::Email;
use rapport_domain::history::{HistoryEntry, TrashEntry};
use rapport_domain::records::{
    Activity, Company, Deal, Password, Person, Pipeline, Purchase, Task, Team, User, UserInput,
};
use rapport_domain::text::Name;
use rapport_domain::{PersonId, TeamId};
use rapport_reports::Insights;
use rapport_server::imports::ImportJobs;
use rapport_storage::Store;
use rapport_testing::TestDatabase;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery staple";

pub use rapport_testing::Backend;

/// Every record type's collection under /api/v1.
pub const RECORD_TYPES: [&str; 10] = [
    "people",
    "companies",
    "deals",
    "activities",
    "tasks",
    "purchases",
    "pipelines",
    "teams",
    "users",
    "custom-fields",
];

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A short string unique within this test process, for emails and keys.
pub fn unique() -> u32 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A running server over its own database, with a signed-in admin.
pub struct TestApp {
    pub base_url: String,
    pub addr: SocketAddr,
    pub store: Store,
    pub backend: Backend,
    /// The first admin, made through the storage layer as `rapport user add` would.
    pub admin_user: User,
    /// A client signed in as that admin.
    pub admin: Api,
    /// The server's insights (its job runs; `refresh_if_changed` brings them up to date at once).
    pub insights: Arc<Insights>,
    /// The server's imports (for changing the upload limit).
    pub imports: Arc<ImportJobs>,
    server: tokio::task::JoinHandle<()>,
    _database: TestDatabase,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        // `_database` is removed after this, whatever the test's outcome.
    }
}

/// A throwaway database, migrated, with the real server on a loopback port.
async fn serve_fresh_database(backend: Backend, configure: impl FnOnce(&mut rapport_server::ServerConfig)) -> Served {
    let database = TestDatabase::migrated(backend, Store::migrate_database).await;
    let url = database.url.clone();
    let store = Store::connect(&url).await.unwrap_or_else(|err| panic!("connect to {url}: {err}"));
    // The insights job runs as in production, checking for new data often.
    let mut config = rapport_server::ServerConfig::default();
    config.jobs.poll = std::time::Duration::from_millis(50);
    configure(&mut config);
    let mut app = rapport_server::app(store.clone(), config);
    let jobs = app.start_jobs(std::time::Duration::from_millis(100));
    let insights = app.insights;
    let imports = app.imports;
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
    Served { database, store, addr, server, insights, imports }
}

struct Served {
    database: TestDatabase,
    store: Store,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
    insights: Arc<Insights>,
    imports: Arc<ImportJobs>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// A server whose settings `configure` changes first.
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut rapport_server::ServerConfig)) -> TestApp {
        let Served { database, store, addr, server, insights, imports } =
            serve_fresh_database(backend, configure).await;
        let base_url = format!("http://{addr}");

        let admin_email = "admin@example.com";
        let admin_user = store
            .create_user(
                UserInput {
                    name: Name::try_from("Ada Admin").unwrap(),
                    email: Email::parse(admin_email).unwrap(),
                    role: Role::Admin,
                    team_id: None,
                    active: true,
                },
                Some(&password()),
                None,
            )
            .await
            .expect("create the first admin");
        let admin = login_at(&base_url, admin_email, PASSWORD, "admin").await;
        TestApp { base_url, addr, store, backend, admin_user, admin, insights, imports, server, _database: database }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A client with no credentials at all.
    pub fn anonymous(&self) -> Api {
        Api::new(&self.base_url, "anonymous", None)
    }

    /// Signs in with email and password; panics unless that works.
    pub async fn login(&self, email: &str, password: &str) -> Api {
        login_at(&self.base_url, email, password, email).await
    }

    /// A client that sends `Authorization: Bearer TOKEN` (and keeps no cookies).
    pub fn client_with_token(&self, token: &str) -> Api {
        Api::new(&self.base_url, "bearer", Some(token))
    }

    pub async fn create_team(&self, name: &str) -> Team {
        self.admin.create("teams", json!({ "name": name })).await
    }

    /// Makes a user through the API as the admin, and signs it in.
    pub async fn create_user(&self, role: Role, team_id: Option<TeamId>) -> (User, Api) {
        let label = format!("{}{}", role.as_str(), unique());
        let email = format!("{label}@example.com");
        let user: User = self
            .admin
            .create(
                "users",
                json!({ "name": format!("User {label}"), "email": email, "role": role.as_str(),
                        "team_id": team_id, "password": PASSWORD }),
            )
            .await;
        let mut api = self.login(&email, PASSWORD).await;
        api.label = label;
        (user, api)
    }
}

pub fn password() -> Password {
    Password::try_from(PASSWORD.to_owned()).unwrap()
}

async fn login_at(base_url: &str, email: &str, password: &str, label: &str) -> Api {
    let api = Api::new(base_url, label, None);
    let resp = api.post("/api/v1/session", &json!({ "email": email, "password": password })).await.want(200);
    let body: SessionBody = resp.json();
    assert_eq!(body.user.fields.email.as_str(), email.to_lowercase(), "signed in as someone else");
    api
}

#[derive(Debug, Deserialize)]
pub struct SessionBody {
    pub user: User,
}

/// One page of a list endpoint.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The one error shape of the API.
#[derive(Debug, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ApiError,
}

#[derive(Debug, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub fields: Option<BTreeMap<String, String>>,
}

impl ApiError {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.as_ref().and_then(|f| f.get(name)).map(String::as_str)
    }
}

/// A response, read whole, with what was asked for error messages.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// "METHOD PATH as LABEL", for failure messages.
    pub what: String,
}

impl Resp {
    /// Panics, showing the request and body, unless the status is `status`.
    #[track_caller]
    pub fn want(self, status: u16) -> Resp {
        assert_eq!(self.status, status, "{} answered {}: {}", self.what, self.status, self.text);
        self
    }

    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|err| panic!("{}: cannot read the body ({err}): {}", self.what, self.text))
    }

    #[track_caller]
    pub fn value(&self) -> Value {
        self.json()
    }

    /// The error body, checked for the one error shape.
    #[track_caller]
    pub fn error(&self) -> ApiError {
        let envelope: ErrorEnvelope = self.json();
        assert!(!envelope.error.code.is_empty(), "{}: empty error code: {}", self.what, self.text);
        assert!(!envelope.error.message.is_empty(), "{}: empty error message: {}", self.what, self.text);
        envelope.error
    }

    /// Checks status and error code together, and returns the error.
    #[track_caller]
    pub fn want_error(self, status: u16, code: &str) -> ApiError {
        let resp = self.want(status);
        let error = resp.error();
        assert_eq!(error.code, code, "{}: wrong error code: {}", resp.what, resp.text);
        error
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    pub fn etag(&self) -> Option<String> {
        self.header("etag")
    }
}

/// A client of the API, signed in or not.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub base_url: String,
    pub label: String,
}

impl Api {
    pub fn new(base_url: &str, label: &str, bearer: Option<&str>) -> Api {
        let mut builder = reqwest::Client::builder().cookie_store(bearer.is_none());
        if let Some(token) = bearer {
            let mut headers = HeaderMap::new();
            headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
            builder = builder.default_headers(headers);
        }
        Api { client: builder.build().expect("a client"), base_url: base_url.to_owned(), label: label.to_owned() }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base_url))
    }

    /// Sends a request built with `request`, reading the whole response.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Resp {
        let built = request.build().expect("a request");
        let what = format!("{} {} as {}", built.method(), built.url().path(), self.label);
        let query = built.url().query().map(|q| format!("?{q}")).unwrap_or_default();
        let what = format!("{what}{}", if query.len() < 200 { query } else { String::new() });
        let response = self.client.execute(built).await.unwrap_or_else(|err| panic!("{what}: {err}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_else(|err| panic!("{what}: reading the body: {err}"));
        Resp { status, headers, text, what }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.request(reqwest::Method::DELETE, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(reqwest::Method::POST, path).json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(reqwest::Method::PATCH, path).json(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(reqwest::Method::PUT, path).json(body)).await
    }

    /// POSTs a multipart form.
    pub async fn post_multipart(&self, path: &str, parts: &[Part<'_>]) -> Resp {
        let (content_type, body) = multipart_body(parts);
        self.send(self.request(reqwest::Method::POST, path).header("content-type", content_type).body(body)).await
    }

    /// PATCH with `If-Match`.
    pub async fn patch_if(&self, path: &str, if_match: &str, body: &Value) -> Resp {
        self.send(self.request(reqwest::Method::PATCH, path).header("if-match", if_match).json(body)).await
    }

    /// POST /api/v1/{kind}: wants 201 and an ETag carrying the version.
    pub async fn create<T: DeserializeOwned>(&self, kind: &str, body: Value) -> T {
        let resp = self.post(&format!("/api/v1/{kind}"), &body).await.want(201);
        check_etag(&resp);
        resp.json()
    }

    /// GET /api/v1/{kind}/{id}: wants 200 and an ETag carrying the version.
    pub async fn fetch<T: DeserializeOwned>(&self, kind: &str, id: impl std::fmt::Display) -> T {
        let resp = self.get(&format!("/api/v1/{kind}/{id}")).await.want(200);
        check_etag(&resp);
        resp.json()
    }

    /// PATCH /api/v1/{kind}/{id}: wants 200.
    pub async fn update<T: DeserializeOwned>(&self, kind: &str, id: impl std::fmt::Display, body: Value) -> T {
        let resp = self.patch(&format!("/api/v1/{kind}/{id}"), &body).await.want(200);
        check_etag(&resp);
        resp.json()
    }

    /// GET a list page: `path` may carry a query string built with `query`.
    pub async fn list<T: DeserializeOwned>(&self, path: &str) -> Page<T> {
        self.get(path).await.want(200).json()
    }

    /// Follows `next_cursor` to the end, returning every item.
    pub async fn list_all<T: DeserializeOwned>(&self, path: &str, params: &[(&str, &str)]) -> Vec<T> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let mut all: Vec<(&str, &str)> = params.to_vec();
            if let Some(c) = &cursor {
                all.push(("cursor", c.as_str()));
            }
            let page: Page<T> = self.list(&query(path, &all)).await;
            items.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return items,
            }
        }
        panic!("{path}: more than 1000 pages");
    }
}

#[track_caller]
fn check_etag(resp: &Resp) {
    let body = resp.value();
    let version = body.get("version").and_then(Value::as_i64);
    let etag = resp.etag();
    assert!(version.is_some(), "{}: no version in {}", resp.what, resp.text);
    assert_eq!(
        etag.as_deref(),
        Some(format!("\"{}\"", version.unwrap()).as_str()),
        "{}: the ETag does not carry the version",
        resp.what
    );
}

/// One field of a multipart form.
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    Text(&'a str, &'a str),
    /// A file: field name, file name, contents.
    File(&'a str, &'a str, &'a [u8]),
}

/// A `multipart/form-data` body of `parts`, in order, and its content type.
pub fn multipart_body(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = format!("rapport-test-{}", unique());
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes());
                body.extend_from_slice(value.as_bytes());
            }
            Part::File(name, file_name, contents) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(contents);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `path?k=v&...`, percent-encoding the values.
pub fn query(path: &str, params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return path.to_owned();
    }
    let pairs: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    format!("{path}?{}", pairs.join("&"))
}

fn encode(raw: &str) -> String {
    let mut out = String::new();
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// RFC 3339 text of a time.
pub fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap()
}

pub fn parse_time(raw: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|err| panic!("not an RFC 3339 time {raw:?}: {err}"))
}

// Typed helpers for records.

pub async fn create_person(api: &Api, first_name: &str) -> Person {
    api.create("people", json!({ "first_name": first_name })).await
}

pub async fn create_person_with(api: &Api, body: Value) -> Person {
    api.create("people", body).await
}

pub async fn create_company(api: &Api, name: &str) -> Company {
    api.create("companies", json!({ "name": name })).await
}

/// A pipeline with the given (name, win probability) stages.
pub async fn create_pipeline(api: &Api, name: &str, stages: &[(&str, i32)]) -> Pipeline {
    let stages: Vec<Value> = stages.iter().map(|(name, p)| json!({ "name": name, "win_probability": p })).collect();
    api.create("pipelines", json!({ "name": name, "stages": stages })).await
}

/// A pipeline with three stages: Lead (10), Proposal (50), Closing (90).
pub async fn create_sales_pipeline(api: &Api) -> Pipeline {
    create_pipeline(api, "Sales", &[("Lead", 10), ("Proposal", 50), ("Closing", 90)]).await
}

/// An open deal of 1,000.00 EUR in the pipeline's first stage; `extra` fields are merged in.
pub async fn create_deal(api: &Api, pipeline: &Pipeline, name: &str, extra: Value) -> Deal {
    let mut body = json!({
        "name": name,
        "amount": { "amount_minor": 100_000, "currency": "EUR" },
        "pipeline_id": pipeline.id,
        "stage_id": pipeline.stages[0].id,
    });
    merge(&mut body, extra);
    api.create("deals", body).await
}

/// The sales report (`query` is empty or starts with `?`).
pub async fn sales_report(api: &Api, query: &str) -> rapport_insights::sales::SalesFigures {
    api.get(&format!("/api/v1/reports/sales{query}")).await.want(200).json()
}

pub async fn create_activity(api: &Api, body: Value) -> Activity {
    api.create("activities", body).await
}

pub async fn create_task(api: &Api, body: Value) -> Task {
    api.create("tasks", body).await
}

/// A purchase of 25.00 EUR; `extra` fields are merged in.
pub async fn create_purchase(api: &Api, person: PersonId, occurred_at: &str, extra: Value) -> Purchase {
    let mut body = json!({
        "person_id": person,
        "occurred_at": occurred_at,
        "amount": { "amount_minor": 2500, "currency": "EUR" },
    });
    merge(&mut body, extra);
    api.create("purchases", body).await
}

pub async fn create_custom_field(api: &Api, body: Value) -> CustomFieldDefinition {
    api.create("custom-fields", body).await
}

/// Shallow merge of `extra`'s keys into `body`.
pub fn merge(body: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (body.as_object_mut(), extra) {
        target.extend(extra);
    }
}

/// A random id that no record has.
pub fn unknown_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

// Web pages: a browser-like client (cookie jar, no redirects followed) and
// the form tokens the pages hand out.

/// A server over an empty database: nobody exists yet (for the setup page).
pub struct BareApp {
    pub base_url: String,
    pub store: Store,
    pub backend: Backend,
    server: tokio::task::JoinHandle<()>,
    _database: TestDatabase,
}

impl Drop for BareApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl BareApp {
    pub async fn spawn(backend: Backend) -> BareApp {
        let Served { database, store, addr, server, .. } = serve_fresh_database(backend, |_| {}).await;
        BareApp { base_url: format!("http://{addr}"), store, backend, server, _database: database }
    }

    pub fn web(&self, label: &str) -> WebClient {
        WebClient::new(&self.base_url, label)
    }
}

/// A browser without JavaScript: keeps cookies, does not follow redirects,
/// and remembers the signed-in form token (`csrf`) once it has seen a page.
#[derive(Clone)]
pub struct WebClient {
    pub api: Api,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    /// The form token of the signed-in session ("" before sign-in).
    pub csrf: String,
}

/// A form body: (name, value) pairs, sent urlencoded.
pub type Form<'a> = &'a [(&'a str, &'a str)];

impl WebClient {
    pub fn new(base_url: &str, label: &str) -> WebClient {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client");
        WebClient {
            api: Api { client, base_url: base_url.to_owned(), label: label.to_owned() },
            jar,
            csrf: String::new(),
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.api.request(method, path)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Resp {
        self.api.send(request).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.api.get(path).await
    }

    /// GET with `HX-Request: true`, as htmx sends it.
    pub async fn htmx_get(&self, path: &str) -> Resp {
        self.send(self.request(reqwest::Method::GET, path).header("hx-request", "true")).await
    }

    /// POSTs a form with the session's `_csrf` added.
    pub async fn post_form(&self, path: &str, form: Form<'_>) -> Resp {
        let mut pairs: Vec<(&str, &str)> = vec![("_csrf", self.csrf.as_str())];
        pairs.extend_from_slice(form);
        self.post_raw(path, &pairs).await
    }

    /// POSTs a multipart form (a file upload) with the session's `_csrf` as its first field.
    pub async fn post_upload(&self, path: &str, parts: &[Part<'_>]) -> Resp {
        let mut all = vec![Part::Text("_csrf", self.csrf.as_str())];
        all.extend_from_slice(parts);
        self.api.post_multipart(path, &all).await
    }

    /// POSTs a form exactly as given (no token added).
    pub async fn post_raw(&self, path: &str, form: Form<'_>) -> Resp {
        self.send(self.request(reqwest::Method::POST, path).form(form)).await
    }

    /// POSTs a form as htmx does: `HX-Request` and the token in `X-CSRF-Token`.
    pub async fn htmx_post(&self, path: &str, form: Form<'_>) -> Resp {
        let request = self
            .request(reqwest::Method::POST, path)
            .header("hx-request", "true")
            .header("x-csrf-token", self.csrf.as_str())
            .form(form);
        self.send(request).await
    }

    /// The value of a cookie the jar holds for this server.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url: reqwest::Url = self.api.base_url.parse().expect("a base URL");
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    }

    /// GETs a pre-sign-in page (/login, /setup) and returns its `_csrf` value.
    pub async fn presession_token(&self, path: &str) -> String {
        let page = self.get(path).await.want(200);
        hidden_value(&page.text, "_csrf").unwrap_or_else(|| panic!("{}: no _csrf input: {}", page.what, page.text))
    }

    /// Signs in through the login form; panics unless that works.
    pub async fn sign_in(&mut self, email: &str, password: &str) {
        let token = self.presession_token("/login").await;
        let resp = self
            .post_raw("/login", &[("_csrf", &token), ("email", email), ("password", password), ("next", "/")])
            .await
            .want(303);
        assert_eq!(resp.header("location").as_deref(), Some("/"), "{}: wrong redirect", resp.what);
        assert!(self.cookie(SESSION_COOKIE).is_some(), "{}: no session cookie", resp.what);
        self.refresh_csrf().await;
    }

    /// Reads the session's form token from a page's `<meta name="csrf-token">`.
    pub async fn refresh_csrf(&mut self) {
        let page = self.get("/people").await.want(200);
        self.csrf = meta_csrf(&page.text).unwrap_or_else(|| panic!("{}: no csrf-token meta", page.what));
        assert!(!self.csrf.is_empty(), "{}: empty csrf-token meta", page.what);
    }
}

pub const SESSION_COOKIE: &str = "rapport_session";
pub const PRESESSION_COOKIE: &str = "rapport_csrf";

impl TestApp {
    /// A browser with no cookies yet.
    pub fn web(&self, label: &str) -> WebClient {
        WebClient::new(&self.base_url, label)
    }

    /// Signs in through the login form, as a browser would.
    pub async fn web_sign_in(&self, email: &str, password: &str) -> WebClient {
        let mut web = self.web(email);
        web.sign_in(email, password).await;
        web
    }

    /// The first admin, signed in through the login form.
    pub async fn web_admin(&self) -> WebClient {
        self.web_sign_in(self.admin_user.fields.email.as_str(), PASSWORD).await
    }

    /// Makes a user through the storage layer and signs it in through the login form.
    pub async fn web_user(&self, role: Role, team_id: Option<TeamId>) -> (User, WebClient) {
        let label = format!("web-{}{}", role.as_str(), unique());
        let email = format!("{label}@example.com");
        let user = self
            .store
            .create_user(
                UserInput {
                    name: Name::try_from(format!("User {label}")).unwrap(),
                    email: Email::parse(&email).unwrap(),
                    role,
                    team_id,
                    active: true,
                },
                Some(&password()),
                Some(self.admin_user.id),
            )
            .await
            .expect("create a user");
        let web = self.web_sign_in(&email, PASSWORD).await;
        (user, web)
    }

    /// The first admin as the storage layer's actor.
    pub fn admin_actor(&self) -> rapport_domain::Actor {
        actor_of(&self.admin_user)
    }

    /// Every person in the store, however many pages.
    pub async fn all_people(&self) -> Vec<Person> {
        let mut query = rapport_storage::ListQuery { limit: Some(200), ..Default::default() };
        let mut people = Vec::new();
        loop {
            let page =
                self.store.list_people(&query, &rapport_storage::PersonFilter::default()).await.expect("list people");
            people.extend(page.items);
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => return people,
            }
        }
    }
}

pub fn actor_of(user: &User) -> rapport_domain::Actor {
    rapport_domain::Actor { user_id: user.id, role: user.fields.role, team_id: user.fields.team_id }
}

/// The `value` of the first `<input name="NAME" ...>`, unescaped.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    input_value(html, name)
}

/// The `value` of the first element whose `name` attribute is NAME, unescaped.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let tag = tag_with_name(html, name)?;
    attribute(tag, "value")
}

/// The text of `<textarea name="NAME">`, unescaped.
pub fn textarea_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let at = html.find(&needle)?;
    let rest = &html[at..];
    let open_end = rest.find('>')?;
    let close = rest.find("</textarea>")?;
    Some(unescape(&rest[open_end + 1..close]))
}

/// The value of the selected `<option>` of `<select name="NAME">`.
pub fn selected_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let at = html.find(&needle)?;
    let rest = &html[at..];
    let end = rest.find("</select>")?;
    let select = &rest[..end];
    select.split("<option").skip(1).find_map(|option| {
        let close = option.find('>')?;
        let tag = &option[..close];
        if !tag.contains(" selected") {
            return None;
        }
        let text = option[close + 1..].split("</option>").next().unwrap_or("");
        Some(attribute(tag, "value").unwrap_or_else(|| unescape(text)))
    })
}

/// Whether the checkbox named NAME is ticked.
pub fn is_checked(html: &str, name: &str) -> bool {
    tag_with_name(html, name).is_some_and(|tag| tag.contains(" checked"))
}

/// The csrf-token of `<meta name="csrf-token" content="...">`.
pub fn meta_csrf(html: &str) -> Option<String> {
    let tag = tag_with_name(html, "csrf-token")?;
    attribute(tag, "content")
}

/// The opening tag (from `<` to `>`) that carries `name="NAME"`.
fn tag_with_name<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!("name=\"{name}\"");
    let at = html.find(&needle)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    Some(&html[start..end])
}

fn attribute(tag: &str, attribute: &str) -> Option<String> {
    let needle = format!(" {attribute}=\"");
    let at = tag.find(&needle)? + needle.len();
    let end = at + tag[at..].find('"')?;
    Some(unescape(&tag[at..end]))
}

/// Undoes HTML escaping of the characters templates escape.
pub fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#x22;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// The message shown beside field NAME (`<div class="error-text" id="e-NAME">`), if any.
pub fn field_error(html: &str, name: &str) -> Option<String> {
    let needle = format!("id=\"e-{name}\"");
    let at = html.find(&needle)?;
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    let end = rest.find("</div>")?;
    Some(unescape(&rest[start..end]))
}

/// What a browser would send for the form whose `action` is ACTION: every
/// named input (ticked checkboxes and radio buttons only), select (its selected option, else
/// the first) and textarea, in page order; the `_csrf` token is left to
/// `post_form`.
pub fn form_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let needle = format!("action=\"{action}\"");
    let at = html.find(&needle).unwrap_or_else(|| panic!("no form posting to {action}"));
    let start = html[..at].rfind("<form").expect("a <form> tag");
    let end = at + html[at..].find("</form>").expect("a closed form");
    let form = &html[start..end];
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let tag_end = rest.find('>').expect("a closed tag");
        let tag = &rest[..tag_end];
        let element = tag[1..].split(|c: char| c.is_whitespace() || c == '>').next().unwrap_or("");
        let name = attribute(tag, "name");
        match (element, name) {
            ("input", Some(name)) if name != "_csrf" => {
                let kind = attribute(tag, "type").unwrap_or_default();
                if !matches!(kind.as_str(), "checkbox" | "radio") || tag.contains(" checked") {
                    fields.push((name, attribute(tag, "value").unwrap_or_default()));
                }
            }
            ("select", Some(name)) => {
                let close = rest.find("</select>").expect("a closed select");
                let options: Vec<&str> = rest[..close].split("<option").skip(1).collect();
                let chosen =
                    options.iter().find(|o| o[..o.find('>').unwrap_or(0)].contains(" selected")).or(options.first());
                let value = chosen.map(|option| {
                    let open_end = option.find('>').unwrap_or(0);
                    attribute(&option[..open_end], "value")
                        .unwrap_or_else(|| unescape(option[open_end + 1..].split("</option>").next().unwrap_or("")))
                });
                fields.push((name, value.unwrap_or_default()));
            }
            ("textarea", Some(name)) => {
                let close = rest.find("</textarea>").expect("a closed textarea");
                fields.push((name, unescape(&rest[tag_end + 1..close])));
            }
            _ => {}
        }
        rest = &rest[1..];
    }
    fields
}

/// Sets field NAME of a form read by `form_fields` (adding it when absent).
pub fn set_field(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(key, _)| key == name) {
        Some(field) => field.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
}

/// Fields as `post_form` takes them.
pub fn as_form(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The text of the "saved meanwhile" note under field NAME of a form shown
/// over a conflicting change, if any.
pub fn theirs_note(html: &str, name: &str) -> Option<String> {
    let needle = format!("id=\"t-{name}\"");
    let at = html.find(&needle)?;
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    let end = rest.find("</div>")?;
    Some(unescape(&rest[start..end].replace("<strong>", "").replace("</strong>", "")))
}

/// A record's history through the API, newest first.
pub async fn history(api: &Api, kind: &str, id: impl std::fmt::Display) -> Vec<HistoryEntry> {
    api.get(&format!("/api/v1/{kind}/{id}/history")).await.want(200).json::<Items<HistoryEntry>>().items
}

/// The first page of the trash, newest first.
pub async fn trash(api: &Api) -> Vec<TrashEntry> {
    api.get("/api/v1/trash").await.want(200).json::<Items<TrashEntry>>().items
}

#[derive(Debug, Deserialize)]
pub struct Items<T> {
    pub items: Vec<T>,
}

// Background jobs: adding them straight to the store, starting an import
// through the API, and waiting for a job to reach a status.

impl TestApp {
    /// Adds a job of `kind` (payload `{}`) that is due only in an hour, so
    /// no worker touches it during the test: it stays queued.
    pub async fn enqueue_later(
        &self,
        kind: &str,
        created_by: Option<rapport_domain::UserId>,
    ) -> rapport_domain::jobs::Job {
        let job = rapport_storage::NewJob {
            run_at: rapport_domain::records::now() + time::Duration::hours(1),
            created_by,
            ..rapport_storage::NewJob::new(kind, json!({}))
        };
        self.store.enqueue_job(job).await.expect("enqueue a job").expect("a job without a unique key is added")
    }

    /// Starts an import of `contents` (a CSV of `kind`, say "people") as
    /// `api` through `POST /api/v1/imports`; returns the job's id.
    pub async fn start_import(&self, api: &Api, kind: &str, file_name: &str, contents: &str) -> rapport_domain::JobId {
        let parts = [Part::Text("kind", kind), Part::File("file", file_name, contents.as_bytes())];
        let resp = api.post_multipart("/api/v1/imports", &parts).await.want(202);
        let id =
            resp.value()["id"].as_str().unwrap_or_else(|| panic!("{}: no job id: {}", resp.what, resp.text)).to_owned();
        rapport_domain::JobId(id.parse().expect("a job id"))
    }
}

/// Polls `GET /api/v1/jobs/{id}` as `api` until the job's status is `want`
/// (failing after 30 seconds, or when it finishes in another status).
pub async fn wait_for_job(
    api: &Api,
    id: rapport_domain::JobId,
    want: rapport_domain::jobs::JobStatus,
) -> rapport_domain::jobs::Job {
    let started = std::time::Instant::now();
    loop {
        let job: rapport_domain::jobs::Job = api.get(&format!("/api/v1/jobs/{id}")).await.want(200).json();
        if job.status == want {
            return job;
        }
        assert!(
            !(job.status.is_finished() && job.status != want),
            "the job finished as {} instead of {want}: {job:?}",
            job.status
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "the job is still {}: {job:?}", job.status);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A real SMTP server on loopback, set up as the outgoing mail.
pub async fn set_up_mail(app: &TestApp) -> rapport_testing::mail_servers::SmtpServer {
    let smtp = rapport_testing::mail_servers::SmtpServer::start();
    app.admin
        .put(
            "/api/v1/mail/settings/smtp",
            &json!({ "host": "127.0.0.1", "port": smtp.port, "security": "none", "from_address": "care@shop.example" }),
        )
        .await
        .want(200);
    smtp
}

/// The messages `smtp` received once there are `count` (or after 30
/// seconds), polled without blocking the thread the server's job runner shares.
pub async fn wait_for_mail(smtp: &rapport_testing::mail_servers::SmtpServer, count: usize) -> Vec<String> {
    let started = std::time::Instant::now();
    loop {
        let received = smtp.received();
        if received.len() >= count || started.elapsed() > std::time::Duration::from_secs(30) {
            return received;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
