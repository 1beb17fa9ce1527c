//! Email on the pages: an admin sets outgoing mail up against a real SMTP
//! server (aiosmtpd), checks it with a test message, replies from a ticket
//! and watches the reply go out; sets incoming mail up against a real IMAP
//! server (Dovecot) and fetches a customer's email into a ticket; bad
//! settings are refused beside their fields; a customer's email shows its
//! sender, formatted text and attachment, which another team's agent can
//! reach neither way.

use std::time::{Duration, Instant};

use rapport_domain::access::Role;
use rapport_domain::email::Email;
use rapport_domain::mail::{InboundAttachment, InboundEmail, Received, reply_subject};
use rapport_domain::tickets::{TicketChannel, TicketInput};
use rapport_storage::{ListQuery, TicketFilter};
use rapport_testing::mail_servers::{ImapServer, SmtpServer};

use super::harness::{Ctx, WAIT, name_of, scenario};
use super::tickets::{member, team};

async fn open_outgoing_settings(ctx: &Ctx) {
    ctx.visit("/settings/mail").await;
    ctx.find("nav.settings-tabs a[href='/settings/mail'][aria-current='page']").await;
    ctx.find_text("#outgoing-state", "Off").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_outgoing_settings_are_refused() {
    scenario("mail-settings-refused", |ctx| async move {
        ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        ctx.sign_in_ok("ada@example.com").await;
        open_outgoing_settings(&ctx).await;

        ctx.fill("#f-smtp_host", "smtp example").await;
        ctx.fill("#f-smtp_port", "0").await;
        ctx.fill("#f-smtp_password", "hunter2").await;
        ctx.fill("#f-smtp_from_address", "not an address").await;
        ctx.button("Save outgoing mail").await.click().await.unwrap();
        for field in ["smtp_host", "smtp_port", "smtp_from_address"] {
            let error = ctx.find(&format!("#e-{field}")).await.text().await.unwrap();
            assert!(!error.is_empty(), "no message beside {field}");
        }
        let port = ctx.find("#e-smtp_port").await.text().await.unwrap();
        assert_eq!(port, "Port must be a number from 1 to 65535");
        ctx.check_page().await;
        assert_eq!(ctx.find("#f-smtp_host").await.value().await.unwrap().as_deref(), Some("smtp example"));
        assert_eq!(
            ctx.find("#f-smtp_password").await.value().await.unwrap().as_deref(),
            Some(""),
            "the password was sent back to the browser"
        );
        assert!(ctx.store().smtp_settings().await.unwrap().is_none(), "refused settings were saved");

        // Well-formed, but a user name without a password: the domain's own check, beside the field.
        ctx.fill("#f-smtp_host", "127.0.0.1").await;
        ctx.fill("#f-smtp_port", "2525").await;
        ctx.fill("#f-smtp_username", "rapport").await;
        ctx.fill("#f-smtp_from_address", "help@example.com").await;
        ctx.button("Save outgoing mail").await.click().await.unwrap();
        let error = ctx.find("#e-smtp_password").await.text().await.unwrap();
        assert_eq!(error, "Password is required with a username");
        ctx.screenshots("refused").await;
        assert!(ctx.store().smtp_settings().await.unwrap().is_none(), "refused settings were saved");
        ctx.find_text("#outgoing-state", "Off").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_by_email_and_see_it_sent() {
    let smtp = SmtpServer::start();
    scenario("mail-reply", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let grace = ctx.app.create_person(&ada, "Grace", "Hopper", Some("grace@example.com")).await;
        let input = TicketInput::new(grace.id, name_of("Refund please"), TicketChannel::Email);
        let ticket = ctx.store().create_ticket(&ada, input).await.expect("create a ticket");
        ctx.sign_in_ok("ada@example.com").await;

        // Before mail is set up, the reply box says replies stay here.
        ctx.visit(&format!("/tickets/{}", ticket.id)).await;
        ctx.find_text(".reply-form .hint", "Outgoing mail is not set up").await;

        open_outgoing_settings(&ctx).await;
        ctx.fill("#f-smtp_host", "127.0.0.1").await;
        ctx.fill("#f-smtp_port", &smtp.port.to_string()).await;
        ctx.find("#f-smtp_security option[value='none']").await.click().await.unwrap();
        ctx.fill("#f-smtp_from_address", "help@example.com").await;
        ctx.fill("#f-smtp_from_name", "Acme Support").await;
        ctx.button("Save outgoing mail").await.click().await.unwrap();
        ctx.wait_toast("Outgoing mail was saved").await;
        ctx.find_text("#outgoing-state", "On").await;
        ctx.check_page().await;
        let saved = ctx.store().smtp_settings().await.unwrap().expect("saved settings");
        assert_eq!((saved.port, saved.from_address.as_str()), (smtp.port, "help@example.com"));

        // A test message, with the server's answer on the page.
        ctx.fill("#f-test_to", "grace@example.com").await;
        // Scrolled up from under the confirmation, which sits at the bottom of the window.
        let send = ctx.button("Send test message").await;
        send.scroll_into_view().await.unwrap();
        send.click().await.unwrap();
        let outcome = ctx.find("#test-outcome").await.text().await.unwrap();
        assert!(
            outcome.contains("Sent to grace@example.com. The server answered: 250"),
            "the outcome reads {outcome:?}"
        );
        ctx.check_page().await;
        ctx.screenshots("settings").await;
        let received = tokio::task::block_in_place(|| smtp.wait_for(1, Duration::from_secs(5)));
        assert!(received[0].contains("Subject: Rapport test message"), "the test message reads {}", received[0]);

        // A reply from the ticket page goes out, and the page shows it sent.
        ctx.visit(&format!("/tickets/{}", ticket.id)).await;
        ctx.find_text(".reply-form .hint", "Replies are emailed to grace@example.com").await;
        ctx.fill("#f-body", "Your refund is on its way.").await;
        ctx.button("Send").await.click().await.unwrap();
        ctx.wait_toast("Reply added").await;
        let sent = ctx.find(".message.reply .delivery.sent").await.text().await.unwrap();
        assert!(sent.contains("Emailed to grace@example.com · Sent"), "the delivery reads {sent:?}");
        assert!(sent.contains("The server answered: 250"), "the delivery reads {sent:?}");
        ctx.check_page().await;
        ctx.screenshots("ticket").await;

        let received = tokio::task::block_in_place(|| smtp.wait_for(2, Duration::from_secs(5)));
        assert_eq!(received.len(), 2, "the reply did not arrive");
        let reply = &received[1];
        let subject = reply_subject("Refund please", ticket.id);
        assert!(reply.contains(&format!("Subject: {subject}")), "the reply's subject: {reply}");
        assert!(reply.contains("To: grace@example.com"), "the reply's recipient: {reply}");
        assert!(reply.contains("Your refund is on its way."), "the reply's body: {reply}");
        assert!(reply.contains("Acme Support"), "the reply's sender: {reply}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_teams_agent_reaches_neither_ticket_nor_attachment() {
    scenario("mail-attachment", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let north = team(&ctx, &ada, "North").await;
        let south = team(&ctx, &ada, "South").await;
        let ann = member(&ctx, "Ann Agent", "ann@example.com", Role::Agent, north).await;
        member(&ctx, "Bob Agent", "bob@example.com", Role::Agent, south).await;
        ctx.app.create_person(&ada, "Grace", "Hopper", Some("grace@example.com")).await;
        let mail = InboundEmail {
            key: "printer-1@example.com".into(),
            message_id: Some("printer-1@example.com".into()),
            answers: Vec::new(),
            from: Email::parse("grace@example.com").unwrap(),
            from_name: Some("Grace Hopper".into()),
            to: vec!["help@example.com".into()],
            subject: "The printer is on fire".into(),
            text: "See the photo.".into(),
            html: Some("<p>See the <b>photo</b>.</p>".into()),
            attachments: vec![InboundAttachment {
                filename: "fire \"1\".txt".into(),
                content_type: "text/html".into(),
                data: b"<script>alert(1)</script>".to_vec(),
            }],
            too_large: Vec::new(),
            automatic: None,
        };
        let Received::Opened { ticket_id, .. } = ctx.store().receive_email(mail).await.unwrap() else {
            panic!("the email opened no ticket")
        };
        // Unassigned tickets are everyone's queue: give it to North.
        let mut fields = ctx.store().get_ticket(&ada, ticket_id).await.unwrap().fields;
        fields.team_id = Some(north);
        fields.assignee_id = Some(ann.id);
        ctx.store().update_ticket(&ada, ticket_id, fields, None).await.unwrap();
        let path = format!("/tickets/{ticket_id}");

        // Ann sees who wrote, the formatted text, and downloads the file as a file.
        ctx.sign_in_ok("ann@example.com").await;
        ctx.visit(&path).await;
        let head = ctx.find(".message.customer .message-head").await.text().await.unwrap();
        assert!(head.contains("<grace@example.com>"), "the sender reads {head:?}");
        ctx.find(".message.customer details.formatted summary").await.click().await.unwrap();
        let bold = ctx.find(".message.customer .formatted-body b").await.text().await.unwrap();
        assert_eq!(bold, "photo");
        let link = ctx.find_text(".message.customer .attachments a", "fire \"1\".txt").await;
        let href = link.attr("href").await.unwrap().expect("a download link");
        ctx.check_page().await;
        ctx.screenshots("ticket").await;
        let fetch = format!(
            "return fetch({href:?}).then(async r => ({{ status: r.status, type: r.headers.get('content-type'), \
             disposition: r.headers.get('content-disposition'), sniff: r.headers.get('x-content-type-options'), \
             body: await r.text() }}));"
        );
        let download = ctx.js(&fetch).await;
        assert_eq!(download["status"], 200);
        assert_eq!(download["type"], "application/octet-stream");
        assert_eq!(download["sniff"], "nosniff");
        assert_eq!(
            download["disposition"],
            "attachment; filename=\"fire _1_.txt\"; filename*=UTF-8''fire%20%221%22.txt"
        );
        assert_eq!(download["body"], "<script>alert(1)</script>");

        // Bob, of South, gets "not found" for both.
        ctx.button("Sign out").await.click().await.unwrap();
        ctx.wait_path("the login page", |p| p.starts_with("/login")).await;
        ctx.sign_in_ok("bob@example.com").await;
        ctx.visit(&path).await;
        assert_eq!(ctx.find("h1").await.text().await.unwrap().trim(), "Not found", "Bob sees the ticket");
        let body = ctx.find("body").await.text().await.unwrap();
        assert!(!body.contains("printer"), "the page leaks the subject: {body}");
        let denied = ctx.js(&format!("return fetch({href:?}).then(r => r.status);")).await;
        assert_eq!(denied, 404, "Bob downloads the attachment");
        ctx.visit(&href).await;
        assert_eq!(ctx.find("h1").await.text().await.unwrap().trim(), "Not found");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_a_customers_email_into_a_ticket() {
    let imap = ImapServer::start("support", "s3cret");
    imap.deliver(
        "From: Linus Customer <linus@example.com>\r\nTo: support@example.com\r\nSubject: Kernel panic\r\n\
         Message-ID: <panic-1@example.com>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n\r\nIt panics at boot.\r\n",
    );
    scenario("mail-fetch", |ctx| async move {
        let (_, ada) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        ctx.sign_in_ok("ada@example.com").await;
        ctx.visit("/settings/mail").await;
        ctx.find_text("#incoming-state", "Off").await;
        ctx.fill("#f-imap_host", "127.0.0.1").await;
        ctx.fill("#f-imap_port", &imap.port.to_string()).await;
        ctx.find("#f-imap_security option[value='none']").await.click().await.unwrap();
        ctx.fill("#f-imap_username", "support").await;
        ctx.fill("#f-imap_password", "s3cret").await;
        let save = ctx.button("Save incoming mail").await;
        save.scroll_into_view().await.unwrap();
        save.click().await.unwrap();
        ctx.wait_toast("Incoming mail was saved: INBOX on 127.0.0.1").await;
        ctx.find_text("#incoming-state", "On").await;
        ctx.find_text("#h-imap_password", "A password is set").await;
        ctx.check_page().await;

        let fetch = ctx.button("Fetch mail now").await;
        fetch.scroll_into_view().await.unwrap();
        fetch.click().await.unwrap();
        ctx.wait_toast("Fetching mail now").await;
        let started = Instant::now();
        let ticket = loop {
            let page = ctx.store().list_tickets(&ada, &ListQuery::default(), &TicketFilter::default()).await.unwrap();
            if let Some(ticket) = page.items.into_iter().next() {
                break ticket;
            }
            assert!(started.elapsed() < WAIT, "the fetched email opened no ticket within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(ticket.fields.subject.as_str(), "Kernel panic");
        ctx.visit(&format!("/tickets/{}", ticket.id)).await;
        let message = ctx.find(".message.customer").await.text().await.unwrap();
        assert!(
            message.contains("<linus@example.com>") && message.contains("It panics at boot."),
            "the message reads {message:?}"
        );
        // Marked seen after it was taken in, so it is not fetched twice.
        let started = Instant::now();
        while imap.seen() == 0 {
            assert!(started.elapsed() < WAIT, "the message was not marked seen within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
}
