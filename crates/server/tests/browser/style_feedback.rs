//! A staff member assesses themselves, partly from the keyboard, and reads
//! their style profile: the self view beside what three colleagues said in
//! an anonymous feedback round, the gap between them and steps to work on;
//! the round's page shows the colleagues' results without a name.

use rapport_domain::access::Role;
use rapport_domain::style_feedback::{FeedbackRoundInput, RatingsInput};
use rapport_domain::text::LongText;
use thirtyfour::prelude::*;

use super::harness::scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_member_assesses_themselves_and_reads_their_profile() {
    scenario("style-feedback", |ctx| async move {
        let (_, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let (sam, sam_actor) = ctx.app.create_user("Sam Agent", "sam@example.com", Role::Agent).await;
        let mut colleagues = Vec::new();
        for (name, email) in [
            ("Cleo Colleague", "cleo@example.com"),
            ("Dev Colleague", "dev@example.com"),
            ("Eve Colleague", "eve@example.com"),
        ] {
            colleagues.push(ctx.app.create_user(name, email, Role::Agent).await);
        }
        // Colleagues see Sam's follow-through as weak and his listening as good.
        let round = ctx
            .store()
            .create_feedback_round(
                &admin,
                FeedbackRoundInput {
                    subject_id: sam.id,
                    colleague_ids: colleagues.iter().map(|(u, _)| u.id).collect(),
                    open_days: None,
                    note: Some(LongText::try_from("How does Sam keep promises?").unwrap()),
                },
            )
            .await
            .unwrap();
        for (i, (_, actor)) in colleagues.iter().enumerate() {
            let request = ctx.store().pending_feedback_requests(actor).await.unwrap().remove(0);
            let scores =
                [("follow_through", 2), ("organisation", 1 + i as u8 % 2), ("active_listening", 5), ("empathy", 4)];
            let comment = ["Great listener", "Forgets to call back", "Kind on the phone"][i];
            let input = RatingsInput {
                scores: scores.iter().map(|(k, r)| ((*k).to_owned(), *r)).collect(),
                comment: Some(LongText::try_from(comment).unwrap()),
            };
            ctx.store().answer_feedback_request(actor, request.id, input).await.unwrap();
        }

        ctx.sign_in_ok("sam@example.com").await;
        ctx.visit("/style").await;
        ctx.find_text("main a.button", "Assess yourself").await.click().await.unwrap();
        ctx.wait_path("the self-assessment", |p| p == "/style/assessment").await;
        ctx.check_page().await;
        ctx.find_text("#last-assessment", "You have not assessed yourself yet.").await;

        // The first statement from the keyboard: into the group, then the arrows to 4.
        let first = ctx.find("input[name='scores.responsiveness'][value='1']").await;
        first.send_keys(Key::Space).await.unwrap();
        for _ in 0..3 {
            ctx.driver.active_element().await.unwrap().send_keys(Key::Right).await.unwrap();
        }
        let chosen =
            ctx.js("return document.querySelector(\"input[name='scores.responsiveness']:checked\").value;").await;
        assert_eq!(chosen, "4", "the arrow keys move the rating");
        // The rest by clicking their labels; product knowledge stays "Can't judge".
        for (key, value) in [
            ("clarity", "4"),
            ("follow_through", "5"),
            ("organisation", "5"),
            ("proactivity", "3"),
            ("active_listening", "4"),
            ("empathy", "4"),
            ("customer_outcomes", "4"),
        ] {
            let input = ctx.find(&format!("input[name='scores.{key}'][value='{value}']")).await;
            input.click().await.unwrap_or_else(|err| panic!("click {key} {value}: {err}"));
        }
        ctx.fill("#f-comment", "I always keep my promises").await;
        ctx.screenshots("assessment").await;
        ctx.button("Save my self-assessment").await.click().await.unwrap();
        let profile_path = format!("/style/{}", sam.id);
        ctx.wait_path("the profile", |p| p == profile_path).await;
        ctx.check_page().await;
        ctx.wait_toast("Your self-assessment was saved").await;

        // The self view beside the colleagues' view, per dimension.
        let cells = |key: &'static str| {
            let ctx = ctx.clone();
            async move {
                let row = ctx.find(&format!("#profile-{key}")).await;
                let cells = row.find_all(By::Css("td")).await.unwrap();
                let mut texts = Vec::new();
                for cell in cells {
                    texts.push(cell.text().await.unwrap().trim().to_owned());
                }
                texts
            }
        };
        let follow = cells("follow_through").await;
        assert_eq!(follow[0], "5.0/5", "the self view: {follow:?}");
        assert_eq!(follow[1], "1.7/5", "the colleagues' view: {follow:?}");
        let responsiveness = cells("responsiveness").await;
        assert_eq!(responsiveness[0], "4.0/5");
        assert_eq!(responsiveness[1], "—", "no colleague rated it");
        let touch = cells("personal_touch").await;
        assert_eq!(&touch[..2], ["4.0/5", "4.5/5"]);
        let findings = ctx.find("#profile-findings").await.text().await.unwrap();
        assert!(findings.starts_with("Gap. You rate your follow-through 5.0/5"), "{findings}");
        let work_on = ctx.find("#profile-work-on").await.text().await.unwrap();
        assert!(work_on.contains("Follow-through") && work_on.contains("Make a task with a due date"), "{work_on}");
        ctx.screenshots("profile").await;

        let stored = ctx.store().self_assessments(&sam_actor, sam.id).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].scores.len(), 8, "product knowledge was left unrated");
        assert_eq!(stored[0].comment.as_deref(), Some("I always keep my promises"));

        // The round the colleagues' view comes from: results and comments, no names.
        ctx.find_text("#profile-sources a", "the feedback round").await.click().await.unwrap();
        ctx.wait_path("the round", |p| p == format!("/style/feedback/rounds/{}", round.id)).await;
        ctx.check_page().await;
        assert_eq!(ctx.find("#round-answered").await.text().await.unwrap(), "3 of 3");
        let comments = ctx.find("#round-comments").await.text().await.unwrap();
        assert!(comments.contains("Forgets to call back"), "{comments}");
        let shown = ctx.js("return document.body.innerText;").await;
        for name in ["Cleo Colleague", "Dev Colleague", "Eve Colleague"] {
            assert!(!shown.as_str().unwrap().contains(name), "the round names {name}");
        }
        ctx.screenshots("round").await;
    })
    .await;
}
