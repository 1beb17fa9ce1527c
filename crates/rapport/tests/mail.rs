//! `rapport mail receive` and `rapport mail test` as an operator uses them:
//! a message piped in opens or joins a ticket, the same message again
//! changes nothing, garbage is refused with a non-zero exit, and the test
//! message reaches a real SMTP server. Each test runs on SQLite and on
//! PostgreSQL.

#[macro_use]
extern crate rapport_testing;

mod common;

use std::time::Duration;

use rapport_domain::mail::{Host, MailSecurity, SmtpSettingsInput};
use rapport_domain::records::UserInput;
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, Role};
use rapport_storage::Store;
use rapport_testing::mail_servers::SmtpServer;
use rapport_testing::{Backend, TestDatabase};

use common::{rapport, refused, succeeded};

backend_tests!(mail_piped_in_opens_and_joins_tickets, the_test_message_reaches_the_smtp_server);

const QUESTION: &str = "From: Grace Hopper <grace@navy.example>\nTo: help@shop.example\nSubject: Broken compiler\nMessage-ID: <c1@navy.example>\n\nIt crashes on line 1.\n";

async fn mail_piped_in_opens_and_joins_tickets(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let url = db.url.as_str();
    succeeded(rapport(url, &["migrate"], ""));

    let opened = succeeded(rapport(url, &["mail", "receive"], QUESTION));
    assert!(opened.stdout.starts_with("opened ticket ") && opened.stdout.contains("new lead"), "{}", opened.stdout);
    let again = succeeded(rapport(url, &["mail", "receive"], QUESTION));
    assert!(again.stdout.contains("already received"), "{}", again.stdout);

    let answer = "From: grace@navy.example\nSubject: Re: Broken compiler\nMessage-ID: <c2@navy.example>\nIn-Reply-To: <c1@navy.example>\n\nStill broken.\n";
    let joined = succeeded(rapport(url, &["mail", "receive"], answer));
    assert!(joined.stdout.starts_with("added to ticket "), "{}", joined.stdout);

    let away = "From: grace@navy.example\nSubject: Away\nAuto-Submitted: auto-replied\nMessage-ID: <c3@navy.example>\n\nOn leave.\n";
    let ignored = succeeded(rapport(url, &["mail", "receive"], away));
    assert!(ignored.stdout.contains("ignored: automatic reply"), "{}", ignored.stdout);

    refused(rapport(url, &["mail", "receive"], ""), "not an email message");
    refused(rapport(url, &["mail", "receive"], "Subject: who sent this?\n\nnobody\n"), "no sender");

    succeeded(rapport(
        url,
        &["user", "add", "--email", "ann@shop.example", "--name", "Ann", "--role", "admin"],
        "long-enough-1\n",
    ));
    let listed = succeeded(rapport(url, &["tickets", "list"], ""));
    assert_eq!(listed.stdout.matches("Broken compiler").count(), 1, "{}", listed.stdout);
}

async fn the_test_message_reaches_the_smtp_server(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let url = db.url.as_str();
    succeeded(rapport(url, &["migrate"], ""));
    refused(rapport(url, &["mail", "test", "--to", "ops@shop.example"], ""), "not set up");

    let smtp = SmtpServer::start();
    let store = Store::connect(url).await.expect("open the database");
    let input = UserInput {
        name: Name::try_from("Admin").unwrap(),
        email: Email::parse("admin@shop.example").unwrap(),
        role: Role::Admin,
        team_id: None,
        active: true,
    };
    let admin = store.create_user(input, None, None).await.unwrap();
    let actor = Actor { user_id: admin.id, role: Role::Admin, team_id: None };
    let settings = SmtpSettingsInput {
        host: Host::try_from("127.0.0.1".to_owned()).unwrap(),
        port: smtp.port,
        security: MailSecurity::None,
        username: None,
        password: None,
        from_address: Email::parse("help@shop.example").unwrap(),
        from_name: None,
    };
    store.set_smtp_settings(&actor, settings).await.unwrap();

    refused(rapport(url, &["mail", "test", "--to", "not an address"], ""), "--to");
    let sent = succeeded(rapport(url, &["mail", "test", "--to", "ops@shop.example"], ""));
    assert!(sent.stdout.contains("the server answered 250"), "{}", sent.stdout);
    let received = smtp.wait_for(1, Duration::from_secs(5));
    assert_eq!(received.len(), 1);
    assert!(received[0].contains("Subject: Rapport test message"), "{}", received[0]);
}
