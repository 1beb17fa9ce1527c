//! An admin finds the jobs page in the settings, sees a queued job, reaches
//! its Cancel button with the Tab key, presses Enter, and sees it cancelled.

use rapport_domain::access::Role;
use rapport_domain::jobs::JobStatus;
use rapport_storage::NewJob;
use thirtyfour::prelude::*;

use super::harness::scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_cancels_a_queued_job_with_the_keyboard() {
    scenario("jobs", |ctx| async move {
        let (ada, _) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        // An import due in an hour: no worker takes it during the scenario.
        let job = NewJob {
            run_at: rapport_domain::records::now() + time::Duration::hours(1),
            created_by: Some(ada.id),
            ..NewJob::new("import", serde_json::json!({ "file_name": "customers.csv" }))
        };
        let job = ctx.store().enqueue_job(job).await.unwrap().expect("the job is added");
        ctx.sign_in_ok("ada@example.com").await;

        // Settings → Jobs.
        ctx.find("nav a[href='/settings']").await.click().await.unwrap();
        ctx.wait_path("the settings", |p| p.starts_with("/settings")).await;
        ctx.find(".settings-tabs a[href='/jobs']").await.click().await.unwrap();
        ctx.wait_path("the jobs page", |p| p == "/jobs").await;
        ctx.check_page().await;
        let row_css = format!("tr[data-job='{}']", job.id);
        let row = ctx.find(&row_css).await.text().await.unwrap();
        assert!(row.contains("Import") && row.contains("customers.csv"), "the row says {row:?}");
        assert!(row.contains("Queued") && row.contains("Ada Admin"), "the row says {row:?}");
        let badge = ctx.find(&format!("{row_css} .badge")).await.attr("data-status").await.unwrap();
        assert_eq!(badge.as_deref(), Some("queued"));
        ctx.screenshots("queued").await;

        // Tab until the job's Cancel button has the focus, then Enter.
        let cancel = format!("form[action='/jobs/{}/cancel'] button", job.id);
        let focused = format!("return document.activeElement === document.querySelector(\"{cancel}\");");
        ctx.js("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); return true;").await;
        let mut presses = 0;
        while ctx.js(&focused).await != true {
            presses += 1;
            assert!(presses <= 80, "the Cancel button is not reached with the Tab key");
            ctx.driver.action_chain().send_keys(Key::Tab).perform().await.unwrap();
        }
        let label = ctx.js("return document.activeElement.getAttribute('aria-label');").await;
        assert!(label.as_str().is_some_and(|l| l.starts_with("Cancel the Import job")), "the button is called {label}");
        ctx.driver.action_chain().send_keys(Key::Enter).perform().await.unwrap();

        // Back on the page, with a confirmation and the job cancelled.
        ctx.wait_toast("was cancelled").await;
        ctx.wait_path("the jobs page again", |p| p == "/jobs").await;
        ctx.check_page().await;
        let badge = ctx.find(&format!("{row_css} .badge[data-status='cancelled']")).await.text().await.unwrap();
        assert_eq!(badge, "Cancelled");
        assert!(ctx.all_now(&cancel).await.is_empty(), "a cancelled job still offers Cancel");
        ctx.find(&format!("form[action='/jobs/{}/retry'] button", job.id)).await;
        assert_eq!(ctx.store().job(None, job.id).await.unwrap().status, JobStatus::Cancelled);
        ctx.screenshots("cancelled").await;

        // The Cancelled tab lists it; the Queued tab no longer does.
        ctx.find("nav.views a[href='/jobs?status=cancelled']").await.click().await.unwrap();
        ctx.wait_path("the cancelled jobs", |p| p == "/jobs?status=cancelled").await;
        ctx.find(&row_css).await;
        ctx.visit("/jobs?status=queued").await;
        assert!(ctx.all_now(&row_css).await.is_empty(), "the cancelled job is listed as queued");
    })
    .await;
}
