//! Importing a CSV through the import page in the browser: upload it, fix a
//! column's field in the preview, start, and watch the progress turn into
//! the report.

use rapport_domain::access::Role;
use thirtyfour::components::SelectElement;

use super::harness::scenario;

const PEOPLE: &str = "Vorname,Nachname,Email\nKatherine,Johnson,katherine@example.com\nDorothy,Vaughan,dorothy@example.com\n,Nobody,not-an-email\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_people_from_a_csv() {
    scenario("import", |ctx| async move {
        ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        ctx.sign_in_ok("ada@example.com").await;
        let dir = tempfile::tempdir().expect("a directory for the file");
        let file = dir.path().join("people.csv");
        std::fs::write(&file, PEOPLE).expect("write the CSV");

        ctx.visit("/").await;
        ctx.find_text("nav a", "Import").await.click().await.unwrap();
        ctx.wait_path("the import page", |p| p == "/import").await;
        ctx.check_page().await;
        ctx.screenshots("upload").await;
        ctx.find("#f-file").await.send_keys(file.display().to_string()).await.expect("choose the file");
        SelectElement::new(&ctx.find("#f-kind").await).await.unwrap().select_by_value("people").await.unwrap();
        ctx.button("Upload and preview").await.click().await.unwrap();

        ctx.wait_path("the preview", |p| p.starts_with("/import/uploads/")).await;
        ctx.check_page().await;
        ctx.find_text("table.import-preview td", "Dorothy").await;
        // "Vorname" and "Nachname" name no field: pick them by hand.
        let first = SelectElement::new(&ctx.find("#f-column_0").await).await.unwrap();
        first.select_by_value("first_name").await.unwrap();
        SelectElement::new(&ctx.find("#f-column_1").await).await.unwrap().select_by_value("last_name").await.unwrap();
        ctx.screenshots("preview").await;
        ctx.button("Start import").await.click().await.unwrap();

        ctx.wait_path("the job's page", |p| p.starts_with("/import/jobs/")).await;
        ctx.check_page().await;
        let created = ctx.find("[data-count=created]").await.text().await.unwrap();
        assert_eq!(created.trim(), "2", "the report's created count");
        ctx.find_text("table.rejected td", "4").await;
        ctx.check_console().await;
        ctx.screenshots("report").await;

        let mut names: Vec<String> = Vec::new();
        let page = ctx
            .store()
            .list_people(&rapport_storage::ListQuery::default(), &rapport_storage::PersonFilter::default())
            .await
            .expect("list people");
        names.extend(page.items.iter().map(|p| p.fields.full_name()));
        names.sort();
        assert_eq!(names, ["Dorothy Vaughan", "Katherine Johnson"]);
    })
    .await;
}
