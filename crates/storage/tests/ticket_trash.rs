//! Tickets as a record kind like the others, on SQLite and PostgreSQL:
//! every change in their history (with the system's automatic ones), delete
//! into the trash with their conversation, attachments, outgoing mail and SLA
//! events, restore of all of it, who may delete and restore (and see them in
//! the trash), the requester who cannot be deleted from under their tickets,
//! the CSV export, and a ticket trashed before tickets had custom fields.

#[macro_use]
extern crate rapport_testing;

mod common;

use common::{open, user};
use rapport_domain::history::{HistoryAction, RecordKind};
use rapport_domain::mail::{
    Host, InboundAttachment, InboundEmail, MailSecurity, OutboxStatus, Received, Secret, SmtpSettingsInput,
};
use rapport_domain::merge::FieldChoices;
use rapport_domain::records::{PersonInput, TeamInput};
use rapport_domain::sla::{SlaCondition, SlaPolicyInput, Targets};
use rapport_domain::text::{LongText, Name};
use rapport_domain::tickets::{MessageInput, MessageKind, TicketInput, TicketPriority, TicketStatus};
use rapport_domain::{Actor, Email, PersonId, Role, TeamId};
use rapport_storage::{MergeVersions, StorageError, Store};
use rapport_testing::Backend;
use serde_json::json;
use time::Duration;

backend_tests!(
    each_change_of_a_ticket_is_in_its_history,
    a_deleted_ticket_comes_back_with_its_conversation_and_attachments,
    agents_delete_and_restore_only_their_own_tickets,
    a_person_who_asked_tickets_stays_until_the_tickets_go,
    merging_people_moves_their_tickets,
    the_csv_export_lists_tickets,
    a_ticket_trashed_before_tickets_had_custom_fields_comes_back,
);

fn name(text: &str) -> Name {
    Name::try_from(text).expect("a valid name")
}

async fn customer(store: &Store, admin: &Actor, first: &str) -> PersonId {
    let input: PersonInput = serde_json::from_value(json!({ "first_name": first })).expect("a person");
    store.create_person(admin, input).await.expect("create a person").id
}

fn ticket(requester: PersonId, subject: &str) -> TicketInput {
    serde_json::from_value(json!({ "requester_id": requester, "subject": subject })).expect("a ticket")
}

fn message(kind: MessageKind, body: &str, status: Option<TicketStatus>) -> MessageInput {
    MessageInput { kind, body: LongText::try_from(body).expect("a body"), status, attachments: Vec::new() }
}

async fn team(store: &Store, admin: &Actor, team_name: &str) -> TeamId {
    let input: TeamInput = serde_json::from_value(json!({ "name": team_name })).expect("a team");
    store.create_team(admin, input).await.expect("create a team").id
}

fn not_found<T: std::fmt::Debug>(result: &Result<T, StorageError>) -> bool {
    matches!(result, Err(StorageError::NotFound(_)))
}

/// The (field, old, new) of a history entry's changes, by field.
fn changes(entry: &rapport_domain::history::HistoryEntry) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    let mut changes: Vec<_> = entry.changes.iter().map(|c| (c.field.clone(), c.old.clone(), c.new.clone())).collect();
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    changes
}

async fn each_change_of_a_ticket_is_in_its_history(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let support = team(&store, &admin, "Support").await;
    let agent = user(&store, "Agent", Role::Agent, Some(support)).await;
    let ada = customer(&store, &admin, "Ada").await;
    let created = store.create_ticket(&admin, ticket(ada, "Broken login")).await.unwrap();

    let mut input = created.fields.clone();
    input.priority = TicketPriority::High;
    input.assignee_id = Some(agent.user_id);
    let updated = store.update_ticket(&admin, created.id, input, Some(created.meta.version)).await.unwrap();
    // The same values again change nothing, and leave no entry.
    store.update_ticket(&admin, created.id, updated.fields.clone(), None).await.unwrap();
    // A note moves nothing; the agent's reply opens the ticket, in the agent's name.
    store.add_ticket_message(&agent, created.id, message(MessageKind::Note, "Looking", None)).await.unwrap();
    store.add_ticket_message(&agent, created.id, message(MessageKind::Reply, "Try now?", None)).await.unwrap();
    store
        .add_ticket_message(&agent, created.id, message(MessageKind::Reply, "Fixed.", Some(TicketStatus::Solved)))
        .await
        .unwrap();
    // Solved a while ago by now: the automatic close is the system's.
    assert_eq!(store.close_solved_tickets(time::OffsetDateTime::now_utc() + Duration::minutes(1)).await.unwrap(), 1);

    let history = store.history(RecordKind::Tickets, created.id.0).await.unwrap();
    let actions: Vec<HistoryAction> = history.iter().map(|entry| entry.action).collect();
    use HistoryAction::*;
    assert_eq!(actions, [Update, Update, Update, Update, Create], "{history:#?}");
    let (closed, solved, opened, assigned, create) = (&history[0], &history[1], &history[2], &history[3], &history[4]);
    assert_eq!(closed.actor_id, None, "the auto-close is the system's");
    assert_eq!(changes(closed), [("status".into(), json!("solved"), json!("closed"))]);
    assert_eq!(solved.actor_id, Some(agent.user_id));
    assert_eq!(changes(solved), [("status".into(), json!("open"), json!("solved"))]);
    assert_eq!(opened.actor_name.as_deref(), Some("Agent"));
    assert_eq!(changes(opened), [("status".into(), json!("new"), json!("open"))]);
    assert_eq!(assigned.actor_id, Some(admin.user_id));
    assert_eq!(
        changes(assigned),
        [
            ("assignee_id".into(), json!(null), json!(agent.user_id)),
            ("priority".into(), json!("normal"), json!("high")),
            ("team_id".into(), json!(null), json!(support)),
        ]
    );
    assert_eq!(create.actor_id, Some(admin.user_id));
    let created_fields: Vec<String> = changes(create).into_iter().map(|c| c.0).collect();
    assert_eq!(created_fields, ["channel", "priority", "requester_id", "status", "subject"]);

    // Deleting and restoring are recorded too; the history outlives the ticket.
    store.delete_ticket(&admin, created.id).await.unwrap();
    let entry = store.list_trash(Some(RecordKind::Tickets), Duration::days(30), None, 10).await.unwrap();
    assert_eq!(entry.len(), 1);
    assert_eq!(store.ticket_history(&admin, created.id).await.unwrap()[0].action, Delete);
    assert_eq!(store.ticket_history(&agent, created.id).await.unwrap().len(), 6, "the agent's ticket, in the trash");
    store.restore_from_trash(&admin, entry[0].id).await.unwrap();
    let history = store.ticket_history(&admin, created.id).await.unwrap();
    assert_eq!(history[0].action, Restore);
    assert_eq!(history.len(), 7);

    // Mail taken in opens a ticket in the system's name.
    let mail = store.receive_email(email("grace@navy.example", "Refund", "h1@navy.example")).await.unwrap();
    let Received::Opened { ticket_id, .. } = mail else { panic!("a new ticket: {mail:?}") };
    let history = store.history(RecordKind::Tickets, ticket_id.0).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].action, history[0].actor_id), (Create, None));
}

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
        html: Some("<p>Logs attached</p>".to_owned()),
        attachments: Vec::new(),
        too_large: Vec::new(),
        automatic: None,
    }
}

fn smtp() -> SmtpSettingsInput {
    SmtpSettingsInput {
        host: Host::try_from("127.0.0.1".to_owned()).unwrap(),
        port: 2525,
        security: MailSecurity::None,
        username: Some(Name::try_from("rapport").unwrap()),
        password: Some(Secret::parse("secret").unwrap()),
        from_address: Email::parse("help@shop.example").unwrap(),
        from_name: None,
    }
}

async fn a_deleted_ticket_comes_back_with_its_conversation_and_attachments(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let targets = Targets { first_response_minutes: Some(60), next_response_minutes: None, resolution_minutes: None };
    let policy = SlaPolicyInput {
        name: name("Everyone"),
        position: 1,
        condition: SlaCondition::default(),
        targets,
        calendar_id: None,
        active: true,
    };
    store.create_sla_policy(&admin, policy).await.unwrap();
    store.set_smtp_settings(&admin, smtp()).await.unwrap();
    let mut mail = email("grace@navy.example", "Logs attached", "att@navy.example");
    mail.attachments = vec![InboundAttachment {
        filename: "crash.log".to_owned(),
        content_type: "text/plain".to_owned(),
        data: b"segfault at 0x0".to_vec(),
    }];
    let Received::Opened { ticket_id, person_id, .. } = store.receive_email(mail).await.unwrap() else {
        panic!("a new ticket")
    };
    let (_, reply) = store
        .add_ticket_message(&admin, ticket_id, message(MessageKind::Reply, "Thanks, looking", None))
        .await
        .unwrap();
    assert_eq!(reply.delivery.as_ref().map(|d| d.status), Some(OutboxStatus::Queued));
    let before = store.get_ticket(&admin, ticket_id).await.unwrap();
    let messages = store.ticket_messages(&admin, ticket_id).await.unwrap();
    let events = store.sla_events(&admin, ticket_id).await.unwrap();
    assert_eq!(events.len(), 1, "the first response was met");
    let attachment = messages[0].attachments[0].id;
    assert_eq!(store.outbox_backlog().await.unwrap(), 1);

    store.delete_ticket(&admin, ticket_id).await.unwrap();
    assert!(not_found(&store.get_ticket(&admin, ticket_id).await));
    assert!(not_found(&store.ticket_messages(&admin, ticket_id).await));
    assert!(not_found(&store.attachment(&admin, attachment).await));
    assert_eq!(store.outbox_backlog().await.unwrap(), 0, "the queued reply went with it");
    let trash = store.list_trash(None, Duration::days(30), None, 10).await.unwrap();
    assert_eq!(trash.len(), 1);
    assert_eq!((trash[0].record_type, trash[0].label.as_str()), (RecordKind::Tickets, "Logs attached"));
    assert_eq!(trash[0].attached, 5, "two messages, an attachment, an outgoing email and an SLA event");
    assert!(store.get_person(person_id).await.is_ok(), "the requester stays");

    let (kind, id) = store.restore_from_trash(&admin, trash[0].id).await.unwrap();
    assert_eq!((kind, id), (RecordKind::Tickets, ticket_id.0));
    assert_eq!(store.get_ticket(&admin, ticket_id).await.unwrap(), before);
    assert_eq!(store.ticket_messages(&admin, ticket_id).await.unwrap(), messages);
    let (info, data) = store.attachment(&admin, attachment).await.unwrap();
    assert_eq!((info.filename.as_str(), data.as_slice()), ("crash.log", &b"segfault at 0x0"[..]));
    assert_eq!(store.sla_events(&admin, ticket_id).await.unwrap(), events);
    assert_eq!(store.outbox_backlog().await.unwrap(), 1, "the reply waits to go out again");
    let jobs = store
        .list_jobs(
            None,
            &rapport_storage::JobFilter { kind: Some("mail.send".into()), limit: 10, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(jobs.len(), 2, "the restore queued its send again: {jobs:?}");
    assert!(store.list_trash(None, Duration::days(30), None, 10).await.unwrap().is_empty());

    // An answer to the restored ticket joins it again, found by its messages' ids.
    let mut answer = email("grace@navy.example", "Re: Logs attached", "answer@navy.example");
    answer.answers = vec!["att@navy.example".to_owned()];
    let joined = store.receive_email(answer).await.unwrap();
    assert!(matches!(joined, Received::Joined { ticket_id: t, .. } if t == ticket_id), "{joined:?}");
}

async fn agents_delete_and_restore_only_their_own_tickets(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let (red, blue) = (team(&store, &admin, "Red").await, team(&store, &admin, "Blue").await);
    let red_agent = user(&store, "Rita", Role::Agent, Some(red)).await;
    let red_mate = user(&store, "Ron", Role::Agent, Some(red)).await;
    let red_manager = user(&store, "Rhea", Role::Manager, Some(red)).await;
    let blue_agent = user(&store, "Bo", Role::Agent, Some(blue)).await;
    let viewer = user(&store, "Vic", Role::Viewer, Some(red)).await;
    let ada = customer(&store, &admin, "Ada").await;
    let assigned = |to: &Actor, subject: &str| {
        let mut input = ticket(ada, subject);
        input.assignee_id = Some(to.user_id);
        input
    };
    let blues = store.create_ticket(&admin, assigned(&blue_agent, "Blue's")).await.unwrap();
    let rons = store.create_ticket(&admin, assigned(&red_mate, "Ron's")).await.unwrap();
    let queue = store.create_ticket(&admin, ticket(ada, "Nobody's")).await.unwrap();

    // Another team's ticket is not even there for an agent; a teammate's is not theirs to delete.
    assert!(not_found(&store.delete_ticket(&red_agent, blues.id).await));
    assert!(matches!(store.delete_ticket(&red_agent, rons.id).await, Err(StorageError::Denied(_))));
    assert!(matches!(store.delete_ticket(&red_agent, queue.id).await, Err(StorageError::Denied(_))));
    assert!(matches!(store.delete_ticket(&viewer, rons.id).await, Err(StorageError::Denied(_))));
    // A manager deletes their team's and the queue's, not another team's.
    assert!(matches!(store.delete_ticket(&red_manager, blues.id).await, Err(StorageError::Denied(_))));
    store.delete_ticket(&red_manager, queue.id).await.unwrap();
    store.delete_ticket(&red_mate, rons.id).await.unwrap();
    store.delete_ticket(&blue_agent, blues.id).await.unwrap();
    assert_eq!(store.list_trash(None, Duration::days(30), None, 10).await.unwrap().len(), 3);

    // In the trash each sees the tickets they could see before.
    let seen = |entries: Vec<rapport_domain::history::TrashEntry>| {
        let mut labels: Vec<String> = entries.into_iter().map(|e| e.label).collect();
        labels.sort();
        labels
    };
    let retention = Duration::days(30);
    assert_eq!(seen(store.list_trash_for(&red_agent, None, retention, None, 10).await.unwrap()), ["Nobody's", "Ron's"]);
    assert_eq!(
        seen(store.list_trash_for(&blue_agent, None, retention, None, 10).await.unwrap()),
        ["Blue's", "Nobody's"]
    );
    assert_eq!(store.list_trash_for(&red_manager, None, retention, None, 10).await.unwrap().len(), 3);
    // Paged one at a time, an agent's trash skips the others' and ends.
    let first = store.list_trash_for(&blue_agent, None, retention, None, 1).await.unwrap();
    let second = store.list_trash_for(&blue_agent, None, retention, Some(first[0].id), 1).await.unwrap();
    let third = store.list_trash_for(&blue_agent, None, retention, Some(second[0].id), 1).await.unwrap();
    assert_eq!(seen([first, second].concat()), ["Blue's", "Nobody's"]);
    assert!(third.is_empty());
    assert!(not_found(&store.ticket_history(&blue_agent, rons.id).await), "nor its history");

    let entry = |label: &'static str| {
        let store = &store;
        async move {
            let all = store.list_trash(None, retention, None, 10).await.unwrap();
            all.into_iter().find(|e| e.label == label).expect("in the trash").id
        }
    };
    assert!(not_found(&store.restore_from_trash(&blue_agent, entry("Ron's").await).await));
    assert!(matches!(store.restore_from_trash(&red_agent, entry("Ron's").await).await, Err(StorageError::Denied(_))));
    store.restore_from_trash(&red_mate, entry("Ron's").await).await.unwrap();
    store.restore_from_trash(&red_manager, entry("Nobody's").await).await.unwrap();
    store.restore_from_trash(&admin, entry("Blue's").await).await.unwrap();
    assert_eq!(store.get_ticket(&red_mate, rons.id).await.unwrap().fields.assignee_id, Some(red_mate.user_id));
}

async fn a_person_who_asked_tickets_stays_until_the_tickets_go(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let ada = customer(&store, &admin, "Ada").await;
    let t = store.create_ticket(&admin, ticket(ada, "Invoice copy")).await.unwrap();
    let refused = store.delete_person(&admin, ada).await;
    assert!(matches!(&refused, Err(StorageError::Conflict(m)) if m.contains("asked a ticket")), "{refused:?}");
    assert!(store.get_person(ada).await.is_ok());

    store.delete_ticket(&admin, t.id).await.unwrap();
    store.delete_person(&admin, ada).await.unwrap();
    let trash = store.list_trash(None, Duration::days(30), None, 10).await.unwrap();
    let (person_entry, ticket_entry) = (trash[0].id, trash[1].id);
    assert_eq!((trash[0].record_type, trash[1].record_type), (RecordKind::People, RecordKind::Tickets));
    // The ticket cannot come back without its requester...
    let refused = store.restore_from_trash(&admin, ticket_entry).await;
    assert!(matches!(&refused, Err(StorageError::Conflict(m)) if m.contains("requester")), "{refused:?}");
    // ...and can once they are back.
    store.restore_from_trash(&admin, person_entry).await.unwrap();
    store.restore_from_trash(&admin, ticket_entry).await.unwrap();
    assert_eq!(store.get_ticket(&admin, t.id).await.unwrap().fields.requester_id, ada);
}

async fn merging_people_moves_their_tickets(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let ada = customer(&store, &admin, "Ada").await;
    let twin = customer(&store, &admin, "Ada").await;
    let t = store.create_ticket(&admin, ticket(twin, "Double charge")).await.unwrap();
    let (_, note) =
        store.add_ticket_message(&admin, t.id, message(MessageKind::Customer, "Charged twice", None)).await.unwrap();
    assert_eq!(note.person_id, Some(twin));
    let merged =
        store.merge_people(&admin, ada, twin, &FieldChoices::default(), MergeVersions::default()).await.unwrap();
    assert_eq!(store.get_ticket(&admin, t.id).await.unwrap().fields.requester_id, ada);
    assert_eq!(store.ticket_messages(&admin, t.id).await.unwrap()[0].person_id, Some(ada));
    store.undo_merge(&admin, merged.merge_id).await.unwrap();
    assert_eq!(store.get_ticket(&admin, t.id).await.unwrap().fields.requester_id, twin);
    assert_eq!(store.ticket_messages(&admin, t.id).await.unwrap()[0].person_id, Some(twin));
}

async fn the_csv_export_lists_tickets(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let ada = customer(&store, &admin, "Ada").await;
    let mut input = ticket(ada, "Export me, please");
    input.tags = vec![rapport_domain::text::Tag::try_from("vip".to_owned()).unwrap()];
    let t = store.create_ticket(&admin, input).await.unwrap();
    let mut out = Vec::new();
    assert_eq!(store.export_csv(RecordKind::Tickets, &mut out).await.unwrap(), 1);
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("id,subject,requester_id,company_id,channel,status,priority,assignee_id,team_id,tags"));
    let row = lines.next().unwrap();
    assert!(row.starts_with(&format!("{},\"Export me, please\",{ada},,web,new,normal,,,vip,", t.id)), "{row}");
    assert_eq!(lines.next(), None);
}

/// A trash entry written before m0014 holds a ticket row without
/// `custom_fields`; it comes back with none.
async fn a_ticket_trashed_before_tickets_had_custom_fields_comes_back(backend: Backend) {
    use sea_orm::ConnectionTrait;
    use sea_orm::prelude::{Json, Uuid};
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    let (db, store, admin) = open(backend).await;
    let grace = customer(&store, &admin, "Grace").await;
    let opened = store.create_ticket(&admin, ticket(grace, "From long ago")).await.unwrap();
    store.delete_ticket(&admin, opened.id).await.unwrap();

    let conn = sea_orm::Database::connect(db.url.as_str()).await.expect("a raw connection");
    let row = conn
        .query_one(Query::select().columns(["id", "snapshot"]).from("trash"))
        .await
        .unwrap()
        .expect("the trash entry");
    let entry: Uuid = row.try_get("", "id").unwrap();
    let mut snapshot: Json = row.try_get("", "snapshot").unwrap();
    assert_eq!(snapshot["tables"][0][0], "tickets");
    let removed = snapshot["tables"][0][1][0].as_object_mut().and_then(|row| row.remove("custom_fields"));
    assert_eq!(removed, Some(json!({})), "a ticket's row keeps its custom fields");
    conn.execute(Query::update().table("trash").value("snapshot", snapshot).and_where(Expr::col("id").eq(entry)))
        .await
        .unwrap();
    conn.close().await.unwrap();

    let trash = store.list_trash(None, Duration::days(30), None, 10).await.unwrap();
    store.restore_from_trash(&admin, trash[0].id).await.unwrap();
    let back = store.get_ticket(&admin, opened.id).await.unwrap();
    assert!(back.fields.custom_fields.is_empty());
    assert_eq!(back.fields.subject.as_str(), "From long ago");
}
