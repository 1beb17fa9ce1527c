//! Inbound mail throughput: `rapport mail receive` run once per message,
//! as an MTA pipe runs it, one at a time and several at once, against the
//! same-run baseline of starting the binary for nothing (`rapport
//! --version`); and `Store::receive_email` in-process, for the cost of the
//! work itself. The messages mix new customers, customers writing again and
//! answers threaded to earlier messages.
//!
//! The pipes run twice: alone with the database, and beside an open
//! connection, as when `rapport serve` runs. Alone, each run is the
//! database's last connection, so SQLite checkpoints the write-ahead log
//! into the database and deletes it when the run exits (with fsyncs), and
//! the next run makes it anew.
//!
//! `cargo build --release -p rapport && cargo run --release -p rapport-bench --bin mail`

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use rapport_storage::Store;

#[derive(Parser)]
struct Args {
    /// The release binary to run.
    #[arg(long, default_value = "target/release/rapport")]
    rapport: PathBuf,
    /// Messages per measurement.
    #[arg(long, default_value_t = 1000)]
    messages: usize,
    /// Pipes running at once in the parallel measurement.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
}

/// The `i`th message of a run named `run`: every third answers the one
/// before it from the same sender; the others come from 300 customers.
fn message(run: &str, i: usize) -> String {
    let customer = i % 300;
    let answers = if i % 3 == 2 { format!("In-Reply-To: <{run}-{}@bench.example>\n", i - 1) } else { String::new() };
    let sender = if i % 3 == 2 { (i - 1) % 300 } else { customer };
    format!(
        "From: Customer {sender} <customer{sender}@bench.example>\nTo: support@shop.example\n\
         Subject: Question number {i}\nMessage-ID: <{run}-{i}@bench.example>\n{answers}\n\
         Hello,\n\nmy order {i} has not arrived yet. Could you look into it?\n\nThanks\n"
    )
}

fn spawn(args: &Args, url: &str, stdin: Option<String>) -> Result<()> {
    let mut command = Command::new(&args.rapport);
    match &stdin {
        Some(_) => command.args(["--database-url", url, "mail", "receive"]),
        None => command.arg("--version"),
    };
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
    if let Some(raw) = stdin {
        use std::io::Write;
        child.stdin.take().context("stdin")?.write_all(raw.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("rapport failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

/// Messages a second over `count` runs of `job`, `parallel` at a time.
fn rate(count: usize, parallel: usize, job: impl Fn(usize) -> Result<()> + Sync) -> Result<f64> {
    let started = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..parallel)
            .map(|worker| {
                let job = &job;
                scope.spawn(move || (worker..count).step_by(parallel).try_for_each(job))
            })
            .collect();
        handles.into_iter().try_for_each(|h| h.join().expect("a bench thread"))
    })?;
    Ok(count as f64 / started.elapsed().as_secs_f64().max(f64::EPSILON))
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.rapport.exists() {
        bail!("{} not found: cargo build --release -p rapport first", args.rapport.display());
    }
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/mail.db", dir.path().display());
    let migrated = Command::new(&args.rapport).args(["--database-url", &url, "migrate"]).status()?;
    if !migrated.success() {
        bail!("rapport migrate failed");
    }
    let n = args.messages;
    println!("Inbound mail, SQLite, {n} messages per measurement, {} parallel pipes", args.parallel);

    let baseline = rate(n, 1, |_| spawn(&args, &url, None))?;
    println!("  baseline `rapport --version`, one at a time   {baseline:8.0} runs/s");
    let pipes = |label: &str, run: &str| -> Result<()> {
        let sequential = rate(n, 1, |i| spawn(&args, &url, Some(message(&format!("{run}seq"), i))))?;
        println!(
            "  `rapport mail receive`, one at a time{label:<10}{sequential:8.0} msg/s  ({:.2} × baseline)",
            sequential / baseline
        );
        let parallel = rate(n, args.parallel, |i| spawn(&args, &url, Some(message(&format!("{run}par"), i))))?;
        println!(
            "  `rapport mail receive`, {} at a time{label:<12}{parallel:8.0} msg/s  ({:.2} × baseline)",
            args.parallel,
            parallel / baseline
        );
        Ok(())
    };
    pipes("", "")?;

    let runtime = tokio::runtime::Runtime::new()?;
    // An open connection, as a running server holds.
    let store = runtime.block_on(Store::connect(&url))?;
    pipes(" (served)", "srv-")?;

    let in_process = runtime.block_on(async {
        let started = Instant::now();
        for i in 0..n {
            rapport_mail::receive(&store, message("mem", i).as_bytes()).await?;
        }
        Ok::<Duration, anyhow::Error>(started.elapsed())
    })?;
    let in_process = n as f64 / in_process.as_secs_f64();
    println!(
        "  Store::receive_email in-process                {in_process:8.0} msg/s  ({:.2} × baseline)",
        in_process / baseline
    );
    Ok(())
}
