//! Synthetic data and timing for the lifetime-value models.
//!
//! `clv_bench generate N SEED PATH` writes N synthetic customers (weeks)
//! drawn from the parameters below to a CSV (`frequency,recency,T,monetary_value`).
//! `clv_bench fit PATH` reads such a CSV, fits BG/NBD and Gamma-Gamma, and
//! prints the fit time, parameters and their deviation from the truth.
//! `scripts/bench-clv.sh` runs both and the Python lifetimes package on the
//! same file.

use std::io::{BufRead, BufWriter, Write};
use std::time::Instant;

use rapport_insights::clv::simulate::simulate;
use rapport_insights::clv::{BgNbdParams, GammaGammaParams, Summary, bgnbd, gamma_gamma};

/// Parameters the synthetic customers are drawn from (time unit: weeks).
const TRUE_BG: BgNbdParams = BgNbdParams { r: 0.5, alpha: 6.0, a: 0.7, b: 2.5 };
const TRUE_GG: GammaGammaParams = GammaGammaParams { p: 6.0, q: 4.0, gamma: 15.0 };
const AGES: (f64, f64) = (20.0, 80.0);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("generate") if args.len() == 4 => {
            let n: usize = args[1].parse().expect("N");
            let seed: u64 = args[2].parse().expect("SEED");
            let rows = simulate(&TRUE_BG, Some(&TRUE_GG), n, AGES, seed);
            let mut out = BufWriter::new(std::fs::File::create(&args[3]).expect("create CSV"));
            writeln!(out, "frequency,recency,T,monetary_value").expect("write");
            for s in rows {
                writeln!(out, "{},{:.6},{:.6},{:.6}", s.frequency, s.recency, s.age, s.monetary_value).expect("write");
            }
        }
        Some("fit") if args.len() == 2 => fit(&args[1]),
        _ => {
            eprintln!("usage: clv_bench generate N SEED PATH | clv_bench fit PATH");
            std::process::exit(2);
        }
    }
}

fn fit(path: &str) {
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("open CSV"));
    let rows: Vec<Summary> = file
        .lines()
        .skip(1)
        .map(|l| {
            let l = l.expect("read");
            let f: Vec<&str> = l.split(',').collect();
            Summary {
                frequency: f[0].parse().expect("frequency"),
                recency: f[1].parse().expect("recency"),
                age: f[2].parse().expect("T"),
                monetary_value: f[3].parse().expect("monetary_value"),
            }
        })
        .collect();
    let start = Instant::now();
    let bg = bgnbd::fit(&rows).expect("BG/NBD fit");
    let bg_time = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let gg = gamma_gamma::fit(&rows).expect("Gamma-Gamma fit");
    let gg_time = start.elapsed().as_secs_f64();
    let dev = |got: f64, want: f64| 100.0 * (got - want) / want;
    let p = bg.params;
    let q = gg.params;
    println!("customers: {}, repeat buyers: {}", rows.len(), gg.n_customers);
    println!(
        "rust BG/NBD: {bg_time:.3} s ({} iterations), Gamma-Gamma: {gg_time:.3} s ({} iterations), total {:.3} s",
        bg.iterations,
        gg.iterations,
        bg_time + gg_time
    );
    println!(
        "  r={:.5} ({:+.2}%) alpha={:.5} ({:+.2}%) a={:.5} ({:+.2}%) b={:.5} ({:+.2}%) LL={:.3}",
        p.r,
        dev(p.r, TRUE_BG.r),
        p.alpha,
        dev(p.alpha, TRUE_BG.alpha),
        p.a,
        dev(p.a, TRUE_BG.a),
        p.b,
        dev(p.b, TRUE_BG.b),
        bg.log_likelihood
    );
    println!(
        "  p={:.5} ({:+.2}%) q={:.5} ({:+.2}%) gamma={:.5} ({:+.2}%)",
        q.p,
        dev(q.p, TRUE_GG.p),
        q.q,
        dev(q.q, TRUE_GG.q),
        q.gamma,
        dev(q.gamma, TRUE_GG.gamma)
    );
    println!("RUST_SECONDS={:.6}", bg_time + gg_time);
}
