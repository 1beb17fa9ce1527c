//! Mail against a real database, on SQLite and PostgreSQL: how an incoming
//! message finds its ticket (and when it must not), what it makes of an
//! unknown sender, that nothing is taken twice, automatic mail opens
//! nothing, replies queue in the outbox only when mail is set up, and the
//! settings keep their password out of sight.

#[macro_use]
extern crate rapport_testing;

mod common;

use common::{open, user};
use rapport_domain::mail::{
    AutomaticKind, Host, InboundAttachment, InboundEmail, MailSecurity, OutboxStatus, Received, Secret,
    SmtpSettingsInput, reply_subject,
};
use rapport_domain::records::LifecycleStage;
use rapport_domain::text::{LongText, Name};
use rapport_domain::tickets::{MessageInput, MessageKind, TicketStatus};
use rapport_domain::{Email, PersonId, Role, TicketId};
use rapport_storage::StorageError;
use rapport_testing::Backend;

backend_tests!(
    a_new_sender_opens_a_ticket_as_a_lead,
    an_answer_joins_its_ticket_by_message_id_or_token,
    a_forged_reference_or_a_closed_ticket_opens_a_new_one,
    nothing_is_taken_twice_and_machines_open_nothing,
    attachments_are_kept_and_shown_only_to_who_may_see_the_ticket,
    replies_queue_in_the_outbox_only_when_mail_is_set_up,
);

fn email(from: &str, subject: &str, message_id: &str) -> InboundEmail {
    InboundEmail {
        key: format!("id:{message_id}"),
        message_id: Some(message_id.to_owned()),
        answers: Vec::new(),
        from: Email::parse(from).unwrap(),
        from_name: Some("Grace Hopper".to_owned()),
        to: vec!["help@shop.example".to_owned()],
        subject: subject.to_owned(),
        text: format!("About: {subject}"),
        html: None,
        attachments: Vec::new(),
        too_large: Vec::new(),
        automatic: None,
    }
}

fn opened(received: &Received) -> (TicketId, PersonId, bool) {
    match received {
        Received::Opened { ticket_id, person_id, new_person, .. } => (*ticket_id, *person_id, *new_person),
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

fn joined(received: &Received) -> TicketId {
    match received {
        Received::Joined { ticket_id, .. } => *ticket_id,
        other => panic!("expected the message to join a ticket, got {other:?}"),
    }
}

async fn a_new_sender_opens_a_ticket_as_a_lead(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let received =
        store.receive_email(email("Grace@Navy.example", "Compiler crashed", "m1@navy.example")).await.unwrap();
    let (ticket_id, person_id, new_person) = opened(&received);
    assert!(new_person);
    let person = store.get_person(person_id).await.unwrap();
    assert_eq!(person.fields.first_name.as_str(), "Grace");
    assert_eq!(person.fields.last_name.as_ref().map(|n| n.as_str()), Some("Hopper"));
    assert_eq!(person.fields.emails[0].address.as_str(), "grace@navy.example");
    assert_eq!(person.fields.lifecycle_stage, LifecycleStage::Lead);
    let ticket = store.get_ticket(&admin, ticket_id).await.unwrap();
    assert_eq!(ticket.fields.subject.as_str(), "Compiler crashed");
    assert_eq!(ticket.fields.requester_id, person_id);
    assert_eq!(ticket.fields.status, TicketStatus::New);
    let messages = store.ticket_messages(&admin, ticket_id).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].kind, MessageKind::Customer);
    assert_eq!(messages[0].author_id, None, "the customer wrote it, not staff");
    assert_eq!(messages[0].from_address.as_deref(), Some("grace@navy.example"));

    // A known sender's new question is a second ticket under the same person.
    let again = store.receive_email(email("grace@navy.example", "Another thing", "m2@navy.example")).await.unwrap();
    let (second, same_person, new_person) = opened(&again);
    assert_ne!(second, ticket_id);
    assert_eq!(same_person, person_id);
    assert!(!new_person);
}

async fn an_answer_joins_its_ticket_by_message_id_or_token(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let (ticket_id, _, _) =
        opened(&store.receive_email(email("grace@navy.example", "Printer", "q1@navy.example")).await.unwrap());
    let (ticket, _) = store
        .add_ticket_message(
            &admin,
            ticket_id,
            MessageInput {
                kind: MessageKind::Reply,
                body: LongText::try_from("Fixed, try now").unwrap(),
                status: Some(TicketStatus::Solved),
                attachments: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(ticket.fields.status, TicketStatus::Solved);

    // By In-Reply-To / References.
    let mut answer = email("grace@navy.example", "Re: Printer", "q2@navy.example");
    answer.answers = vec!["q1@navy.example".to_owned()];
    assert_eq!(joined(&store.receive_email(answer).await.unwrap()), ticket_id);
    let ticket = store.get_ticket(&admin, ticket_id).await.unwrap();
    assert_eq!(ticket.fields.status, TicketStatus::Open, "a customer's answer reopens a solved ticket");

    // By the token in the subject, when the mail program dropped the headers.
    let by_token = email("grace@navy.example", &reply_subject("Printer", ticket_id), "q3@navy.example");
    assert_eq!(joined(&store.receive_email(by_token).await.unwrap()), ticket_id);
    assert_eq!(store.ticket_messages(&admin, ticket_id).await.unwrap().len(), 4);
}

async fn a_forged_reference_or_a_closed_ticket_opens_a_new_one(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let (graces, grace, _) =
        opened(&store.receive_email(email("grace@navy.example", "Private matter", "p1@navy.example")).await.unwrap());

    // Someone else quotes Grace's ticket (Message-ID and token): they must not join it.
    let mut forged = email("mallory@evil.example", &reply_subject("Private matter", graces), "f1@evil.example");
    forged.answers = vec!["p1@navy.example".to_owned()];
    let (malloryst, mallory, new_person) = opened(&store.receive_email(forged).await.unwrap());
    assert_ne!(malloryst, graces);
    assert_ne!(mallory, grace);
    assert!(new_person);
    assert_eq!(store.ticket_messages(&admin, graces).await.unwrap().len(), 1, "Grace's ticket is untouched");

    // A closed ticket is final: an answer to it opens a new one.
    let ticket = store.get_ticket(&admin, graces).await.unwrap();
    let mut closed = ticket.fields.clone();
    closed.status = TicketStatus::Closed;
    store.update_ticket(&admin, graces, closed, None).await.unwrap();
    let mut late = email("grace@navy.example", "Re: Private matter", "p2@navy.example");
    late.answers = vec!["p1@navy.example".to_owned()];
    let (newer, same, _) = opened(&store.receive_email(late).await.unwrap());
    assert_ne!(newer, graces);
    assert_eq!(same, grace);
}

async fn nothing_is_taken_twice_and_machines_open_nothing(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let first = email("grace@navy.example", "Once", "once@navy.example");
    let (ticket_id, _, _) = opened(&store.receive_email(first.clone()).await.unwrap());
    assert!(store.mail_received("id:once@navy.example").await.unwrap());
    assert_eq!(store.receive_email(first).await.unwrap(), Received::Duplicate);
    assert_eq!(store.ticket_messages(&admin, ticket_id).await.unwrap().len(), 1);

    let mut away = email("grace@navy.example", "Out of office", "ooo@navy.example");
    away.automatic = Some(AutomaticKind::AutoReply);
    away.answers = vec!["once@navy.example".to_owned()];
    assert_eq!(store.receive_email(away).await.unwrap(), Received::Ignored { reason: AutomaticKind::AutoReply });
    let mut bounce = email("mailer-daemon@unknown.example", "Undeliverable", "b@unknown.example");
    bounce.automatic = Some(AutomaticKind::Bounce);
    assert_eq!(store.receive_email(bounce).await.unwrap(), Received::Ignored { reason: AutomaticKind::Bounce });
    assert_eq!(store.ticket_messages(&admin, ticket_id).await.unwrap().len(), 1, "no loop, no new message");
    let tickets = store.list_tickets(&admin, &Default::default(), &Default::default()).await.unwrap();
    assert_eq!(tickets.items.len(), 1, "no ticket for a machine");
}

async fn attachments_are_kept_and_shown_only_to_who_may_see_the_ticket(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let mut mail = email("grace@navy.example", "Logs attached", "att@navy.example");
    mail.attachments = vec![InboundAttachment {
        filename: "crash.log".to_owned(),
        content_type: "text/plain".to_owned(),
        data: b"segfault at 0x0".to_vec(),
    }];
    mail.too_large = vec![("core.dump".to_owned(), 50 * 1024 * 1024)];
    let (ticket_id, _, _) = opened(&store.receive_email(mail).await.unwrap());
    let messages = store.ticket_messages(&admin, ticket_id).await.unwrap();
    let listed = &messages[0].attachments;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].filename, "crash.log");
    assert_eq!(listed[0].size, 15);
    assert!(messages[0].body.contains("core.dump (50.0 MB) was over the 10 MB limit"), "{}", messages[0].body);
    let (info, data) = store.attachment(&admin, listed[0].id).await.unwrap();
    assert_eq!(info.content_type, "text/plain");
    assert_eq!(data, b"segfault at 0x0");

    // An agent of another team cannot read it once the ticket is someone else's.
    let team = store
        .create_team(&admin, serde_json::from_value(serde_json::json!({ "name": "Billing" })).unwrap())
        .await
        .unwrap();
    let other = store
        .create_team(&admin, serde_json::from_value(serde_json::json!({ "name": "Support" })).unwrap())
        .await
        .unwrap();
    let owner = user(&store, "Owner", Role::Agent, Some(team.id)).await;
    let outsider = user(&store, "Outsider", Role::Agent, Some(other.id)).await;
    let ticket = store.get_ticket(&admin, ticket_id).await.unwrap();
    let mut assigned = ticket.fields.clone();
    assigned.assignee_id = Some(owner.user_id);
    store.update_ticket(&admin, ticket_id, assigned, None).await.unwrap();
    assert!(store.attachment(&owner, listed[0].id).await.is_ok());
    let refused = store.attachment(&outsider, listed[0].id).await;
    assert!(matches!(refused, Err(StorageError::NotFound(_))), "{refused:?}");
}

fn smtp(password: Option<&str>) -> SmtpSettingsInput {
    SmtpSettingsInput {
        host: Host::try_from("127.0.0.1".to_owned()).unwrap(),
        port: 2525,
        security: MailSecurity::None,
        username: Some(Name::try_from("rapport").unwrap()),
        password: password.map(|p| Secret::parse(p).unwrap()),
        from_address: Email::parse("help@shop.example").unwrap(),
        from_name: Some(Name::try_from("Shop support").unwrap()),
    }
}

async fn replies_queue_in_the_outbox_only_when_mail_is_set_up(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let reply = |body: &str| MessageInput {
        kind: MessageKind::Reply,
        body: LongText::try_from(body).unwrap(),
        status: None,
        attachments: Vec::new(),
    };
    let (ticket_id, _, _) =
        opened(&store.receive_email(email("grace@navy.example", "Refund", "r1@navy.example")).await.unwrap());
    let (_, unsent) = store.add_ticket_message(&admin, ticket_id, reply("No mail yet")).await.unwrap();
    assert_eq!(unsent.delivery, None, "without SMTP settings nothing is queued");

    let agent = user(&store, "Agent", Role::Agent, None).await;
    let denied = store.set_smtp_settings(&agent, smtp(Some("secret"))).await;
    assert!(matches!(denied, Err(StorageError::Denied(_))), "{denied:?}");
    assert!(store.set_smtp_settings(&admin, smtp(None)).await.is_err(), "a username needs a password");
    store.set_smtp_settings(&admin, smtp(Some("secret"))).await.unwrap();
    let kept = store.set_smtp_settings(&admin, smtp(None)).await.unwrap();
    assert_eq!(kept.password, Some(Secret::parse("secret").unwrap()), "a password left out is kept");

    let (_, sent) = store.add_ticket_message(&admin, ticket_id, reply("We refunded you")).await.unwrap();
    let delivery = sent.delivery.expect("queued for the customer");
    assert_eq!(delivery.status, OutboxStatus::Queued);
    assert_eq!(delivery.to.as_str(), "grace@navy.example");
    let (_, note) = store
        .add_ticket_message(
            &admin,
            ticket_id,
            MessageInput {
                kind: MessageKind::Note,
                body: LongText::try_from("internal").unwrap(),
                status: None,
                attachments: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(note.delivery, None, "a note is never sent");
    assert_eq!(store.outbox_backlog().await.unwrap(), 1);
    let jobs = store.list_jobs(None, &Default::default()).await.unwrap();
    let job = jobs.iter().find(|job| job.kind == "mail.send").expect("a send job waits");

    // The reply answers the customer's message, carries its own id and the ticket's token.
    let outbox_id = serde_json::from_value(job.payload["outbox_id"].clone()).unwrap();
    let outgoing = store.outbox_message(outbox_id).await.unwrap();
    assert_eq!(outgoing.in_reply_to.as_deref(), Some("r1@navy.example"));
    assert_eq!(outgoing.references, vec!["r1@navy.example".to_owned()]);
    assert!(outgoing.email_message_id.ends_with("@shop.example"), "{}", outgoing.email_message_id);
    assert_eq!(outgoing.subject, reply_subject("Refund", ticket_id));
    assert_eq!(outgoing.body, "We refunded you");
}
