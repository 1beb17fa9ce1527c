//! Test support shared by the integration suites: a throwaway database per
//! test (a SQLite file in a temporary directory, or a fresh PostgreSQL
//! database dropped when the test ends), empty or with the schema copied from
//! a template migrated once per test binary, and `backend_tests!`, which runs
//! a test once per backend.

pub mod mail_servers;

use std::path::PathBuf;

use sea_orm::ConnectionTrait;

const POSTGRES_ENV: &str = "RAPPORT_TEST_POSTGRES";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL base URL, when the PostgreSQL half of the suite is enabled.
pub fn postgres_base() -> Option<String> {
    std::env::var(POSTGRES_ENV)
        .ok()
        .map(|url| url.trim().trim_end_matches('/').to_owned())
        .filter(|url| !url.is_empty())
}

/// Whether a PostgreSQL test should run; under CI it must.
pub fn postgres_enabled() -> bool {
    let enabled = postgres_base().is_some();
    // CI must never pass by skipping the PostgreSQL half.
    assert!(enabled || std::env::var_os("CI").is_none(), "CI is set but {POSTGRES_ENV} is not");
    if !enabled {
        println!("skipped: {POSTGRES_ENV} not set");
    }
    enabled
}

/// Runs each listed `async fn NAME(backend: Backend)` once per backend, as
/// `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if $crate::postgres_enabled() {
                        super::$name($crate::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}

/// A database made for one test, removed with it.
pub struct TestDatabase {
    pub url: String,
    /// The PostgreSQL database's name, dropped with it.
    postgres: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// An empty database.
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}/{}", dir.path().display(), SQLITE_FILES[0]);
                TestDatabase { url, postgres: None, _dir: Some(dir) }
            }
            Backend::Postgres => Self::postgres(None).await,
        }
    }

    /// A database with the schema in place: a copy of the template that the
    /// first call in this test binary made with `migrate`, which puts the
    /// schema into the empty database at a URL and closes every connection it
    /// opened (a PostgreSQL template must have none). The caller gives it:
    /// this crate cannot depend on rapport-storage, whose tests use it.
    pub async fn migrated<E: std::fmt::Display>(
        backend: Backend,
        migrate: impl AsyncFnOnce(&str) -> Result<(), E>,
    ) -> TestDatabase {
        let cell = match backend {
            Backend::Sqlite => &SQLITE_TEMPLATE,
            Backend::Postgres => &POSTGRES_TEMPLATE,
        };
        match cell.get_or_init(|| Template::make(backend, migrate)).await {
            Template::Sqlite { dir: template } => {
                let copy = Self::new(Backend::Sqlite).await;
                let dir = copy._dir.as_ref().expect("a SQLite test database has a directory").path();
                for file in SQLITE_FILES {
                    let from = template.join(file);
                    if from.exists() {
                        std::fs::copy(&from, dir.join(file))
                            .unwrap_or_else(|err| panic!("cannot copy the template {}: {err}", from.display()));
                    }
                }
                copy
            }
            Template::Postgres { name } => Self::postgres(Some(name)).await,
        }
    }

    async fn postgres(template: Option<&str>) -> TestDatabase {
        let name = format!("rapport_test_{}", uuid::Uuid::now_v7().simple());
        let url = create_postgres_database(&name, template).await;
        TestDatabase { url, postgres: Some(name), _dir: None }
    }
}

/// A database migrated once per test binary and backend, which each test's
/// database is copied from: migrating took most of a test's setup (about
/// 0.5 s of PostgreSQL's time, 0.1 s of SQLite's), a copy takes a fraction.
#[derive(Clone)]
enum Template {
    /// The migrated file, in a directory of its own.
    Sqlite { dir: PathBuf },
    /// A database of this process's, dropped when the process exits.
    Postgres { name: String },
}

static SQLITE_TEMPLATE: tokio::sync::OnceCell<Template> = tokio::sync::OnceCell::const_new();
static POSTGRES_TEMPLATE: tokio::sync::OnceCell<Template> = tokio::sync::OnceCell::const_new();
/// The templates to remove at exit (statics are never dropped).
static MADE_TEMPLATES: std::sync::Mutex<Vec<Template>> = std::sync::Mutex::new(Vec::new());
static REMOVE_AT_EXIT: std::sync::Once = std::sync::Once::new();

const SQLITE_FILES: [&str; 2] = ["test.db", "test.db-wal"];

impl Template {
    async fn make<E: std::fmt::Display>(
        backend: Backend,
        migrate: impl AsyncFnOnce(&str) -> Result<(), E>,
    ) -> Template {
        let template = match backend {
            Backend::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("rapport-template-")
                    .tempdir()
                    .expect("a temporary directory")
                    .keep();
                let url = format!("sqlite://{}/{}", dir.display(), SQLITE_FILES[0]);
                migrate(&url).await.unwrap_or_else(|err| panic!("cannot migrate the template {url}: {err}"));
                Template::Sqlite { dir }
            }
            Backend::Postgres => {
                let name = format!("rapport_template_{}", uuid::Uuid::now_v7().simple());
                let url = create_postgres_database(&name, None).await;
                migrate(&url).await.unwrap_or_else(|err| panic!("cannot migrate the template {url}: {err}"));
                Template::Postgres { name }
            }
        };
        MADE_TEMPLATES.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(template.clone());
        REMOVE_AT_EXIT.call_once(|| {
            // SAFETY: `remove_templates` is an `extern "C" fn()` that does not unwind.
            if unsafe { libc::atexit(remove_templates) } != 0 {
                eprintln!("cannot remove the test templates at exit: atexit refused");
            }
        });
        template
    }
}

/// Removes the templates this process made, as it exits.
extern "C" fn remove_templates() {
    let made = std::mem::take(&mut *MADE_TEMPLATES.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
    for template in made {
        match template {
            Template::Sqlite { dir } => {
                if let Err(err) = std::fs::remove_dir_all(&dir) {
                    eprintln!("could not remove the template {}: {err}", dir.display());
                }
            }
            Template::Postgres { name } => drop_postgres_database(name),
        }
    }
}

/// `CREATE DATABASE name` (from `template`, or PostgreSQL's default),
/// trying again while another session holds the template; gives its URL.
async fn create_postgres_database(name: &str, template: Option<&str>) -> String {
    let base = postgres_base().expect("RAPPORT_TEST_POSTGRES is set for a PostgreSQL test");
    let admin_url = format!("{base}/postgres");
    let db = sea_orm::Database::connect(admin_url.as_str())
        .await
        .unwrap_or_else(|err| panic!("{POSTGRES_ENV} is set but PostgreSQL at {admin_url} is unreachable: {err}"));
    let statement = match template {
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
        None => format!("CREATE DATABASE {name}"),
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        match db.execute_unprepared(&statement).await {
            Ok(_) => break,
            // A template may not be copied while a session is connected to it
            // (another copy's, or one still closing); try again.
            Err(err) if attempt < 10 && err.to_string().contains("being accessed by other users") => {
                tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
            }
            Err(err) => panic!("cannot create test database {name}: {err}"),
        }
    }
    if let Err(err) = db.close().await {
        eprintln!("closing the admin connection: {err}");
    }
    format!("{base}/{name}")
}

/// `DROP DATABASE name`, from a thread with a runtime of its own: a drop
/// cannot await, and the test's runtime may be the current thread.
fn drop_postgres_database(name: String) {
    let Some(base) = postgres_base() else { return };
    let admin_url = format!("{base}/postgres");
    let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    let outcome = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async move {
            let db = sea_orm::Database::connect(admin_url.as_str()).await?;
            db.execute_unprepared(&statement).await?;
            db.close().await?;
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        })
    })
    .join();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(err)) => eprintln!("could not drop test database {name}: {err}"),
        Err(_) => eprintln!("could not drop test database {name}: the dropping thread panicked"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = self.postgres.take() {
            drop_postgres_database(name);
        }
    }
}
