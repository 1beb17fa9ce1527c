//! The people list's count (loaded after the page) and bulk bar in Chromium: ticking rows shows the
//! bar and its count, the header box ticks the page, two people go to an
//! agent, then "all matching" goes to the trash and one Undo brings them
//! all back; at 390 px each card's box is a 44 px target. axe-core checks
//! the page with the bar open.

use rapport_domain::access::Role;

use super::accessibility::{audit, axe_source};
use super::harness::{PHONE, scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tick_rows_and_act_on_them_together() {
    scenario("list-bulk", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let (ann, _) = ctx.app.create_user("Ann Agent", "ann@example.com", Role::Agent).await;
        let mut people = Vec::new();
        for (first, last) in [("Grace", "Hopper"), ("Alan", "Turing"), ("Rosa", "Larsen")] {
            people.push(ctx.app.create_person(&ada, first, last, None).await);
        }
        ctx.sign_in_ok("ada@example.com").await;
        ctx.visit("/people").await;
        ctx.check_page().await;
        // The count comes after the page, loaded by htmx, and brings the bar's "all matching" with it.
        assert_eq!(ctx.find("#list-total .list-count").await.text().await.unwrap(), "3 people");
        ctx.wait_js(
            "the bar's all-matching choice counted",
            "const all = document.querySelector('#bulk-all'); \
             return [all.textContent.trim(), all.querySelector('[data-bulk-all]').getAttribute('data-total')];",
            serde_json::json!(["Select all 3 people matching", "3 people"]),
        )
        .await;

        // With JavaScript the bar waits for a tick; the header box is there.
        let bar_shown = "return !document.querySelector('[data-bulk-bar]').hidden;";
        assert_eq!(ctx.js(bar_shown).await, false, "the bar shows before anything is ticked");
        let grace = ctx.find(&format!("input[name='ids'][value='{}']", people[0].id)).await;
        assert_eq!(grace.attr("aria-label").await.unwrap().as_deref(), Some("Select Grace Hopper"));
        grace.click().await.unwrap();
        ctx.wait_js("the bar appears", bar_shown, true.into()).await;
        assert_eq!(ctx.find("[data-bulk-count]").await.text().await.unwrap(), "1 selected");
        let page_box = "return [document.querySelector('[data-select-all]').checked, \
                        document.querySelector('[data-select-all]').indeterminate];";
        assert_eq!(ctx.js(page_box).await, serde_json::json!([false, true]), "one of three: the header box is mixed");
        // From the keyboard: Space ticks the focused box.
        let alan = ctx.find(&format!("input[name='ids'][value='{}']", people[1].id)).await;
        alan.focus().await.unwrap();
        alan.send_keys(" ").await.unwrap();
        ctx.wait_js("two ticked", "return document.querySelector('[data-bulk-count]').textContent;", "2 selected".into())
            .await;

        // Only the owner control shows for "Set owner".
        ctx.find("#bulk-action option[value='set_owner']").await.click().await.unwrap();
        let shown = "return [...document.querySelectorAll('[data-bulk-for]')].filter(f => !f.hidden).map(f => f.querySelector('label').textContent);";
        assert_eq!(ctx.js(shown).await, serde_json::json!(["Owner"]));
        ctx.find(&format!("#bulk-owner option[value='{}']", ann.id)).await.click().await.unwrap();
        let axe = axe_source();
        let mut found = Vec::new();
        ctx.set_size((1440, 900)).await;
        audit(&ctx, &axe, "/people with the bulk bar", "1440", &mut found).await;
        ctx.screenshot_at(1440, "selected").await;
        ctx.screenshots("selected").await;
        ctx.button("Apply").await.click().await.unwrap();
        ctx.wait_toast("Updated 2 people").await;
        ctx.check_page().await;
        for person in &people[..2] {
            assert_eq!(ctx.store().get_person(person.id).await.unwrap().fields.owner_id, Some(ann.id));
        }
        assert_eq!(ctx.store().get_person(people[2].id).await.unwrap().fields.owner_id, None);

        // On a phone: cards, each with a 44 px box (the toast, which sits over the last card, gone).
        ctx.js("document.querySelectorAll('.toast').forEach(t => t.remove()); return true;").await;
        ctx.set_size(PHONE).await;
        let size = ctx
            .js("const r = document.querySelector('input[name=ids]').getBoundingClientRect(); return [r.width, r.height];")
            .await;
        assert!(size[0].as_f64().unwrap() >= 44.0 && size[1].as_f64().unwrap() >= 44.0, "the box is {size}");
        ctx.find(&format!("input[name='ids'][value='{}']", people[2].id)).await.click().await.unwrap();
        ctx.wait_js("the bar appears on a phone", bar_shown, true.into()).await;
        audit(&ctx, &axe, "/people with the bulk bar", "390", &mut found).await;
        assert!(found.is_empty(), "axe-core found:\n{}", found.join("\n"));
        let wide = ctx.js("return document.documentElement.scrollWidth;").await;
        assert!(wide.as_i64().unwrap() <= 390, "the page is {wide} px wide at 390");
        ctx.set_size(super::harness::DESKTOP).await;

        // All matching, to the trash (confirmed), and one Undo for all three.
        ctx.js("window.confirm = () => true; return true;").await;
        ctx.find("[data-bulk-all]").await.click().await.unwrap();
        ctx.wait_js(
            "all matching counted",
            "return document.querySelector('[data-bulk-count]').textContent;",
            "All 3 people selected".into(),
        )
        .await;
        ctx.find("#bulk-action option[value='delete']").await.click().await.unwrap();
        ctx.button("Apply").await.click().await.unwrap();
        let notice = ctx.find(".undo-notice").await.text().await.unwrap();
        assert!(notice.contains("Moved 3 people to the trash."), "the notice says {notice:?}");
        assert_eq!(ctx.find(".list-count").await.text().await.unwrap(), "0 people");
        ctx.check_page().await;
        ctx.screenshots("deleted").await;
        ctx.button("Undo").await.click().await.unwrap();
        ctx.wait_toast("Restored 3 people").await;
        assert_eq!(ctx.find(".list-count").await.text().await.unwrap(), "3 people");
        for person in &people {
            ctx.store().get_person(person.id).await.expect("restored");
        }
        ctx.check_page().await;
    })
    .await;
}

/// A change the server refuses (here: "Add tag" with no tag) comes back to
/// the list with the same rows ticked, the same action chosen and the
/// message in the bar, at 1440 and 390 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_change_keeps_the_ticked_rows_and_says_why() {
    scenario("list-bulk-refused", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let mut people = Vec::new();
        for (first, last) in [("Grace", "Hopper"), ("Alan", "Turing"), ("Rosa", "Larsen")] {
            people.push(ctx.app.create_person(&ada, first, last, None).await);
        }
        ctx.sign_in_ok("ada@example.com").await;
        for size in [(1440, 900), PHONE] {
            ctx.set_size(size).await;
            ctx.visit("/people").await;
            for person in &people[..2] {
                ctx.find(&format!("input[name='ids'][value='{}']", person.id)).await.click().await.unwrap();
            }
            ctx.find("#bulk-action option[value='add_tag']").await.click().await.unwrap();
            ctx.button("Apply").await.click().await.unwrap();
            ctx.wait_js(
                "the message in the bar",
                "const p = document.querySelector('[data-bulk-problem]'); return p && !p.hidden ? p.textContent : '';",
                "Nothing changed: tag is needed for add_tag.".into(),
            )
            .await;
            let ticked = "return [...document.querySelectorAll('input[name=ids]:checked')].map(b => b.value);";
            let want: Vec<String> = people[..2].iter().map(|p| p.id.to_string()).collect();
            let mut got: Vec<String> = serde_json::from_value(ctx.js(ticked).await).unwrap();
            got.sort();
            let mut want_sorted = want.clone();
            want_sorted.sort();
            assert_eq!(got, want_sorted, "{}: the same rows stay ticked", size.0);
            assert_eq!(ctx.find("[data-bulk-count]").await.text().await.unwrap(), "2 selected");
            assert_eq!(ctx.js("return document.querySelector('#bulk-action').value;").await, "add_tag");
            assert_eq!(ctx.js("return location.hash;").await, "", "the address is tidied");
            let overflow = ctx.js("return document.documentElement.scrollWidth - window.innerWidth;").await;
            assert!(overflow.as_i64().unwrap_or(1) <= 0, "{}: the page scrolls sideways by {overflow}", size.0);
            ctx.screenshot_at(size.0, "refused").await;
        }
        ctx.check_page().await;
    })
    .await;
}
