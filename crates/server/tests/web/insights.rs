//! The insights pages, their charts, the customer page's value panel and the
//! people list's segment filter, over purchases made through the API.

use std::collections::{BTreeMap, BTreeSet};

use rapport_domain::records::Person;
use rapport_domain::{Currency, Money, PersonId, Segment};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::common::{Backend, Resp, TestApp, WebClient, create_person, create_person_with, create_purchase, rfc3339};

backend_tests!(
    insights_pages_show_the_reports,
    charts_are_svg_images,
    segments_filter_the_people_list,
    the_customer_page_shows_value_and_loyalty,
    hostile_insights_queries_are_400_pages,
    an_empty_database_says_what_to_do,
    chart_marks_lead_to_exactly_the_customers_behind_them,
    churn_and_value_pages_explain_and_highlight
);

/// Customers with purchases spread over two years: person `i` bought
/// `i % 6 + 1` times, every `30 * (i % 5 + 1)` days, the last time `i * 23`
/// days ago; the first five referred by the referrer, the last one also in USD.
struct Shop {
    referrer: Person,
    people: Vec<Person>,
    /// Every purchase in EUR, minor units, by person.
    eur: BTreeMap<PersonId, i64>,
    /// When each person bought in EUR.
    bought: BTreeMap<PersonId, Vec<OffsetDateTime>>,
}

async fn shop(app: &TestApp, customers: usize) -> Shop {
    let api = &app.admin;
    let now = OffsetDateTime::now_utc();
    let referrer = create_person_with(api, json!({ "first_name": "Rita", "last_name": "Referrer" })).await;
    let mut people = Vec::new();
    let mut eur = BTreeMap::new();
    let mut bought: BTreeMap<PersonId, Vec<OffsetDateTime>> = BTreeMap::new();
    for i in 0..customers {
        let mut body = json!({
            "first_name": format!("Customer{i:02}"),
            "last_name": "Shopper",
            "source": if i % 2 == 0 { "web" } else { "event" },
        });
        if i < 5 {
            body["referred_by_id"] = json!(referrer.id);
        }
        let person = create_person_with(api, body).await;
        let count = i % 6 + 1;
        let gap = 30 * (i as i64 % 5 + 1);
        let last = i as i64 * 23 + 1;
        for k in 0..count {
            let at = now - Duration::days(last + gap * k as i64);
            let amount = 1_000 + 250 * i as i64 + 100 * k as i64;
            create_purchase(
                api,
                person.id,
                &rfc3339(at),
                json!({ "amount": { "amount_minor": amount, "currency": "EUR" } }),
            )
            .await;
            *eur.entry(person.id).or_insert(0) += amount;
            bought.entry(person.id).or_default().push(at);
        }
        people.push(person);
    }
    if let Some(last) = people.last() {
        let at = rfc3339(now - Duration::days(3));
        create_purchase(api, last.id, &at, json!({ "amount": { "amount_minor": 4_200, "currency": "USD" } })).await;
    }
    app.insights.refresh_if_changed().await.expect("compute the insights");
    Shop { referrer, people, eur, bought }
}

/// An amount as the pages write it for a reader who names no language (English).
fn eur(minor: i64) -> String {
    format!("€{}", Money::new(minor, Currency::parse("EUR").unwrap()).major_text())
}

/// The page's text with the entities askama writes turned back into characters.
fn text(resp: &Resp) -> String {
    crate::common::unescape(&resp.text).replace("&amp;", "&").replace("&#38;", "&")
}

#[track_caller]
fn has(resp: &Resp, needle: &str) {
    assert!(text(resp).contains(needle), "{}: no {needle:?} in:\n{}", resp.what, resp.text);
}

/// Every person id the page links to (`/people/{uuid}`), in order, once each.
fn people_linked(html: &str) -> BTreeSet<PersonId> {
    html.match_indices("/people/")
        .filter_map(|(at, _)| html.get(at + 8..at + 8 + 36))
        .filter_map(|id| id.parse().ok())
        .collect()
}

async fn insights_pages_show_the_reports(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 30).await;
    let web = app.web_admin().await;

    // Segments: the customers and value, each segment with its people's count.
    let page = web.get("/insights").await.want(200);
    has(&page, "<h1>Insights</h1>");
    has(&page, "RFM segments");
    has(&page, &format!("<b>{}</b>", shop.people.len()));
    has(&page, &format!("<b>{}</b>", eur(shop.eur.values().sum())));
    has(&page, "in 1 other currency (USD)");
    has(&page, "As of ");
    has(&page, "computed at");
    let mut by_segment: BTreeMap<Segment, usize> = BTreeMap::new();
    for person in &shop.people {
        let insight = app.store.customer_insight(person.id).await.unwrap().expect("a customer's insight");
        *by_segment.entry(insight.segment).or_default() += 1;
    }
    for segment in Segment::ALL {
        let count = by_segment.get(&segment).copied().unwrap_or(0);
        has(
            &page,
            &format!(
                "<td><a href=\"/people?segment={}\">{}</a></td><td class=\"num\">{count}</td>",
                segment.as_str(),
                segment.label()
            ),
        );
    }
    has(&page, "<svg class=\"chart-svg\"");
    assert!(!page.text.contains("style="), "inline styles break the CSP");

    // Cohorts: one row per month of first purchases.
    let page = web.get("/insights/cohorts").await.want(200);
    has(&page, "<h1>Cohorts</h1>");
    has(&page, "Retention by cohort");
    has(&page, &format!("<b>{}</b>", shop.people.len()));
    has(&page, "<td class=\"num\">100.0%</td>");
    has(&page, "class=\"chart-scroll chart-wide\" role=\"region\" tabindex=\"0\"");

    // Churn: the default definition, then another one and another grouping.
    let page = web.get("/insights/churn").await.want(200);
    has(&page, "<h1>Churn</h1>");
    has(&page, "Churned means no purchase for 180 days");
    has(&page, "Survival by source");
    has(&page, "<td>web</td>");
    has(&page, "Monthly churn rate (churn = no purchase for 180 days)");
    let page = web.get("/insights/churn?days=90&group_by=segment").await.want(200);
    has(&page, "Churned means no purchase for 90 days");
    has(&page, "Survival by segment");
    has(&page, "value=\"90\"");
    has(&page, "Monthly churn rate (churn = no purchase for 90 days)");
    has(&page, "Customer survival by segment");
    let page = web.get("/insights/churn?definition=lifecycle&days=").await.want(200);
    has(&page, "Churned means lifecycle stage “churned”");
    has(&page, "Monthly churn rate (churn = lifecycle stage churned)");

    // Lifetime value: the models, the top customers linked, the check.
    let page = web.get("/insights/value").await.want(200);
    has(&page, "<h1>Lifetime value</h1>");
    has(&page, "Highest expected lifetime value");
    has(&page, "BG/NBD");
    has(&page, "Log-likelihood");
    has(&page, "next 12 months");
    let top = people_linked(&page.text);
    assert!(!top.is_empty(), "no top customers linked: {}", page.text);
    assert!(top.iter().all(|id| shop.people.iter().any(|p| p.id == *id)), "a top customer is not a customer");

    // Referrals: five of thirty referred, by Rita.
    let page = web.get("/insights/referrals").await.want(200);
    has(&page, "<h1>Referrals</h1>");
    has(&page, "Top referrers");
    has(&page, &format!("<a href=\"/people/{}\">Rita Referrer</a>", shop.referrer.id));
    has(&page, "<td>Referred by someone</td><td class=\"num\">5</td>");
    has(&page, "<td>Everyone else</td><td class=\"num\">25</td>");
    has(&page, &format!("{:.1}%", 5.0 / 30.0 * 100.0));
    let referred: i64 = shop.people[..5].iter().map(|p| shop.eur[&p.id]).sum();
    has(&page, &eur(referred));

    // The nav links to the section, marked current.
    has(&page, "<a href=\"/insights\" aria-current=\"page\">Insights</a>");
}

#[track_caller]
fn is_svg(resp: &Resp) {
    assert_eq!(resp.status, 200, "{}: {}", resp.what, resp.text);
    assert_eq!(resp.header("content-type").as_deref(), Some("image/svg+xml"), "{}", resp.what);
    assert!(resp.text.contains("<svg"), "{}: not an SVG: {}", resp.what, resp.text);
    let cache = resp.header("cache-control").unwrap_or_default();
    assert!(cache.contains("no-cache") || resp.header("etag").is_some(), "{}: cached for good", resp.what);
}

async fn charts_are_svg_images(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 30).await;
    let web = app.web_admin().await;
    for name in ["rfm_segments", "retention", "churn_rate", "survival", "holdout"] {
        let chart = web.get(&format!("/insights/charts/{name}.svg")).await;
        is_svg(&chart);
        // The snapshot's charts carry its version: a second look costs nothing.
        let etag = chart.header("etag").unwrap_or_else(|| panic!("{}: no ETag", chart.what));
        let again = web
            .send(
                web.request(reqwest::Method::GET, &format!("/insights/charts/{name}.svg"))
                    .header("if-none-match", etag),
            )
            .await;
        assert_eq!(again.status, 304, "{}", again.what);
    }
    for query in ["?group_by=segment", "?days=60", "?days=60&group_by=segment", "?definition=lifecycle"] {
        is_svg(&web.get(&format!("/insights/charts/churn_rate.svg{query}")).await);
        is_svg(&web.get(&format!("/insights/charts/survival.svg{query}")).await);
    }
    let person = &shop.people[3];
    let chart = web.get(&format!("/people/{}/purchases.svg", person.id)).await;
    is_svg(&chart);
    assert!(chart.text.contains("Customer03 Shopper"), "the chart is not titled with the name");
    // Charts are for signed-in staff only.
    let anonymous = app.web("anonymous").get("/insights/charts/rfm_segments.svg").await;
    assert_eq!(anonymous.status, 303, "{}", anonymous.what);
    let anonymous = app.web("anonymous").get(&format!("/people/{}/purchases.svg", person.id)).await;
    assert_eq!(anonymous.status, 303, "{}", anonymous.what);
    web.get("/insights/charts/nope.svg").await.want(404);
    web.get("/insights/charts/rfm_segments.png").await.want(404);
    web.get(&format!("/people/{}/purchases.svg", crate::common::unknown_id())).await.want(404);
}

async fn segments_filter_the_people_list(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 30).await;
    // Someone without purchases is in no segment.
    let bystander = create_person(&app.admin, "Bystander").await;
    app.insights.refresh_if_changed().await.unwrap();
    let web = app.web_admin().await;
    let mut expected: BTreeMap<Segment, BTreeSet<PersonId>> = BTreeMap::new();
    for person in &shop.people {
        let insight = app.store.customer_insight(person.id).await.unwrap().expect("a customer's insight");
        expected.entry(insight.segment).or_default().insert(person.id);
    }
    assert!(app.store.customer_insight(bystander.id).await.unwrap().is_none());
    assert!(expected.len() >= 3, "the shop should spread over segments: {expected:?}");
    for segment in Segment::ALL {
        let page = web.get(&format!("/people?segment={}&limit=200", segment.as_str())).await.want(200);
        let listed = people_linked(&page.text);
        let want = expected.remove(&segment).unwrap_or_default();
        assert_eq!(listed, want, "{}: the wrong people", page.what);
        // The filter shows as chosen.
        has(&page, &format!("<option value=\"{}\" selected>{}</option>", segment.as_str(), segment.label()));
    }
    // The unfiltered list has a segment filter.
    let page = web.get("/people").await.want(200);
    has(&page, "name=\"segment\"");
    // Segments combine with the other filters.
    let page = web.get("/people?segment=champions&lifecycle_stage=churned").await.want(200);
    assert!(people_linked(&page.text).is_empty(), "{}", page.text);
}

async fn value_panel(web: &WebClient, person: &Person) -> String {
    let page = web.get(&format!("/people/{}", person.id)).await.want(200);
    let html = text(&page);
    let start = html.find("Value and loyalty").unwrap_or_else(|| panic!("{}: no value panel: {html}", page.what));
    let end = html[start..].find("</section>").map_or(html.len(), |e| start + e);
    html[start..end].to_owned()
}

async fn the_customer_page_shows_value_and_loyalty(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 12).await;
    let web = app.web_admin().await;
    let person = &shop.people[5];
    let insight = app.store.customer_insight(person.id).await.unwrap().expect("an insight");
    let panel = value_panel(&web, person).await;
    for want in [
        format!("href=\"/people?segment={}\"", insight.segment.as_str()),
        insight.segment.label().to_owned(),
        format!("R{} F{} M{}", insight.r_score, insight.f_score, insight.m_score),
        "next 12 months".to_owned(),
        format!("{} purchases, {} in all", insight.frequency, eur(shop.eur[&person.id])),
        insight.last_purchase.to_string(),
        "<div class=\"chart-scroll chart-card\" role=\"region\" tabindex=\"0\"".to_owned(),
        "<svg class=\"chart-svg\"".to_owned(),
        format!("<a href=\"/people/{}/purchases.svg\">Full size</a>", person.id),
    ] {
        assert!(panel.contains(&want), "no {want:?} in the panel: {panel}");
    }
    assert!(!panel.contains("<img"), "the chart is inline, not an image: {panel}");

    // Each day on the chart says its purchases and lists exactly them.
    let marks = chart_marks(&panel);
    let mut days: Vec<String> = shop.bought[&person.id].iter().map(|at| at.date().to_string()).collect();
    days.sort();
    days.dedup();
    assert_eq!(marks.len(), days.len(), "a mark per day: {marks:?}");
    for ((href, title), day) in marks.iter().zip(&days) {
        let href = href.as_deref().unwrap_or_else(|| panic!("{title}: no link"));
        assert!(title.starts_with(&format!("{day}: ")), "{title} is not {day}");
        let said = title[day.len() + 2..].split(',').next().unwrap();
        let list = web.get(&format!("{href}&count=true")).await.want(200);
        let count = list.text.split("<p class=\"list-count\">").nth(1).unwrap();
        assert_eq!(&count[..count.find('<').unwrap()], said, "{href}");
        assert!(list.text.contains(&person.fields.full_name()), "{href}: not their purchases");
    }

    // Purchases in another currency are left off the chart, and it says so.
    let mixed = shop.people.last().unwrap();
    let panel = value_panel(&web, mixed).await;
    assert!(panel.contains("Purchases in other currencies are not drawn."), "{panel}");
    assert_eq!(chart_marks(&panel).len(), shop.bought[&mixed.id].len(), "EUR days only");
    if let Some(alive) = insight.probability_alive {
        let shown = format!("{:.1}%", alive * 100.0);
        assert!(panel.contains(&shown), "no {shown:?} in the panel: {panel}");
    }
    if let Some(value) = insight.expected_value {
        let shown = eur(value.amount_minor);
        assert!(panel.contains(&shown), "no {shown:?} in the panel: {panel}");
    }

    // Someone who never bought.
    let newcomer = create_person(&app.admin, "Newcomer").await;
    let panel = value_panel(&web, &newcomer).await;
    assert!(panel.contains("No purchases yet."), "{panel}");
    assert!(!panel.contains("purchases.svg"), "{panel}");

    // A first purchase shows before the next insights run says anything about it.
    let at = rfc3339(OffsetDateTime::now_utc() - Duration::days(1));
    create_purchase(&app.admin, newcomer.id, &at, json!({})).await;
    let panel = value_panel(&web, &newcomer).await;
    assert!(
        panel.contains("Computed after the next insights run.") || panel.contains("href=\"/people?segment="),
        "neither pending nor computed: {panel}"
    );
    app.insights.refresh_if_changed().await.unwrap();
    let panel = value_panel(&web, &newcomer).await;
    assert!(panel.contains("href=\"/people?segment="), "{panel}");
}

#[track_caller]
fn is_400_naming(resp: &Resp, field: &str) {
    assert_eq!(resp.status, 400, "{}: {}", resp.what, resp.text);
    assert!(resp.header("content-type").unwrap_or_default().starts_with("text/html"), "{}", resp.what);
    assert!(resp.text.contains(field), "{}: the page does not name {field:?}: {}", resp.what, resp.text);
}

async fn hostile_insights_queries_are_400_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shop(&app, 8).await;
    let web = app.web_admin().await;
    for (path, field) in [
        ("/insights/churn?days=0", "days"),
        ("/insights/churn?days=abc", "days"),
        ("/insights/churn?days=-5", "days"),
        ("/insights/churn?days=3651", "days"),
        ("/insights/churn?days=99999999999999999999", "days"),
        ("/insights/churn?days=1.5", "days"),
        ("/insights/churn?group_by=nope", "group_by"),
        ("/insights/churn?group_by=%00", "group_by"),
        ("/insights/churn?definition=sometimes", "definition"),
        ("/insights/charts/churn_rate.svg?days=0", "days"),
        ("/insights/charts/survival.svg?group_by=nope", "group_by"),
        ("/people?segment=nope", "segment"),
        ("/people?segment=Champions%00", "segment"),
    ] {
        is_400_naming(&web.get(path).await, field);
    }
    // Unknown parameters are ignored; the odd-but-valid work.
    web.get("/insights/churn?days=%20120%20&whatever=1").await.want(200);
    web.get("/insights?segment=nope").await.want(200);
}

async fn an_empty_database_says_what_to_do(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = create_person(&app.admin, "Lonely").await;
    app.insights.refresh_if_changed().await.unwrap();
    let web = app.web_admin().await;
    for path in ["/insights", "/insights/cohorts", "/insights/churn", "/insights/value", "/insights/referrals"] {
        let page = web.get(path).await.want(200);
        has(&page, "No purchases yet.");
        has(&page, "rapport demo");
        has(&page, "As of ");
        assert!(!page.text.contains("/insights/charts/"), "{}: a chart with no data", page.what);
    }
    web.get("/insights/charts/rfm_segments.svg").await.want(404);
    let panel = value_panel(&web, &person).await;
    assert!(panel.contains("No purchases yet."), "{panel}");
    // The people list still filters, to nobody.
    let page = web.get("/people?segment=champions").await.want(200);
    assert!(people_linked(&page.text).is_empty(), "{}", page.text);
}

/// The marks of the page's charts as (href, title), in order.
fn chart_marks(html: &str) -> Vec<(Option<String>, String)> {
    html.split("class=\"chart-mark\"")
        .skip(1)
        .map(|m| {
            let href = m.strip_prefix(" href=\"").map(|h| h[..h.find('"').unwrap()].replace("&amp;", "&"));
            let title = crate::common::unescape(&m[m.find("<title>").unwrap() + 7..m.find("</title>").unwrap()]);
            (href, title.replace("&amp;", "&"))
        })
        .collect()
}

/// `YYYY-MM` of a moment, in UTC.
fn month_of(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}", at.year(), u8::from(at.month()))
}

async fn chart_marks_lead_to_exactly_the_customers_behind_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 30).await;
    let web = app.web_admin().await;

    // Segments: each bar's mark names its count and lists exactly its customers.
    let page = web.get("/insights").await.want(200);
    assert!(!page.text.contains("<img src=\"/insights/charts"), "the chart is inline, not an image");
    let marks = chart_marks(&page.text);
    let mut by_segment: BTreeMap<Segment, BTreeSet<PersonId>> = BTreeMap::new();
    for person in &shop.people {
        let insight = app.store.customer_insight(person.id).await.unwrap().expect("an insight");
        by_segment.entry(insight.segment).or_default().insert(person.id);
    }
    for (segment, members) in &by_segment {
        let href = format!("/people?segment={}", segment.as_str());
        let title = format!("{}: {} customers (", segment.label(), members.len());
        assert!(
            marks.iter().any(|(h, t)| h.as_deref() == Some(href.as_str()) && t.starts_with(&title)),
            "no mark {href} {title:?} among {marks:?}"
        );
        let listed = people_linked(&web.get(&format!("{href}&limit=200")).await.want(200).text);
        assert_eq!(&listed, members, "{href}");
    }

    // Cohorts: a row's label lists the customers who first bought that month,
    // a cell those of them who bought again in its month.
    let page = web.get("/insights/cohorts").await.want(200);
    let marks = chart_marks(&page.text);
    let mut cohorts: BTreeMap<String, BTreeSet<PersonId>> = BTreeMap::new();
    for (person, times) in &shop.bought {
        cohorts.entry(month_of(*times.iter().min().unwrap())).or_default().insert(*person);
    }
    assert!(cohorts.len() >= 5, "the shop spreads over months: {cohorts:?}");
    let mut cells_checked = 0;
    for (month, members) in &cohorts {
        let href = format!("/people?first_purchase_month={month}");
        let title = format!("Cohort {month}: {} customers", members.len());
        assert!(marks.iter().any(|(h, t)| h.as_deref() == Some(href.as_str()) && *t == title), "no {title:?}");
        let page = web.get(&format!("{href}&limit=200")).await.want(200);
        assert_eq!(&people_linked(&page.text), members, "{href}");
        // Every cell of the row whose customers bought again.
        for (cell_href, cell_title) in marks.iter().filter_map(|(h, t)| Some((h.as_deref()?, t))) {
            let Some(purchased) = cell_href.strip_prefix(&format!("{href}&purchased_in=")) else { continue };
            let want: BTreeSet<PersonId> = members
                .iter()
                .filter(|p| shop.bought[p].iter().any(|at| month_of(*at) == purchased))
                .copied()
                .collect();
            let page = web.get(&format!("{cell_href}&limit=200")).await.want(200);
            assert_eq!(people_linked(&page.text), want, "{cell_href}");
            assert!(
                cell_title.ends_with(&format!("bought ({} of {})", want.len(), members.len())),
                "{cell_title:?} does not count {} of {}",
                want.len(),
                members.len()
            );
            cells_checked += 1;
        }
    }
    assert!(cells_checked > cohorts.len(), "only {cells_checked} cells");

    // The API takes the same filters, and names a bad month.
    let month = cohorts.keys().next().unwrap();
    let listed =
        app.admin.get(&format!("/api/v1/people?first_purchase_month={month}&limit=100")).await.want(200).value();
    let ids: BTreeSet<String> =
        listed["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, cohorts[month].iter().map(|p| p.to_string()).collect::<BTreeSet<_>>());
    for bad in ["2025-13", "2025-3", "march"] {
        let resp = app.admin.get(&format!("/api/v1/people?first_purchase_month={bad}")).await;
        assert_eq!(resp.status, 422, "{bad}: {}", resp.text);
        assert!(resp.text.contains("first_purchase_month"), "{}", resp.text);
    }
    is_400_naming(&web.get("/people?purchased_in=2025-00").await, "purchased_in");
}

async fn churn_and_value_pages_explain_and_highlight(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shop(&app, 30).await;
    let web = app.web_admin().await;

    // Churn: each month's point says its rate; one survival curve at a time.
    let page = web.get("/insights/churn").await.want(200);
    let marks = chart_marks(&page.text);
    assert!(marks.iter().any(|(h, t)| h.is_none() && t.contains("% churned (")), "{marks:?}");
    assert!(marks.iter().any(|(_, t)| t.starts_with("All customers, day ")), "{marks:?}");
    has(&page, "<a class=\"badge\" href=\"/insights/churn#survival-heading\" aria-current=\"true\">All customers</a>");
    has(&page, "href=\"/insights/churn?curve=1#survival-heading\">event</a>");
    let page = web.get("/insights/churn?curve=1").await.want(200);
    let marks = chart_marks(&page.text);
    assert!(marks.iter().any(|(_, t)| t.starts_with("event, day ")), "{marks:?}");
    assert!(!marks.iter().any(|(_, t)| t.starts_with("All customers, day ")));
    has(&page, "aria-current=\"true\">event</a>");
    let page = web.get("/insights/churn?group_by=segment&curve=1").await.want(200);
    has(&page, "href=\"/insights/churn?group_by=segment#survival-heading\">All customers</a>");
    is_400_naming(&web.get("/insights/churn?curve=99").await, "curve");
    is_400_naming(&web.get("/insights/churn?curve=x").await, "curve");
    is_svg(&web.get("/insights/charts/survival.svg?curve=1").await);

    // Lifetime value: the parameters in plain words, counts rounded with "about".
    let page = web.get("/insights/value").await.want(200);
    has(&page, "What these figures mean");
    has(&page, "α is how spread out customers' buying rates are");
    has(&page, "Log-likelihood</dt>");
    let html = text(&page);
    let alive = &html[html.find("Customers likely still buying</span><b>").unwrap()..];
    assert!(alive.contains("<b>about "), "{}", &alive[..80]);
    assert!(!html.contains("still buying</span><b>about 9."), "a count with decimals");
    // No white boxes: the charts leave their background to the page.
    for path in ["/insights", "/insights/cohorts", "/insights/churn", "/insights/value"] {
        let page = web.get(path).await.want(200);
        assert!(!page.text.contains("NaN"), "{path}");
        assert!(!page.text.contains("style="), "{path}: inline styles break the CSP");
        assert!(!page.text.contains("fill=\"#FFFFFF\" stroke=\"none\"/>\n<text"), "{path}: a white background box");
    }
}
