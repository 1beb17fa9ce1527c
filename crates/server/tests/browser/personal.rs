//! A person's birthday and addresses at 1440 and 390 px: the birthday
//! written by app.js in the browser's locale on the day it is (no time zone
//! moves it), the age beside it, a long address inside its card, and the
//! person form's address groups used on a phone.

use rapport_domain::access::Role;
use rapport_domain::records::{Birthday, PostalAddress, PostalCode};

use super::harness::{PHONE, name_of, scenario};

const WIDE: (u32, u32) = (1440, 900);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn birthday_and_addresses_on_the_page_and_the_form() {
    scenario("personal", |ctx| async move {
        let (_, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let store = ctx.store();
        let rosa = ctx.app.create_person(&admin, "Rosa", "Larsen", Some("rosa@example.com")).await;
        let mut input = rosa.fields.clone();
        input.birthday = Some(Birthday::try_from("1985-04-15".to_owned()).expect("a birthday"));
        input.addresses = vec![PostalAddress {
            label: Some(name_of("home")),
            primary: true,
            street: Some(name_of("Rua Professor Doutor Augusto Abreu Lopes 1234, Bloco C, 3º Esquerdo")),
            locality: Some(name_of("Vila Nova de Famalicão")),
            region: Some(name_of("Braga")),
            postal_code: Some(PostalCode::try_from("4760-012".to_owned()).expect("a code")),
            country: Some(name_of("Portugal")),
        }];
        let rosa = store.update_person(&admin, rosa.id, input, None).await.expect("give a birthday and an address");
        ctx.sign_in_ok("ada@example.com").await;
        let page = format!("/people/{}", rosa.id);
        ctx.visit(&page).await;
        ctx.screenshots("person").await;

        for (size, label) in [(WIDE, "1440"), (PHONE, "390")] {
            ctx.set_size(size).await;
            ctx.visit(&page).await;
            ctx.check_page().await;
            // app.js wrote the day as the browser's locale does, 15 April in any time zone.
            ctx.wait_js(
                &format!("{label}: the birthday in the browser's locale"),
                "const t = document.querySelector('dd.birthday time[data-local-date]'); \
                 return t.textContent === new Date(Date.UTC(1985, 3, 15)) \
                   .toLocaleDateString(undefined, { dateStyle: 'long', timeZone: 'UTC' });",
                serde_json::json!(true),
            )
            .await;
            let shown = ctx.js("return document.querySelector('dd.birthday').textContent;").await;
            let shown = shown.as_str().unwrap_or_default();
            assert!(shown.contains("1985") && shown.contains("15") && shown.contains("years old"), "{label}: {shown}");
            // The long address wraps inside the profile card; the page does not scroll sideways.
            let fits = ctx
                .js("const a = document.querySelector('dd.address').getBoundingClientRect(); \
                     const card = document.querySelector('.customer-profile').getBoundingClientRect(); \
                     return [a.right <= card.right + 0.5, a.width > 0, \
                             document.documentElement.scrollWidth <= window.innerWidth];")
                .await;
            assert_eq!(fits, serde_json::json!([true, true, true]), "{label}: the address fits");
        }

        // The form on a phone: a second address typed into the empty group, made primary.
        ctx.set_size(PHONE).await;
        ctx.visit(&format!("/people/{}/edit", rosa.id)).await;
        ctx.check_page().await;
        let overflow = ctx.js("return document.documentElement.scrollWidth <= window.innerWidth;").await;
        assert_eq!(overflow, serde_json::json!(true), "the form fits a phone");
        ctx.fill("#f-address1_locality", "Porto").await;
        ctx.fill("#f-address1_country", "Portugal").await;
        ctx.js("document.querySelector('input[name=address_primary][value=\"1\"]').click(); return true;").await;
        ctx.fill("#f-birthday", "--04-15").await;
        ctx.button("Save").await.click().await.expect("save");
        ctx.wait_path("back on the page", |p| p == page).await;
        let saved = store.get_person(rosa.id).await.expect("read Rosa");
        let towns: Vec<(String, bool)> =
            saved.fields.addresses.iter().map(|a| (a.locality.as_ref().unwrap().to_string(), a.primary)).collect();
        assert_eq!(towns, [("Vila Nova de Famalicão".to_owned(), false), ("Porto".to_owned(), true)]);
        ctx.wait_js(
            "the yearless birthday: day and month only",
            "const t = document.querySelector('dd.birthday time'); \
             return t.textContent === new Date(Date.UTC(2000, 3, 15)) \
               .toLocaleDateString(undefined, { month: 'long', day: 'numeric', timeZone: 'UTC' });",
            serde_json::json!(true),
        )
        .await;
        ctx.check_console().await;
    })
    .await;
}
