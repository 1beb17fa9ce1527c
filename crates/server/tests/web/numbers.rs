//! Numbers and money on the pages follow the reader's language, as the
//! browser names it in `Accept-Language`: separators and where the currency
//! symbol goes. Without one, English.

use serde_json::json;

use crate::common::{Backend, TestApp, WebClient, create_deal, create_person, create_purchase, create_sales_pipeline};

backend_tests!(money_and_counts_follow_the_reader_s_language);

async fn page_in(web: &WebClient, path: &str, language: Option<&str>) -> String {
    let mut request = web.request(reqwest::Method::GET, path);
    if let Some(language) = language {
        request = request.header("accept-language", language);
    }
    web.send(request).await.want(200).text
}

async fn money_and_counts_follow_the_reader_s_language(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    create_deal(&app.admin, &pipeline, "Roof", json!({ "amount": { "amount_minor": 123_456_789, "currency": "EUR" } }))
        .await;
    let ana = create_person(&app.admin, "Ana").await;
    create_purchase(
        &app.admin,
        ana.id,
        "2026-01-05T10:00:00Z",
        json!({ "amount": { "amount_minor": 250_050, "currency": "USD" } }),
    )
    .await;
    let web = app.web_admin().await;

    let english = page_in(&web, "/deals", None).await;
    assert!(english.contains("€1,234,567.89"), "{english}");
    let german = page_in(&web, "/deals", Some("de-DE,de;q=0.9,en;q=0.8")).await;
    assert!(german.contains("1.234.567,89\u{a0}€"), "{german}");
    let french = page_in(&web, "/deals", Some("fr-FR")).await;
    assert!(french.contains("1\u{202f}234\u{202f}567,89\u{a0}€"), "{french}");

    // The customer page's purchase summary, in dollars.
    let person = format!("/people/{}", ana.id);
    assert!(page_in(&web, &person, Some("en-US")).await.contains("$2,500.50"));
    assert!(page_in(&web, &person, Some("de")).await.contains("2.500,50\u{a0}$"));

    // A header Rapport cannot read is English, not an error.
    assert!(page_in(&web, "/deals", Some(";;q=x, ***")).await.contains("€1,234,567.89"));
}
