//! An edit conflict in the browser: while Ada edits a person, Bob saves a
//! change to it; Ada's save shows both, keeps what she typed, and saving
//! again applies her change over Bob's.

use rapport_domain::access::Role;
use rapport_domain::text::Name;

use super::harness::scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_over_someone_elses_change() {
    scenario("conflict", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let (_, bob) = ctx.app.create_user("Bob Other", "bob@example.com", Role::Admin).await;
        let person = ctx.app.create_person(&ada, "Grace", "Hopper", Some("grace@example.com")).await;
        ctx.sign_in_ok("ada@example.com").await;

        ctx.visit(&format!("/people/{}/edit", person.id)).await;
        ctx.fill("#f-last_name", "Murray").await;

        // Bob saves first: another last name, and a job title.
        let mut theirs = person.fields.clone();
        theirs.last_name = Some(Name::try_from("Brewster").unwrap());
        theirs.job_title = Some(Name::try_from("Rear Admiral").unwrap());
        ctx.store().update_person(&bob, person.id, theirs, Some(person.meta.version)).await.expect("Bob's save");

        ctx.button("Save").await.click().await.unwrap();
        let notice = ctx.find(".form-conflict").await.text().await.unwrap();
        assert!(notice.contains("Someone else changed this record"), "the notice says {notice:?}");
        assert!(notice.contains("Bob Other saved it"), "the notice does not say who: {notice:?}");
        ctx.check_page().await;
        let mine = ctx.find("#f-last_name").await.value().await.unwrap().unwrap_or_default();
        assert_eq!(mine, "Murray", "the form lost what Ada typed");
        let their_note = ctx.find("#t-last_name").await.text().await.unwrap();
        assert!(their_note.contains("Brewster"), "Bob's value is not shown beside Ada's: {their_note:?}");
        let job = ctx.find("#f-job_title").await.value().await.unwrap().unwrap_or_default();
        assert_eq!(job, "Rear Admiral", "Bob's untouched change is not in the form");
        ctx.button("Discard mine").await;
        ctx.screenshots("conflict").await;
        let stored = ctx.store().get_person(person.id).await.unwrap();
        assert_eq!(stored.fields.last_name.as_ref().map(|n| n.as_str()), Some("Brewster"));

        // Saving again applies Ada's change over Bob's.
        ctx.button("Save").await.click().await.unwrap();
        let page = format!("/people/{}", person.id);
        ctx.wait_path("the person's page", |p| p == page).await;
        // Found afresh by its text: the form page's heading may still be
        // there, going stale, when the address has already changed.
        let heading = ctx.find_text("main h1", "Grace Murray").await.text().await.unwrap();
        assert_eq!(heading.trim(), "Grace Murray");
        let saved = ctx.store().get_person(person.id).await.unwrap();
        assert_eq!(saved.fields.last_name.as_ref().map(|n| n.as_str()), Some("Murray"));
        assert_eq!(
            saved.fields.job_title.as_ref().map(|t| t.as_str()),
            Some("Rear Admiral"),
            "Bob's job title was lost"
        );
    })
    .await;
}
