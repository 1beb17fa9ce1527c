//! Mail through real servers, on SQLite and PostgreSQL: a reply goes out
//! through the outbox job to a real SMTP server (aiosmtpd) threaded into
//! the customer's conversation, a refusal fails it with the server's
//! answer, an unreachable server is retried, and the IMAP fetch job takes a
//! real Dovecot mailbox's new mail in exactly once.

#[macro_use]
extern crate rapport_testing;

use std::time::Duration;

use rapport_domain::mail::{
    AttachmentInput, Host, ImapSettingsInput, MailSecurity, OutboxStatus, Secret, SmtpSettingsInput,
};
use rapport_domain::records::UserInput;
use rapport_domain::text::{LongText, Name};
use rapport_domain::tickets::{MessageInput, MessageKind, TicketMessage, TicketStatus};
use rapport_domain::{Actor, Email, Role, TicketId};
use rapport_jobs::{Runner, RunnerSettings, RunningJobs, mail};
use rapport_storage::{Store, TicketFilter};
use rapport_testing::mail_servers::{ImapServer, SmtpServer, free_port};
use rapport_testing::{Backend, TestDatabase};

backend_tests!(
    a_reply_arrives_threaded_and_the_answer_joins_the_ticket,
    a_refusal_fails_the_message_with_the_servers_answer,
    an_unreachable_server_is_retried_until_it_answers,
    the_mailbox_is_taken_in_once,
    a_deleted_tickets_reply_goes_out_once_it_is_restored,
    a_replys_files_arrive_intact_and_a_notes_stay_inside,
);

async fn open(backend: Backend) -> (TestDatabase, Store, Actor) {
    let db = TestDatabase::migrated(backend, Store::migrate_database).await;
    let store = Store::connect(&db.url).await.unwrap_or_else(|err| panic!("connect to {}: {err}", db.url));
    let input = UserInput {
        name: Name::try_from("Admin").unwrap(),
        email: Email::parse("admin@shop.example").unwrap(),
        role: Role::Admin,
        team_id: None,
        active: true,
    };
    let user = store.create_user(input, None, None).await.expect("create a user");
    (db, store, Actor { user_id: user.id, role: Role::Admin, team_id: None })
}

fn runner(store: &Store) -> RunningJobs {
    let settings = RunnerSettings { poll: Duration::from_millis(50), ..RunnerSettings::default() };
    Runner::new(store.clone(), settings).handle(mail::SEND, mail::send()).handle(mail::FETCH, mail::fetch()).start()
}

async fn set_smtp(store: &Store, admin: &Actor, port: u16) {
    let input = SmtpSettingsInput {
        host: Host::try_from("127.0.0.1".to_owned()).unwrap(),
        port,
        security: MailSecurity::None,
        username: None,
        password: None,
        from_address: Email::parse("help@shop.example").unwrap(),
        from_name: Some(Name::try_from("Shop support").unwrap()),
    };
    store.set_smtp_settings(admin, input).await.expect("set SMTP");
}

/// A customer's first email, as the MTA pipe would hand it over.
async fn customer_writes(store: &Store, raw: &str) -> TicketId {
    match rapport_mail::receive(store, raw.as_bytes()).await.expect("take the message in") {
        rapport_domain::mail::Received::Opened { ticket_id, .. } => ticket_id,
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

const QUESTION: &str = "From: Grace Hopper <grace@navy.example>\r\nTo: help@shop.example\r\nSubject: Where is my parcel?\r\nMessage-ID: <q1@navy.example>\r\n\r\nOrdered last week, nothing yet.\r\n";

async fn reply(store: &Store, admin: &Actor, ticket: TicketId, body: &str) -> TicketMessage {
    let input = MessageInput {
        kind: MessageKind::Reply,
        body: LongText::try_from(body).unwrap(),
        status: None,
        attachments: Vec::new(),
    };
    store.add_ticket_message(admin, ticket, input).await.expect("reply").1
}

/// The reply's delivery once it is no longer queued (or after `within`).
async fn settled(store: &Store, admin: &Actor, ticket: TicketId, within: Duration) -> rapport_domain::mail::Delivery {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let messages = store.ticket_messages(admin, ticket).await.unwrap();
        let delivery = messages.iter().rev().find_map(|m| m.delivery.clone()).expect("a reply with a delivery");
        if delivery.status != OutboxStatus::Queued || tokio::time::Instant::now() > deadline {
            return delivery;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    raw.lines().find(|line| line.to_ascii_lowercase().starts_with(&prefix)).map(|line| line[prefix.len()..].trim())
}

async fn a_reply_arrives_threaded_and_the_answer_joins_the_ticket(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let smtp = SmtpServer::start();
    set_smtp(&store, &admin, smtp.port).await;
    let ticket = customer_writes(&store, QUESTION).await;
    let jobs = runner(&store);

    reply(&store, &admin, ticket, "It left our warehouse today.").await;
    let delivery = settled(&store, &admin, ticket, Duration::from_secs(20)).await;
    assert_eq!(delivery.status, OutboxStatus::Sent, "{delivery:?}");
    assert!(delivery.server_reply.as_deref().is_some_and(|r| r.starts_with("250")), "{delivery:?}");
    assert!(delivery.sent_at.is_some());

    let received = smtp.wait_for(1, Duration::from_secs(5));
    assert_eq!(received.len(), 1);
    let sent = &received[0];
    assert_eq!(header(sent, "To"), Some("grace@navy.example"));
    assert!(header(sent, "From").is_some_and(|f| f.contains("help@shop.example")), "{sent}");
    assert_eq!(header(sent, "In-Reply-To"), Some("<q1@navy.example>"), "{sent}");
    assert_eq!(header(sent, "References"), Some("<q1@navy.example>"), "{sent}");
    let token = rapport_domain::mail::ticket_token(ticket);
    assert!(header(sent, "Subject").is_some_and(|s| s.contains(&format!("[#{token}]"))), "{sent}");
    assert!(sent.contains("It left our warehouse today."), "{sent}");
    let message_id = header(sent, "Message-ID").expect("a Message-ID").to_owned();

    // Grace answers from her mail program: it joins the same ticket.
    let answer = format!(
        "From: grace@navy.example\r\nTo: help@shop.example\r\nSubject: Re: Where is my parcel?\r\nMessage-ID: <q2@navy.example>\r\nIn-Reply-To: {message_id}\r\nReferences: <q1@navy.example> {message_id}\r\n\r\nThanks!\r\n"
    );
    match rapport_mail::receive(&store, answer.as_bytes()).await.unwrap() {
        rapport_domain::mail::Received::Joined { ticket_id, .. } => assert_eq!(ticket_id, ticket),
        other => panic!("the answer should join its ticket, got {other:?}"),
    }
    let t = store.get_ticket(&admin, ticket).await.unwrap();
    assert_eq!(t.message_count, 3);
    assert_eq!(t.fields.status, TicketStatus::Open);
    jobs.shutdown().await;
}

async fn a_replys_files_arrive_intact_and_a_notes_stay_inside(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let smtp = SmtpServer::start();
    set_smtp(&store, &admin, smtp.port).await;
    let ticket = customer_writes(&store, QUESTION).await;
    let jobs = runner(&store);

    // Every byte value, and then some: nothing may be lost in the encoding.
    let label: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let files = vec![
        AttachmentInput {
            filename: "Versandetikett Nr. 1.pdf".into(),
            content_type: "application/pdf".into(),
            data: label,
        },
        AttachmentInput {
            filename: "tracking.txt".into(),
            content_type: "text/plain".into(),
            data: b"DHL 0042\n".to_vec(),
        },
    ];
    let note = MessageInput {
        kind: MessageKind::Note,
        body: LongText::try_from("Label printed, see file.").unwrap(),
        status: None,
        attachments: vec![files[1].clone()],
    };
    let (_, noted) = store.add_ticket_message(&admin, ticket, note).await.expect("a note with a file");
    assert_eq!(noted.attachments.len(), 1, "the note keeps its file");
    assert!(noted.delivery.is_none(), "a note is never emailed");
    let input = MessageInput {
        kind: MessageKind::Reply,
        body: LongText::try_from("Your label and tracking number are attached.").unwrap(),
        status: None,
        attachments: files.clone(),
    };
    let (_, sent) = store.add_ticket_message(&admin, ticket, input).await.expect("a reply with files");
    let listed: Vec<_> = sent.attachments.iter().map(|a| (a.filename.as_str(), a.size)).collect();
    assert_eq!(listed, [("Versandetikett Nr. 1.pdf", 70_000), ("tracking.txt", 9)]);

    let delivery = settled(&store, &admin, ticket, Duration::from_secs(20)).await;
    assert_eq!(delivery.status, OutboxStatus::Sent, "{delivery:?}");
    let received = smtp.wait_for(1, Duration::from_secs(5));
    assert_eq!(received.len(), 1, "one email: the reply, not the note");
    let raw = &received[0];
    assert!(header(raw, "Content-Type").is_some_and(|t| t.starts_with("multipart/mixed")), "{raw}");
    assert_eq!(header(raw, "In-Reply-To"), Some("<q1@navy.example>"));
    assert_eq!(header(raw, "References"), Some("<q1@navy.example>"));
    assert!(header(raw, "Message-ID").is_some_and(|id| id.ends_with("@shop.example>")), "{raw}");
    let parsed = rapport_mail::parse::parse(raw.as_bytes()).expect("the email parses");
    assert!(parsed.text.contains("Your label and tracking number are attached."), "{}", parsed.text);
    assert!(!parsed.text.contains("Label printed"), "the note's words stay inside");
    assert_eq!(parsed.attachments.len(), 2, "{raw}");
    for (want, got) in files.iter().zip(&parsed.attachments) {
        assert_eq!((&got.filename, &got.content_type), (&want.filename, &want.content_type));
        assert!(got.data == want.data, "{}: the bytes changed on the way", want.filename);
    }
    jobs.shutdown().await;
}

async fn a_deleted_tickets_reply_goes_out_once_it_is_restored(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let smtp = SmtpServer::start();
    set_smtp(&store, &admin, smtp.port).await;
    let ticket = customer_writes(&store, QUESTION).await;
    reply(&store, &admin, ticket, "It left our warehouse today.").await;
    store.delete_ticket(&admin, ticket).await.expect("delete the ticket");
    let jobs = runner(&store);

    // Its send job finds nothing to send, and is done rather than retried.
    let filter = rapport_storage::JobFilter { kind: Some(mail::SEND.into()), limit: 10, ..Default::default() };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let first = loop {
        let listed = store.list_jobs(None, &filter).await.unwrap();
        if listed[0].status == rapport_domain::jobs::JobStatus::Done || tokio::time::Instant::now() > deadline {
            break listed[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(first.status, rapport_domain::jobs::JobStatus::Done, "{first:?}");
    assert_eq!(first.attempts, 1, "{first:?}");

    // Restored, the reply goes out, once.
    let trash = store.list_trash(None, time::Duration::days(30), None, 10).await.unwrap();
    store.restore_from_trash(&admin, trash[0].id).await.expect("restore the ticket");
    let delivery = settled(&store, &admin, ticket, Duration::from_secs(20)).await;
    assert_eq!(delivery.status, OutboxStatus::Sent, "{delivery:?}");
    let received = smtp.wait_for(1, Duration::from_secs(5));
    assert_eq!(received.len(), 1);
    assert!(received[0].contains("It left our warehouse today."));
    jobs.shutdown().await;
}

async fn a_refusal_fails_the_message_with_the_servers_answer(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let smtp = SmtpServer::refusing();
    set_smtp(&store, &admin, smtp.port).await;
    let ticket = customer_writes(&store, QUESTION).await;
    let jobs = runner(&store);
    reply(&store, &admin, ticket, "This will bounce.").await;
    let delivery = settled(&store, &admin, ticket, Duration::from_secs(20)).await;
    assert_eq!(delivery.status, OutboxStatus::Failed, "a 5xx is final: {delivery:?}");
    assert_eq!(delivery.attempts, 1);
    assert!(delivery.server_reply.as_deref().is_some_and(|r| r.contains("550")), "{delivery:?}");
    jobs.shutdown().await;
}

async fn an_unreachable_server_is_retried_until_it_answers(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let port = free_port();
    set_smtp(&store, &admin, port).await;
    let ticket = customer_writes(&store, QUESTION).await;
    let jobs = runner(&store);
    reply(&store, &admin, ticket, "Sent once the server is back.").await;

    // The first attempt finds nobody listening: still queued, the error kept.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let first = loop {
        let delivery = settled(&store, &admin, ticket, Duration::ZERO).await;
        if delivery.attempts > 0 || tokio::time::Instant::now() > deadline {
            break delivery;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(first.status, OutboxStatus::Queued, "{first:?}");
    assert_eq!(first.attempts, 1);
    assert!(first.server_reply.is_some(), "the connection error is shown");

    // The server comes up; the retry (10 s backoff) delivers it.
    let smtp = SmtpServer::on_port(port, false);
    let delivery = settled(&store, &admin, ticket, Duration::from_secs(30)).await;
    assert_eq!(delivery.status, OutboxStatus::Sent, "{delivery:?}");
    assert_eq!(delivery.attempts, 2);
    assert_eq!(smtp.wait_for(1, Duration::from_secs(5)).len(), 1);
    jobs.shutdown().await;
}

async fn the_mailbox_is_taken_in_once(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let imap = ImapServer::start("support@shop.example", "s3cret");
    imap.deliver(QUESTION);
    imap.deliver(
        "From: Ada <ada@math.example>\r\nSubject: <script>alert(1)</script>Invoice\r\nMessage-ID: <a1@math.example>\r\nContent-Type: text/html\r\n\r\n<p>Please send it <script>steal()</script>again</p>\r\n",
    );
    imap.deliver(
        "From: grace@navy.example\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo@navy.example>\r\n\r\nAway.\r\n",
    );
    // Taken in once already through the MTA pipe (a crash before it was marked seen).
    let twice = "From: bob@builder.example\r\nSubject: Once only\r\nMessage-ID: <b1@builder.example>\r\n\r\nHi\r\n";
    customer_writes(&store, twice).await;
    imap.deliver(twice);
    imap.deliver("this is not an email at all");

    let settings = ImapSettingsInput {
        host: Host::try_from("127.0.0.1".to_owned()).unwrap(),
        port: imap.port,
        security: MailSecurity::None,
        username: Name::try_from(imap.user.as_str()).unwrap(),
        password: Some(Secret::parse(imap.password.clone()).unwrap()),
        mailbox: Name::try_from("INBOX").unwrap(),
        enabled: true,
    };
    store.set_imap_settings(&admin, settings.clone()).await.unwrap();
    let stored = store.imap_settings().await.unwrap().unwrap();
    let report = rapport_mail::fetch::fetch(&store, &stored).await.expect("fetch");
    assert_eq!(report.opened, 2, "{report:?}");
    assert_eq!(report.ignored, 1, "{report:?}");
    assert_eq!(report.duplicates, 1, "{report:?}");
    assert_eq!(report.unreadable, 1, "{report:?}");
    assert_eq!(imap.seen(), 5, "every message is marked seen");

    let again = rapport_mail::fetch::fetch(&store, &stored).await.expect("fetch again");
    assert_eq!(again, Default::default(), "nothing new, nothing taken twice");
    let tickets = store.list_tickets(&admin, &Default::default(), &TicketFilter::default()).await.unwrap();
    assert_eq!(tickets.items.len(), 3, "Grace's, Ada's and Bob's");
    let ada = tickets.items.iter().find(|t| t.fields.subject.as_str().contains("Invoice")).expect("Ada's ticket");
    let messages = store.ticket_messages(&admin, ada.id).await.unwrap();
    let html = messages[0].html.as_deref().expect("the HTML kept");
    assert!(!html.contains("script") && !html.contains("steal"), "{html}");
    assert!(messages[0].body.contains("Please send it"), "{}", messages[0].body);

    // A wrong password is the job's error, and nothing changes.
    let mut wrong = settings;
    wrong.password = Some(Secret::parse("nope").unwrap());
    store.set_imap_settings(&admin, wrong).await.unwrap();
    let refused = rapport_mail::fetch::fetch(&store, &store.imap_settings().await.unwrap().unwrap()).await;
    assert!(matches!(refused, Err(rapport_mail::fetch::FetchError::Login(_))), "{refused:?}");
}
