//! The filter builder in Chromium: "Add filter" on the people list, a
//! condition on a custom field (a choice list) and one on the stage, each a
//! chip with the results following; saved as a view and reopened; a chip
//! removed from the keyboard. At 1440 and 390 px, with axe-core.

use rapport_domain::access::Role;
use rapport_domain::custom_fields::{CustomFieldInput, EntityType, FieldKind};
use rapport_domain::records::LifecycleStage;
use serde_json::json;

use super::accessibility::{audit, axe_source};
use super::harness::{Ctx, DESKTOP, PHONE, name_of, scenario};

/// Chooses `value` in the select `css` as a person would (a change event follows).
async fn choose(ctx: &Ctx, css: &str, value: &str) {
    ctx.find(&format!("{css} option[value='{value}']")).await.click().await.expect("choose an option");
}

async fn count_is(ctx: &Ctx, want: &str) {
    ctx.wait_js(
        &format!("the count says {want}"),
        "const c = document.querySelector('.list-count'); return c && c.textContent.trim();",
        want.into(),
    )
    .await;
}

async fn chips(ctx: &Ctx) -> serde_json::Value {
    ctx.js("return [...document.querySelectorAll('#filter-chips .chip > span')].map(s => s.textContent);").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_conditions_and_save_them_as_a_view() {
    scenario("list-filters", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let store = ctx.store();
        store
            .create_custom_field(
                &ada,
                CustomFieldInput {
                    entity_type: EntityType::Person,
                    key: "tier".to_string().try_into().unwrap(),
                    label: name_of("Tier"),
                    kind: FieldKind::Choice,
                    choices: vec![name_of("gold"), name_of("silver")],
                    required: false,
                },
            )
            .await
            .expect("a custom field");
        for (first, last, stage, tier) in [
            ("Grace", "Hopper", LifecycleStage::Customer, "gold"),
            ("Alan", "Turing", LifecycleStage::Customer, "silver"),
            ("Rosa", "Larsen", LifecycleStage::Lead, "gold"),
        ] {
            let person = ctx.app.create_person(&ada, first, last, None).await;
            let mut input = person.fields.clone();
            input.lifecycle_stage = stage;
            input.custom_fields.insert("tier".into(), json!(tier));
            store.update_person(&ada, person.id, input, None).await.expect("set the tier");
        }
        ctx.sign_in_ok("ada@example.com").await;
        ctx.visit("/people").await;
        ctx.check_page().await;
        count_is(&ctx, "3 people").await;

        // Add filter → a custom field → only its operators → its choices.
        ctx.find("details.filter-builder summary").await.click().await.unwrap();
        choose(&ctx, "#where-field", "custom.tier").await;
        let ops = ctx.js("return [...document.querySelectorAll('#where-op option')].map(o => o.textContent);").await;
        assert_eq!(ops, json!(["is", "is not", "is any of", "is empty", "is set"]));
        let choices_shown = "return !document.querySelector('.where-choices[data-field=\"custom.tier\"]').hidden \
                             && document.querySelector('#where-value').hidden;";
        assert_eq!(ctx.js(choices_shown).await, true, "a choice field takes its value from a list");
        choose(&ctx, "#where-op", "eq").await;
        choose(&ctx, ".where-choices[data-field='custom.tier']", "gold").await;
        let axe = axe_source();
        let mut found = Vec::new();
        ctx.set_size((1440, 900)).await;
        audit(&ctx, &axe, "/people with the filter builder open", "1440", &mut found).await;
        ctx.screenshot_at(1440, "builder").await;
        ctx.find(".add-condition").await.click().await.unwrap();
        count_is(&ctx, "2 people").await;
        assert_eq!(chips(&ctx).await, json!(["Tier is gold"]));
        ctx.wait_path("the address to carry the condition", |p| p.contains("where=custom.tier.eq.gold")).await;
        let focused = "return document.activeElement.matches('details.filter-builder summary');";
        assert_eq!(ctx.js(focused).await, true, "the focus goes back to Add filter");

        // A second one, from the keyboard's point of view the same controls: stage is not Lead.
        ctx.find("details.filter-builder summary").await.click().await.unwrap();
        choose(&ctx, "#where-field", "lifecycle_stage").await;
        choose(&ctx, "#where-op", "ne").await;
        choose(&ctx, ".where-choices[data-field='lifecycle_stage']", "lead").await;
        ctx.find(".add-condition").await.click().await.unwrap();
        count_is(&ctx, "1 person").await;
        assert_eq!(chips(&ctx).await, json!(["Tier is gold", "Stage is not Lead"]));
        ctx.find_text("#results", "Grace").await;
        ctx.check_page().await;
        audit(&ctx, &axe, "/people with two conditions", "1440", &mut found).await;
        ctx.screenshot_at(1440, "chips").await;

        // At 390 px: no sideways scrolling, 44 px chip targets.
        ctx.set_size(PHONE).await;
        let wide = ctx.js("return document.documentElement.scrollWidth;").await;
        assert!(wide.as_i64().unwrap() <= 390, "the page is {wide} px wide at 390");
        let size = ctx
            .js("const r = document.querySelector('.chip-remove').getBoundingClientRect(); return [r.width, r.height];")
            .await;
        assert!(size[0].as_f64().unwrap() >= 44.0 && size[1].as_f64().unwrap() >= 44.0, "the × is {size}");
        ctx.find("details.filter-builder summary").await.click().await.unwrap();
        audit(&ctx, &axe, "/people with the filter builder open", "390", &mut found).await;
        ctx.screenshot_at(390, "builder").await;
        ctx.set_size(DESKTOP).await;
        ctx.find("details.filter-builder summary").await.click().await.unwrap();

        // Save as a view; it reopens with its chips.
        ctx.fill("#view-name", "Gold customers").await;
        ctx.button("Save view").await.click().await.unwrap();
        ctx.find_text(".views a", "Gold customers").await;
        ctx.visit("/people").await;
        count_is(&ctx, "3 people").await;
        assert_eq!(chips(&ctx).await, json!([]));
        ctx.find_text(".views a", "Gold customers").await.click().await.unwrap();
        count_is(&ctx, "1 person").await;
        assert_eq!(chips(&ctx).await, json!(["Tier is gold", "Stage is not Lead"]));

        // Remove a chip from the keyboard: the results and the chips follow, the focus goes to Add filter.
        let remove = ctx.find("a.chip-remove[aria-label='Remove filter: Stage is not Lead']").await;
        remove.focus().await.unwrap();
        remove.send_keys(thirtyfour::Key::Enter).await.unwrap();
        count_is(&ctx, "2 people").await;
        assert_eq!(chips(&ctx).await, json!(["Tier is gold"]));
        ctx.wait_js("the focus on Add filter", focused, true.into()).await;
        ctx.screenshots("after-remove").await;
        assert!(found.is_empty(), "axe-core found:\n{}", found.join("\n"));
    })
    .await;
}
