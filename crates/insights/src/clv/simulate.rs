//! Seeded synthetic customers drawn from known BG/NBD and Gamma-Gamma
//! parameters, for tests and benchmarks (xoshiro256** generator; gamma draws
//! by Marsaglia & Tsang, beta draws from two gammas).

use time::{Date, Duration};

use super::bgnbd::BgNbdParams as Bg;
use super::gamma_gamma::GammaGammaParams;
use super::{Summary, TimeUnit, Transaction};

/// A small deterministic generator (xoshiro256**, seeded through SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator seeded from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut v = z;
            v = (v ^ (v >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            v = (v ^ (v >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            v ^ (v >> 31)
        };
        Rng { s: [next(), next(), next(), next()] }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform on the open interval (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Marsaglia polar method; one value per call).
    pub fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s < 1.0 && s > 0.0 {
                return u * (-2.0 * s.ln() / s).sqrt();
            }
        }
    }

    /// Exponential with the given rate.
    pub fn exponential(&mut self, rate: f64) -> f64 {
        -self.uniform().ln() / rate
    }

    /// Gamma with `shape` and `rate` (mean shape / rate).
    pub fn gamma(&mut self, shape: f64, rate: f64) -> f64 {
        if shape < 1.0 {
            // Boost: G(k) = G(k+1) U^(1/k).
            let u = self.uniform();
            return self.gamma(shape + 1.0, rate) * u.powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let z = self.normal();
            let v = 1.0 + c * z;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            if u.ln() < 0.5 * z * z + d - d * v + d * v.ln() {
                return d * v / rate;
            }
        }
    }

    /// Beta(a, b).
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a, 1.0);
        let y = self.gamma(b, 1.0);
        x / (x + y)
    }
}

/// `n` customers whose purchasing follows BG/NBD with `bg` and (if given)
/// whose repeat transaction values follow Gamma-Gamma with `gg`; each
/// customer's age `T` is uniform on `age_range`. Monetary value is 0 when
/// `gg` is `None` or the customer made no repeat purchase.
pub fn simulate(bg: &Bg, gg: Option<&GammaGammaParams>, n: usize, age_range: (f64, f64), seed: u64) -> Vec<Summary> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let age = age_range.0 + (age_range.1 - age_range.0) * rng.uniform();
            let lambda = rng.gamma(bg.r, bg.alpha);
            let dropout = rng.beta(bg.a, bg.b);
            let (mut t, mut x) = (0.0, 0u32);
            let mut recency = 0.0;
            loop {
                t += rng.exponential(lambda);
                if t > age {
                    break;
                }
                x += 1;
                recency = t;
                if rng.uniform() < dropout {
                    break;
                }
            }
            let monetary_value = match gg {
                Some(g) if x > 0 => {
                    let nu = rng.gamma(g.q, g.gamma);
                    (0..x).map(|_| rng.gamma(g.p, nu)).sum::<f64>() / x as f64
                }
                _ => 0.0,
            };
            Summary { frequency: x, recency, age, monetary_value }
        })
        .collect()
}

/// Purchases of `n` customers (keys `0..n`) whose behaviour follows BG/NBD
/// with `bg` (`alpha` in `unit`) and, if given, whose transaction values
/// follow Gamma-Gamma with `gg` (otherwise every amount is 1). Each customer's
/// first purchase falls on a day uniform in `first_purchases` (inclusive);
/// later purchases follow in continuous time, with a dropout chance after
/// each repeat purchase, up to `observation_end`; a purchase at time `t`
/// after the first is recorded `ceil(t)` days after it, so that the
/// calibration period of a summary, (0, T], holds exactly the purchases
/// made by its end day (only purchases that share a day are merged). Use [`super::calibration_and_holdout`] to split them.
pub fn simulate_transactions(
    bg: &Bg,
    gg: Option<&GammaGammaParams>,
    n: usize,
    first_purchases: (Date, Date),
    observation_end: Date,
    unit: TimeUnit,
    seed: u64,
) -> Vec<Transaction<usize>> {
    let mut rng = Rng::new(seed);
    let span_days = (first_purchases.1 - first_purchases.0).whole_days().max(0) as f64 + 1.0;
    let mut out = Vec::new();
    for customer in 0..n {
        let first = first_purchases.0 + Duration::days((span_days * rng.uniform()).floor() as i64);
        if first > observation_end {
            continue;
        }
        let horizon = (observation_end - first).whole_days() as f64 / unit.days();
        let lambda = rng.gamma(bg.r, bg.alpha);
        let dropout = rng.beta(bg.a, bg.b);
        let nu = gg.map(|g| (g, rng.gamma(g.q, g.gamma)));
        let amount = |rng: &mut Rng| nu.map_or(1.0, |(g, nu)| rng.gamma(g.p, nu));
        out.push(Transaction { customer, date: first, amount: amount(&mut rng) });
        let mut t = 0.0;
        loop {
            t += rng.exponential(lambda);
            if t > horizon {
                break;
            }
            // Day `d` after the first purchase covers times (d-1, d], so the
            // period up to the calibration end day is exactly (0, T].
            let date = first + Duration::days((t * unit.days()).ceil() as i64);
            out.push(Transaction { customer, date, amount: amount(&mut rng) });
            if rng.uniform() < dropout {
                break;
            }
        }
    }
    out
}
