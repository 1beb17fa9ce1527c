//! Fields edited in place (the people, companies and deals lists' cells and
//! the customer page's profile), over HTTP as htmx sends them: the form
//! carries the version, a stale one gets the conflict message, a refused
//! value its error with nothing changed, a save answers the field as its
//! place shows it and goes into the record's history, and whoever may not
//! edit the record sees no Edit button and is refused (403).

use rapport_domain::Role;
use rapport_domain::records::{Company, Deal, Person};
use serde_json::json;

use crate::common::{
    Backend, TestApp, WebClient, create_company, create_deal, create_person_with, create_pipeline,
    create_sales_pipeline, hidden_value, unescape,
};

backend_tests!(
    a_cell_is_edited_in_place_at_its_version,
    company_cells_are_edited_in_place,
    deal_cells_are_edited_in_place,
    profile_facts_are_edited_in_place,
    only_who_may_edit_the_record_edits_in_place
);

/// The History section of a record page, unescaped.
async fn history(web: &WebClient, page: &str) -> String {
    let html = web.get(page).await.want(200).text;
    let start = html.find("id=\"history-heading\"").expect("a History section");
    let end = start + html[start..].find("</section>").expect("the section ends");
    unescape(&html[start..end])
}

/// The alert a refused field shows.
fn alert(html: &str) -> String {
    let html = unescape(html);
    let start = html.find("role=\"alert\">").unwrap_or_else(|| panic!("no alert in {html}")) + 13;
    html[start..start + html[start..].find("</p>").expect("the alert ends")].to_owned()
}

async fn a_cell_is_edited_in_place_at_its_version(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rosa = create_person_with(
        &app.admin,
        json!({ "first_name": "Rosa", "last_name": "Larsen", "emails": [{ "address": "rosa@example.com", "primary": true }] }),
    )
    .await;
    let web = app.web_admin().await;
    let list = web.get("/people").await.want(200);
    let base = format!("/people/{}/cells/email", rosa.id);
    assert!(list.text.contains(&format!("hx-get=\"{base}/edit\"")), "no Edit button on the email cell");
    assert!(list.text.contains("aria-label=\"Edit email of Rosa Larsen\""), "the Edit button has no name");

    let editor = web.htmx_get(&format!("{base}/edit")).await.want(200);
    assert_eq!(hidden_value(&editor.text, "version").as_deref(), Some("1"));
    assert!(editor.text.contains("value=\"rosa@example.com\""));

    // Saved: the cell comes back as the list shows it, and the focus returns to it.
    let saved = web.htmx_post(&base, &[("version", "1"), ("value", "rosa.larsen@example.com")]).await.want(200);
    assert!(saved.text.contains("rosa.larsen@example.com") && saved.text.contains("data-inline-focus"));
    let now: Person = app.admin.fetch("people", rosa.id).await;
    assert_eq!(now.fields.primary_email().map(|e| e.to_string()).as_deref(), Some("rosa.larsen@example.com"));
    assert_eq!(now.meta.version, 2);

    // A stale version: the conflict message with the stored value, nothing overwritten.
    let stale = web.htmx_post(&base, &[("version", "1"), ("value", "other@example.com")]).await.want(409);
    assert!(
        unescape(&stale.text)
            .contains("Someone else changed this person meanwhile: it is now “rosa.larsen@example.com”")
    );
    assert_eq!(hidden_value(&stale.text, "version").as_deref(), Some("2"), "saving again applies over theirs");
    // A refused value: the field's error in the cell.
    let bad = web.htmx_post(&base, &[("version", "2"), ("value", "not an address")]).await.want(422);
    assert!(bad.text.contains("role=\"alert\"") && bad.text.contains("value=\"not an address\""));
    let after: Person = app.admin.fetch("people", rosa.id).await;
    assert_eq!(after, now, "nothing changed");

    // Owner and stage are drop-downs; name splits into first and last.
    let stage = format!("/people/{}/cells/stage", rosa.id);
    web.htmx_post(&stage, &[("version", "2"), ("value", "customer")]).await.want(200);
    let name = format!("/people/{}/cells/name", rosa.id);
    web.htmx_post(&name, &[("version", "3"), ("value", "Rosa Maria Larsen")]).await.want(200);
    let renamed: Person = app.admin.fetch("people", rosa.id).await;
    assert_eq!(renamed.fields.lifecycle_stage.as_str(), "customer");
    assert_eq!(renamed.fields.full_name(), "Rosa Maria Larsen");
    web.htmx_get(&format!("/people/{}/cells/company/edit", rosa.id)).await.want(404);

    // Viewers have no Edit buttons and no editor.
    let (_, viewer) = app.web_user(Role::Viewer, None).await;
    assert!(!viewer.get("/people").await.want(200).text.contains("class=\"cell-edit\""));
    viewer.htmx_get(&format!("{base}/edit")).await.want(403);
}

async fn company_cells_are_edited_in_place(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let northwind = create_company(&app.admin, "Northwind").await;
    let web = app.web_admin().await;
    let list = web.get("/companies").await.want(200).text;
    for field in ["name", "domain", "industry", "size", "owner"] {
        let base = format!("/companies/{}/cells/{field}", northwind.id);
        assert!(list.contains(&format!("hx-get=\"{base}/edit\"")), "no Edit button on the {field} cell");
    }
    assert!(list.contains("aria-label=\"Edit domain of Northwind\""));

    let domain = format!("/companies/{}/cells/domain", northwind.id);
    let editor = web.htmx_get(&format!("{domain}/edit")).await.want(200);
    assert_eq!(hidden_value(&editor.text, "version").as_deref(), Some("1"));
    let saved = web.htmx_post(&domain, &[("version", "1"), ("value", "Northwind.example")]).await.want(200);
    assert!(saved.text.contains("northwind.example") && saved.text.contains("data-inline-focus"), "{}", saved.text);
    let now: Company = app.admin.fetch("companies", northwind.id).await;
    assert_eq!(now.fields.domain.as_ref().map(|d| d.as_str()), Some("northwind.example"));
    assert_eq!(now.meta.version, 2);
    let changes = history(&web, &format!("/companies/{}", northwind.id)).await;
    assert!(changes.contains("<ins>northwind.example</ins>"), "not in the history: {changes}");

    // A refused value: the message in the cell, what was typed kept, nothing changed.
    let bad = web.htmx_post(&domain, &[("version", "2"), ("value", "not a domain")]).await.want(422);
    assert!(alert(&bad.text).starts_with("The domain"), "{}", alert(&bad.text));
    assert!(bad.text.contains("value=\"not a domain\"") && bad.text.contains("aria-invalid=\"true\""));
    let name = format!("/companies/{}/cells/name", northwind.id);
    let empty = web.htmx_post(&name, &[("version", "2"), ("value", "  ")]).await.want(422);
    assert_eq!(alert(&empty.text), "The name must not be empty.");
    let size = format!("/companies/{}/cells/size", northwind.id);
    web.htmx_post(&size, &[("version", "2"), ("value", "huge")]).await.want(422);
    let after: Company = app.admin.fetch("companies", northwind.id).await;
    assert_eq!(after, now, "a refused value changed the company");

    // A stale version: the conflict message with the stored value.
    let stale = web.htmx_post(&domain, &[("version", "1"), ("value", "other.example")]).await.want(409);
    assert!(
        alert(&stale.text).starts_with("Someone else changed this company meanwhile: it is now “northwind.example”"),
        "{}",
        alert(&stale.text)
    );
    assert_eq!(hidden_value(&stale.text, "version").as_deref(), Some("2"));

    // The drop-downs and the rest.
    web.htmx_post(&size, &[("version", "2"), ("value", "51-200")]).await.want(200);
    let owner = format!("/companies/{}/cells/owner", northwind.id);
    let admin = app.admin_user.id.to_string();
    let owner_editor = web.htmx_get(&format!("{owner}/edit")).await.want(200).text;
    assert!(owner_editor.contains(&format!("<option value=\"{admin}\"")), "no staff to choose from");
    web.htmx_post(&owner, &[("version", "3"), ("value", &admin)]).await.want(200);
    web.htmx_post(&name, &[("version", "4"), ("value", "Northwind Traders")]).await.want(200);
    let renamed: Company = app.admin.fetch("companies", northwind.id).await;
    assert_eq!(renamed.fields.name.as_str(), "Northwind Traders");
    assert_eq!(renamed.fields.size.map(|s| s.as_str()), Some("51-200"));
    assert_eq!(renamed.fields.owner_id, Some(app.admin_user.id));
    web.htmx_get(&format!("/companies/{}/cells/created/edit", northwind.id)).await.want(404);
}

async fn deal_cells_are_edited_in_place(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sales = create_sales_pipeline(&app.admin).await;
    let other = create_pipeline(&app.admin, "Partners", &[("Intro", 20), ("Signed", 90)]).await;
    let deal = create_deal(&app.admin, &sales, "Big order", json!({})).await;
    let web = app.web_admin().await;
    let list = web.get("/deals").await.want(200).text;
    for field in ["name", "amount", "stage", "owner", "expected_close"] {
        let base = format!("/deals/{}/cells/{field}", deal.id);
        assert!(list.contains(&format!("hx-get=\"{base}/edit\"")), "no Edit button on the {field} cell");
    }

    let amount = format!("/deals/{}/cells/amount", deal.id);
    let editor = web.htmx_get(&format!("{amount}/edit")).await.want(200).text;
    assert!(editor.contains("value=\"1000.00\"") && editor.contains("inputmode=\"decimal\""), "{editor}");
    let saved = web.htmx_post(&amount, &[("version", "1"), ("value", "2500.50")]).await.want(200);
    assert!(saved.text.contains("2,500.50"), "{}", saved.text);
    let now: Deal = app.admin.fetch("deals", deal.id).await;
    assert_eq!(now.fields.amount.amount_minor, 250_050);
    let changes = history(&web, &format!("/deals/{}", deal.id)).await;
    assert!(changes.contains("<del>€1,000.00</del> → <ins>€2,500.50</ins>"), "not in the history: {changes}");

    // Refused: not an amount, a negative one, another pipeline's stage, not a date.
    let bad = web.htmx_post(&amount, &[("version", "2"), ("value", "lots")]).await.want(422);
    assert_eq!(alert(&bad.text), "The amount must be an amount such as 1250.55.");
    let negative = web.htmx_post(&amount, &[("version", "2"), ("value", "-5")]).await.want(422);
    assert_eq!(alert(&negative.text), "The amount must not be negative.");
    let stage = format!("/deals/{}/cells/stage", deal.id);
    let stages = web.htmx_get(&format!("{stage}/edit")).await.want(200).text;
    assert!(stages.contains(">Proposal</option>") && !stages.contains(">Intro</option>"), "{stages}");
    let elsewhere = other.stages[0].id.to_string();
    let foreign = web.htmx_post(&stage, &[("version", "2"), ("value", &elsewhere)]).await.want(422);
    assert_eq!(alert(&foreign.text), "Choose a stage of this deal’s pipeline.");
    let close = format!("/deals/{}/cells/expected_close", deal.id);
    let soon = web.htmx_post(&close, &[("version", "2"), ("value", "soon")]).await.want(422);
    assert_eq!(alert(&soon.text), "The expected close must be a date such as 2026-12-01.");
    let after: Deal = app.admin.fetch("deals", deal.id).await;
    assert_eq!(after, now, "a refused value changed the deal");

    // A stale version.
    let stale = web.htmx_post(&amount, &[("version", "1"), ("value", "3000")]).await.want(409);
    assert!(alert(&stale.text).starts_with("Someone else changed this deal meanwhile"), "{}", alert(&stale.text));

    // The stage among its pipeline's, the expected close as a date.
    let proposal = sales.stages[1].id.to_string();
    let moved = web.htmx_post(&stage, &[("version", "2"), ("value", &proposal)]).await.want(200);
    assert!(moved.text.contains("Proposal"));
    let dated = web.htmx_get(&format!("{close}/edit")).await.want(200).text;
    assert!(dated.contains("type=\"date\""), "{dated}");
    web.htmx_post(&close, &[("version", "3"), ("value", "2027-01-15")]).await.want(200);
    let saved: Deal = app.admin.fetch("deals", deal.id).await;
    assert_eq!(saved.fields.stage_id, sales.stages[1].id);
    assert_eq!(saved.fields.expected_close.map(|d| d.to_string()).as_deref(), Some("2027-01-15"));

    // A won deal has left its stages: its stage cell has no Edit button and refuses a change.
    let won = create_deal(&app.admin, &sales, "Done deal", json!({ "status": "won" })).await;
    let won_stage = format!("/deals/{}/cells/stage", won.id);
    let list = web.get("/deals").await.want(200).text;
    assert!(!list.contains(&format!("hx-get=\"{won_stage}/edit\"")), "a won deal's stage edits in place");
    assert!(list.contains(&format!("hx-get=\"/deals/{}/cells/amount/edit\"", won.id)));
    web.htmx_get(&format!("{won_stage}/edit")).await.want(403);
    web.htmx_post(&won_stage, &[("version", "1"), ("value", &proposal)]).await.want(403);
}

async fn profile_facts_are_edited_in_place(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rosa = create_person_with(
        &app.admin,
        json!({ "first_name": "Rosa", "last_name": "Larsen", "emails": [{ "address": "rosa@example.com", "primary": true }] }),
    )
    .await;
    let web = app.web_admin().await;
    let page_path = format!("/people/{}", rosa.id);
    let page = web.get(&page_path).await.want(200).text;
    for field in ["name", "job_title", "email", "phone", "stage", "owner", "source"] {
        let base = format!("/people/{}/facts/{field}", rosa.id);
        assert!(page.contains(&format!("hx-get=\"{base}/edit\"")), "no Edit button on the profile's {field}");
    }
    assert!(page.contains("aria-label=\"Edit phone of Rosa Larsen\""));

    // A fact is a <dd>: the editor replaces it, a save answers it with its link.
    let phone = format!("/people/{}/facts/phone", rosa.id);
    let editor = web.htmx_get(&format!("{phone}/edit")).await.want(200).text;
    assert!(editor.trim_start().starts_with("<dd") && editor.contains("hx-target=\"closest dd\""), "{editor}");
    let saved = web.htmx_post(&phone, &[("version", "1"), ("value", "+47 555 01234")]).await.want(200).text;
    assert!(saved.contains("href=\"tel:+47 555 01234\"") && saved.contains("data-inline-focus"), "{saved}");
    let now: Person = app.admin.fetch("people", rosa.id).await;
    assert_eq!(now.fields.phones.first().map(|p| p.number.as_str()), Some("+47 555 01234"));
    let changes = history(&web, &page_path).await;
    assert!(changes.contains("+47 555 01234"), "not in the history: {changes}");

    // Refused values change nothing.
    let email = format!("/people/{}/facts/email", rosa.id);
    let bad = web.htmx_post(&email, &[("version", "2"), ("value", "not an address")]).await.want(422);
    assert!(alert(&bad.text).starts_with("The email"), "{}", alert(&bad.text));
    let bad_phone = web.htmx_post(&phone, &[("version", "2"), ("value", "call me")]).await.want(422);
    assert_eq!(alert(&bad_phone.text), "The phone is not valid: not a phone number.");
    let stage = format!("/people/{}/facts/stage", rosa.id);
    web.htmx_post(&stage, &[("version", "2"), ("value", "royalty")]).await.want(422);
    let after: Person = app.admin.fetch("people", rosa.id).await;
    assert_eq!(after, now, "a refused value changed the person");

    // A stale version.
    let stale = web.htmx_post(&email, &[("version", "1"), ("value", "rosa@larsen.example")]).await.want(409);
    assert!(alert(&stale.text).contains("it is now “rosa@example.com”"), "{}", alert(&stale.text));

    // The other facts.
    web.htmx_post(&stage, &[("version", "2"), ("value", "customer")]).await.want(200);
    let source = format!("/people/{}/facts/source", rosa.id);
    web.htmx_post(&source, &[("version", "3"), ("value", "Trade fair")]).await.want(200);
    let title = format!("/people/{}/facts/job_title", rosa.id);
    web.htmx_post(&title, &[("version", "4"), ("value", "Head baker")]).await.want(200);
    let owner = format!("/people/{}/facts/owner", rosa.id);
    web.htmx_post(&owner, &[("version", "5"), ("value", &app.admin_user.id.to_string())]).await.want(200);
    let saved: Person = app.admin.fetch("people", rosa.id).await;
    assert_eq!(saved.fields.lifecycle_stage.as_str(), "customer");
    assert_eq!(saved.fields.source.as_ref().map(|s| s.as_str()), Some("Trade fair"));
    assert_eq!(saved.fields.job_title.as_ref().map(|s| s.as_str()), Some("Head baker"));
    assert_eq!(saved.fields.owner_id, Some(app.admin_user.id));
    let page = unescape(&web.get(&page_path).await.want(200).text);
    assert!(page.contains(">Trade fair</span>") && page.contains(">Head baker</span>"), "the page shows old facts");
}

async fn only_who_may_edit_the_record_edits_in_place(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sales = create_sales_pipeline(&app.admin).await;
    let admin = app.admin_user.id;
    let rosa = create_person_with(&app.admin, json!({ "first_name": "Rosa", "owner_id": admin })).await;
    let acme = app.admin.create::<Company>("companies", json!({ "name": "Acme", "owner_id": admin })).await;
    let deal = create_deal(&app.admin, &sales, "Big order", json!({ "owner_id": admin })).await;
    let fields = [
        (format!("/people/{}/cells/email", rosa.id), "rosa@example.com"),
        (format!("/people/{}/facts/source", rosa.id), "Fair"),
        (format!("/companies/{}/cells/name", acme.id), "Acme Ltd"),
        (format!("/deals/{}/cells/name", deal.id), "Bigger order"),
    ];

    // A viewer: no Edit buttons, the editor and a forced save refused.
    let (_, viewer) = app.web_user(Role::Viewer, None).await;
    for page in ["/people".to_owned(), format!("/people/{}", rosa.id), "/companies".to_owned(), "/deals".to_owned()] {
        let text = viewer.get(&page).await.want(200).text;
        assert!(!text.contains("class=\"cell-edit\""), "a viewer has Edit buttons on {page}");
    }
    for (base, value) in &fields {
        viewer.htmx_get(&format!("{base}/edit")).await.want(403);
        viewer.htmx_post(base, &[("version", "1"), ("value", value)]).await.want(403);
        // Cancel only shows the field: anyone signed in may ask for it.
        viewer.htmx_get(base).await.want(200);
    }
    // An agent outside the owner's team: the same refusal.
    let (_, agent) = app.web_user(Role::Agent, None).await;
    assert!(!agent.get("/deals").await.want(200).text.contains("class=\"cell-edit\""));
    for (base, value) in &fields {
        agent.htmx_post(base, &[("version", "1"), ("value", value)]).await.want(403);
    }
    let person: Person = app.admin.fetch("people", rosa.id).await;
    let company: Company = app.admin.fetch("companies", acme.id).await;
    let after: Deal = app.admin.fetch("deals", deal.id).await;
    assert_eq!(
        (person.meta.version, company.meta.version, after.meta.version),
        (1, 1, 1),
        "a refused save changed a record"
    );
}
