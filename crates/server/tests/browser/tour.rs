//! A tour of every page over realistic data: an admin, a team with an agent,
//! a four-stage pipeline, companies, people (one referred by another, one due
//! for contact), deals in several stages (one won, one lost), a timeline,
//! tasks, purchases, custom fields, a saved view and an API token. Each page
//! is screenshotted at desktop and phone width (tour-<page>-desktop.png and
//! -phone.png) and checked: it answered 200 with a heading and no error text,
//! loaded under the CSP with htmx and a quiet console, and at phone width the
//! body does not scroll sideways. Every problem on every page is collected
//! and reported together at the end.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use rapport_domain::access::{Actor, Role};
use rapport_domain::custom_fields::{CustomFieldInput, EntityType, FieldKey, FieldKind};
use rapport_domain::email::Email;
use rapport_domain::records::{
    ActivityInput, ActivityKind, Channel, CompanyInput, CompanySize, Deal, DealInput, DealStatus, Direction,
    EmailEntry, Language, LifecycleStage, Links, Password, Person, PersonInput, PhoneEntry, Pipeline, Preferences,
    PurchaseInput, TaskInput, TeamInput, TimeZone, UserInput,
};
use rapport_domain::text::{LongText, Tag};
use rapport_domain::views::{ListKind, SavedViewInput, ViewQuery};
use rapport_domain::{CompanyId, Currency, Money, PersonId, UserId};
use time::{Duration, OffsetDateTime};

use super::harness::{Ctx, DESKTOP, PASSWORD, PHONE, name_of, scenario};

fn tag(raw: &str) -> Tag {
    Tag::try_from(raw.to_owned()).unwrap_or_else(|err| panic!("not a tag {raw:?}: {err}"))
}

fn tags(raw: &[&str]) -> Vec<Tag> {
    raw.iter().map(|t| tag(t)).collect()
}

fn long(raw: &str) -> LongText {
    LongText::try_from(raw).unwrap_or_else(|err| panic!("not a text {raw:?}: {err:?}"))
}

fn email(address: &str, label: Option<&str>, primary: bool) -> EmailEntry {
    EmailEntry { address: Email::parse(address).expect("a valid email"), label: label.map(name_of), primary }
}

fn phone(number: &str, label: Option<&str>, primary: bool) -> PhoneEntry {
    PhoneEntry { number: number.to_owned().try_into().expect("a valid phone"), label: label.map(name_of), primary }
}

fn eur(major: i64) -> Money {
    Money::new(major * 100, Currency::parse("EUR").expect("a currency"))
}

/// A person with a name and (unless empty) one email; the rest to be filled in.
fn person(first: &str, last: &str, address: &str) -> PersonInput {
    PersonInput {
        first_name: name_of(first),
        last_name: (!last.is_empty()).then(|| name_of(last)),
        emails: (!address.is_empty()).then(|| email(address, None, true)).into_iter().collect(),
        phones: Vec::new(),
        birthday: None,
        addresses: Vec::new(),
        job_title: None,
        company_id: None,
        owner_id: None,
        lifecycle_stage: LifecycleStage::Lead,
        source: None,
        referred_by_id: None,
        tags: Vec::new(),
        preferences: Preferences::default(),
        keep_in_touch_days: None,
        external_id: None,
        custom_fields: Default::default(),
    }
}

fn company(
    name: &str,
    domain: &str,
    industry: &str,
    size: CompanySize,
    owner: UserId,
    tag_names: &[&str],
) -> CompanyInput {
    CompanyInput {
        name: name_of(name),
        domain: Some(domain.to_owned().try_into().expect("a valid domain")),
        industry: Some(name_of(industry)),
        size: Some(size),
        owner_id: Some(owner),
        tags: tags(tag_names),
        external_id: None,
        custom_fields: Default::default(),
    }
}

struct DealSpec<'a> {
    name: &'a str,
    amount: i64,
    stage: usize,
    status: DealStatus,
    person: Option<PersonId>,
    company: Option<CompanyId>,
    close_in_days: i64,
}

async fn deal(ctx: &Ctx, actor: &Actor, pipeline: &Pipeline, spec: DealSpec<'_>) -> Deal {
    let input = DealInput {
        name: name_of(spec.name),
        amount: eur(spec.amount),
        pipeline_id: pipeline.id,
        stage_id: pipeline.stages[spec.stage].id,
        person_id: spec.person,
        company_id: spec.company,
        owner_id: Some(actor.user_id),
        expected_close: Some((OffsetDateTime::now_utc() + Duration::days(spec.close_in_days)).date()),
        status: spec.status,
        lost_reason: (spec.status == DealStatus::Lost).then(|| long("Chose a cheaper supplier for this year.")),
        tags: tags(&["coffee"]),
        external_id: None,
        custom_fields: Default::default(),
    };
    ctx.store().create_deal(actor, input).await.expect("create a deal")
}

/// An activity about a person (and maybe a deal), `days_ago` days back.
#[allow(clippy::too_many_arguments)]
async fn activity(
    ctx: &Ctx,
    actor: &Actor,
    kind: ActivityKind,
    direction: Direction,
    days_ago: i64,
    subject: &str,
    body: &str,
    links: Links,
) {
    let input = ActivityInput {
        kind,
        direction: Some(direction),
        occurred_at: Some(OffsetDateTime::now_utc() - Duration::days(days_ago)),
        subject: (!subject.is_empty()).then(|| name_of(subject)),
        body: (!body.is_empty()).then(|| long(body)),
        author_id: None,
        links,
    };
    ctx.store().create_activity(actor, input).await.expect("create an activity");
}

fn about(person: &Person) -> Links {
    Links { person_id: Some(person.id), company_id: None, deal_id: None }
}

async fn task(ctx: &Ctx, actor: &Actor, title: &str, due: Option<OffsetDateTime>, person: Option<PersonId>) {
    let input = TaskInput {
        title: name_of(title),
        notes: Some(long("Check the notes on their page first.")),
        due_at: due,
        assignee_id: Some(actor.user_id),
        done: false,
        links: Links { person_id: person, company_id: None, deal_id: None },
    };
    ctx.store().create_task(actor, input).await.expect("create a task");
}

async fn purchase(ctx: &Ctx, actor: &Actor, person: &Person, days_ago: i64, amount: i64, reference: &str, what: &str) {
    let input = PurchaseInput {
        person_id: person.id,
        occurred_at: OffsetDateTime::now_utc() - Duration::days(days_ago),
        amount: eur(amount),
        reference: Some(name_of(reference)),
        description: Some(long(what)),
    };
    ctx.store().create_purchase(actor, input).await.expect("create a purchase");
}

/// What the tour found wrong, page by page.
type Problems = Vec<String>;

/// Runs a check that panics (such as the harness's `check_page`) and keeps
/// its message as a problem instead of stopping the tour.
async fn soft<F: std::future::Future<Output = ()>>(problems: &mut Problems, page: &str, width: &str, check: F) {
    if let Err(panic) = AssertUnwindSafe(check).catch_unwind().await {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a check panicked".into());
        problems.push(format!("{page} ({width}): {message}"));
    }
}

/// Console errors of any kind (failed loads, script errors, CSP violations):
/// read before the harness's own check, which only looks for CSP and uncaught.
async fn console_errors(ctx: &Ctx, page: &str, width: &str, problems: &mut Problems) {
    let entries = ctx.driver.browser_log().await.unwrap_or_default();
    for entry in entries {
        let m = entry.message.to_lowercase();
        if entry.level == "SEVERE" || m.contains("content security policy") || m.contains("uncaught") {
            problems.push(format!("{page} ({width}): console {} {}", entry.level, entry.message));
        }
    }
}

/// The page answered 200, has a heading and no error text.
async fn page_is_fine(ctx: &Ctx, page: &str, width: &str, problems: &mut Problems) {
    let state = ctx
        .js("const nav = performance.getEntriesByType('navigation')[0]; \
             const h1 = document.querySelector('h1'); \
             const text = document.body ? document.body.innerText : ''; \
             return { status: nav && typeof nav.responseStatus === 'number' ? nav.responseStatus : 0, \
                      h1: h1 ? h1.innerText.trim() : null, \
                      error: ['Something went wrong', 'Not found'].filter(t => text.includes(t)) };")
        .await;
    let status = state["status"].as_i64().unwrap_or(0);
    if status != 200 && status != 0 {
        problems.push(format!("{page} ({width}): the page answered {status}"));
    }
    match state["h1"].as_str() {
        None => problems.push(format!("{page} ({width}): no <h1>")),
        Some("") => problems.push(format!("{page} ({width}): the <h1> is empty")),
        Some(_) => {}
    }
    if let Some(errors) = state["error"].as_array().filter(|e| !e.is_empty()) {
        problems.push(format!("{page} ({width}): the page says {errors:?} (h1 {})", state["h1"]));
    }
}

/// At phone width the body does not scroll sideways; otherwise names the
/// outermost elements sticking out (not inside a box that scrolls or clips
/// them), with their widths.
async fn fits_the_phone(ctx: &Ctx, page: &str, problems: &mut Problems) {
    let found = ctx
        .js(r#"
            const vw = window.innerWidth;
            const scroll = document.documentElement.scrollWidth;
            // Clipped by a box that scrolls or hides: along the containing blocks,
            // so that an absolutely positioned element escapes a static box.
            const clipped = e => {
                let abs = getComputedStyle(e).position === 'absolute';
                if (getComputedStyle(e).position === 'fixed') return true;
                for (let p = e.parentElement; p && p !== document.body && p !== document.documentElement; p = p.parentElement) {
                    const cs = getComputedStyle(p);
                    if (abs && cs.position === 'static' && cs.transform === 'none') continue;
                    if (cs.overflowX !== 'visible') return true;
                    if (cs.position === 'fixed') return true;
                    abs = cs.position === 'absolute';
                }
                return false;
            };
            const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : '');
            const path = e => { const parts = []; for (let n = e; n && n !== document.body && parts.length < 5; n = n.parentElement) parts.unshift(name(n)); return parts.join(' > '); };
            const describe = e => { const r = e.getBoundingClientRect();
                return path(e) + ' (width ' + Math.round(r.width) + ' px, from ' + Math.round(r.left) + ' to ' + Math.round(r.right) + ' px)'; };
            const sticks = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > vw + 1; };
            const out = e => sticks(e) && !clipped(e);
            const all = Array.from(document.querySelectorAll('body *'));
            // The outermost elements sticking out and not clipped by a scrolling box,
            // or, when a clipping box is itself too wide, those sticking out at all...
            const bad = all.some(out) ? out : sticks;
            const outer = all.filter(e => bad(e) && !(e.parentElement && e.parentElement !== document.body && bad(e.parentElement)));
            // ...and the innermost ones: the content that forces the width.
            const inner = all.filter(e => bad(e) && !Array.from(e.children).some(bad) && !outer.includes(e))
                .sort((a, b) => b.getBoundingClientRect().width - a.getBoundingClientRect().width);
            const culprits = outer.slice(0, 4).map(describe).concat(inner.slice(0, 4).map(e => 'innermost: ' + describe(e)));
            return { vw, scroll, culprits };
        "#)
        .await;
    let vw = found["vw"].as_i64().unwrap_or(0);
    if vw != i64::from(PHONE.0) {
        problems.push(format!("{page} (phone): the viewport is {vw} px wide, not {}", PHONE.0));
    }
    let scroll = found["scroll"].as_i64().unwrap_or(0);
    if scroll > i64::from(PHONE.0) + 1 {
        let culprits: Vec<&str> =
            found["culprits"].as_array().map(|c| c.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
        problems.push(format!(
            "{page} (phone): the body is {scroll} px wide at {vw} px and scrolls sideways; too wide: {}",
            if culprits.is_empty() { "(no single element found)".to_owned() } else { culprits.join("; ") }
        ));
    }
}

/// Visits `path` at desktop width, takes both screenshots, visits it again at
/// phone width, and checks it each time.
async fn tour_page(ctx: &Ctx, page: &str, path: &str, problems: &mut Problems) {
    let label = format!("{page} ({path})");
    ctx.set_size(DESKTOP).await;
    ctx.open_settled(path).await;
    console_errors(ctx, &label, "desktop", problems).await;
    soft(problems, &label, "desktop", ctx.check_page()).await;
    page_is_fine(ctx, &label, "desktop", problems).await;
    ctx.screenshots(page).await;

    ctx.set_size(PHONE).await;
    ctx.open_settled(path).await;
    console_errors(ctx, &label, "phone", problems).await;
    soft(problems, &label, "phone", ctx.check_page()).await;
    page_is_fine(ctx, &label, "phone", problems).await;
    fits_the_phone(ctx, &label, problems).await;
    ctx.set_size(DESKTOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_in_a_tour() {
    scenario("tour", |ctx| async move {
        let store = ctx.store();
        let now = OffsetDateTime::now_utc();

        // Staff: an admin, and an agent in a team.
        let (ada, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let team = store.create_team(&admin, TeamInput { name: name_of("Field sales") }).await.expect("a team");
        let password = Password::try_from(PASSWORD.to_owned()).expect("a valid password");
        let agent = store
            .create_user(
                UserInput {
                    name: name_of("Bob Agent"),
                    email: Email::parse("bob.agent@example.com").expect("an email"),
                    role: Role::Agent,
                    team_id: Some(team.id),
                    active: true,
                },
                Some(&password),
                Some(ada.id),
            )
            .await
            .expect("create the agent");
        store.create_token(ada.id, name_of("Zapier sync"), Some(90)).await.expect("a token");

        // Custom fields for people, before the people who use them.
        for (key, label, kind, choices) in [
            ("favourite_product", "Favourite product", FieldKind::Text, vec![]),
            ("segment", "Segment", FieldKind::Choice, vec!["Retail", "Wholesale", "Hospitality"]),
        ] {
            store
                .create_custom_field(
                    &admin,
                    CustomFieldInput {
                        entity_type: EntityType::Person,
                        key: FieldKey::try_from(key.to_owned()).expect("a key"),
                        label: name_of(label),
                        kind,
                        choices: choices.into_iter().map(name_of).collect(),
                        required: false,
                    },
                )
                .await
                .expect("a custom field");
        }

        let pipeline = ctx
            .app
            .create_pipeline(
                &admin,
                "Sales",
                &[("Qualified", 10), ("Proposal", 40), ("Negotiation", 70), ("Closing", 90)],
            )
            .await;

        let northwind = store
            .create_company(
                &admin,
                company(
                    "Northwind Traders",
                    "northwind.example",
                    "Wholesale",
                    CompanySize::S51to200,
                    ada.id,
                    &["key-account", "coffee"],
                ),
            )
            .await
            .expect("a company");
        let globex = store
            .create_company(
                &admin,
                company(
                    "Globex Corporation",
                    "globex.example",
                    "Manufacturing",
                    CompanySize::S1001to5000,
                    ada.id,
                    &["enterprise"],
                ),
            )
            .await
            .expect("a company");
        let initech = store
            .create_company(
                &admin,
                company("Initech", "initech.example", "Software", CompanySize::S11to50, agent.id, &["startup"]),
            )
            .await
            .expect("a company");

        // The rich one.
        let mut input = person("Katherine", "Johnson", "katherine.johnson@northwind.example");
        input.emails.push(email("kat.johnson.personal@mailbox.example", Some("personal"), false));
        input.emails[0].label = Some(name_of("work"));
        input.phones =
            vec![phone("+44 20 7946 0958", Some("mobile"), true), phone("+44 20 7946 0000", Some("office"), false)];
        input.job_title = Some(name_of("Head of Procurement"));
        input.company_id = Some(northwind.id);
        input.owner_id = Some(ada.id);
        input.lifecycle_stage = LifecycleStage::Customer;
        input.source = Some(name_of("website"));
        input.tags = tags(&["vip", "coffee", "decision-maker"]);
        input.preferences = Preferences {
            preferred_channel: Some(Channel::Phone),
            language: Some(Language::try_from("en-GB".to_owned()).expect("a language")),
            time_zone: Some(TimeZone::try_from("Europe/London".to_owned()).expect("a time zone")),
            do_not_contact: false,
            interests: tags(&["espresso", "cycling", "jazz"]),
            notes: Some(long("Prefers calls after 2 pm. Oat milk flat white. Never on Fridays.")),
        };
        input.keep_in_touch_days = Some(14);
        input.custom_fields = [
            ("favourite_product".to_owned(), serde_json::json!("Espresso machine")),
            ("segment".to_owned(), serde_json::json!("Wholesale")),
        ]
        .into();
        let katherine = store.create_person(&admin, input).await.expect("a person");

        // Due: a cadence of 30 days, last called 60 days ago.
        let mut input = person("Dorothy", "Vaughan", "dorothy.vaughan@globex.example");
        input.phones = vec![phone("+1 (555) 010-2030", None, true)];
        input.job_title = Some(name_of("Facilities Manager"));
        input.company_id = Some(globex.id);
        input.owner_id = Some(ada.id);
        input.lifecycle_stage = LifecycleStage::Customer;
        input.tags = tags(&["coffee"]);
        input.keep_in_touch_days = Some(30);
        let dorothy = store.create_person(&admin, input).await.expect("a person");

        let mut input = person("Mary", "Jackson", "mary.jackson@example.com");
        input.referred_by_id = Some(katherine.id);
        input.source = Some(name_of("referral"));
        input.owner_id = Some(agent.id);
        input.tags = tags(&["referral"]);
        let mary = store.create_person(&admin, input).await.expect("a person");

        let mut input = person("Christine", "Darden", "christine.darden@initech.example");
        input.company_id = Some(initech.id);
        input.job_title = Some(name_of("CTO"));
        input.lifecycle_stage = LifecycleStage::Prospect;
        input.tags = tags(&["startup", "tea"]);
        let christine = store.create_person(&admin, input).await.expect("a person");

        let mut input = person("Annie", "Easley", "annie@easley.example");
        input.phones = vec![phone("+351 912 345 678", Some("mobile"), true)];
        input.lifecycle_stage = LifecycleStage::Customer;
        input.preferences.preferred_channel = Some(Channel::Whatsapp);
        let annie = store.create_person(&admin, input).await.expect("a person");

        let mut input = person("Margaret", "Hamilton", "margaret.hamilton@northwind.example");
        input.company_id = Some(northwind.id);
        input.job_title = Some(name_of("Operations Director"));
        input.lifecycle_stage = LifecycleStage::Advocate;
        store.create_person(&admin, input).await.expect("a person");

        let mut input =
            person("Grace", "Brewster-Murray-Hopper", "grace.brewster.murray.hopper@navy-computing-division.example");
        input.lifecycle_stage = LifecycleStage::Churned;
        input.preferences.do_not_contact = true;
        store.create_person(&admin, input).await.expect("a person");

        let mut input = person("Evelyn", "Boyd Granville", "");
        input.source = Some(name_of("event"));
        let evelyn = store.create_person(&admin, input).await.expect("a person");
        // Deleted: she is in the trash.
        store.delete_person(&admin, evelyn.id).await.expect("delete a person");

        // Deals across the stages; one won, one lost.
        let big = deal(
            &ctx,
            &admin,
            &pipeline,
            DealSpec {
                name: "Northwind coffee supply 2025",
                amount: 48_000,
                stage: 2,
                status: DealStatus::Open,
                person: Some(katherine.id),
                company: Some(northwind.id),
                close_in_days: 21,
            },
        )
        .await;
        for (name, amount, stage, person, company) in [
            ("Globex office fit-out", 12_500, 0, Some(dorothy.id), Some(globex.id)),
            ("Initech espresso bar", 7_800, 1, Some(christine.id), Some(initech.id)),
            ("Annual service contract", 3_200, 3, Some(annie.id), None),
            ("Grinder upgrade pilot", 950, 1, Some(mary.id), None),
        ] {
            deal(
                &ctx,
                &admin,
                &pipeline,
                DealSpec { name, amount, stage, status: DealStatus::Open, person, company, close_in_days: 45 },
            )
            .await;
        }
        deal(
            &ctx,
            &admin,
            &pipeline,
            DealSpec {
                name: "Espresso machines 2024",
                amount: 22_000,
                stage: 3,
                status: DealStatus::Won,
                person: Some(katherine.id),
                company: Some(northwind.id),
                close_in_days: -30,
            },
        )
        .await;
        deal(
            &ctx,
            &admin,
            &pipeline,
            DealSpec {
                name: "Globex vending machines",
                amount: 15_000,
                stage: 1,
                status: DealStatus::Lost,
                person: Some(dorothy.id),
                company: Some(globex.id),
                close_in_days: -10,
            },
        )
        .await;

        // A timeline for Katherine, and Dorothy's old call.
        activity(
            &ctx,
            &admin,
            ActivityKind::Call,
            Direction::Outbound,
            60,
            "Quarterly check-in",
            "Happy with the machines.",
            about(&dorothy),
        )
        .await;
        activity(
            &ctx,
            &admin,
            ActivityKind::Note,
            Direction::Internal,
            0,
            "",
            "Met at the trade fair; wants a tasting session for the whole procurement team before signing.",
            about(&katherine),
        )
        .await;
        activity(
            &ctx,
            &admin,
            ActivityKind::Call,
            Direction::Inbound,
            2,
            "Asked about volume pricing",
            "Wants 10% off above 200 kg a month. Promised a proposal by Friday.",
            Links { person_id: Some(katherine.id), company_id: None, deal_id: Some(big.id) },
        )
        .await;
        activity(
            &ctx,
            &admin,
            ActivityKind::Meeting,
            Direction::Outbound,
            9,
            "Tasting session",
            "Three blends tried; the Ethiopian won.",
            about(&katherine),
        )
        .await;
        activity(&ctx, &admin, ActivityKind::Email, Direction::Outbound, 12, "Proposal sent", "", about(&katherine))
            .await;

        // Tasks for the admin: overdue, today, next week, whenever.
        task(&ctx, &admin, "Send Katherine the revised proposal", Some(now - Duration::days(2)), Some(katherine.id))
            .await;
        task(&ctx, &admin, "Call Dorothy back", Some(now + Duration::minutes(30)), Some(dorothy.id)).await;
        task(&ctx, &admin, "Book the tasting room", Some(now + Duration::days(7)), None).await;
        task(&ctx, &admin, "Tidy up the lead list", None, None).await;

        purchase(&ctx, &admin, &katherine, 40, 1_250, "INV-2025-0042", "Espresso beans, 50 kg").await;
        purchase(&ctx, &admin, &katherine, 10, 380, "INV-2025-0107", "Descaler and filters").await;
        purchase(&ctx, &admin, &annie, 5, 89, "INV-2025-0111", "Milk frother").await;

        store
            .save_view(
                &admin,
                SavedViewInput {
                    list: ListKind::People,
                    name: name_of("Customers"),
                    query: ViewQuery::parse("lifecycle_stage=customer&cols=name,email,tags").expect("a query"),
                },
            )
            .await
            .expect("a saved view");

        // Katherine's history: promoted, then given a new tag.
        let mut changed = katherine.fields.clone();
        changed.job_title = Some(name_of("Chief Procurement Officer"));
        let katherine = store.update_person(&admin, katherine.id, changed, None).await.expect("a change");
        let mut changed = katherine.fields.clone();
        changed.tags.push(tag("tasting"));
        let katherine = store.update_person(&admin, katherine.id, changed, None).await.expect("a change");

        let due = store.contact_due(None, 10).await.expect("who is due");
        assert!(due.iter().any(|p| p.id == dorothy.id), "Dorothy should be due for contact");

        ctx.sign_in_ok("ada@example.com").await;

        let pages: Vec<(&str, String)> = vec![
            ("home", "/".into()),
            ("inbox", "/inbox".into()),
            ("people", "/people".into()),
            ("people-customers", "/people?lifecycle_stage=customer&cols=name,email,tags".into()),
            ("person", format!("/people/{}", katherine.id)),
            ("person-new", "/people/new".into()),
            ("person-edit", format!("/people/{}/edit", katherine.id)),
            ("person-history", format!("/people/{}/history", katherine.id)),
            ("companies", "/companies".into()),
            ("company", format!("/companies/{}", northwind.id)),
            ("company-new", "/companies/new".into()),
            ("deals", "/deals".into()),
            ("deal", format!("/deals/{}", big.id)),
            ("deal-new", "/deals/new".into()),
            ("board", "/board".into()),
            ("tasks", "/tasks".into()),
            ("task-new", "/tasks/new".into()),
            ("search", "/search?q=Mar".into()),
            ("trash", "/trash".into()),
            ("settings-users", "/settings/users".into()),
            ("settings-user", format!("/settings/users/{}", agent.id)),
            ("settings-teams", "/settings/teams".into()),
            ("settings-pipelines", "/settings/pipelines".into()),
            ("settings-pipeline", format!("/settings/pipelines/{}", pipeline.id)),
            ("settings-fields", "/settings/fields".into()),
            ("settings-tokens", "/settings/tokens".into()),
            ("import", "/import".into()),
            ("insights", "/insights".into()),
            ("insights-cohorts", "/insights/cohorts".into()),
            ("insights-churn", "/insights/churn".into()),
            ("insights-churn-segment", "/insights/churn?days=90&group_by=segment".into()),
            ("insights-value", "/insights/value".into()),
            ("insights-referrals", "/insights/referrals".into()),
            ("people-segment", "/people?segment=new".into()),
        ];
        let mut problems = Problems::new();
        for (page, path) in &pages {
            tour_page(&ctx, page, path, &mut problems).await;
        }
        assert!(
            problems.is_empty(),
            "the tour found {} problem(s) on {} pages:\n- {}",
            problems.len(),
            pages.len(),
            problems.join("\n- ")
        );
    })
    .await;
}
