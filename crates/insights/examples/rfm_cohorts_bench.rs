//! Speed check (not a test): RFM and cohorts over 10,000,000 synthetic
//! purchases of 1,000,000 customers, fed in (customer, time) order the way a
//! database cursor would. Run with
//! `cargo run --release -p rapport-insights --example rfm_cohorts_bench`.

use std::time::Instant;

use rapport_insights::cohorts::CohortBuilder;
use rapport_insights::rfm::RfmBuilder;
use time::macros::date;
use time::{Date, Duration};

fn main() {
    let customers: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let purchases_wanted: u64 = customers * 10;
    let as_of = date!(2025 - 06 - 30);
    let start = as_of - Duration::days(5 * 365);

    // Pre-generate the rows so the timing covers only the accumulators.
    let t = Instant::now();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut rows: Vec<(u128, Date, i64)> = Vec::with_capacity(purchases_wanted as usize);
    for c in 0..customers {
        let key = u128::from(c).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) | 1; // uuid-like spread
        let count = 1 + next() % 19; // 1..=19, mean 10
        let mut day = start + Duration::days((next() % 1500) as i64);
        for _ in 0..count {
            rows.push((key, day, 500 + (next() % 20_000) as i64));
            day += Duration::days((next() % 60) as i64);
        }
    }
    println!("generated {} purchases of {customers} customers in {:.2?}", rows.len(), t.elapsed());

    let t = Instant::now();
    let mut rfm = RfmBuilder::with_capacity(as_of, "EUR", customers as usize);
    let mut cohorts = CohortBuilder::new(as_of, "EUR");
    for &(customer, day, amount) in &rows {
        rfm.add(customer, day, amount);
        cohorts.add(customer, day, amount).expect("rows are grouped by customer");
    }
    let fed = t.elapsed();
    let t2 = Instant::now();
    let rfm = rfm.finish();
    let rfm_finish = t2.elapsed();
    let t3 = Instant::now();
    let cohorts = cohorts.finish();
    let cohort_finish = t3.elapsed();
    println!(
        "RFM + cohorts: feeding {fed:.2?}, RFM finish {rfm_finish:.2?}, cohorts finish {cohort_finish:.2?}, total {:.2?}",
        t.elapsed()
    );
    println!(
        "{} customers scored; {} cohorts; repeat-purchase rate {:.1}%; champions {}",
        rfm.customers.len(),
        cohorts.cohorts.len(),
        cohorts.repeat_purchase_rate * 100.0,
        rfm.summary(rapport_insights::rfm::Segment::Champions).map_or(0, |s| s.customers)
    );
}
