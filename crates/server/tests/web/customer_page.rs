//! The customer page: the timeline filtered by kind and paged with "Load
//! more", the purchases summary and the purchases list of one customer, the
//! company timeline naming each entry's person, and custom numbers formatted.

use std::collections::BTreeSet;

use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::common::{
    Backend, Resp, TestApp, WebClient, create_activity, create_company, create_person, create_person_with,
    create_purchase, create_sales_pipeline, create_task, rfc3339, unescape,
};

backend_tests!(
    the_timeline_filters_by_kind,
    load_more_pages_through_the_timeline,
    bad_timeline_queries_are_400,
    the_value_panel_sums_up_purchases,
    the_purchases_list_narrows_to_one_customer,
    the_company_timeline_names_each_person,
    log_a_call_opens_the_composer_on_call
);

/// Each entry's kind (the class of its dot), in page order.
fn dots(html: &str) -> Vec<String> {
    html.split("<span class=\"dot ").skip(1).map(|rest| rest.split('"').next().unwrap_or_default().to_owned()).collect()
}

/// The "Load more" fragment link, when the page has one.
fn more_link(html: &str) -> Option<String> {
    let at = html.find("class=\"timeline-more\"")?;
    let rest = &html[at..];
    let start = rest.find("hx-get=\"")? + "hx-get=\"".len();
    let end = rest[start..].find('"')?;
    Some(unescape(&rest[start..start + end]).replace("&amp;", "&"))
}

/// The texts in `<strong>` of each entry's head, in page order.
fn titles(html: &str) -> Vec<String> {
    let list = html.find("<ol class=\"timeline\"").map_or(html, |at| &html[at..]);
    list.split("<div class=\"entry-head\">")
        .skip(1)
        .filter_map(|entry| {
            let start = entry.find("<strong>")? + "<strong>".len();
            let end = entry[start..].find("</strong>")?;
            Some(unescape(&entry[start..start + end]))
        })
        .collect()
}

#[track_caller]
fn has(resp: &Resp, needle: &str) {
    let text = unescape(&resp.text).replace("&amp;", "&");
    assert!(text.contains(needle), "{}: no {needle:?} in:\n{}", resp.what, resp.text);
}

async fn the_timeline_filters_by_kind(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = create_person(&app.admin, "Ana").await;
    let now = OffsetDateTime::now_utc();
    let at = |days: i64| rfc3339(now - Duration::days(days));
    for (kind, subject, days) in [("note", "A note", 1), ("call", "A call", 2), ("email", "An email", 3)] {
        create_activity(
            &app.admin,
            json!({ "kind": kind, "subject": subject, "person_id": ana.id, "occurred_at": at(days) }),
        )
        .await;
    }
    create_task(&app.admin, json!({ "title": "Send the contract", "person_id": ana.id })).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    crate::common::create_deal(&app.admin, &pipeline, "Renewal", json!({ "person_id": ana.id })).await;
    for days in [4, 5] {
        create_purchase(&app.admin, ana.id, &at(days), json!({ "description": format!("Order {days}") })).await;
    }
    let ticket: serde_json::Value =
        app.admin.create("tickets", json!({ "requester_id": ana.id, "subject": "Broken lid" })).await;
    assert!(ticket["id"].is_string());

    let web = app.web_admin().await;
    let page = web.get(&format!("/people/{}", ana.id)).await.want(200);
    let all: BTreeSet<String> = dots(&page.text).into_iter().collect();
    for kind in ["note", "call", "email", "task", "deal", "purchase", "ticket"] {
        assert!(all.contains(kind), "no {kind} entry on the whole timeline: {all:?}");
    }
    // Every filter is a link (without JavaScript) and an htmx request.
    for kind in ["conversations", "purchases", "deals", "tasks", "tickets", "feedback"] {
        has(&page, &format!("href=\"/people/{}?kind={kind}#timeline\"", ana.id));
        has(&page, &format!("hx-get=\"/people/{}/timeline?kind={kind}\"", ana.id));
    }

    let expect: [(&str, &[&str]); 6] = [
        ("conversations", &["call", "email", "note"]),
        ("purchases", &["purchase"]),
        ("deals", &["deal"]),
        ("tasks", &["task"]),
        ("tickets", &["ticket"]),
        ("feedback", &[]),
    ];
    for (kind, want) in expect {
        // The page without JavaScript.
        let page = web.get(&format!("/people/{}?kind={kind}", ana.id)).await.want(200);
        let shown: BTreeSet<String> = dots(&page.text).into_iter().collect();
        let want: BTreeSet<String> = want.iter().map(|k| k.to_string()).collect();
        if kind == "tickets" {
            // A ticket, and the messages in it.
            assert!(shown.contains("ticket"), "{}: no ticket", page.what);
            assert!(shown.iter().all(|k| ["ticket", "message", "reply", "note"].contains(&k.as_str())), "{shown:?}");
        } else {
            assert_eq!(shown, want, "{}: the wrong kinds", page.what);
        }
        has(&page, &format!("href=\"/people/{}?kind={kind}#timeline\" hx-get", ana.id));
        assert!(page.text.contains("aria-current=\"true\" class=\"current\">"), "no current filter");
        // The fragment htmx swaps in: the timeline alone, with the same entries.
        let fragment = web.htmx_get(&format!("/people/{}/timeline?kind={kind}", ana.id)).await.want(200);
        assert!(!fragment.text.contains("<html"), "htmx got a whole page");
        assert!(fragment.text.contains("id=\"timeline\""), "not the timeline: {}", fragment.text);
        assert_eq!(dots(&fragment.text).into_iter().collect::<BTreeSet<_>>(), shown, "{}", fragment.what);
        if want.is_empty() {
            has(&fragment, "No feedback here.");
        }
    }
    let purchases = web.get(&format!("/people/{}?kind=purchases", ana.id)).await.want(200);
    assert_eq!(titles(&purchases.text).len(), 2, "{}", purchases.text);
    // Without htmx, the fragment's address leads to the page showing the same.
    let plain = web.get(&format!("/people/{}/timeline?kind=deals", ana.id)).await.want(303);
    assert_eq!(plain.header("location"), Some(format!("/people/{}?kind=deals#timeline", ana.id)));
    // "all" is every kind.
    let every = web.htmx_get(&format!("/people/{}/timeline?kind=all", ana.id)).await.want(200);
    assert_eq!(dots(&every.text).len(), dots(&page.text).len());
}

async fn load_more_pages_through_the_timeline(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = create_person(&app.admin, "Ana").await;
    let base = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - Duration::days(1);
    // 40 purchases, three at a time at the same second (pages break between
    // entries of one second too), and 20 notes between them.
    for i in 0..40_i64 {
        let at = rfc3339(base - Duration::hours(i / 3));
        // Each its own amount, so each entry's title tells it apart.
        let amount = json!({ "amount_minor": 1000 + i, "currency": "EUR" });
        create_purchase(&app.admin, ana.id, &at, json!({ "amount": amount })).await;
    }
    for i in 0..20_i64 {
        let at = rfc3339(base - Duration::hours(i) - Duration::minutes(30));
        create_activity(
            &app.admin,
            json!({ "kind": "note", "subject": format!("Note {i}"), "person_id": ana.id, "occurred_at": at }),
        )
        .await;
    }
    let web = app.web_admin().await;

    // Every kind: 25, 25, 10.
    let (seen, pages) = walk(&web, &format!("/people/{}", ana.id)).await;
    assert_eq!(pages, vec![25, 25, 10], "page sizes");
    assert_eq!(seen.len(), 60, "entries: {seen:?}");
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 60, "an entry came twice: {seen:?}");
    // Newest first across the pages: what the store says, in its order.
    let store: Vec<String> = app
        .store
        .person_timeline(&app.admin_actor(), ana.id)
        .await
        .unwrap()
        .iter()
        .map(|entry| match entry {
            rapport_domain::timeline::TimelineEntry::Purchase(p) => {
                // As the page writes it for a reader who names no language.
                format!("€{}", p.fields.amount.major_text())
            }
            rapport_domain::timeline::TimelineEntry::Activity(a) => a.fields.subject.as_ref().unwrap().to_string(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(seen, store, "the pages do not follow the timeline's order");

    // One kind: the purchases alone, 25 then 15, the older ones on the second page.
    let (seen, pages) = walk(&web, &format!("/people/{}?kind=purchases", ana.id)).await;
    assert_eq!(pages, vec![25, 15]);
    assert!(seen.iter().all(|title| title.starts_with('€')), "not only purchases: {seen:?}");

    // Without JavaScript, "Load more" is a link to the page showing the older entries.
    let page = web.get(&format!("/people/{}?kind=conversations", ana.id)).await.want(200);
    assert_eq!(titles(&page.text).len(), 20);
    assert!(more_link(&page.text).is_none(), "20 notes fit one page");
    let page = web.get(&format!("/people/{}", ana.id)).await.want(200);
    let href = page.text.split("class=\"timeline-more\"").nth(1).and_then(|rest| {
        let start = rest.find("href=\"")? + 6;
        Some(unescape(&rest[start..start + rest[start..].find('"')?]).replace("&amp;", "&"))
    });
    let href = href.expect("a Load more link");
    assert!(href.starts_with(&format!("/people/{}?kind=all&before=", ana.id)), "{href}");
    let older = web.get(&href).await.want(200);
    assert_eq!(titles(&older.text).len(), 25, "{}", older.what);
    has(&older, "← Newest entries");
}

/// Follows "Load more" from `path` as htmx does: the titles of every entry in
/// order, and each page's size.
async fn walk(web: &WebClient, path: &str) -> (Vec<String>, Vec<usize>) {
    let first = web.get(path).await.want(200);
    let mut seen = titles(&first.text);
    let mut pages = vec![seen.len()];
    let mut next = more_link(&first.text);
    while let Some(href) = next {
        let more = web.htmx_get(&href).await.want(200);
        assert!(!more.text.contains("id=\"timeline\""), "more entries came as the whole timeline");
        assert!(more.text.trim_start().starts_with("<li"), "not list items: {}", more.text);
        let titles = titles(&more.text);
        assert!(!titles.is_empty(), "an empty page after Load more");
        pages.push(titles.len());
        seen.extend(titles);
        next = more_link(&more.text);
        assert!(pages.len() < 10, "Load more does not end");
    }
    (seen, pages)
}

async fn bad_timeline_queries_are_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = create_person(&app.admin, "Ana").await;
    let company = create_company(&app.admin, "Acme").await;
    let web = app.web_admin().await;
    for (query, says) in [
        ("kind=cats", "must be all or one of conversations, purchases"),
        ("before=yesterday", "is not a place in this timeline"),
        ("before=12.zzz", "is not a place in this timeline"),
        ("kind=deals&before=99999999999999.0193", "is not a place in this timeline"),
    ] {
        for path in [
            format!("/people/{}?{query}", ana.id),
            format!("/people/{}/timeline?{query}", ana.id),
            format!("/companies/{}?{query}", company.id),
        ] {
            let resp = web.get(&path).await.want(400);
            has(&resp, says);
            let resp = web.htmx_get(&path).await;
            assert_eq!(resp.status, 400, "{}", resp.what);
        }
    }
    // A place from another timeline is no error: it just has nothing before it.
    let resp = web
        .htmx_get(&format!("/people/{}/timeline?kind=all&before=1000000000.0193a000000070008000000000000001", ana.id))
        .await
        .want(200);
    assert!(dots(&resp.text).is_empty());
    // Someone who does not exist.
    web.htmx_get(&format!("/people/{}/timeline", crate::common::unknown_id())).await.want(404);
}

async fn the_value_panel_sums_up_purchases(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = create_person(&app.admin, "Ana").await;
    let web = app.web_admin().await;
    let page = web.get(&format!("/people/{}", ana.id)).await.want(200);
    assert!(!page.text.contains("/purchases?person_id="), "a link to no purchases");

    // One purchase: singular.
    let day = OffsetDateTime::now_utc() - Duration::days(3);
    create_purchase(&app.admin, ana.id, &rfc3339(day), json!({})).await;
    let page = web.get(&format!("/people/{}", ana.id)).await.want(200);
    has(&page, "1 purchase, €25.00 in all");
    assert!(!page.text.contains("1 purchases"), "{}", page.text);
    has(&page, &format!("Last purchase <time datetime=\"{}\"", day.date()));
    has(&page, "3 days ago");
    has(&page, &format!("<a href=\"/purchases?person_id={}\">All 1 purchase →</a>", ana.id));

    // Twelve, the latest yesterday, one of them €1,500.00: summed, and the latest five listed.
    let latest = OffsetDateTime::now_utc() - Duration::days(1);
    for i in 0..10 {
        create_purchase(&app.admin, ana.id, &rfc3339(latest - Duration::hours(i + 1)), json!({})).await;
    }
    create_purchase(
        &app.admin,
        ana.id,
        &rfc3339(latest),
        json!({ "amount": { "amount_minor": 150_000, "currency": "EUR" }, "description": "Big order" }),
    )
    .await;
    let page = web.get(&format!("/people/{}", ana.id)).await.want(200);
    has(&page, "12 purchases, €1,775.00 in all");
    has(&page, &format!("Last purchase <time datetime=\"{}\"", latest.date()));
    has(&page, "All 12 purchases →");
    let panel = &page.text[page.text.find("id=\"purchases-heading\"").expect("a purchases panel")..];
    let panel = &panel[..panel.find("</section>").unwrap()];
    assert_eq!(panel.matches("<li>").count(), 5, "the latest five: {panel}");
    assert!(panel.contains("Big order"), "{panel}");
}

async fn the_purchases_list_narrows_to_one_customer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = create_person(&app.admin, "Ana").await;
    let bruno = create_person(&app.admin, "Bruno").await;
    let at = rfc3339(OffsetDateTime::now_utc() - Duration::days(2));
    for i in 0..3 {
        create_purchase(&app.admin, ana.id, &at, json!({ "description": format!("Ana's order {i}") })).await;
    }
    create_purchase(&app.admin, bruno.id, &at, json!({ "description": "Bruno's order" })).await;
    let web = app.web_admin().await;

    let all = web.get("/purchases").await.want(200);
    has(&all, "Ana's order 0");
    has(&all, "Bruno's order");
    let anas = web.get(&format!("/purchases?person_id={}", ana.id)).await.want(200);
    for i in 0..3 {
        has(&anas, &format!("Ana's order {i}"));
    }
    assert!(!anas.text.contains("Bruno"), "another customer's purchase: {}", anas.text);
    // The filter shows whose purchases these are.
    has(&anas, &format!("<option value=\"{}\" selected>Ana", ana.id));
    // Pages keep the filter.
    let paged = web.get(&format!("/purchases?person_id={}&limit=2", ana.id)).await.want(200);
    assert_eq!(unescape(&paged.text).matches("Ana's order").count(), 2);
    has(&paged, &format!("person_id={}", ana.id));
    has(&paged, "cursor=");

    web.get("/purchases?person_id=nobody").await.want(400);
    web.get(&format!("/purchases?person_id={}", crate::common::unknown_id())).await.want(404);
    web.get("/purchases?sort=colour").await.want(400);
}

async fn the_company_timeline_names_each_person(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let company = create_company(&app.admin, "Acme").await;
    let ana =
        create_person_with(&app.admin, json!({ "first_name": "Ana", "last_name": "Lima", "company_id": company.id }))
            .await;
    let bruno = create_person_with(
        &app.admin,
        json!({ "first_name": "Bruno", "last_name": "Silva", "company_id": company.id }),
    )
    .await;
    let at = rfc3339(OffsetDateTime::now_utc() - Duration::days(2));
    create_purchase(&app.admin, ana.id, &at, json!({ "description": "Ana's order" })).await;
    create_activity(
        &app.admin,
        json!({ "kind": "call", "subject": "Bruno called", "person_id": bruno.id, "company_id": company.id }),
    )
    .await;
    create_activity(&app.admin, json!({ "kind": "note", "subject": "About Acme", "company_id": company.id })).await;
    app.admin.create::<serde_json::Value>("tickets", json!({ "requester_id": bruno.id, "subject": "Late box" })).await;
    crate::common::create_custom_field(
        &app.admin,
        json!({ "entity_type": "company", "key": "annual_revenue", "label": "Annual revenue (EUR)", "kind": "number" }),
    )
    .await;
    crate::common::create_custom_field(
        &app.admin,
        json!({ "entity_type": "company", "key": "staff", "label": "Staff", "kind": "number" }),
    )
    .await;
    app.admin
        .patch(
            &format!("/api/v1/companies/{}", company.id),
            &json!({ "custom_fields": { "annual_revenue": 3_703_000, "staff": 12_500 } }),
        )
        .await
        .want(200);

    let web = app.web_admin().await;
    let page = web.get(&format!("/companies/{}", company.id)).await.want(200);
    let entries: Vec<&str> = page.text.split("<div class=\"entry-head\">").skip(1).collect();
    assert!(entries.len() >= 4, "{}", page.text);
    let person_of = |title: &str| -> Option<String> {
        let entry = entries.iter().find(|e| e.contains(title)).unwrap_or_else(|| panic!("no {title}"));
        let start = entry.find("class=\"entry-person\" href=\"")?;
        Some(entry[start..].split('"').nth(3)?.to_owned())
    };
    assert_eq!(person_of("€25.00"), Some(format!("/people/{}", ana.id)));
    assert_eq!(person_of("Bruno called"), Some(format!("/people/{}", bruno.id)));
    assert_eq!(person_of("Late box"), Some(format!("/people/{}", bruno.id)));
    assert_eq!(person_of("About Acme"), None, "a note about the company alone names nobody");
    has(&page, ">Ana Lima</a>");
    has(&page, ">Bruno Silva</a>");
    // The person page does not name the person on each entry.
    let own = web.get(&format!("/people/{}", ana.id)).await.want(200);
    assert!(!own.text.contains("entry-person"));
    // Numbers read with thousands, money with its currency.
    has(&page, "€3,703,000.00");
    has(&page, "12,500");
    assert!(!page.text.contains("3703000"), "{}", page.text);
    // The company's purchases say "1 purchase", and lead to all of them.
    has(&page, "1 purchase</strong> by its people");
    has(&page, &format!("<a href=\"/purchases?company_id={}\">All 1 purchase →</a>", company.id));
    let outsider = create_person(&app.admin, "Olga").await;
    create_purchase(&app.admin, outsider.id, &at, json!({ "description": "Olga's order" })).await;
    let acmes = web.get(&format!("/purchases?company_id={}", company.id)).await.want(200);
    has(&acmes, "Ana's order");
    assert!(!acmes.text.contains("Olga"), "a purchase by someone outside the company: {}", acmes.text);
    has(&acmes, &format!("<option value=\"{}\" selected>Acme", company.id));
    web.get(&format!("/purchases?company_id={}", crate::common::unknown_id())).await.want(404);
}

/// The inbox's "Log a call" opens the customer's page with the composer on
/// Call (`?compose=call`); the page alone opens it on Note; an unknown tab is a 400.
async fn log_a_call_opens_the_composer_on_call(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = create_person_with(
        &app.admin,
        json!({ "first_name": "Overdue", "keep_in_touch_days": 7, "owner_id": app.admin_user.id }),
    )
    .await;
    // Last called a month ago, to be called weekly: due a call.
    let month_ago = rfc3339(OffsetDateTime::now_utc() - Duration::days(30));
    create_activity(
        &app.admin,
        json!({ "kind": "call", "subject": "Catch-up", "person_id": person.id, "occurred_at": month_ago }),
    )
    .await;
    let web = app.web_admin().await;
    let inbox = unescape(&web.get("/inbox").await.want(200).text);
    let href = format!("/people/{}?compose=call#timeline", person.id);
    assert!(inbox.contains(&format!("href=\"{href}\"")), "no Log a call link to {href}: {inbox}");
    let checked = |html: &str| {
        html.split("<input type=\"radio\" name=\"kind\" value=\"")
            .skip(1)
            .filter(|rest| rest.split('>').next().unwrap_or_default().contains("checked"))
            .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    let page = web.get(&format!("/people/{}?compose=call", person.id)).await.want(200);
    assert_eq!(checked(&page.text), ["call"]);
    let plain = web.get(&format!("/people/{}", person.id)).await.want(200);
    assert_eq!(checked(&plain.text), ["note"]);
    web.get(&format!("/people/{}?compose=lunch", person.id)).await.want(400);
}
