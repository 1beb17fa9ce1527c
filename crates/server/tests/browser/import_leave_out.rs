//! Leaving out a column the import recognised by its header: its menu in the
//! preview offers "Leave out", and the people come in without that field.

use rapport_domain::access::Role;
use thirtyfour::components::SelectElement;

use super::harness::scenario;

const PEOPLE: &str = "First name,Last name,Email,Job title\n\
                      Katherine,Johnson,katherine@example.com,Mathematician\n\
                      Dorothy,Vaughan,dorothy@example.com,Supervisor\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leave_out_a_recognized_column() {
    scenario("import-leave-out", |ctx| async move {
        ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        ctx.sign_in_ok("ada@example.com").await;
        let dir = tempfile::tempdir().expect("a directory for the file");
        let file = dir.path().join("people.csv");
        std::fs::write(&file, PEOPLE).expect("write the CSV");

        ctx.visit("/import").await;
        ctx.find("#f-file").await.send_keys(file.display().to_string()).await.expect("choose the file");
        SelectElement::new(&ctx.find("#f-kind").await).await.unwrap().select_by_value("people").await.unwrap();
        ctx.button("Upload and preview").await.click().await.unwrap();
        ctx.wait_path("the preview", |p| p.starts_with("/import/uploads/")).await;
        ctx.check_page().await;
        ctx.find_text("table.import-preview td", "Mathematician").await;

        // The job title column is recognised, and can still be left out.
        let job_title = SelectElement::new(&ctx.find("#f-column_3").await).await.unwrap();
        let chosen = job_title.first_selected_option().await.unwrap().value().await.unwrap();
        assert_eq!(chosen.as_deref(), Some("job_title"), "the header is not recognised");
        job_title.select_by_exact_text("— Leave out —").await.expect("a Leave out choice");
        ctx.screenshots("preview").await;
        ctx.screenshot_at(1440, "preview").await;

        // "Preview again" keeps it out.
        ctx.button("Preview again").await.click().await.unwrap();
        ctx.find_text("table.import-preview td", "Dorothy").await;
        let kept = ctx
            .js("return document.querySelector('#f-column_3') && document.querySelector('#f-column_3').value;")
            .await;
        assert_eq!(kept, "", "the column came back after Preview again");
        ctx.button("Start import").await.click().await.unwrap();

        ctx.wait_path("the job's page", |p| p.starts_with("/import/jobs/")).await;
        let created = ctx.find("[data-count=created]").await.text().await.unwrap();
        assert_eq!(created.trim(), "2", "the report's created count");
        ctx.check_console().await;

        let people = ctx
            .store()
            .list_people(&rapport_storage::ListQuery::default(), &rapport_storage::PersonFilter::default())
            .await
            .expect("list people")
            .items;
        assert_eq!(people.len(), 2);
        assert!(people.iter().all(|p| p.fields.job_title.is_none()), "the left-out column was imported");
    })
    .await;
}
