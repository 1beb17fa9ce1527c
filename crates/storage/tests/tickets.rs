//! Tickets against a real database, on SQLite and PostgreSQL: the SLA
//! policy that matches sets the due times, messages move the status and
//! the clocks, agents see only their own, their team's and unassigned
//! tickets, and a calendar change moves the due times of open tickets.

#[macro_use]
extern crate rapport_testing;

mod common;

use common::{open, user};
use rapport_domain::records::{PersonInput, TeamInput};
use rapport_domain::sla::{CalendarInput, SlaCondition, SlaPolicyInput, Targets};
use rapport_domain::text::{LongText, Name};
use rapport_domain::tickets::{MessageInput, MessageKind, TicketInput, TicketPriority, TicketStatus};
use rapport_domain::{Actor, PersonId, Role};
use rapport_storage::{ListQuery, StorageError, Store, TicketFilter, TicketQueue};
use rapport_testing::Backend;
use serde_json::json;

backend_tests!(
    the_first_matching_policy_sets_the_due_times,
    messages_move_the_status_and_the_clocks,
    agents_see_their_own_their_team_and_the_queue,
    a_calendar_change_moves_open_tickets_due_times,
    solved_tickets_close_after_a_while,
    targets_warn_breach_and_count_in_the_report,
);

fn name(text: &str) -> Name {
    Name::try_from(text).expect("a valid name")
}

async fn customer(store: &Store, admin: &Actor, first: &str) -> PersonId {
    let input: PersonInput = serde_json::from_value(json!({ "first_name": first })).expect("a person");
    store.create_person(admin, input).await.expect("create a person").id
}

fn ticket(requester: PersonId, subject: &str, priority: TicketPriority) -> TicketInput {
    let mut input: TicketInput =
        serde_json::from_value(json!({ "requester_id": requester, "subject": subject })).expect("a ticket");
    input.priority = priority;
    input
}

fn message(kind: MessageKind, body: &str, status: Option<TicketStatus>) -> MessageInput {
    MessageInput { kind, body: LongText::try_from(body).expect("a body"), status, attachments: Vec::new() }
}

fn policy(name_: &str, position: i32, priorities: Vec<TicketPriority>, first: u32, resolution: u32) -> SlaPolicyInput {
    SlaPolicyInput {
        name: name(name_),
        position,
        condition: SlaCondition { priorities, ..SlaCondition::default() },
        targets: Targets {
            first_response_minutes: Some(first),
            next_response_minutes: Some(first * 2),
            resolution_minutes: Some(resolution),
        },
        calendar_id: None,
        active: true,
    }
}

async fn the_first_matching_policy_sets_the_due_times(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let urgent =
        store.create_sla_policy(&admin, policy("Urgent", 1, vec![TicketPriority::Urgent], 30, 240)).await.unwrap();
    let everyone = store.create_sla_policy(&admin, policy("Everyone", 2, vec![], 240, 2880)).await.unwrap();
    let ada = customer(&store, &admin, "Ada").await;

    let fire = store.create_ticket(&admin, ticket(ada, "Site down", TicketPriority::Urgent)).await.unwrap();
    assert_eq!(fire.clocks.sla_policy_id, Some(urgent.id));
    let created = fire.meta.created_at;
    assert_eq!(fire.clocks.first_response_due, Some(created + time::Duration::minutes(30)), "24/7 without a calendar");
    assert_eq!(fire.clocks.resolution_due, Some(created + time::Duration::minutes(240)));
    assert_eq!(fire.clocks.next_response_due, None, "no reply yet: the first response target runs");

    let question = store.create_ticket(&admin, ticket(ada, "Invoice copy", TicketPriority::Low)).await.unwrap();
    assert_eq!(question.clocks.sla_policy_id, Some(everyone.id), "the urgent policy does not match");

    // Raising the priority moves the ticket under the first policy.
    let mut raised = question.fields.clone();
    raised.priority = TicketPriority::Urgent;
    let raised = store.update_ticket(&admin, question.id, raised, Some(question.meta.version)).await.unwrap();
    assert_eq!(raised.clocks.sla_policy_id, Some(urgent.id));

    // A policy made inactive stops matching, for open tickets at once.
    let mut off = urgent.fields.clone();
    off.active = false;
    store.update_sla_policy(&admin, urgent.id, off, None).await.unwrap();
    let fire = store.get_ticket(&admin, fire.id).await.unwrap();
    assert_eq!(fire.clocks.sla_policy_id, Some(everyone.id));

    let bad = store.create_sla_policy(&admin, policy("Nothing", 3, vec![], 0, 10)).await;
    assert!(matches!(bad, Err(StorageError::Invalid(_))), "{bad:?}");
    let agent = user(&store, "Agent", Role::Agent, None).await;
    let denied = store.create_sla_policy(&agent, policy("Mine", 3, vec![], 10, 10)).await;
    assert!(matches!(denied, Err(StorageError::Denied(_))), "{denied:?}");
}

async fn messages_move_the_status_and_the_clocks(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    store.create_sla_policy(&admin, policy("Everyone", 1, vec![], 60, 600)).await.unwrap();
    let ada = customer(&store, &admin, "Ada").await;
    let t = store.create_ticket(&admin, ticket(ada, "Broken login", TicketPriority::Normal)).await.unwrap();
    assert_eq!(t.fields.status, TicketStatus::New);

    let (t, note) =
        store.add_ticket_message(&admin, t.id, message(MessageKind::Note, "Checking logs", None)).await.unwrap();
    assert_eq!(note.kind, MessageKind::Note);
    assert_eq!(t.fields.status, TicketStatus::New, "a note changes nothing");
    assert!(t.clocks.first_responded_at.is_none());

    let (t, _) = store
        .add_ticket_message(&admin, t.id, message(MessageKind::Reply, "Try again?", Some(TicketStatus::Pending)))
        .await
        .unwrap();
    assert_eq!(t.fields.status, TicketStatus::Pending);
    assert!(t.clocks.first_responded_at.is_some(), "the first reply is the first response");
    assert_eq!(t.clocks.resolution_due, None, "pending: the resolution clock stands still");
    assert_eq!(t.clocks.awaiting_reply_since, None);

    let (t, said) =
        store.add_ticket_message(&admin, t.id, message(MessageKind::Customer, "Still broken", None)).await.unwrap();
    assert_eq!(said.person_id, Some(ada));
    assert_eq!(t.fields.status, TicketStatus::Open, "the customer's message reopens it");
    assert!(t.clocks.next_response_due.is_some(), "the next response is due");
    assert!(t.clocks.resolution_due.is_some(), "the resolution clock runs again");

    let (t, _) = store
        .add_ticket_message(&admin, t.id, message(MessageKind::Reply, "Fixed", Some(TicketStatus::Solved)))
        .await
        .unwrap();
    assert_eq!(t.fields.status, TicketStatus::Solved);
    assert!(t.clocks.solved_at.is_some());
    let (t, _) = store
        .add_ticket_message(&admin, t.id, message(MessageKind::Customer, "Thanks! One more thing", None))
        .await
        .unwrap();
    assert_eq!(t.fields.status, TicketStatus::Open, "a customer reply reopens a solved ticket");
    assert!(t.clocks.solved_at.is_none());

    let mut closing = t.fields.clone();
    closing.status = TicketStatus::Closed;
    let t = store.update_ticket(&admin, t.id, closing, None).await.unwrap();
    assert!(t.clocks.closed_at.is_some());
    let late = store.add_ticket_message(&admin, t.id, message(MessageKind::Reply, "Hello?", None)).await;
    assert!(matches!(late, Err(StorageError::Conflict(_))), "a closed ticket is final: {late:?}");
    let messages = store.ticket_messages(&admin, t.id).await.unwrap();
    assert_eq!(messages.len(), 5);
    assert_eq!(t.message_count, 5);
    assert_eq!(messages[0].body, "Checking logs", "oldest first");
}

async fn agents_see_their_own_their_team_and_the_queue(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let red = store.create_team(&admin, TeamInput { name: name("Red") }).await.unwrap().id;
    let blue = store.create_team(&admin, TeamInput { name: name("Blue") }).await.unwrap().id;
    let ann = user(&store, "Ann", Role::Agent, Some(red)).await;
    let ben = user(&store, "Ben", Role::Agent, Some(red)).await;
    let cat = user(&store, "Cat", Role::Agent, Some(blue)).await;
    let ada = customer(&store, &admin, "Ada").await;
    let assigned = |assignee: &Actor| {
        let mut input = ticket(ada, "Assigned", TicketPriority::Normal);
        input.assignee_id = Some(assignee.user_id);
        input
    };
    let bens = store.create_ticket(&admin, assigned(&ben)).await.unwrap();
    assert_eq!(bens.fields.team_id, Some(red), "the assignee's team by default");
    let cats = store.create_ticket(&admin, assigned(&cat)).await.unwrap();
    let queue = store.create_ticket(&admin, ticket(ada, "Nobody's", TicketPriority::Normal)).await.unwrap();

    let seen = |actor: Actor, filter: TicketFilter| {
        let store = store.clone();
        async move {
            let page = store.list_tickets(&actor, &ListQuery::default(), &filter).await.expect("list");
            let mut ids: Vec<_> = page.items.into_iter().map(|t| t.id).collect();
            ids.sort();
            ids
        }
    };
    let mut expected = vec![bens.id, queue.id];
    expected.sort();
    assert_eq!(seen(ann, TicketFilter::default()).await, expected, "a teammate's and the queue");
    assert_eq!(
        seen(ann, TicketFilter { queue: Some(TicketQueue::Unassigned), ..Default::default() }).await,
        vec![queue.id]
    );
    assert_eq!(seen(ben, TicketFilter { queue: Some(TicketQueue::Mine), ..Default::default() }).await, vec![bens.id]);
    assert_eq!(seen(admin, TicketFilter::default()).await.len(), 3, "admins see every ticket");
    let hidden = store.get_ticket(&ann, cats.id).await;
    assert!(matches!(hidden, Err(StorageError::NotFound(_))), "another team's ticket: {hidden:?}");
    let reply = store.add_ticket_message(&ann, cats.id, message(MessageKind::Reply, "Hi", None)).await;
    assert!(matches!(reply, Err(StorageError::NotFound(_))), "{reply:?}");
    // Handing a ticket to someone of another team is not an agent's to do.
    let mut away = bens.fields.clone();
    away.assignee_id = Some(cat.user_id);
    away.team_id = None;
    let handed = store.update_ticket(&ben, bens.id, away, None).await;
    assert!(matches!(handed, Err(StorageError::Denied(_))), "{handed:?}");
}

async fn a_calendar_change_moves_open_tickets_due_times(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let hours = |day_end: &str| -> CalendarInput {
        let periods: Vec<serde_json::Value> =
            ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
                .iter()
                .map(|day| json!({ "day": day, "start": "00:00", "end": day_end }))
                .collect();
        serde_json::from_value(json!({ "name": "Office", "time_zone": "UTC", "periods": periods })).expect("a calendar")
    };
    let calendar = store.create_calendar(&admin, hours("24:00")).await.unwrap();
    let mut input = policy("Office hours", 1, vec![], 60, 600);
    input.calendar_id = Some(calendar.id);
    store.create_sla_policy(&admin, input).await.unwrap();
    let ada = customer(&store, &admin, "Ada").await;
    let t = store.create_ticket(&admin, ticket(ada, "Question", TicketPriority::Normal)).await.unwrap();
    let before = t.clocks.resolution_due.expect("a resolution due time");
    assert_eq!(before, t.meta.created_at + time::Duration::minutes(600));

    // Working days of a minute each: ten hours of work now take 600 days.
    store.update_calendar(&admin, calendar.id, hours("00:01"), Some(calendar.meta.version)).await.unwrap();
    let after = store.get_ticket(&admin, t.id).await.unwrap().clocks.resolution_due.expect("still due");
    assert!(after > before + time::Duration::days(500), "moved from {before} to {after}");

    let in_use = store.delete_calendar(&admin, calendar.id).await;
    assert!(matches!(in_use, Err(StorageError::Conflict(_))), "{in_use:?}");
}

async fn solved_tickets_close_after_a_while(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let ada = customer(&store, &admin, "Ada").await;
    let solved = store.create_ticket(&admin, ticket(ada, "Done soon", TicketPriority::Normal)).await.unwrap();
    let (solved, _) = store
        .add_ticket_message(&admin, solved.id, message(MessageKind::Reply, "Fixed", Some(TicketStatus::Solved)))
        .await
        .unwrap();
    let open_one = store.create_ticket(&admin, ticket(ada, "Still open", TicketPriority::Normal)).await.unwrap();

    let an_hour_ago = rapport_domain::records::now() - time::Duration::hours(1);
    assert_eq!(store.close_solved_tickets(an_hour_ago).await.unwrap(), 0, "solved just now: not yet");
    let later = rapport_domain::records::now() + time::Duration::seconds(1);
    assert_eq!(store.close_solved_tickets(later).await.unwrap(), 1);
    let closed = store.get_ticket(&admin, solved.id).await.unwrap();
    assert_eq!(closed.fields.status, TicketStatus::Closed);
    assert!(closed.clocks.closed_at.is_some());
    assert_eq!(closed.meta.version, solved.meta.version + 1);
    assert_eq!(store.get_ticket(&admin, open_one.id).await.unwrap().fields.status, TicketStatus::New);
    let late =
        store.add_ticket_message(&admin, solved.id, message(MessageKind::Customer, "One more thing", None)).await;
    assert!(matches!(late, Err(StorageError::Conflict(_))), "closed is final: {late:?}");
}

async fn targets_warn_breach_and_count_in_the_report(backend: Backend) {
    use rapport_domain::sla_events::{SlaEventKind, SlaGroup, SlaGrouping, SlaTarget};
    let (_db, store, admin) = open(backend).await;
    store.create_sla_policy(&admin, policy("Everyone", 1, vec![], 60, 600)).await.unwrap();
    let agent = user(&store, "Agent", Role::Agent, None).await;
    let ada = customer(&store, &admin, "Ada").await;
    let now = rapport_domain::records::now();
    let assigned = |subject: &str| {
        let mut input = ticket(ada, subject, TicketPriority::High);
        input.assignee_id = Some(agent.user_id);
        input
    };
    // Opened two hours ago: its first response is an hour late. Opened 45
    // minutes ago: due in 15 minutes, inside the warning window.
    let late = store.create_ticket_at(&admin, assigned("Late"), now - time::Duration::hours(2)).await.unwrap();
    let soon = store.create_ticket_at(&admin, assigned("Soon"), now - time::Duration::minutes(45)).await.unwrap();

    let watch = store.watch_sla(time::Duration::minutes(30)).await.unwrap();
    assert_eq!((watch.breaches, watch.warnings, watch.tasks), (1, 1, 1), "{watch:?}");
    assert_eq!(store.watch_sla(time::Duration::minutes(30)).await.unwrap(), Default::default(), "each recorded once");
    let events = store.sla_events(&admin, late.id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].target, events[0].kind), (SlaTarget::FirstResponse, SlaEventKind::Breach));
    let tasks = store
        .list_tasks(
            &ListQuery::default(),
            &rapport_storage::TaskFilter { assignee_id: Some(agent.user_id), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(tasks.items.len(), 1, "the assignee is warned with a task");
    assert!(tasks.items[0].fields.title.as_str().contains("Soon"), "{:?}", tasks.items[0].fields.title);
    assert_eq!(tasks.items[0].fields.due_at, soon.clocks.first_response_due);

    // The replies decide the outcomes: one late, one in time.
    store
        .add_ticket_message(&admin, late.id, message(MessageKind::Reply, "Sorry", Some(TicketStatus::Solved)))
        .await
        .unwrap();
    store.add_ticket_message(&admin, soon.id, message(MessageKind::Reply, "Here", None)).await.unwrap();
    let kinds: Vec<_> = store.sla_events(&admin, late.id).await.unwrap().iter().map(|e| (e.target, e.kind)).collect();
    assert!(kinds.contains(&(SlaTarget::FirstResponse, SlaEventKind::Missed)), "{kinds:?}");
    assert!(kinds.contains(&(SlaTarget::Resolution, SlaEventKind::Met)), "solved within 10 hours: {kinds:?}");

    let from = now - time::Duration::days(1);
    let to = now + time::Duration::days(1);
    let by_agent = store.sla_report(&admin, SlaGrouping::Agent, from, to).await.unwrap();
    let first = by_agent.iter().find(|r| r.target == SlaTarget::FirstResponse).expect("a first response row");
    assert_eq!((first.label.as_str(), first.met, first.missed), ("Agent", 1, 1));
    assert!((first.share_met - 0.5).abs() < 1e-9);
    let by_priority = store.sla_report(&admin, SlaGrouping::Priority, from, to).await.unwrap();
    assert!(by_priority.iter().all(|r| r.key.as_deref() == Some("high")), "{by_priority:?}");
    let missed = store.missed_tickets(&admin, Some(SlaTarget::FirstResponse), None, from, to).await.unwrap();
    assert_eq!(
        missed.iter().map(|e| e.event.ticket_id).collect::<Vec<_>>(),
        vec![late.id],
        "the breached tickets, one click away"
    );
    // A report row's misses: the agent's row holds the miss, the unassigned row none.
    let agents_row = SlaGroup { grouping: SlaGrouping::Agent, key: first.key.clone() };
    let in_row = store.missed_tickets(&admin, None, Some(&agents_row), from, to).await.unwrap();
    assert_eq!(in_row.iter().map(|e| e.event.ticket_id).collect::<Vec<_>>(), vec![late.id]);
    let unassigned = SlaGroup { grouping: SlaGrouping::Agent, key: None };
    assert!(store.missed_tickets(&admin, None, Some(&unassigned), from, to).await.unwrap().is_empty());
    let denied = store.sla_report(&agent, SlaGrouping::Agent, from, to).await;
    assert!(matches!(denied, Err(StorageError::Denied(_))), "{denied:?}");
}
