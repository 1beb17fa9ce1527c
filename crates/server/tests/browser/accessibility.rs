//! An axe-core pass over every main page: demo-like data (staff in a team, a
//! pipeline with deals in several stages, companies, people with a timeline,
//! tasks, purchases and their insights, a ticket, a survey with answers,
//! likely duplicates, a record in the trash), then each page at 1440 px and
//! at 390 px wide, and once more at 1440 px in dark mode
//! (the stylesheet's `prefers-color-scheme: dark` rules switched on). axe-core (the npm devDependency
//! in crates/pages/web, read from its node_modules) is injected into each
//! page and run; every violation of impact `serious` or `critical` is
//! collected, and the scenario fails listing them all: page, width, rule,
//! impact and a few of the elements at fault.

use rapport_domain::access::{Actor, Role};
use rapport_domain::records::{
    ActivityInput, ActivityKind, Deal, DealInput, DealStatus, Direction, LifecycleStage, Links, Person, Pipeline,
    PurchaseInput, TaskInput,
};
use rapport_domain::surveys::{AnswerSubject, PublicUrl, SendInput, SendOutcome, SurveySettings, templates};
use rapport_domain::text::{LongText, Tag};
use rapport_domain::tickets::{TicketChannel, TicketInput};
use rapport_domain::{CompanyId, Currency, Money, PersonId};
use time::{Duration, OffsetDateTime};

use super::harness::{Ctx, PHONE, name_of, scenario};
use super::tickets::{member, team};

/// The wide layout the pass checks (the harness's desktop is 1280 px).
const WIDE: (u32, u32) = (1440, 900);

/// Violations that fail the pass.
const SERIOUS: [&str; 2] = ["serious", "critical"];

/// axe-core's browser build, installed by build.rs's `npm ci` (a devDependency).
pub(super) fn axe_source() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../pages/web/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!("cannot read {}: {err} (run `npm ci` in crates/pages/web, or build rapport-pages)", path.display())
    })
}

fn long(raw: &str) -> LongText {
    LongText::try_from(raw).unwrap_or_else(|err| panic!("not a text {raw:?}: {err:?}"))
}

fn eur(major: i64) -> Money {
    Money::new(major * 100, Currency::parse("EUR").expect("a currency"))
}

fn tag(raw: &str) -> Tag {
    Tag::try_from(raw.to_owned()).unwrap_or_else(|err| panic!("not a tag {raw:?}: {err}"))
}

async fn deal(
    ctx: &Ctx,
    admin: &Actor,
    pipeline: &Pipeline,
    (name, amount, stage, status): (&str, i64, usize, DealStatus),
    person: PersonId,
    company: Option<CompanyId>,
) -> Deal {
    let input = DealInput {
        name: name_of(name),
        amount: eur(amount),
        pipeline_id: pipeline.id,
        stage_id: pipeline.stages[stage].id,
        person_id: Some(person),
        company_id: company,
        owner_id: Some(admin.user_id),
        expected_close: Some((OffsetDateTime::now_utc() + Duration::days(30)).date()),
        status,
        lost_reason: (status == DealStatus::Lost).then(|| long("Chose a cheaper supplier.")),
        tags: vec![tag("coffee")],
        external_id: None,
        custom_fields: Default::default(),
    };
    ctx.store().create_deal(admin, input).await.expect("create a deal")
}

type Pages = Vec<(String, String)>;

/// People, a company, deals, a timeline, tasks, purchases, a ticket and a
/// survey's answers; returns the pages to check as (name, path): those seen
/// signed out, and those of a signed-in admin.
async fn fill(ctx: &Ctx) -> (Pages, Pages) {
    let store = ctx.store();
    let now = OffsetDateTime::now_utc();
    let (ada, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
    let north = team(ctx, &admin, "Field sales").await;
    let bob = member(ctx, "Bob Agent", "bob.agent@example.com", Role::Agent, north).await;

    let pipeline =
        ctx.app.create_pipeline(&admin, "Sales", &[("Qualified", 10), ("Proposal", 40), ("Negotiation", 70)]).await;
    let northwind = ctx.app.create_company(&admin, "Northwind Traders").await;

    // Customers with purchases (for the insights), some at Northwind.
    let mut people: Vec<Person> = Vec::new();
    for (i, (first, last)) in [
        ("Katherine", "Johnson"),
        ("Dorothy", "Vaughan"),
        ("Mary", "Jackson"),
        ("Christine", "Darden"),
        ("Annie", "Easley"),
        ("Margaret", "Hamilton"),
        ("Rosa", "Larsen"),
        ("Grace", "Hopper"),
    ]
    .into_iter()
    .enumerate()
    {
        let email = format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase());
        let person = ctx.app.create_person(&admin, first, last, Some(&email)).await;
        let mut input = person.fields.clone();
        input.company_id = (i % 2 == 0).then_some(northwind.id);
        input.owner_id = Some(if i % 3 == 0 { bob.id } else { ada.id });
        input.lifecycle_stage = LifecycleStage::Customer;
        input.tags = vec![tag("coffee")];
        input.keep_in_touch_days = Some(30);
        let person = store.update_person(&admin, person.id, input, None).await.expect("fill in a person");
        for k in 0..(i as i64 % 4 + 1) {
            let input = PurchaseInput {
                person_id: person.id,
                occurred_at: now - Duration::days(i as i64 * 37 + 1 + 45 * k),
                amount: eur(120 + 40 * i as i64 + 15 * k),
                reference: Some(name_of(&format!("INV-{i}-{k}"))),
                description: Some(long("Espresso beans, 5 kg")),
            };
            store.create_purchase(&admin, input).await.expect("create a purchase");
        }
        people.push(person);
    }
    let katherine = people[0].clone();
    // A likely duplicate of Rosa, and someone in the trash.
    ctx.app.create_person(&admin, "Rosa", "Larsen", Some("rosa.larsen@example.org")).await;
    let evelyn = ctx.app.create_person(&admin, "Evelyn", "Granville", None).await;
    store.delete_person(&admin, evelyn.id).await.expect("delete a person");

    let big = deal(
        ctx,
        &admin,
        &pipeline,
        ("Northwind coffee supply", 48_000, 2, DealStatus::Open),
        katherine.id,
        Some(northwind.id),
    )
    .await;
    for (i, spec) in [
        ("Office fit-out", 12_500, 0, DealStatus::Open),
        ("Espresso bar", 7_800, 1, DealStatus::Open),
        ("Service contract", 3_200, 1, DealStatus::Won),
        ("Vending machines", 15_000, 0, DealStatus::Lost),
    ]
    .into_iter()
    .enumerate()
    {
        deal(ctx, &admin, &pipeline, spec, people[i + 1].id, None).await;
    }

    for (days, kind, direction, subject, body) in [
        (0, ActivityKind::Note, Direction::Internal, "", "Wants a tasting session before signing."),
        (2, ActivityKind::Call, Direction::Inbound, "Volume pricing", "Wants 10% off above 200 kg a month."),
        (9, ActivityKind::Meeting, Direction::Outbound, "Tasting session", "The Ethiopian won."),
        (12, ActivityKind::Email, Direction::Outbound, "Proposal sent", ""),
    ] {
        let input = ActivityInput {
            kind,
            direction: Some(direction),
            occurred_at: Some(now - Duration::days(days)),
            subject: (!subject.is_empty()).then(|| name_of(subject)),
            body: (!body.is_empty()).then(|| long(body)),
            author_id: None,
            links: Links { person_id: Some(katherine.id), company_id: None, deal_id: Some(big.id) },
        };
        store.create_activity(&admin, input).await.expect("create an activity");
    }
    let mut tasks = Vec::new();
    for (title, due) in [
        ("Send Katherine the proposal", Some(now - Duration::days(2))),
        ("Call Dorothy back", Some(now + Duration::minutes(30))),
        ("Book the tasting room", Some(now + Duration::days(7))),
        ("Tidy up the lead list", None),
    ] {
        let input = TaskInput {
            title: name_of(title),
            notes: Some(long("Check the notes on their page first.")),
            due_at: due,
            assignee_id: Some(ada.id),
            done: false,
            links: Links { person_id: Some(katherine.id), company_id: None, deal_id: None },
        };
        tasks.push(store.create_task(&admin, input).await.expect("create a task"));
    }

    let ticket = store
        .create_ticket(&admin, TicketInput::new(katherine.id, name_of("The invoice is wrong"), TicketChannel::Web))
        .await
        .expect("create a ticket");

    // An NPS survey, answered by four customers.
    let settings = SurveySettings { public_url: Some(PublicUrl::parse(&ctx.app.base_url).unwrap()), quiet_days: 0 };
    store.set_survey_settings(&admin, settings).await.expect("survey settings");
    let survey = store.create_survey(&admin, templates()[0].clone()).await.expect("a survey");
    for (person, score, why) in [
        (&people[0], "10", "Great coffee and friendly delivery."),
        (&people[1], "9", "Fast delivery."),
        (&people[2], "4", "Late delivery again."),
        (&people[3], "7", ""),
    ] {
        let input = SendInput { person_id: person.id, subject: AnswerSubject::default(), email: false };
        let SendOutcome::Sent { link, .. } = store.send_survey(&admin, survey.id, input).await.expect("send") else {
            panic!("the survey was not sent");
        };
        let token = link.rsplit_once("/s/").expect("a personal link").1.to_owned();
        let mut given = std::collections::BTreeMap::from([("score".to_owned(), vec![score.to_owned()])]);
        if !why.is_empty() {
            given.insert("why".to_owned(), vec![why.to_owned()]);
        }
        store.answer_survey_link(&token, &given).await.expect("answer").expect("the link opens");
    }
    // A link not answered yet: the page a customer opens, signed out.
    let input = SendInput { person_id: people[4].id, subject: AnswerSubject::default(), email: false };
    let SendOutcome::Sent { link, .. } = store.send_survey(&admin, survey.id, input).await.expect("send") else {
        panic!("the survey was not sent");
    };
    let survey_link = link.strip_prefix(&ctx.app.base_url).expect("a link to this server").to_owned();
    ctx.app.insights.refresh_if_changed().await.expect("compute the insights");

    let k = katherine.id;
    let signed_out = vec![("login".to_owned(), "/login".to_owned()), ("survey-link".to_owned(), survey_link)];
    let signed_in = [
        ("home", "/".to_owned()),
        ("inbox", "/inbox".to_owned()),
        ("people", "/people".to_owned()),
        ("people-conditions", "/people?where=lifecycle_stage.ne.lead&where=email.set".to_owned()),
        ("person", format!("/people/{k}")),
        ("person-new", "/people/new".to_owned()),
        ("person-edit", format!("/people/{k}/edit")),
        ("person-history", format!("/people/{k}/history")),
        ("companies", "/companies".to_owned()),
        ("company", format!("/companies/{}", northwind.id)),
        ("deals", "/deals".to_owned()),
        ("deal", format!("/deals/{}", big.id)),
        ("board", "/board".to_owned()),
        ("sales", "/sales".to_owned()),
        ("tasks", "/tasks".to_owned()),
        ("tickets", "/tickets".to_owned()),
        ("ticket", format!("/tickets/{}", ticket.id)),
        ("feedback", "/feedback".to_owned()),
        ("surveys", "/surveys".to_owned()),
        ("style", "/style".to_owned()),
        ("insights", "/insights".to_owned()),
        ("insights-cohorts", "/insights/cohorts".to_owned()),
        ("insights-churn", "/insights/churn".to_owned()),
        ("insights-value", "/insights/value".to_owned()),
        ("insights-referrals", "/insights/referrals".to_owned()),
        ("import", "/import".to_owned()),
        ("jobs", "/jobs".to_owned()),
        ("trash", "/trash".to_owned()),
        ("duplicates", "/duplicates".to_owned()),
        ("settings", "/settings".to_owned()),
        ("settings-users", "/settings/users".to_owned()),
        ("settings-teams", "/settings/teams".to_owned()),
        ("settings-pipelines", "/settings/pipelines".to_owned()),
        ("settings-pipeline", format!("/settings/pipelines/{}", pipeline.id)),
        ("settings-fields", "/settings/fields".to_owned()),
        ("settings-tokens", "/settings/tokens".to_owned()),
        ("settings-mail", "/settings/mail".to_owned()),
        ("settings-sla", "/settings/sla".to_owned()),
        ("settings-style", "/settings/style".to_owned()),
        ("search", "/search?q=Rosa".to_owned()),
        ("company-new", "/companies/new".to_owned()),
        ("company-edit", format!("/companies/{}/edit", northwind.id)),
        ("company-history", format!("/companies/{}/history", northwind.id)),
        ("deal-new", "/deals/new".to_owned()),
        ("deal-edit", format!("/deals/{}/edit", big.id)),
        ("task-new", "/tasks/new".to_owned()),
        ("task-edit", format!("/tasks/{}/edit", tasks[0].id)),
        ("ticket-new", format!("/tickets/new?person_id={k}")),
        ("ticket-edit", format!("/tickets/{}/edit", ticket.id)),
        ("survey", format!("/surveys/{}", survey.id)),
        ("purchases", format!("/purchases?person_id={k}")),
        ("sla-report", "/reports/sla".to_owned()),
        ("style-person", format!("/style/{}", ada.id)),
        ("style-assessment", "/style/assessment".to_owned()),
        ("style-feedback", "/style/feedback".to_owned()),
        ("style-goals", "/style/goals".to_owned()),
        ("style-review", "/style/review".to_owned()),
    ]
    .into_iter()
    .map(|(name, path)| (name.to_owned(), path))
    .collect();
    (signed_out, signed_in)
}

/// Injects axe-core into the page open now, runs it, and adds each serious
/// or critical violation to `found`.
pub(super) async fn audit(ctx: &Ctx, axe: &str, page: &str, mode: &str, found: &mut Vec<String>) {
    ctx.js(&format!("if (!window.axe) {{ {axe}\n}} return typeof window.axe;")).await;
    let violations = ctx
        .js("return axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.map(v => ({ \
               id: v.id, impact: v.impact, help: v.help, count: v.nodes.length, \
               nodes: v.nodes.slice(0, 3).map(n => ({ target: n.target.join(' '), \
                 why: (n.failureSummary || '').split('\\n').slice(1, 2).join(' ').trim() })) })));")
        .await;
    let violations = violations.as_array().unwrap_or_else(|| panic!("axe did not run on {page}: {violations}"));
    for v in violations {
        let impact = v["impact"].as_str().unwrap_or("");
        if !SERIOUS.contains(&impact) {
            continue;
        }
        let nodes: Vec<String> = v["nodes"]
            .as_array()
            .map(|nodes| {
                nodes
                    .iter()
                    .map(|n| format!("{} ({})", n["target"].as_str().unwrap_or("?"), n["why"].as_str().unwrap_or("")))
                    .collect()
            })
            .unwrap_or_default();
        found.push(format!(
            "{page} {mode}: {} ({impact}, {} element(s)): {}\n    {}",
            v["id"].as_str().unwrap_or("?"),
            v["count"],
            v["help"].as_str().unwrap_or(""),
            nodes.join("\n    ")
        ));
    }
}

/// Turns the page open now dark, as `prefers-color-scheme: dark` would:
/// the stylesheets' dark media rules apply to all, their light ones to none.
/// (Done in the page, as chromedriver here has no media emulation.)
async fn go_dark(ctx: &Ctx) {
    ctx.js(
        "for (const sheet of document.styleSheets) { \
           for (const rule of sheet.cssRules) { \
             if (!(rule instanceof CSSMediaRule)) continue; \
             const m = rule.media.mediaText; \
             if (m.includes('prefers-color-scheme: dark')) rule.media.mediaText = m.replace(/\\(prefers-color-scheme: dark\\)/, 'all'); \
             else if (m.includes('prefers-color-scheme: light')) rule.media.mediaText = 'not all'; \
           } \
         } \
         document.documentElement.style.colorScheme = 'dark'; return true;",
    )
    .await;
}

/// Checks `pages` at each width (and in dark mode), adding what axe finds to `found`.
async fn check_all(ctx: &Ctx, axe: &str, pages: &Pages, found: &mut Vec<String>) {
    for (mode, size, dark_mode) in
        [("at 1440 px", WIDE, false), ("at 390 px", PHONE, false), ("at 1440 px, dark", WIDE, true)]
    {
        ctx.set_size(size).await;
        for (page, path) in pages {
            ctx.open_settled(path).await;
            let status = ctx
                .js("const nav = performance.getEntriesByType('navigation')[0]; \
                     return nav && typeof nav.responseStatus === 'number' ? nav.responseStatus : 0;")
                .await;
            let at = ctx.path().await;
            assert!(status == 200 || status == 0, "{}: {path} answered {status} (at {at})", ctx.name);
            assert!(path == "/login" || !at.starts_with("/login"), "{}: {path} led to {at}", ctx.name);
            if dark_mode {
                go_dark(ctx).await;
            }
            audit(ctx, axe, &format!("{page} ({path})"), mode, found).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_serious_axe_violation_on_any_page() {
    scenario("axe", |ctx| async move {
        let axe = axe_source();
        let (signed_out, signed_in) = fill(&ctx).await;
        let mut found = Vec::new();
        check_all(&ctx, &axe, &signed_out, &mut found).await;
        ctx.set_size(WIDE).await;
        ctx.sign_in_ok("ada@example.com").await;
        check_all(&ctx, &axe, &signed_in, &mut found).await;
        assert!(
            found.is_empty(),
            "axe-core found {} serious or critical violation(s):\n- {}",
            found.len(),
            found.join("\n- ")
        );
    })
    .await;
}
