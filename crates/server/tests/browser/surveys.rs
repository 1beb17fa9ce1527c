//! A customer answers an emailed survey link on a phone: the page needs no
//! sign-in, fits the screen, works from the keyboard; what they wrote,
//! hostile markup included, shows on the staff dashboard as text.

use rapport_domain::access::Role;
use rapport_domain::surveys::{AnswerSubject, PublicUrl, SendInput, SendOutcome, SurveySettings, templates};
use thirtyfour::prelude::*;

use super::harness::{PHONE, scenario};

const HOSTILE: &str = "Late delivery <img src=x onerror=alert(1)> again";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_answers_on_a_phone() {
    scenario("survey", |ctx| async move {
        let (_, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let person = ctx.app.create_person(&admin, "Mary", "Jackson", Some("mary@example.com")).await;
        let settings =
            SurveySettings { public_url: Some(PublicUrl::parse(&ctx.app.base_url).unwrap()), quiet_days: 30 };
        ctx.store().set_survey_settings(&admin, settings).await.unwrap();
        let survey = ctx.store().create_survey(&admin, templates()[0].clone()).await.unwrap();
        let input = SendInput { person_id: person.id, subject: AnswerSubject::default(), email: false };
        let SendOutcome::Sent { link, .. } = ctx.store().send_survey(&admin, survey.id, input).await.unwrap() else {
            panic!("not sent");
        };
        let path = link.strip_prefix(&ctx.app.base_url).unwrap().to_owned();

        ctx.set_size(PHONE).await;
        ctx.visit(&path).await;
        ctx.screenshots("survey-answer").await;
        let heading = ctx.find("main h1").await.text().await.unwrap();
        assert_eq!(heading, "Net Promoter Score");
        let widths = ctx.js("return [document.documentElement.scrollWidth, window.innerWidth];").await;
        assert!(widths[0].as_i64() <= widths[1].as_i64(), "the survey page scrolls sideways: {widths}");
        // Every score is a labelled radio button in one group a screen reader announces with its question.
        let radios = ctx.all_now("fieldset input[type=radio][name=q_score]").await;
        assert_eq!(radios.len(), 11);
        let legend = ctx.find("fieldset legend").await.text().await.unwrap();
        assert!(legend.contains("recommend"), "{legend}");

        // From the keyboard: into the score group, arrow to a score, on to the comment, and send.
        radios[0].send_keys(Key::Space).await.unwrap();
        for _ in 0..3 {
            ctx.driver.active_element().await.unwrap().send_keys(Key::Right).await.unwrap();
        }
        ctx.driver.active_element().await.unwrap().send_keys(Key::Tab).await.unwrap();
        ctx.driver.active_element().await.unwrap().send_keys(HOSTILE).await.unwrap();
        ctx.button("Send my answer").await.click().await.unwrap();
        ctx.find_text("main h1", "Thank you").await;
        ctx.check_page().await;

        let answers = ctx.store().list_answers(&Default::default(), 10).await.unwrap();
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].score, Some(3), "the arrows chose 3");
        assert_eq!(answers[0].comment.as_deref(), Some(HOSTILE));
        assert!(answers[0].follow_up_task_id.is_some(), "a detractor's follow-up task");

        ctx.set_size((1280, 900)).await;
        ctx.sign_in_ok("ada@example.com").await;
        for page in ["/feedback".to_owned(), format!("/people/{}", person.id)] {
            ctx.visit(&page).await;
            let shown = ctx.js("return document.body.innerText;").await;
            assert!(shown.as_str().unwrap().contains(HOSTILE), "{page} shows the comment as text");
            let injected = ctx.js("return document.querySelectorAll('img[src=x]').length;").await;
            assert_eq!(injected, 0, "{page} made an element of the comment");
        }
        ctx.screenshots("feedback").await;
    })
    .await;
}
