//! Test support shared by the integration suites: a throwaway database per
//! test (a SQLite file in a temporary directory, or a fresh PostgreSQL
//! database dropped when the test ends), and `backend_tests!`, which runs a
//! test once per backend.

pub mod mail_servers;

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
    postgres: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}/test.db", dir.path().display());
                TestDatabase { url, postgres: None, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let base = postgres_base().expect("RAPPORT_TEST_POSTGRES is set for a PostgreSQL test");
                let name = format!("rapport_test_{}", uuid::Uuid::now_v7().simple());
                let admin_url = format!("{base}/postgres");
                let db = sea_orm::Database::connect(admin_url.as_str()).await.unwrap_or_else(|err| {
                    panic!("{POSTGRES_ENV} is set but PostgreSQL at {admin_url} is unreachable: {err}")
                });
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    match db.execute_unprepared(&format!("CREATE DATABASE {name}")).await {
                        Ok(_) => break,
                        // Concurrent CREATE DATABASE from the same template can collide; try again.
                        Err(err) if attempt < 5 && err.to_string().contains("being accessed by other users") => {
                            tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
                        }
                        Err(err) => panic!("cannot create test database {name}: {err}"),
                    }
                }
                if let Err(err) = db.close().await {
                    eprintln!("closing the admin connection: {err}");
                }
                TestDatabase { url: format!("{base}/{name}"), postgres: Some((base, name)), _dir: None }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((base, name)) = self.postgres.take() else { return };
        let admin_url = format!("{base}/postgres");
        let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        // Drop cannot await, and the test's runtime may be the current thread:
        // drop the database from a thread with a runtime of its own.
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
}
