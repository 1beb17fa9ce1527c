//! A list page's count, loaded after the page (issue 16: a filter-builder
//! page's own time is its rows): the page holds the place and the address of
//! its count fragment, which htmx loads; the fragment counts the page's query,
//! filter-builder conditions included, up to the cap, and brings the bulk
//! bar's "Select all N matching" out of band. Without JavaScript, the page
//! with `count=true` counts itself.

use rapport_domain::Role;
use rapport_domain::records::LifecycleStage;
use rapport_domain::text::Name;
use rapport_storage::{ImportMode, PersonImport};
use serde_json::json;

use crate::common::{Backend, TestApp, WebClient, create_company, create_custom_field, create_person_with, unescape};

backend_tests!(
    the_page_loads_its_count_after_the_rows,
    the_count_follows_filter_builder_conditions,
    past_the_cap_the_count_says_so,
);

/// The count fragment's address on a list page (what `hx-get` loads).
fn count_href(html: &str) -> String {
    let html = unescape(html);
    let marker = "<div id=\"list-total\" role=\"status\" hx-get=\"";
    let at = html.find(marker).expect("the count's place") + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// The count the fragment at `href` says, as htmx loads it.
async fn fragment(web: &WebClient, href: &str) -> String {
    unescape(&web.htmx_get(href).await.want(200).text)
}

async fn the_page_loads_its_count_after_the_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for name in ["Ada", "Bo", "Cy"] {
        create_person_with(&app.admin, json!({ "first_name": name, "lifecycle_stage": "lead" })).await;
    }
    create_person_with(&app.admin, json!({ "first_name": "Dee", "lifecycle_stage": "customer" })).await;
    create_company(&app.admin, "Acme").await;
    let web = app.web_admin().await;

    let page = web.get("/people?lifecycle_stage=lead&limit=2").await.want(200);
    let html = unescape(&page.text);
    assert!(!html.contains("class=\"list-count\""), "the page counted: {html}");
    assert!(html.contains("hx-trigger=\"load\""), "nothing loads the count");
    assert!(html.contains("Select all matching people"), "the bar names no count before it has one");
    assert!(
        html.contains("<a href=\"/people?lifecycle_stage=lead&limit=2&count=true\">Count the matches</a>"),
        "no link for a browser without JavaScript"
    );
    let href = count_href(&page.text);
    assert_eq!(href, "/people/count?lifecycle_stage=lead&limit=2");
    let count = fragment(&web, &href).await;
    assert!(count.starts_with("<p class=\"list-count\">3 people</p>"), "counted past the page: {count}");
    assert!(count.contains("id=\"bulk-all\" class=\"check list-bulk-all\" hx-swap-oob=\"true\""), "{count}");
    assert!(count.contains("data-total=\"3 people\"> Select all 3 people matching</label>"), "{count}");
    assert!(count.contains("<p id=\"bulk-cap\" class=\"muted small list-bulk-cap\" hx-swap-oob=\"true\" hidden>"));

    // Without JavaScript the page counts itself, and its links keep counting.
    let counted = unescape(&web.get("/people?lifecycle_stage=lead&count=true").await.want(200).text);
    assert!(counted.contains("<p class=\"list-count\">3 people</p>"), "{counted}");
    assert!(counted.contains("Select all 3 people matching"));
    assert!(!counted.contains("hx-trigger=\"load\""));
    assert!(
        counted.contains("name=\"filter\" value=\"lifecycle_stage=lead\""),
        "the bulk form's filter leaves count=true out"
    );

    // Every list has its count; a viewer's has no bulk choice.
    let web_count = |path: &'static str| {
        let web = &web;
        async move { fragment(web, path).await }
    };
    assert!(web_count("/people/count").await.contains(">4 people<"));
    assert!(web_count("/companies/count").await.contains(">1 company<"));
    assert!(web_count("/deals/count").await.contains(">0 deals<"));
    assert!(web_count("/tasks/count").await.contains(">0 tasks<"));
    assert!(web_count("/purchases/count").await.contains(">0 purchases<"));
    assert!(web_count("/activities/count").await.contains(">0 activities<"));
    assert!(!web_count("/purchases/count").await.contains("bulk-all"), "purchases have no bulk bar");
    // No rows, no bulk bar on the page: the fragment has nothing to swap into it.
    assert!(!web_count("/deals/count").await.contains("bulk-all"), "an empty list has no bulk bar");
    let (_, viewer) = app.web_user(Role::Viewer, None).await;
    let seen = fragment(&viewer, "/people/count").await;
    assert!(seen.contains(">4 people<") && !seen.contains("bulk-all"), "{seen}");
    let activities = unescape(&web.get("/activities?kind=call").await.want(200).text);
    assert_eq!(count_href(&activities), "/activities/count?kind=call");
    // Signed out: to the sign-in page, like the list.
    app.web("anonymous").get("/people/count").await.want(303);
}

async fn the_count_follows_filter_builder_conditions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_custom_field(
        &app.admin,
        json!({ "entity_type": "person", "key": "tier", "label": "Tier", "kind": "choice", "choices": ["gold", "silver"] }),
    )
    .await;
    for (name, stage, tier) in [
        ("Anneli", "customer", Some("gold")),
        ("Bodil", "customer", Some("silver")),
        ("Caspar", "lead", Some("gold")),
        ("Dagny", "customer", None),
    ] {
        let mut body = json!({ "first_name": name, "lifecycle_stage": stage });
        if let Some(tier) = tier {
            body["custom_fields"] = json!({ "tier": tier });
        }
        create_person_with(&app.admin, body).await;
    }
    let web = app.web_admin().await;
    for (query, want) in [
        ("where=custom.tier.eq.gold&where=lifecycle_stage.ne.lead", 1),
        ("where=custom.tier.in.gold%7Csilver", 3),
        ("where=custom.tier.set&where=lifecycle_stage.eq.customer", 2),
        ("where=custom.tier.empty", 1),
        ("where=custom.tier.ne.gold", 2),
        // The plain form's builder fields, folded into one condition.
        ("where_field=custom.tier&where_op=eq&where_value=silver", 1),
    ] {
        let page = web.get(&format!("/people?{query}")).await.want(200);
        let href = count_href(&page.text);
        assert!(href.starts_with("/people/count?where="), "{query}: {href}");
        let count = fragment(&web, &href).await;
        let noun = if want == 1 { "person" } else { "people" };
        assert!(count.contains(&format!(">{want} {noun}<")), "{query}: {count}");
        // The same number as the API's.
        let api = app.admin.get(&format!("/api/v1/people?count=true&{}", href.split_once('?').unwrap().1)).await;
        assert_eq!(api.want(200).value()["total"], json!(want), "{query}");
    }
}

/// Past 10,000 matches counting stops: "10,000+", and the bulk bar says a
/// change takes at most 10,000.
async fn past_the_cap_the_count_says_so(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut import = app.store.begin_import(&app.admin_actor(), ImportMode::AllOrNothing).await.unwrap();
    let mut line = 0;
    for _ in 0..11 {
        let batch = (0..910)
            .map(|_| {
                line += 1;
                PersonImport {
                    line,
                    first_name: Some(Name::try_from(format!("Lead {line}")).unwrap()),
                    lifecycle_stage: Some(LifecycleStage::Lead),
                    ..Default::default()
                }
            })
            .collect();
        import.people(batch).await.unwrap();
    }
    let report = import.finish().await.unwrap();
    assert!(report.rejected.is_empty(), "{report:?}");
    create_person_with(&app.admin, json!({ "first_name": "Happy", "lifecycle_stage": "customer" })).await;
    let web = app.web_admin().await;

    let page = web.get("/people?where=lifecycle_stage.eq.lead").await.want(200);
    let count = fragment(&web, &count_href(&page.text)).await;
    assert!(count.starts_with("<p class=\"list-count\">10,000+ people</p>"), "{count}");
    assert!(count.contains("Select all 10,000+ people matching"), "{count}");
    assert!(count.contains("10,000+ match: a change takes at most 10,000 at a time"), "{count}");
    let exact = fragment(&web, "/people/count?where=lifecycle_stage.ne.lead").await;
    assert!(exact.starts_with("<p class=\"list-count\">1 person</p>"), "{exact}");
}
