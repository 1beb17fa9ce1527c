//! Editing in place in Chromium beyond the people list: the companies and
//! deals lists' cells and the customer page's profile, at 1440 px and at
//! 390 px. The keyboard opens the editor (Enter on its Edit button), Enter
//! saves (a drop-down too) and the saved value is there after a reload, a bad
//! value shows its message and changes nothing, Esc cancels, the focus comes
//! back to the field's Edit button each time, and axe-core finds nothing
//! serious with an editor open or refusing.

use rapport_domain::access::Role;
use rapport_domain::records::LifecycleStage;
use thirtyfour::prelude::*;

use super::accessibility::{audit, axe_source};
use super::harness::{Ctx, PHONE, scenario, screenshot_dir};

const WIDE: (u32, u32) = (1440, 900);
const ENTER: &str = "\u{e007}";
const ESCAPE: &str = "\u{e00c}";

/// Opens a field's editor from the keyboard: Enter on its Edit button named
/// `button`. Gives the editor's input or select, once it has the focus.
async fn open(ctx: &Ctx, button: &str, editor: &str) -> WebElement {
    ctx.find(&format!("button[aria-label='{button}']")).await.send_keys(ENTER).await.expect("Enter on Edit");
    let field = ctx.find(editor).await;
    ctx.wait_js(
        &format!("the focus in the editor of {button}"),
        "return document.activeElement.name || '';",
        "value".into(),
    )
    .await;
    field
}

/// Waits until the focus is back on the Edit button named `button` and no editor is open.
async fn focus_back(ctx: &Ctx, button: &str) {
    ctx.wait_js(
        &format!("the focus back on {button}"),
        "return document.querySelector('.inline-edit') ? 'still editing' \
         : (document.activeElement.getAttribute('aria-label') || document.activeElement.tagName);",
        button.into(),
    )
    .await;
}

/// Types `text` over the field's value and saves it with Enter.
async fn type_and_save(field: &WebElement, text: &str) {
    field.clear().await.expect("clear the field");
    field.send_keys(format!("{text}{ENTER}")).await.expect("type into the field");
}

/// The refusal the open editor shows.
async fn refusal(ctx: &Ctx) -> String {
    ctx.find(".inline-edit [role=alert]").await.text().await.expect("the alert's text")
}

/// Runs axe-core on the page as it is now; fails on anything serious.
async fn axe_clean(ctx: &Ctx, axe: &str, what: &str) {
    let mut found = Vec::new();
    audit(ctx, axe, what, &format!("at {} px", ctx.viewport_width().await), &mut found).await;
    assert!(found.is_empty(), "axe-core: {}", found.join("\n"));
}

async fn screenshot(ctx: &Ctx, page: &str) {
    let width = ctx.viewport_width().await;
    let path = screenshot_dir().join(format!("{}-{page}-{width}.png", ctx.name));
    ctx.driver.screenshot(&path).await.expect("a screenshot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_company_cells_in_place() {
    scenario("inline-edit-companies", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        ctx.sign_in_ok("ada@example.com").await;
        let axe = axe_source();
        for (size, tag) in [(WIDE, "wide"), (PHONE, "phone")] {
            let company = ctx.app.create_company(&ada, &format!("Northwind {tag}")).await;
            ctx.set_size(size).await;
            ctx.visit("/companies").await;

            // The name: Enter saves, the focus stays on the cell, a reload shows it.
            let field =
                open(&ctx, &format!("Edit name of Northwind {tag}"), &format!("#inline-{}-name", company.id)).await;
            type_and_save(&field, &format!("Northwind Traders {tag}")).await;
            focus_back(&ctx, &format!("Edit name of Northwind Traders {tag}")).await;
            ctx.visit("/companies").await;
            ctx.find_text(".list-table td a", &format!("Northwind Traders {tag}")).await;
            let saved = ctx.store().get_company(company.id).await.unwrap();
            assert_eq!(saved.fields.name.as_str(), format!("Northwind Traders {tag}"));

            // A bad domain: the message in the cell, nothing changed.
            let domain = format!("Edit domain of Northwind Traders {tag}");
            let field = open(&ctx, &domain, &format!("#inline-{}-domain", company.id)).await;
            type_and_save(&field, "not a domain").await;
            let message = refusal(&ctx).await;
            assert!(message.starts_with("The domain"), "the cell says {message:?}");
            assert_eq!(
                ctx.store().get_company(company.id).await.unwrap(),
                saved,
                "a refused domain changed the company"
            );
            axe_clean(&ctx, &axe, "companies with a refused cell").await;
            screenshot(&ctx, "refused").await;

            // Esc cancels: the cell as it was, the focus on its Edit button.
            ctx.find(&format!("#inline-{}-domain", company.id)).await.send_keys(ESCAPE).await.unwrap();
            focus_back(&ctx, &domain).await;
            assert_eq!(ctx.store().get_company(company.id).await.unwrap(), saved, "Esc saved something");

            // The size drop-down: type to choose, Enter saves.
            let size_field =
                open(&ctx, &format!("Edit size of Northwind Traders {tag}"), &format!("#inline-{}-size", company.id))
                    .await;
            axe_clean(&ctx, &axe, "companies with a drop-down open").await;
            size_field.send_keys(format!("51{ENTER}")).await.unwrap();
            focus_back(&ctx, &format!("Edit size of Northwind Traders {tag}")).await;
            let sized = ctx.store().get_company(company.id).await.unwrap();
            assert_eq!(sized.fields.size.map(|s| s.as_str()), Some("51-200"));
            ctx.visit("/companies").await;
            ctx.find_text(".list-table td", "51-200").await;
            let wide = ctx.js("return document.documentElement.scrollWidth;").await.as_i64().unwrap();
            assert!(wide <= i64::from(size.0) + 1, "the list is {wide} px wide at {} px", size.0);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_deal_cells_in_place() {
    scenario("inline-edit-deals", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let sales = ctx.app.create_pipeline(&ada, "Sales", &[("Lead", 10), ("Proposal", 50), ("Closing", 90)]).await;
        ctx.sign_in_ok("ada@example.com").await;
        let axe = axe_source();
        for (size, tag) in [(WIDE, "wide"), (PHONE, "phone")] {
            let deal = ctx.app.create_deal(&ada, &sales, &format!("Big order {tag}"), 0).await;
            let name = format!("Big order {tag}");
            ctx.set_size(size).await;
            ctx.visit("/deals").await;

            // The amount, in the deal's currency.
            let amount = format!("Edit amount of {name}");
            let field = open(&ctx, &amount, &format!("#inline-{}-amount", deal.id)).await;
            type_and_save(&field, "2500.50").await;
            focus_back(&ctx, &amount).await;
            assert_eq!(ctx.store().get_deal(deal.id).await.unwrap().fields.amount.amount_minor, 250_050);
            ctx.visit("/deals").await;
            ctx.find_text(".list-table td.num", "2,500.50").await;

            // The stage: a drop-down of the deal's pipeline's stages; Enter saves it.
            let stage = format!("Edit stage of {name}");
            let field = open(&ctx, &stage, &format!("#inline-{}-stage", deal.id)).await;
            let options = ctx
                .js(&format!(
                    "return [...document.querySelectorAll('#inline-{}-stage option')].map(o => o.textContent);",
                    deal.id
                ))
                .await;
            assert_eq!(options, serde_json::json!(["Lead", "Proposal", "Closing"]));
            axe_clean(&ctx, &axe, "deals with the stage drop-down open").await;
            screenshot(&ctx, "stage").await;
            field.send_keys(format!("P{ENTER}")).await.unwrap();
            focus_back(&ctx, &stage).await;
            assert_eq!(ctx.store().get_deal(deal.id).await.unwrap().fields.stage_id, sales.stages[1].id);

            // The expected close, a date picked (set as the picker would) and saved with Enter.
            let close = format!("Edit expected close of {name}");
            let field = open(&ctx, &close, &format!("#inline-{}-expected_close", deal.id)).await;
            ctx.js(&format!(
                "document.getElementById('inline-{}-expected_close').value = '2027-01-15'; return 0;",
                deal.id
            ))
            .await;
            field.send_keys(ENTER).await.unwrap();
            focus_back(&ctx, &close).await;
            ctx.visit("/deals").await;
            ctx.find_text(".list-table td", "2027-01-15").await;
            let saved = ctx.store().get_deal(deal.id).await.unwrap();
            assert_eq!(saved.fields.expected_close.map(|d| d.to_string()).as_deref(), Some("2027-01-15"));

            // A bad amount: the message, nothing changed.
            let field = open(&ctx, &amount, &format!("#inline-{}-amount", deal.id)).await;
            type_and_save(&field, "lots").await;
            assert_eq!(refusal(&ctx).await, "The amount must be an amount such as 1250.55.");
            assert_eq!(ctx.store().get_deal(deal.id).await.unwrap(), saved, "a refused amount changed the deal");
            axe_clean(&ctx, &axe, "deals with a refused cell").await;
            screenshot(&ctx, "refused").await;

            // Esc cancels.
            ctx.find(&format!("#inline-{}-amount", deal.id)).await.send_keys(ESCAPE).await.unwrap();
            focus_back(&ctx, &amount).await;
            assert_eq!(ctx.store().get_deal(deal.id).await.unwrap(), saved, "Esc saved something");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_profile_facts_in_place() {
    scenario("inline-edit-profile", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        ctx.sign_in_ok("ada@example.com").await;
        let axe = axe_source();
        for (size, tag) in [(WIDE, "wide"), (PHONE, "phone")] {
            let rosa = ctx.app.create_person(&ada, "Rosa", tag, Some(&format!("rosa.{tag}@example.com"))).await;
            let page = format!("/people/{}", rosa.id);
            let who = format!("Rosa {tag}");
            ctx.set_size(size).await;
            ctx.visit(&page).await;

            // A phone where there was none; a reload shows it as a link.
            let phone = format!("Edit phone of {who}");
            let field = open(&ctx, &phone, &format!("#inline-{}-phone", rosa.id)).await;
            axe_clean(&ctx, &axe, "the customer page with a fact being edited").await;
            screenshot(&ctx, "editing").await;
            type_and_save(&field, "+47 555 01234").await;
            focus_back(&ctx, &phone).await;
            ctx.visit(&page).await;
            ctx.find_text(".customer-profile a[href^='tel:']", "+47 555 01234").await;

            // The stage drop-down, typed to and saved with Enter.
            let stage = format!("Edit stage of {who}");
            let field = open(&ctx, &stage, &format!("#inline-{}-stage", rosa.id)).await;
            field.send_keys(format!("Cus{ENTER}")).await.unwrap();
            focus_back(&ctx, &stage).await;
            ctx.visit(&page).await;
            ctx.find_text(".customer-profile dd .badge", "Customer").await;
            let saved = ctx.store().get_person(rosa.id).await.unwrap();
            assert_eq!(saved.fields.lifecycle_stage, LifecycleStage::Customer);

            // A bad email: the message in the profile, nothing changed.
            let email = format!("Edit email of {who}");
            let field = open(&ctx, &email, &format!("#inline-{}-email", rosa.id)).await;
            type_and_save(&field, "not an address").await;
            let message = refusal(&ctx).await;
            assert!(message.starts_with("The email"), "the profile says {message:?}");
            assert_eq!(ctx.store().get_person(rosa.id).await.unwrap(), saved, "a refused email changed the person");
            axe_clean(&ctx, &axe, "the customer page with a refused fact").await;
            screenshot(&ctx, "refused").await;

            // Esc cancels, the address as it was.
            ctx.find(&format!("#inline-{}-email", rosa.id)).await.send_keys(ESCAPE).await.unwrap();
            focus_back(&ctx, &email).await;
            ctx.find_text(".customer-profile a[href^='mailto:']", &format!("rosa.{tag}@example.com")).await;
            // The address stays on one line beside its Edit button.
            let lines = ctx
                .js("const r = document.createRange(); \
                     r.selectNodeContents(document.querySelector('.customer-profile a[href^=\"mailto:\"]')); \
                     return new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.top))).size;")
                .await;
            assert_eq!(lines, 1, "the address breaks over lines");
            assert_eq!(ctx.store().get_person(rosa.id).await.unwrap(), saved, "Esc saved something");
            let wide = ctx.js("return document.documentElement.scrollWidth;").await.as_i64().unwrap();
            assert!(wide <= i64::from(size.0) + 1, "the page is {wide} px wide at {} px", size.0);
        }
    })
    .await;
}
