//! The filter builder on the list pages: conditions as chips, the plain
//! (no-JavaScript) form, and a saved view that keeps them.

use serde_json::json;

use crate::common::{Backend, TestApp, create_custom_field, create_person_with, create_sales_pipeline, unescape};

backend_tests!(conditions_show_as_chips_and_filter_the_list, the_plain_form_adds_a_condition_and_a_view_keeps_it);

async fn people_with_tiers(app: &TestApp) {
    create_custom_field(
        &app.admin,
        json!({ "entity_type": "person", "key": "tier", "label": "Tier", "kind": "choice", "choices": ["gold", "silver"] }),
    )
    .await;
    for (name, stage, tier) in
        [("Anneli", "customer", "gold"), ("Bodil", "customer", "silver"), ("Caspar", "lead", "gold")]
    {
        create_person_with(
            &app.admin,
            json!({ "first_name": name, "lifecycle_stage": stage, "custom_fields": { "tier": tier } }),
        )
        .await;
    }
}

async fn conditions_show_as_chips_and_filter_the_list(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people_with_tiers(&app).await;
    let web = app.web_admin().await;
    let page = web.get("/people?where=custom.tier.eq.gold&where=lifecycle_stage.eq.customer").await.want(200);
    let html = unescape(&page.text);
    assert!(html.contains("Anneli"), "the matching person is listed");
    assert!(!html.contains("Bodil") && !html.contains("Caspar"), "people who do not match are listed");
    let count = web.htmx_get("/people/count?where=custom.tier.eq.gold&where=lifecycle_stage.eq.customer").await;
    assert!(count.want(200).text.contains(">1 person<"), "the count follows the conditions");
    // Each condition is a chip saying it in words, with a Remove link to the list without it.
    assert!(html.contains("<span>Tier is gold</span>"), "no chip for the custom field");
    assert!(html.contains("<span>Stage is Customer</span>"), "no chip for the stage");
    assert!(html.contains("aria-label=\"Remove filter: Tier is gold\""));
    assert!(html.contains("href=\"/people?where=lifecycle_stage.eq.customer\""), "no link without the tier chip");
    assert!(html.contains("<input type=\"hidden\" name=\"where\" value=\"custom.tier.eq.gold\">"));
    // The builder offers record fields and custom fields, each with the operators of its type.
    assert!(html.contains("<optgroup label=\"Custom fields\">"));
    assert!(html.contains("value=\"custom.tier\" data-ops=\"eq=is;ne=is not;in=is any of;empty=is empty;set=is set\""));
    assert!(html.contains("value=\"created_at\" data-ops=\"on=is on;before=is before;after=is after"));
    assert!(html.contains("data-field=\"lifecycle_stage\""), "no choices for the stage");
    // Saving the view saves the conditions.
    assert!(
        html.contains("where=custom.tier.eq.gold&amp;where=lifecycle_stage.eq.customer")
            || html.contains("where=custom.tier.eq.gold&where=lifecycle_stage.eq.customer")
    );

    // A condition that does not fit is refused, naming it, not a server error.
    let refused = web.get("/people?where=custom.tier.eq.bronze").await;
    assert!(refused.status >= 400 && refused.status < 500, "status {}", refused.status);
    assert!(unescape(&refused.text).contains("bronze is not one of gold, silver"), "{}", refused.text);
    // Companies and deals have their own fields.
    let companies = unescape(&web.get("/companies?where=size.in.1-10%7C11-50").await.want(200).text);
    assert!(companies.contains("<span>Size is any of 1-10, 11-50</span>"), "no chip on companies");
    assert!(companies.contains("value=\"domain\""), "no domain field on companies");
    create_sales_pipeline(&app.admin).await;
    let deals = unescape(&web.get("/deals?where=status.eq.won&where=amount.gt.1000").await.want(200).text);
    assert!(deals.contains("<span>Status is Won</span>") && deals.contains("<span>Amount > 1000</span>"));
    assert!(deals.contains("data-field=\"stage\""), "no stage choices on deals");
    // Lists without a builder show none.
    let tasks = web.get("/tasks").await.want(200);
    assert!(!tasks.text.contains("filter-builder"));
}

async fn the_plain_form_adds_a_condition_and_a_view_keeps_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people_with_tiers(&app).await;
    let web = app.web_admin().await;
    // Without JavaScript the builder's fields go with the form: they become one `where`.
    let page = web
        .get("/people?q=&where=lifecycle_stage.eq.customer&where_field=custom.tier&where_op=in&where_value=gold%7Csilver")
        .await
        .want(200);
    let html = unescape(&page.text);
    assert!(html.contains("Anneli") && html.contains("Bodil") && !html.contains("Caspar"));
    assert!(html.contains("<span>Tier is any of gold, silver</span>"));
    assert!(!html.contains("where_field="), "the builder's own fields stay out of the links");
    // An operator without a value, and a half-chosen builder that adds nothing.
    let page = web.get("/people?where_field=custom.tier&where_op=empty").await.want(200);
    assert!(unescape(&page.text).contains("<span>Tier is empty</span>"));
    let count = web.htmx_get("/people/count?where_field=custom.tier").await.want(200);
    assert!(count.text.contains(">3 people<"));

    let query = "where=custom.tier.in.gold%7Csilver&where=lifecycle_stage.eq.customer";
    let saved = web.post_form("/views", &[("list", "people"), ("name", "Gold and silver"), ("query", query)]).await;
    assert_eq!(saved.want(303).header("location"), Some(format!("/people?{query}")));
    let reopened = web.get(&format!("/people?{query}")).await.want(200);
    let html = unescape(&reopened.text);
    assert!(html.contains("aria-current=\"true\""), "the view is current");
    assert!(html.contains("Bodil") && !html.contains("Caspar"));
}
