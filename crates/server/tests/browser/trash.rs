//! Deleting a person, finding them in the trash, restoring them, and seeing
//! it all in their history.

use rapport_domain::access::Role;
use rapport_domain::text::Name;

use super::harness::scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_then_restore_from_the_trash() {
    scenario("trash", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let person = ctx.app.create_person(&ada, "Grace", "Hopper", Some("grace@example.com")).await;
        let mut changed = person.fields.clone();
        changed.job_title = Some(Name::try_from("Rear Admiral").unwrap());
        ctx.store().update_person(&ada, person.id, changed, None).await.expect("a change for the history");
        ctx.sign_in_ok("ada@example.com").await;

        // Delete (accepting the confirmation): the list says where it went and offers Undo.
        let page = format!("/people/{}", person.id);
        ctx.visit(&page).await;
        ctx.js("window.confirm = () => true; return true;").await;
        ctx.button("Delete").await.click().await.unwrap();
        ctx.wait_path("the people list", |p| p == "/people").await;
        let notice = ctx.find(".undo-notice").await.text().await.unwrap();
        assert!(notice.contains("Grace Hopper was moved to the trash"), "the notice says {notice:?}");
        ctx.check_page().await;
        ctx.screenshots("deleted").await;
        assert!(ctx.store().get_person(person.id).await.is_err(), "the person is still there");

        // The trash lists them; Restore brings them back to their page.
        ctx.find("nav a[href='/trash']").await.click().await.unwrap();
        ctx.wait_path("the trash", |p| p == "/trash").await;
        ctx.check_page().await;
        let row = ctx.find_text(".trash-list li", "Grace Hopper").await.text().await.unwrap();
        assert!(row.contains("Deleted by Ada Admin"), "the trash row says {row:?}");
        ctx.screenshots("trash").await;
        ctx.button("Restore").await.click().await.unwrap();
        ctx.wait_path("the restored person's page", |p| p == page).await;
        ctx.wait_toast("restored").await;
        assert_eq!(ctx.store().get_person(person.id).await.unwrap().fields.full_name(), "Grace Hopper");

        // Their history tells the story, newest first.
        let history = ctx.find(".history").await.text().await.unwrap();
        let restored = history.find("restored it from the trash").expect("the restore is in the history");
        let deleted = history.find("moved it to the trash").expect("the delete is in the history");
        let changed = history.find("Rear Admiral").expect("the job title change is in the history");
        assert!(restored < deleted && deleted < changed, "not newest first: {history}");
        ctx.check_page().await;
        ctx.screenshots("history").await;
    })
    .await;
}
