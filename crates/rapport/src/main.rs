//! The `rapport` binary: one command runs the whole product; the others
//! manage users, tokens and data. Errors leave here as messages and a
//! non-zero exit code.

mod config;
mod demo;
mod demo_feedback;
mod demo_style;
mod demo_tickets;
mod duplicates;
mod feedback;
mod import;
mod insights;
mod jobs;
mod mail;
mod merge;
mod report_output;
mod sales;
mod style;
mod tickets;
mod transfer;
mod trash;

// A server's requests allocate many small, short-lived values; mimalloc
// serves those faster than the system allocator (see docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{IsTerminal, Read};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use rapport_domain::records::{Password, UserInput};
use rapport_domain::text::Name;
use rapport_domain::{Email, Role, TokenId};
use rapport_storage::{ListQuery, Store, UserFilter};

#[derive(Parser)]
#[command(name = "rapport", version, about = "Rapport: a self-hosted CRM that measures relationships")]
struct Cli {
    /// Database URL: sqlite://FILE (default sqlite://rapport.db) or postgres://USER@HOST/DB.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (API, pages, background jobs).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Bring the database schema up to date.
    Migrate,
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Fill an empty database with realistic demo data.
    Demo {
        /// Random seed: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Size multiplier: 1 gives about 2,000 people and 20,000 purchases.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Customer insights from the purchases: rfm, cohorts, churn, clv, referrals.
    #[command(subcommand)]
    Insights(insights::InsightsCommand),
    /// Likely duplicate people or companies, strongest first.
    Duplicates(duplicates::DuplicatesArgs),
    /// Merge two people or two companies, or undo a merge.
    #[command(subcommand)]
    Merge(merge::MergeCommand),
    /// Export one record type to CSV (--type), or the whole database to a JSON archive.
    Export {
        /// people, companies, deals, activities, tasks, purchases or tickets.
        #[arg(long = "type")]
        kind: Option<String>,
        /// csv (the only format for --type).
        #[arg(long)]
        format: Option<String>,
        /// The file to write.
        #[arg(long)]
        output: std::path::PathBuf,
    },
    /// Read data in: an archive into an empty database, or people from a CSV file.
    #[command(subcommand)]
    Import(transfer::ImportCommand),
    /// Copy the database while the server runs: a SQLite file, or a JSON archive on PostgreSQL.
    Backup { file: std::path::PathBuf },
    /// Restore a backup (SQLite file or JSON archive) into an empty database.
    Restore { file: std::path::PathBuf },
    /// What happened to a record: every create, update, delete, restore and merge.
    History {
        /// people, companies, deals, activities, tasks, purchases or tickets.
        #[arg(value_name = "TYPE")]
        kind: String,
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Deleted records: list, restore, purge.
    #[command(subcommand)]
    Trash(trash::TrashCommand),
    /// Background jobs: list, retry, cancel.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
    /// Support tickets: list the queues.
    #[command(subcommand)]
    Tickets(tickets::TicketsCommand),
    /// Email: take in a message from stdin, or send a test message.
    #[command(subcommand)]
    Mail(mail::MailCommand),
    /// Customer feedback: survey figures, themes of the comments, answers.
    #[command(subcommand)]
    Feedback(feedback::FeedbackCommand),
    /// Each staff member's relationship style: scorecards from what they did.
    #[command(subcommand)]
    Style(style::StyleCommand),
    /// Sales: win rate, sales cycle, weighted forecast and activity.
    #[command(subcommand)]
    Sales(sales::SalesCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a staff member. The password is read from stdin, or generated and printed once.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, manager, agent or viewer.
        #[arg(long)]
        role: String,
    },
    /// List staff members.
    List,
    /// Change a staff member's role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Set a new password: read from stdin, or generated and printed once.
    Passwd {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token; prints only the token.
    Create {
        /// The email of the user the token acts for.
        #[arg(long)]
        user: String,
        /// Days until the token expires; never, when absent.
        #[arg(long)]
        expires_in: Option<u32>,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List tokens (never their secrets).
    List {
        /// Only this user's tokens.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token by its id.
    Revoke { id: String },
}

fn main() {
    no_huge_pages();
    let cli = Cli::parse();
    if let Command::Serve { .. } = cli.command {
        rapport_server::return_freed_memory_at_once();
    }
    let runtime = match cli.command {
        // A mail server starts `mail receive` once per message: a runtime
        // with one thread starts faster than one with a worker per core.
        Command::Mail(_) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    }
    .enable_all()
    .build()
    .expect("cannot start the async runtime");
    init_logging();
    if let Err(err) = runtime.block_on(run(cli)) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

/// Transparent huge pages off for this process (Linux; elsewhere nothing).
/// mimalloc reserves its memory in large arenas, and where the kernel backs
/// them with huge pages each first touch zeroes 2 MB: a command that runs
/// for milliseconds spent a third of its time there, and an idle server
/// held 28 MB of huge pages, a third of its resident memory, with no
/// throughput to show for it (docs/PERFORMANCE.md, "Memory and start-up").
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        const PR_SET_THP_DISABLE: std::ffi::c_int = 41;
        unsafe extern "C" {
            fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
        }
        // SAFETY: PR_SET_THP_DISABLE takes one integer and changes only how
        // the kernel backs this process's later page faults; it cannot fail
        // in a way that matters (an old kernel ignores it with EINVAL).
        unsafe {
            prctl(
                PR_SET_THP_DISABLE,
                1 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
            );
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    // PostgreSQL's notices ("relation seaql_migrations already exists, skipping"
    // on every start) say nothing an operator needs.
    let filter = EnvFilter::try_from_env("RAPPORT_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sea_orm_migration=warn,sqlx::postgres::notice=warn"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // JSON lines for log collectors: one object per event, its fields at the top level.
    if std::env::var("RAPPORT_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json")) {
        logs.json().flatten_event(true).with_current_span(false).with_span_list(false).init();
    } else {
        logs.init();
    }
}

/// Opens a database whose schema must already be current, without
/// migrating: for `mail receive`, run once per message by a mail server,
/// where a migration check on every start would be most of the work.
async fn open_current(url: &str) -> Result<Store> {
    let store = Store::connect_single(url).await.with_context(|| format!("cannot open the database {url}"))?;
    let pending = store.pending_migrations().await.context("cannot read the database schema")?;
    if pending > 0 {
        bail!(
            "the database schema is {pending} migration(s) behind: run `rapport migrate` (or start `rapport serve`) first"
        );
    }
    Ok(store)
}

async fn open(url: &str) -> Result<Store> {
    migrated(Store::connect(url).await, url).await
}

/// `open` for `rapport import`: see `Store::connect_for_bulk_load`.
async fn open_for_bulk_load(url: &str) -> Result<Store> {
    migrated(Store::connect_for_bulk_load(url).await, url).await
}

async fn migrated(connected: Result<Store, rapport_storage::StorageError>, url: &str) -> Result<Store> {
    let store = connected.with_context(|| format!("cannot open the database {url}"))?;
    store.migrate().await.context("cannot bring the database schema up to date")?;
    Ok(store)
}

async fn run(cli: Cli) -> Result<()> {
    let bind_flag = match &cli.command {
        Command::Serve { bind } => bind.clone(),
        _ => None,
    };
    let config = config::Config::load(cli.database_url.clone(), bind_flag)?;
    match cli.command {
        Command::Serve { .. } => serve(&config).await,
        Command::Migrate => {
            let url = &config.database_url;
            Store::migrate_database(url)
                .await
                .with_context(|| format!("cannot bring the database {url} up to date"))?;
            println!("the database schema is up to date");
            Ok(())
        }
        Command::User(command) => user(&open(&config.database_url).await?, command).await,
        Command::Token(command) => token(&open(&config.database_url).await?, command).await,
        Command::Demo { seed, scale } => {
            if !(scale > 0.0 && scale <= 500.0) {
                bail!("--scale must be above 0 and at most 500 (a million people)");
            }
            demo::run(&open(&config.database_url).await?, seed, scale, generate_password()).await
        }
        Command::Insights(command) => {
            let store = open(&config.database_url).await?;
            let output = insights::run(&store, command).await?;
            write_stdout(&output)
        }
        Command::Merge(command) => merge::run(&open(&config.database_url).await?, command).await,
        Command::Duplicates(args) => {
            let output = duplicates::run(&open(&config.database_url).await?, args).await?;
            write_stdout(&output)
        }
        Command::Export { kind, format, output } => {
            let kind = transfer::export_kind(kind, format)?;
            transfer::export(&open(&config.database_url).await?, kind, &output).await
        }
        Command::Import(command) => transfer::import(&open_for_bulk_load(&config.database_url).await?, command).await,
        Command::Backup { file } => transfer::backup(&open(&config.database_url).await?, &file).await,
        Command::Restore { file } => transfer::restore(&open(&config.database_url).await?, &file).await,
        Command::History { kind, id, json } => {
            trash::history(&open(&config.database_url).await?, &kind, &id, json).await
        }
        Command::Trash(command) => {
            let retention = config.trash_retention()?;
            trash::trash(&open(&config.database_url).await?, command, retention).await
        }
        Command::Jobs(command) => {
            let output = jobs::run(&open(&config.database_url).await?, command).await?;
            write_stdout(&output)
        }
        Command::Tickets(command) => {
            let output = tickets::run(&open(&config.database_url).await?, command).await?;
            write_stdout(&output)
        }
        Command::Feedback(command) => {
            let output = feedback::run(&open(&config.database_url).await?, command).await?;
            write_stdout(&output)
        }
        Command::Style(command) => {
            let output = style::run(&open(&config.database_url).await?, command).await?;
            write_stdout(&output)
        }
        Command::Sales(command) => {
            let output = sales::run(&open(&config.database_url).await?, command).await?;
            write_stdout(&output)
        }
        Command::Mail(command) => {
            let output = mail::run(&open_current(&config.database_url).await?, command).await?;
            write_stdout(&output)
        }
    }
}

async fn serve(config: &config::Config) -> Result<()> {
    let (insights, insights_poll) = config.insights()?;
    let trash_retention = config.trash_retention()?;
    let close_solved_after = config.ticket_close_after()?;
    let jobs = config.jobs()?;
    let store = open(&config.database_url).await?;
    if store.count_users().await? == 0 {
        eprintln!(
            "No user exists yet. Open http://{}/setup in a browser to create the first admin,\n\
             or create one in another terminal:\n\n    \
             rapport user add --email you@example.com --name \"Your Name\" --role admin\n\n\
             (with cargo: cargo run --release -- user add ...). The password is read from stdin, or generated and printed once.",
            config.bind
        );
    }
    let shutdown = rapport_server::ShutdownSignal::listen().context("cannot listen for Ctrl-C and SIGTERM")?;
    let listener = tokio::net::TcpListener::bind(&config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let address = listener.local_addr()?;
    eprintln!("Rapport is listening on http://{address} (API docs at http://{address}/api/docs)");
    rapport_server::serve(
        listener,
        store,
        rapport_server::ServerConfig {
            secure_cookies: config.secure_cookies,
            insights,
            insights_poll,
            trash_retention,
            close_solved_after,
            jobs,
            metrics_token: config.metrics_token.clone(),
        },
        shutdown,
    )
    .await?;
    Ok(())
}

/// Prints a report; a reader that stopped early (`| head`) is not an error.
fn write_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written.context("cannot write to stdout"),
    }
}

/// A password from stdin when one is piped in; otherwise a generated one, printed once.
fn read_or_generate_password() -> Result<Password> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut raw = String::new();
        stdin.lock().read_to_string(&mut raw).context("cannot read the password from stdin")?;
        let typed = raw.trim_end_matches(['\n', '\r']).to_string();
        if !typed.is_empty() {
            return Password::try_from(typed).map_err(|e| anyhow::anyhow!("password {e}"));
        }
    }
    let generated = generate_password();
    eprintln!("Generated password (shown once): {generated}");
    Password::try_from(generated).map_err(|e| anyhow::anyhow!("password {e}"))
}

fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

fn parse_email(raw: &str) -> Result<Email> {
    Email::parse(raw).map_err(|e| anyhow::anyhow!("--email: {e}"))
}

fn parse_role(raw: &str) -> Result<Role> {
    Role::parse(raw).map_err(|e| anyhow::anyhow!("--role {e}"))
}

async fn find_user(store: &Store, email: &str) -> Result<rapport_domain::records::User> {
    let email = parse_email(email)?;
    store.find_user_by_email(&email).await?.with_context(|| format!("no user has the email {email}"))
}

async fn user(store: &Store, command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Add { email, name, role } => {
            let input = UserInput {
                name: Name::try_from(name).map_err(|e| anyhow::anyhow!("--name {e}"))?,
                email: parse_email(&email)?,
                role: parse_role(&role)?,
                team_id: None,
                active: true,
            };
            let password = read_or_generate_password()?;
            // The first admin starts Rapport as the setup page does (a starter pipeline).
            let first = input.role == Role::Admin && store.count_users().await? == 0;
            let user = if first {
                store.create_first_admin(input.name, input.email, &password).await?
            } else {
                store.create_user(input, Some(&password), None).await?
            };
            eprintln!("Added {} <{}> as {}.", user.fields.name, user.fields.email, user.fields.role);
        }
        UserCommand::List => {
            let mut query = ListQuery { limit: Some(200), ..Default::default() };
            loop {
                let page = store.list_users(&query, &UserFilter::default()).await?;
                for user in &page.items {
                    let state = if user.fields.active { "active" } else { "deactivated" };
                    println!("{}\t{}\t{}\t{}", user.fields.email, user.fields.name, user.fields.role, state);
                }
                match page.next_cursor {
                    Some(cursor) => query.cursor = Some(cursor),
                    None => break,
                }
            }
        }
        UserCommand::SetRole { email, role } => {
            let user = find_user(store, &email).await?;
            let user = store.set_role(user.id, parse_role(&role)?).await?;
            eprintln!("{} is now {}.", user.fields.email, user.fields.role);
        }
        UserCommand::Passwd { email } => {
            let user = find_user(store, &email).await?;
            let password = read_or_generate_password()?;
            store.set_password(user.id, &password).await?;
            eprintln!("Password changed for {}.", user.fields.email);
        }
    }
    Ok(())
}

async fn token(store: &Store, command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create { user, expires_in, name } => {
            let user = find_user(store, &user).await?;
            if expires_in.is_some_and(|d| !(1..=3650).contains(&d)) {
                bail!("--expires-in must be between 1 and 3650 days");
            }
            let name = Name::try_from(name).map_err(|e| anyhow::anyhow!("--name {e}"))?;
            let created = store.create_token(user.id, name, expires_in).await?;
            println!("{}", created.secret);
        }
        TokenCommand::List { user } => {
            let owner = match user {
                Some(email) => Some(find_user(store, &email).await?.id),
                None => None,
            };
            let format = time::format_description::well_known::Rfc3339;
            for token in store.list_tokens(owner).await? {
                let state = match (token.revoked_at, token.expires_at) {
                    (Some(_), _) => "revoked".to_string(),
                    (None, Some(at)) => format!("expires {}", at.format(&format)?),
                    (None, None) => "no expiry".to_string(),
                };
                println!("{}\t{}\t{}\t{}", token.id, token.user_id, token.name, state);
            }
        }
        TokenCommand::Revoke { id } => {
            let id: TokenId = id.parse().map_err(|_| anyhow::anyhow!("{id:?} is not a token id"))?;
            let token =
                store.list_tokens(None).await?.into_iter().find(|t| t.id == id).context("no token has this id")?;
            let owner = store.get_user(token.user_id).await?;
            let actor =
                rapport_domain::Actor { user_id: owner.id, role: owner.fields.role, team_id: owner.fields.team_id };
            store.revoke_token(&actor, id).await?;
            eprintln!("Token {id} revoked.");
        }
    }
    Ok(())
}
