//! `rapport demo`: realistic, internally consistent data for a new user to
//! explore. The same seed always gives the same data.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rapport_domain::custom_fields::{CustomFieldInput, EntityType, FieldKind};
use rapport_domain::records::*;
use rapport_domain::text::{LongText, Name, Tag};
use rapport_domain::views::{ListKind, SavedViewInput, ViewQuery};
use rapport_domain::*;
use rapport_storage::{ListQuery, PersonFilter, Store};
use serde_json::json;
use time::{Duration, OffsetDateTime};

const FIRST: &[&str] = &[
    "Ana", "Bruno", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam", "Maya",
    "Nadia", "Omar", "Paula", "Quentin", "Rosa", "Samir", "Tara", "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zoe",
    "Aiko", "Bjorn", "Chloe", "Diego", "Emeka", "Freya", "Gustavo", "Hana", "Ivan", "Julia", "Kwame", "Lucia", "Mateo",
    "Nora", "Oscar", "Priya", "Rafael", "Sofia", "Tomas", "Uma", "Viktor", "Willa",
];
const LAST: &[&str] = &[
    "Lima",
    "Schmidt",
    "Okafor",
    "Nakamura",
    "Rossi",
    "Haddad",
    "Kowalski",
    "Fernandes",
    "Moreau",
    "Jensen",
    "Patel",
    "Andersson",
    "Novak",
    "Garcia",
    "O'Brien",
    "Kim",
    "Dubois",
    "Silva",
    "Horvat",
    "Mensah",
    "Costa",
    "Weber",
    "Ito",
    "Larsen",
    "Murphy",
    "Ivanova",
    "Rahman",
    "Santos",
    "Fischer",
    "Nguyen",
    "Popescu",
    "Yilmaz",
    "Bauer",
    "Cohen",
];
const COMPANY_A: &[&str] = &[
    "Blue", "North", "Bright", "Iron", "Green", "Silver", "Rapid", "Clear", "Summit", "Harbor", "Oak", "Nova",
    "Pioneer", "Atlas", "Cedar", "Copper", "Lumen", "Orbit", "Prairie", "Granite",
];
const COMPANY_B: &[&str] = &[
    "Logistics",
    "Bakery",
    "Dental",
    "Studios",
    "Analytics",
    "Outfitters",
    "Foods",
    "Consulting",
    "Robotics",
    "Travel",
    "Fitness",
    "Print",
    "Labs",
    "Gardens",
    "Coffee",
];
const INDUSTRIES: &[&str] = &["Retail", "Health", "Software", "Hospitality", "Manufacturing", "Education", "Services"];
const SOURCES: &[&str] = &["website", "event", "partner", "cold outreach", "advertising"];
const TAGS: &[&str] = &["vip", "newsletter", "partner", "wholesale", "beta tester", "event 2026", "slow payer"];
const INTERESTS: &[&str] = &["gardening", "cycling", "coffee", "design", "football", "travel", "wine", "photography"];
/// Where people live, with the time zone there (so a person's address and
/// time zone agree), a postal code and a street.
struct Place {
    city: &'static str,
    region: Option<&'static str>,
    country: &'static str,
    zone: &'static str,
    code: &'static str,
    street: &'static str,
}

const fn place(
    city: &'static str,
    region: Option<&'static str>,
    country: &'static str,
    zone: &'static str,
    code: &'static str,
    street: &'static str,
) -> Place {
    Place { city, region, country, zone, code, street }
}

const PLACES: &[Place] = &[
    place("Lisbon", None, "Portugal", "Europe/Lisbon", "1100-148", "Rua Augusta"),
    place("Porto", None, "Portugal", "Europe/Lisbon", "4000-322", "Rua de Santa Catarina"),
    place("Berlin", None, "Germany", "Europe/Berlin", "10115", "Invalidenstraße"),
    place("Munich", Some("Bavaria"), "Germany", "Europe/Berlin", "80331", "Sendlinger Straße"),
    place("New York", Some("NY"), "United States", "America/New_York", "10001", "W 34th St"),
    place("Boston", Some("MA"), "United States", "America/New_York", "02108", "Beacon St"),
    place("Tokyo", None, "Japan", "Asia/Tokyo", "100-0005", "Marunouchi"),
];
const NOTES: &[&str] = &[
    "Prefers short calls in the morning.",
    "Asked about volume discounts.",
    "Happy with the last delivery; mentioned a colleague who might need us.",
    "Complained about the invoice format; sent a corrected one.",
    "Wants a quarterly check-in rather than monthly.",
    "Interested in the new product line.",
    "Slow to reply by email, quick on the phone.",
];
const SUBJECTS: &[&str] = &[
    "Follow-up on quote",
    "Quarterly check-in",
    "Renewal discussion",
    "Delivery question",
    "Product demo",
    "Invoice query",
    "Thank-you note",
    "Feedback on onboarding",
];
const LOST_REASONS: &[&str] = &["Price too high", "Went with a competitor", "No budget this year", "No decision made"];
const PRODUCTS: &[&str] = &["Starter kit", "Refill pack", "Annual plan", "Premium bundle", "Accessory", "Gift card"];

fn name(raw: &str) -> Name {
    Name::try_from(raw).expect("demo names are valid")
}

fn tag(raw: &str) -> Tag {
    Tag::try_from(raw.to_string()).expect("demo tags are valid")
}

struct Demo {
    rng: StdRng,
    now: OffsetDateTime,
    progress: ProgressBar,
    /// The step being filled and when it began.
    step: (&'static str, std::time::Instant),
}

impl Demo {
    /// Moves on to the next step, shown beside the bar; how long the last
    /// one took is logged (`RAPPORT_LOG=rapport=debug`), to see where a
    /// large demo spends its time.
    fn step(&mut self, next: &'static str) {
        let (done, began) = std::mem::replace(&mut self.step, (next, std::time::Instant::now()));
        if !done.is_empty() {
            tracing::debug!(step = done, seconds = began.elapsed().as_secs_f64(), "demo step done");
        }
        self.progress.set_message(next);
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items.choose(&mut self.rng).expect("lists are not empty")
    }

    /// A standard normal draw (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1: f64 = 1.0 - self.rng.random::<f64>(); // in (0, 1]: the logarithm stays finite
        let u2: f64 = self.rng.random::<f64>();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A log-normal draw with the given mean and spread (sigma of the logarithm).
    fn log_normal(&mut self, mean: f64, sigma: f64) -> f64 {
        mean * (sigma * self.normal() - sigma * sigma / 2.0).exp()
    }

    /// A gamma draw with the given shape and scale 1 (Marsaglia and Tsang;
    /// shapes below 1 by the boost `U^(1/shape)`).
    fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let boost = (1.0 - self.rng.random::<f64>()).powf(1.0 / shape);
            return self.gamma(shape + 1.0) * boost;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = 1.0 - self.rng.random::<f64>();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// A beta(a, b) draw, from two gamma draws.
    fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        x / (x + self.gamma(b))
    }

    fn days_ago(&mut self, max_days: i64) -> OffsetDateTime {
        let seconds = self.rng.random_range(0..max_days * 86_400);
        normalize_timestamp(self.now - Duration::seconds(seconds))
    }
}

/// Fills an empty database. The demo admin gets `admin_password`, so the
/// demo can be explored in the browser at once.
/// Records written per transaction. A transaction writes each page it
/// changed once, and new records land all over the indexes: activities in
/// random order went into SQLite three to four times faster 10,000 at a
/// time than 1,000 at a time.
const BATCH: usize = 10_000;

pub async fn run(store: &Store, seed: u64, scale: f64, admin_password: String) -> Result<()> {
    let existing =
        store.list_people(&ListQuery { limit: Some(1), ..Default::default() }, &PersonFilter::default()).await?;
    if !existing.items.is_empty() {
        bail!("the database already holds people; demo data goes into an empty database (use --database-url)");
    }
    let count = |n: f64| ((n * scale).round() as usize).max(1);
    let (n_companies, n_people, n_deals, n_activities, n_tasks, n_purchases) =
        (count(300.0), count(2_000.0), count(800.0), count(10_000.0), count(600.0), count(20_000.0));
    let total = (n_companies + n_people + n_deals + n_activities + n_tasks + n_purchases) as u64;
    let progress = ProgressBar::new(total);
    progress.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    // A fixed "now" keeps the data the same for a seed; it is today's date at midnight.
    let now = OffsetDateTime::now_utc().replace_time(time::Time::MIDNIGHT);
    let mut demo = Demo { rng: StdRng::seed_from_u64(seed), now, progress, step: ("", std::time::Instant::now()) };

    // Staff: an admin to act as, a sales team and a support team.
    demo.step("staff");
    let admin = staff(store, "Demo Admin", "demo.admin@example.com", Role::Admin, None).await?;
    let password = Password::try_from(admin_password.clone()).map_err(|e| anyhow::anyhow!("password {e}"))?;
    store.set_password(admin.id, &password).await?;
    let actor = Actor { user_id: admin.id, role: Role::Admin, team_id: None };
    for (list, view, query) in [
        (ListKind::People, "Customers to call", "lifecycle_stage=customer&sort=last_contacted_at"),
        (ListKind::People, "VIPs", "tag=vip&cols=name,email,company,owner,last_contacted,tags"),
        (ListKind::People, "Newest leads", "lifecycle_stage=lead&sort=-created_at&cols=name,email,source,created"),
        (ListKind::People, "Gold customers", "where=custom.customer_tier.eq.gold&where=lifecycle_stage.eq.customer"),
        (ListKind::Deals, "Open deals", "status=open&sort=-amount"),
        (ListKind::Tasks, "My open tasks", &format!("assignee_id={}&open=true", admin.id)),
    ] {
        let query = ViewQuery::parse(query).map_err(|e| anyhow::anyhow!("view query {e}"))?;
        store.save_view(&actor, SavedViewInput { list, name: name(view), query }).await?;
    }
    let sales = store.create_team(&actor, TeamInput { name: name("Sales") }).await?;
    let support = store.create_team(&actor, TeamInput { name: name("Support") }).await?;
    let mut staff_ids = vec![admin.id];
    let mut support_agents = Vec::new();
    let mut by_email = HashMap::new();
    for (full, email, role, team) in [
        ("Marta Quinn", "marta.quinn@example.com", Role::Manager, sales.id),
        ("Leo Brandt", "leo.brandt@example.com", Role::Agent, sales.id),
        ("Sana Iqbal", "sana.iqbal@example.com", Role::Agent, sales.id),
        ("Tom Ruiz", "tom.ruiz@example.com", Role::Manager, support.id),
        ("Ada Mwangi", "ada.mwangi@example.com", Role::Agent, support.id),
        ("Noah Berg", "noah.berg@example.com", Role::Viewer, support.id),
    ] {
        let user = staff(store, full, email, role, Some(team)).await?;
        by_email.insert(email, user.id);
        if role != Role::Viewer {
            staff_ids.push(user.id);
            if team == support.id {
                support_agents.push(user.id);
            }
        }
    }

    store
        .create_custom_field(
            &actor,
            CustomFieldInput {
                entity_type: EntityType::Person,
                key: "customer_tier".to_string().try_into().expect("a valid key"),
                label: name("Customer tier"),
                kind: FieldKind::Choice,
                choices: vec![name("bronze"), name("silver"), name("gold")],
                required: false,
            },
        )
        .await?;
    store
        .create_custom_field(
            &actor,
            CustomFieldInput {
                entity_type: EntityType::Company,
                key: "annual_revenue".to_string().try_into().expect("a valid key"),
                label: name("Annual revenue (EUR)"),
                kind: FieldKind::Number,
                choices: vec![],
                required: false,
            },
        )
        .await?;
    let pipeline = store
        .create_pipeline(
            &actor,
            PipelineInput {
                name: name("New business"),
                stages: [
                    ("Qualified", 10),
                    ("Needs analysis", 25),
                    ("Proposal", 50),
                    ("Negotiation", 75),
                    ("Closing", 90),
                ]
                .into_iter()
                .map(|(n, p)| StageInput { id: None, name: name(n), win_probability: p })
                .collect(),
            },
        )
        .await?;

    // Companies.
    demo.step("companies");
    let mut company_inputs = Vec::with_capacity(n_companies);
    for i in 0..n_companies {
        let title = format!("{} {}", demo.pick(COMPANY_A), demo.pick(COMPANY_B));
        let domain = format!("{}-{i}.example", title.to_lowercase().replace(' ', "-"));
        let mut custom = BTreeMap::new();
        custom.insert("annual_revenue".to_string(), json!(demo.rng.random_range(50..5_000) * 1_000));
        company_inputs.push(CompanyInput {
            name: name(&title),
            domain: Some(Domain::try_from(format!("{domain}.com")).expect("a valid domain")),
            industry: Some(name(demo.pick(INDUSTRIES))),
            size: Some(*CompanySize::ALL.choose(&mut demo.rng).expect("sizes")),
            owner_id: Some(*staff_ids.choose(&mut demo.rng).expect("staff")),
            tags: if demo.rng.random_bool(0.2) { vec![tag("partner")] } else { vec![] },
            external_id: None,
            custom_fields: custom,
        });
    }
    let mut companies = Vec::new();
    for chunk in company_inputs.chunks(BATCH) {
        companies.extend(store.create_companies(&actor, chunk.to_vec()).await?);
        demo.progress.inc(chunk.len() as u64);
    }

    // People: created oldest first, so a referrer always exists before the person referred.
    demo.step("people");
    let mut people: Vec<Person> = Vec::with_capacity(n_people);
    // Happy customers and advocates are the ones who recommend others.
    let mut referrers: Vec<PersonId> = Vec::new();
    let mut batch = Vec::new();
    // Small enough that most people can have been referred by someone stored before them.
    let people_batch = (n_people / 20).clamp(50, 1_000);
    for i in 0..n_people {
        let first = demo.pick(FIRST);
        let last = demo.pick(LAST);
        let company = if demo.rng.random_bool(0.7) { companies.choose(&mut demo.rng).cloned() } else { None };
        let email_domain = company
            .as_ref()
            .and_then(|c| c.fields.domain.clone())
            .map_or("mail.example".into(), |d| d.as_str().to_owned());
        let local = format!("{}.{}{i}", first.to_lowercase(), last.to_lowercase().replace('\'', ""));
        let mut emails = vec![EmailEntry {
            address: Email::parse(&format!("{local}@{email_domain}")).map_err(anyhow::Error::msg)?,
            label: Some(name("work")),
            primary: true,
        }];
        if demo.rng.random_bool(0.25) {
            emails.push(EmailEntry {
                address: Email::parse(&format!("{local}@home.example.org")).map_err(anyhow::Error::msg)?,
                label: Some(name("home")),
                primary: false,
            });
        }
        let phone = format!(
            "+{} {} {:04} {:04}",
            demo.rng.random_range(1..99),
            demo.rng.random_range(10..99),
            demo.rng.random_range(0..10_000),
            i % 10_000
        );
        let stage = match demo.rng.random_range(0..100) {
            0..15 => LifecycleStage::Lead,
            15..30 => LifecycleStage::Prospect,
            30..80 => LifecycleStage::Customer,
            80..90 => LifecycleStage::Advocate,
            _ => LifecycleStage::Churned,
        };
        let referrer = if demo.rng.random_bool(0.15) { referrers.choose(&mut demo.rng).copied() } else { None };
        let mut tags = Vec::new();
        for t in TAGS {
            if demo.rng.random_bool(0.12) {
                tags.push(tag(t));
            }
        }
        let mut custom = BTreeMap::new();
        if matches!(stage, LifecycleStage::Customer | LifecycleStage::Advocate) {
            custom.insert(
                "customer_tier".to_string(),
                json!(*["bronze", "bronze", "silver", "gold"].choose(&mut demo.rng).expect("tiers")),
            );
        }
        let &Place { city, region, country, zone, code, street } = PLACES.choose(&mut demo.rng).expect("places");
        // About two in three have a birthday on file, a fifth of those without the year.
        let birthday = if demo.rng.random_bool(0.65) {
            let year = (!demo.rng.random_bool(0.2)).then(|| demo.now.year() - demo.rng.random_range(18..80));
            let (month, day) = (demo.rng.random_range(1..=12), demo.rng.random_range(1..=28));
            Some(Birthday::new(year, month, day, demo.now.date()).map_err(anyhow::Error::msg)?)
        } else {
            None
        };
        let addresses = if demo.rng.random_bool(0.55) {
            vec![PostalAddress {
                label: Some(name(if company.is_some() && demo.rng.random_bool(0.4) { "work" } else { "home" })),
                primary: true,
                street: Some(name(&format!("{street} {}", demo.rng.random_range(1..200)))),
                locality: Some(name(city)),
                region: region.map(name),
                postal_code: Some(PostalCode::try_from(code.to_owned()).map_err(anyhow::Error::msg)?),
                country: Some(name(country)),
            }]
        } else {
            Vec::new()
        };
        batch.push(PersonInput {
            first_name: name(first),
            last_name: Some(name(last)),
            emails,
            phones: vec![PhoneEntry {
                number: Phone::try_from(phone).map_err(anyhow::Error::msg)?,
                label: Some(name("mobile")),
                primary: true,
            }],
            birthday,
            addresses,
            job_title: company.as_ref().map(|_| {
                name(
                    ["Owner", "Buyer", "Office manager", "CTO", "Head of operations"]
                        .choose(&mut demo.rng)
                        .expect("titles"),
                )
            }),
            company_id: company.map(|c| c.id),
            owner_id: Some(*staff_ids.choose(&mut demo.rng).expect("staff")),
            lifecycle_stage: stage,
            source: Some(name(if referrer.is_some() { "referral" } else { demo.pick(SOURCES) })),
            referred_by_id: referrer,
            tags,
            preferences: Preferences {
                preferred_channel: Some(*Channel::ALL.choose(&mut demo.rng).expect("channels")),
                language: Some(
                    Language::try_from(demo.pick(&["en", "en", "pt-BR", "de", "fr", "es"]).to_string())
                        .map_err(anyhow::Error::msg)?,
                ),
                time_zone: Some(TimeZone::try_from(zone.to_owned()).map_err(anyhow::Error::msg)?),
                do_not_contact: demo.rng.random_bool(0.03),
                interests: INTERESTS.choose_multiple(&mut demo.rng, 2).map(|i| tag(i)).collect(),
                notes: demo.rng.random_bool(0.3).then(|| LongText::try_from(demo.pick(NOTES)).expect("valid notes")),
            },
            keep_in_touch_days: demo
                .rng
                .random_bool(0.3)
                .then(|| *[14, 30, 60, 90].choose(&mut demo.rng).expect("cadences")),
            external_id: None,
            custom_fields: custom,
        });
        // Referrals point only at people already stored, so flush before the batch grows stale.
        if batch.len() == people_batch || i + 1 == n_people {
            let created = store.create_people(&actor, std::mem::take(&mut batch)).await?;
            demo.progress.inc(created.len() as u64);
            referrers.extend(
                created
                    .iter()
                    .filter(|p| matches!(p.fields.lifecycle_stage, LifecycleStage::Advocate | LifecycleStage::Customer))
                    .map(|p| p.id),
            );
            people.extend(created);
        }
    }
    let (twin_companies, twins) = entered_twice(store, &actor, &people).await?;
    companies.extend(twin_companies);
    people.extend(twins);
    let customers: Vec<&Person> = people
        .iter()
        .filter(|p| {
            matches!(
                p.fields.lifecycle_stage,
                LifecycleStage::Customer | LifecycleStage::Advocate | LifecycleStage::Churned
            )
        })
        .collect();

    // Deals across every stage, won and lost: each starts in the first stage
    // and moves up to its own, so its history has the stage moves the sales
    // dashboard reads; closed ones closed over the past year.
    demo.step("deals");
    let mut deals = Vec::new();
    let mut paths = Vec::new();
    for _ in 0..n_deals {
        let person = people.choose(&mut demo.rng).expect("people");
        let reached = demo.rng.random_range(0..pipeline.stages.len());
        let status = match demo.rng.random_range(0..100) {
            0..55 => DealStatus::Open,
            55..80 => DealStatus::Won,
            _ => DealStatus::Lost,
        };
        deals.push(DealInput {
            name: name(&format!("{} for {}", demo.pick(PRODUCTS), person.fields.full_name())),
            amount: Money::new(demo.rng.random_range(5..500) * 10_000, Currency::parse("EUR").expect("EUR")),
            pipeline_id: pipeline.id,
            stage_id: pipeline.stages[0].id,
            person_id: Some(person.id),
            company_id: person.fields.company_id,
            owner_id: person.fields.owner_id,
            expected_close: Some((demo.now + Duration::days(demo.rng.random_range(-30..120))).date()),
            status: DealStatus::Open,
            lost_reason: None,
            tags: vec![],
            external_id: None,
            custom_fields: BTreeMap::new(),
        });
        paths.push((reached, status));
    }
    let mut created = Vec::new();
    for chunk in deals.chunks(BATCH) {
        created.extend(store.create_deals(&actor, chunk.to_vec()).await?);
        demo.progress.inc(chunk.len() as u64);
    }
    let stored_deals = deal_paths(store, &actor, &mut demo, &pipeline, created, &paths).await?;

    // Activities over two years.
    demo.step("activities");
    // Each person's first deal, looked up per activity: a search through
    // every deal for each activity grew with their product.
    let mut first_deals: HashMap<PersonId, DealId> = HashMap::new();
    for deal in &stored_deals {
        if let Some(person) = deal.fields.person_id {
            first_deals.entry(person).or_insert(deal.id);
        }
    }
    // Drawn and written a transaction at a time, so that at scale 500 the
    // five million are never all in memory; the draws are the same either way.
    let mut activities = Vec::with_capacity(BATCH.min(n_activities));
    for i in 0..n_activities {
        let person = people.choose(&mut demo.rng).expect("people");
        let kind = *ActivityKind::ALL.choose(&mut demo.rng).expect("kinds");
        let direction = match kind {
            ActivityKind::Note => Direction::Internal,
            _ if demo.rng.random_bool(0.4) => Direction::Inbound,
            _ => Direction::Outbound,
        };
        let deal = first_deals.get(&person.id).filter(|_| demo.rng.random_bool(0.3));
        activities.push(ActivityInput {
            kind,
            direction: Some(direction),
            occurred_at: Some(demo.days_ago(730)),
            subject: Some(name(demo.pick(SUBJECTS))),
            body: Some(LongText::try_from(demo.pick(NOTES)).expect("valid body")),
            author_id: person.fields.owner_id,
            links: Links { person_id: Some(person.id), company_id: person.fields.company_id, deal_id: deal.copied() },
        });
        if activities.len() == BATCH || i + 1 == n_activities {
            let written = activities.len() as u64;
            store.create_activities(&actor, std::mem::take(&mut activities)).await?;
            demo.progress.inc(written);
        }
    }

    // Tasks: some overdue, some today, most upcoming, a third done.
    demo.step("tasks");
    let mut tasks = Vec::with_capacity(n_tasks);
    for _ in 0..n_tasks {
        let person = people.choose(&mut demo.rng).expect("people");
        let due = demo.now + Duration::hours(demo.rng.random_range(-24 * 14..24 * 30));
        tasks.push(TaskInput {
            title: name(&format!(
                "{} with {}",
                demo.pick(&["Call", "Email", "Send proposal to", "Check in"]),
                person.fields.full_name()
            )),
            notes: None,
            due_at: Some(normalize_timestamp(due)),
            assignee_id: person.fields.owner_id,
            done: due < demo.now && demo.rng.random_bool(0.5),
            links: Links { person_id: Some(person.id), company_id: person.fields.company_id, deal_id: None },
        });
    }
    for chunk in tasks.chunks(BATCH) {
        store.create_tasks(&actor, chunk.to_vec()).await?;
        demo.progress.inc(chunk.len() as u64);
    }

    // Purchases, the way the lifetime value models assume people buy: each
    // customer buys at a rate of their own (gamma-distributed: a few heavy
    // buyers, many occasional ones, about n_purchases in all) from a first
    // purchase spread over two years, and after every purchase stops for
    // good with a probability of their own (beta-distributed, about one in
    // fifteen), so cohorts thin out and some customers churn. Each customer
    // also has a spend level (log-normal around EUR 120) that their baskets
    // vary around; amounts independent of the customer would leave the
    // Gamma-Gamma spend model nothing to fit.
    demo.step("purchases");
    // Written a transaction at a time as they are drawn, as the activities are.
    let mut purchases = Vec::with_capacity(BATCH);
    let mut drawn = 0usize;
    let per_customer = n_purchases as f64 / customers.len().max(1) as f64;
    // Mean days between purchases such that a customer alive for a year on
    // average makes about `per_customer` purchases.
    let mean_gap_days = (365.0 / per_customer.max(1.0)).max(1.0);
    for person in &customers {
        let rate_per_day = demo.gamma(0.9) / 0.9 / mean_gap_days;
        let dropout = demo.beta(1.0, 14.0);
        let spend_level = demo.log_normal(120.0, 0.7);
        let mut ago = demo.rng.random_range(1..730 * 86_400i64) as f64;
        loop {
            let occurred_at = normalize_timestamp(demo.now - Duration::seconds(ago as i64));
            // Cents, between EUR 1 and EUR 5,000.
            let cents = (demo.log_normal(spend_level, 0.35) * 100.0).round().clamp(100.0, 500_000.0) as i64;
            purchases.push(PurchaseInput {
                person_id: person.id,
                occurred_at,
                amount: Money::new(cents, Currency::parse("EUR").expect("EUR")),
                reference: Some(name(&format!("ORD-{:07}", drawn + 1))),
                description: Some(LongText::try_from(demo.pick(PRODUCTS)).expect("valid description")),
            });
            drawn += 1;
            if purchases.len() == BATCH {
                store.create_purchases(&actor, std::mem::take(&mut purchases)).await?;
                demo.progress.inc(BATCH as u64);
            }
            if demo.rng.random::<f64>() < dropout {
                break;
            }
            ago -= -(1.0 - demo.rng.random::<f64>()).ln() / rate_per_day * 86_400.0;
            if ago <= 0.0 {
                break;
            }
        }
    }
    if !purchases.is_empty() {
        let written = purchases.len() as u64;
        store.create_purchases(&actor, purchases).await?;
        demo.progress.inc(written);
    }
    // The purchases were drawn, not counted out: the bar follows.
    demo.progress.set_length(demo.progress.length().unwrap_or(0) + drawn as u64 - n_purchases as u64);
    // Some history beyond the creates: leads moved along, and a few records
    // deleted, so the history panels and the trash are not empty at first look.
    demo.step("history");
    let moved = people.iter().filter(|p| p.fields.lifecycle_stage == LifecycleStage::Lead).take(40);
    for person in moved {
        let mut input = person.fields.clone();
        input.lifecycle_stage = LifecycleStage::Prospect;
        store.update_person(&actor, person.id, input, None).await?;
    }
    // From the middle: the last ones are the records entered twice.
    let deleted: Vec<PersonId> = people.iter().skip(people.len() / 2).take(3).map(|p| p.id).collect();
    for id in &deleted {
        store.delete_person(&actor, *id).await?;
    }
    demo.step("support tickets");
    let requesters: Vec<&Person> = customers.iter().copied().filter(|p| !deleted.contains(&p.id)).collect();
    let desk = crate::demo_tickets::SupportDesk {
        customers: &requesters,
        agents: &support_agents,
        team: support.id,
        count: (80.0 * scale).round() as usize,
    };
    let n_tickets = crate::demo_tickets::support_history(store, &actor, &mut demo.rng, demo.now, desk).await?;
    for deal in stored_deals.iter().rev().take(2) {
        store.delete_deal(&actor, deal.id).await?;
    }
    demo.step("feedback");
    let answers = (300.0 * scale).round() as usize;
    let feedback =
        crate::demo_feedback::feedback_history(store, &actor, &mut demo.rng, demo.now, &requesters, answers).await?;
    demo.step("staff styles");
    let styled: Vec<UserId> = crate::demo_style::STYLES.iter().map(|s| by_email[s.email]).collect();
    crate::demo_style::staff_styles(store, &actor, &mut demo.rng, demo.now, &styled, &requesters).await?;
    crate::demo_style::staff_reviews(store, &actor, &mut demo.rng, &styled).await?;
    let leo = by_email["leo.brandt@example.com"];
    crate::demo_style::staff_goals(store, &actor, demo.now, sales.id, leo).await?;
    demo.step("statistics");
    store.analyze_sampled().await?;
    demo.step("done");
    demo.progress.finish_with_message("done");
    eprintln!(
        "Demo data: {} companies, {} people, {} deals, {n_activities} activities, {n_tasks} tasks, {} purchases, {n_tickets} tickets, {} survey answers ({} of {} links answered), 7 staff.\n\
         Sign in as demo.admin@example.com with the password {admin_password} (shown once).\n\
         The other staff accounts have no password; `rapport user passwd --email ...` gives them one.",
        companies.len(),
        people.len(),
        stored_deals.len(),
        drawn,
        feedback.answers,
        feedback.answered,
        feedback.sent,
    );
    Ok(())
}

/// Moves new deals from the first stage up to their stage `reached`, closes
/// them as `status`, and dates that past: closed ones closed in the last
/// year after 1 to 120 days, open ones created in the last 120 days. Each
/// step is taken for every deal at once, in transactions of up to
/// [`BATCH`] deals: one transaction per deal and step took most of the
/// demo's time.
async fn deal_paths(
    store: &Store,
    actor: &Actor,
    demo: &mut Demo,
    pipeline: &Pipeline,
    mut deals: Vec<Deal>,
    paths: &[(usize, DealStatus)],
) -> Result<Vec<Deal>> {
    // Drawn deal by deal, in the order the demo always drew them, so a seed
    // gives the same data as before.
    let mut closes = Vec::new();
    let mut dated = Vec::with_capacity(deals.len());
    for (deal, &(reached, status)) in deals.iter().zip(paths) {
        if status != DealStatus::Open {
            let reason = (status == DealStatus::Lost)
                .then(|| LongText::try_from(demo.pick(LOST_REASONS)).expect("valid reason"));
            closes.push((deal.id, status, reason));
        }
        let (end, length) = if status == DealStatus::Open {
            (demo.now - Duration::days(1), demo.rng.random_range(5..120))
        } else {
            (demo.days_ago(365), demo.rng.random_range(1..120))
        };
        let start = end - Duration::days(length);
        let steps = reached as i64 + i64::from(status != DealStatus::Open);
        // Creation, each move and the close, spread evenly from start to end.
        let times: Vec<OffsetDateTime> = (0..=steps)
            .map(|i| {
                if steps == 0 { start } else { normalize_timestamp(start + (end - start) * (i as f64 / steps as f64)) }
            })
            .collect();
        dated.push((deal.id, times));
    }
    let position: HashMap<DealId, usize> = deals.iter().enumerate().map(|(i, deal)| (deal.id, i)).collect();
    let update = async |deals: &mut Vec<Deal>, changes: Vec<(DealId, DealInput)>| -> Result<()> {
        for chunk in changes.chunks(BATCH) {
            for deal in store.update_deals(actor, chunk.to_vec()).await? {
                let at = position[&deal.id];
                deals[at] = deal;
            }
        }
        Ok(())
    };
    for (step, stage) in pipeline.stages.iter().enumerate().skip(1) {
        let moves: Vec<_> = deals
            .iter()
            .zip(paths)
            .filter(|(_, (reached, _))| *reached >= step)
            .map(|(deal, _)| (deal.id, DealInput { stage_id: stage.id, ..deal.fields.clone() }))
            .collect();
        update(&mut deals, moves).await?;
    }
    let closing: Vec<_> = closes
        .into_iter()
        .map(|(id, status, lost_reason)| (id, DealInput { status, lost_reason, ..deals[position[&id]].fields.clone() }))
        .collect();
    update(&mut deals, closing).await?;
    for chunk in dated.chunks(BATCH) {
        store.date_deal_histories(chunk).await?;
    }
    Ok(deals)
}

/// Records entered twice, as they are in real life, so the duplicates page
/// has something to show: an address under another spelling of the name, a
/// number typed another way, one company with and without its punctuation.
async fn entered_twice(store: &Store, actor: &Actor, people: &[Person]) -> Result<(Vec<Company>, Vec<Person>)> {
    let company = |title: &str, domain: Option<&str>| CompanyInput {
        name: name(title),
        domain: domain.map(|d| Domain::try_from(d.to_owned()).expect("a valid domain")),
        industry: Some(name("Manufacturing")),
        size: None,
        owner_id: None,
        tags: vec![],
        external_id: None,
        custom_fields: BTreeMap::new(),
    };
    let companies = store
        .create_companies(actor, vec![company("Acme Inc", Some("acme-tools.example.com")), company("ACME Inc.", None)])
        .await?;
    let (Some(first), Some(second)) = (people.first(), people.get(1)) else { return Ok((companies, Vec::new())) };

    let mut same_email = first.fields.clone();
    let initial: String = first.fields.first_name.as_str().chars().take(1).collect();
    same_email.first_name = name(&format!("{initial}."));
    same_email.emails.truncate(1);
    same_email.phones.clear();
    same_email.referred_by_id = None;

    let mut same_phone = second.fields.clone();
    same_phone.emails.clear();
    same_phone.referred_by_id = None;
    for entry in &mut same_phone.phones {
        // The last nine digits, with a trunk 0 instead of the country code.
        let digits = entry.number.digits();
        let tail = &digits[digits.len().saturating_sub(9)..];
        let (area, rest) = tail.split_at(tail.len().min(2));
        entry.number = Phone::try_from(format!("0{area} {rest}")).map_err(anyhow::Error::msg)?;
    }
    let twins = store.create_people(actor, vec![same_email, same_phone]).await?;
    Ok((companies, twins))
}

async fn staff(store: &Store, full_name: &str, email: &str, role: Role, team: Option<TeamId>) -> Result<User> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!(e))?;
    if let Some(existing) = store.find_user_by_email(&email).await? {
        return Ok(existing);
    }
    Ok(store
        .create_user(UserInput { name: name(full_name), email, role, team_id: team, active: true }, None, None)
        .await?)
}
