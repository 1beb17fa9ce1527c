//! Mail through the JSON API: the settings (admins only, passwords never
//! returned, bad input named, passwords without control characters), a
//! test message to a real SMTP server, a raw message taken in, files sent
//! with staff messages (base64 in JSON, bad ones named and nothing
//! written), and attachments served as downloads only to those who may see
//! the ticket.

use std::time::Duration;

use rapport_domain::Role;
use rapport_domain::mail::Received;
use rapport_domain::tickets::TicketMessage;
use rapport_testing::mail_servers::{SmtpServer, free_port};
use serde_json::json;

use crate::common::{Backend, TestApp, create_person_with};

backend_tests!(
    settings_are_for_admins_and_keep_their_password,
    a_test_message_reports_the_servers_answer,
    raw_mail_opens_tickets_with_attachments,
    files_go_with_a_message_and_bad_ones_change_nothing,
);

fn smtp_body(port: u16) -> serde_json::Value {
    json!({
        "host": "127.0.0.1", "port": port, "security": "none",
        "username": "rapport", "password": "s3cret",
        "from_address": "help@shop.example", "from_name": "Shop support"
    })
}

async fn settings_are_for_admins_and_keep_their_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let empty = app.admin.get("/api/v1/mail/settings").await.want(200).value();
    assert_eq!(empty, json!({ "smtp": null, "imap": null }));

    let (_, agent) = app.create_user(Role::Agent, None).await;
    agent.get("/api/v1/mail/settings").await.want_error(403, "forbidden");
    agent.put("/api/v1/mail/settings/smtp", &smtp_body(2525)).await.want_error(403, "forbidden");

    let saved = app.admin.put("/api/v1/mail/settings/smtp", &smtp_body(2525)).await.want(200).value();
    assert_eq!(saved["password_set"], true);
    assert!(saved.get("password").is_none(), "{saved}");
    let mut without_password = smtp_body(587);
    without_password.as_object_mut().unwrap().remove("password");
    let kept = app.admin.put("/api/v1/mail/settings/smtp", &without_password).await.want(200).value();
    assert_eq!((kept["port"].clone(), kept["password_set"].clone()), (json!(587), json!(true)));
    let listed = app.admin.get("/api/v1/mail/settings").await.want(200);
    assert!(!listed.text.contains("s3cret"), "the password never leaves: {}", listed.text);

    // Bad input is named and changes nothing.
    let mut bad = smtp_body(0);
    bad["from_address"] = json!("not-an-address");
    let error = app.admin.put("/api/v1/mail/settings/smtp", &bad).await.want_error(422, "validation");
    assert!(error.field("from_address").is_some() || error.field("port").is_some(), "{error:?}");
    let mut unknown = smtp_body(25);
    unknown["tls"] = json!(true);
    app.admin.put("/api/v1/mail/settings/smtp", &unknown).await.want_error(422, "validation");
    let mut bad_host = smtp_body(25);
    bad_host["host"] = json!("smtp example com");
    let error = app.admin.put("/api/v1/mail/settings/smtp", &bad_host).await.want_error(422, "validation");
    assert!(error.field("host").is_some(), "{error:?}");
    // A password no mail server could be sent (and PostgreSQL could not store).
    for password in ["nul\u{0}inside", "line\nbreak", ""] {
        let mut bad_password = smtp_body(25);
        bad_password["password"] = json!(password);
        let error = app.admin.put("/api/v1/mail/settings/smtp", &bad_password).await.want_error(422, "validation");
        assert!(error.field("password").is_some(), "{password:?}: {error:?}");
        let imap = json!({ "host": "127.0.0.1", "port": 143, "security": "none", "username": "support",
                           "password": password });
        let error = app.admin.put("/api/v1/mail/settings/imap", &imap).await.want_error(422, "validation");
        assert!(error.field("password").is_some(), "{password:?}: {error:?}");
    }
    let after = app.admin.get("/api/v1/mail/settings").await.want(200).value();
    assert_eq!(after["smtp"]["port"], 587, "nothing changed");
    assert_eq!(after["imap"], json!(null), "nothing changed");

    let imap = json!({ "host": "127.0.0.1", "port": 143, "security": "none", "username": "support", "password": "x" });
    let saved = app.admin.put("/api/v1/mail/settings/imap", &imap).await.want(200).value();
    assert_eq!((saved["mailbox"].clone(), saved["enabled"].clone()), (json!("INBOX"), json!(true)));
    let without = json!({ "host": "127.0.0.1", "port": 143, "security": "none", "username": "other" });
    app.admin.put("/api/v1/mail/settings/imap", &without).await.want(200);
    app.admin.delete("/api/v1/mail/settings/imap").await.want(204);
    app.admin.post("/api/v1/mail/fetch", &json!({})).await.want_error(409, "conflict");
    app.admin.delete("/api/v1/mail/settings/smtp").await.want(204);
    assert_eq!(app.admin.get("/api/v1/mail/settings").await.want(200).value(), json!({ "smtp": null, "imap": null }));
}

async fn a_test_message_reports_the_servers_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let to = json!({ "to": "ops@shop.example" });
    app.admin.post("/api/v1/mail/test", &to).await.want_error(409, "conflict");

    let nobody = free_port();
    app.admin.put("/api/v1/mail/settings/smtp", &smtp_body(nobody)).await.want(200);
    app.admin.post("/api/v1/mail/test", &to).await.want_error(502, "upstream");

    let smtp = SmtpServer::start();
    let mut open = smtp_body(smtp.port);
    open.as_object_mut().unwrap().remove("username");
    open.as_object_mut().unwrap().remove("password");
    app.admin.put("/api/v1/mail/settings/smtp", &open).await.want(200);
    app.admin.post("/api/v1/mail/test", &json!({ "to": "bad" })).await.want_error(422, "validation");
    let sent = app.admin.post("/api/v1/mail/test", &to).await.want(200).value();
    assert!(sent["server_reply"].as_str().is_some_and(|r| r.starts_with("250")), "{sent}");
    assert_eq!(smtp.wait_for(1, Duration::from_secs(5)).len(), 1);
}

async fn raw_mail_opens_tickets_with_attachments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let raw = "From: Grace <grace@navy.example>\r\nSubject: Logs\r\nMessage-ID: <l1@navy.example>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the log.\r\n--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"crash \\\"1\\\".log\"\r\n\r\nsegfault\r\n--b--\r\n";
    let post = |body: &'static str, content_type: &'static str| {
        app.admin.request(reqwest::Method::POST, "/api/v1/mail/receive").header("content-type", content_type).body(body)
    };
    app.admin.send(post(raw, "text/plain")).await.want_error(415, "unsupported_media_type");
    let error = app.admin.send(post("nothing here", "message/rfc822")).await.want_error(422, "validation");
    assert!(error.field("body").is_some(), "{error:?}");
    let received: Received = app.admin.send(post(raw, "message/rfc822")).await.want(200).json();
    let Received::Opened { ticket_id, .. } = received else { panic!("expected a new ticket: {received:?}") };
    let again: Received = app.admin.send(post(raw, "message/rfc822")).await.want(200).json();
    assert_eq!(again, Received::Duplicate);

    let messages: Vec<TicketMessage> =
        app.admin.get(&format!("/api/v1/tickets/{ticket_id}/messages")).await.want(200).value()["items"]
            .as_array()
            .map(|items| items.iter().map(|m| serde_json::from_value(m.clone()).unwrap()).collect())
            .unwrap_or_default();
    let attachment = &messages[0].attachments[0];
    assert_eq!(attachment.filename, "crash \"1\".log");
    let download = app.admin.get(&format!("/api/v1/attachments/{}", attachment.id)).await.want(200);
    assert_eq!(download.text.trim(), "segfault");
    assert_eq!(download.header("content-type").as_deref(), Some("application/octet-stream"));
    assert_eq!(download.header("x-content-type-options").as_deref(), Some("nosniff"));
    let disposition = download.header("content-disposition").unwrap();
    assert!(disposition.starts_with("attachment; filename=\"crash _1_.log\""), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''crash%20%221%22.log"), "{disposition}");

    // An agent of another team, once the ticket is assigned away, gets 404.
    let billing = app.create_team("Billing").await;
    let support = app.create_team("Support").await;
    let (owner, _) = app.create_user(Role::Agent, Some(billing.id)).await;
    let (_, outsider) = app.create_user(Role::Agent, Some(support.id)).await;
    app.admin.patch(&format!("/api/v1/tickets/{ticket_id}"), &json!({ "assignee_id": owner.id })).await.want(200);
    outsider.get(&format!("/api/v1/attachments/{}", attachment.id)).await.want_error(404, "not_found");
    let (_, agent) = app.create_user(Role::Agent, None).await;
    agent
        .send(
            agent
                .request(reqwest::Method::POST, "/api/v1/mail/receive")
                .header("content-type", "message/rfc822")
                .body(raw),
        )
        .await
        .want_error(403, "forbidden");
}

async fn files_go_with_a_message_and_bad_ones_change_nothing(backend: Backend) {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    let app = TestApp::spawn(backend).await;
    let grace = json!({ "first_name": "Grace", "emails": [{ "address": "grace@navy.example", "primary": true }] });
    let person = create_person_with(&app.admin, grace).await;
    let ticket: rapport_domain::tickets::Ticket =
        app.admin.create("tickets", json!({ "requester_id": person.id, "subject": "Logs" })).await;
    let path = format!("/api/v1/tickets/{}/messages", ticket.id);

    // A note with a binary file: kept with the message, listed with it, downloaded intact.
    let bytes: Vec<u8> = (0..=255u8).rev().cycle().take(3000).collect();
    let file = json!({ "filename": "core dump.bin", "content_type": "application/octet-stream", "data": STANDARD.encode(&bytes) });
    let note = json!({ "kind": "note", "body": "The dump, for the team.", "attachments": [file] });
    let posted = app.admin.post(&path, &note).await.want(201).value();
    let stored = &posted["message"]["attachments"][0];
    assert_eq!((stored["filename"].clone(), stored["size"].clone()), (json!("core dump.bin"), json!(3000)), "{posted}");
    assert!(posted["message"]["delivery"].is_null(), "a note is never emailed");
    let listed = app.admin.get(&path).await.want(200).value();
    assert_eq!(listed["items"][0]["attachments"][0]["id"], stored["id"], "{listed}");
    let download = format!("/api/v1/attachments/{}", stored["id"].as_str().unwrap());
    let fetched = app.admin.request(reqwest::Method::GET, &download).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    let disposition = fetched.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), bytes.as_slice(), "the bytes changed");

    // Refusals name the file's field and write nothing.
    let with = |file: serde_json::Value| json!({ "kind": "reply", "body": "See attached.", "attachments": [file] });
    let refused = |field: &'static str, body: serde_json::Value| {
        let app = &app;
        let path = &path;
        async move {
            let error = app.admin.post(path, &body).await.want_error(422, "validation");
            assert!(error.field(field).is_some(), "{field}: {error:?}");
        }
    };
    refused("attachments[0].data", with(json!({ "filename": "a.txt", "data": "not base64!" }))).await;
    refused("attachments[0].filename", with(json!({ "filename": " ", "data": "aGk=" }))).await;
    refused("attachments[0].filename", with(json!({ "data": "aGk=" }))).await;
    refused("attachments[0].content_type", with(json!({ "filename": "a", "content_type": "pdf", "data": "aGk=" })))
        .await;
    refused("attachments[0].size", with(json!({ "filename": "a", "data": "aGk=", "size": 2 }))).await;
    let huge = STANDARD.encode(vec![7u8; rapport_domain::mail::MAX_ATTACHMENT_BYTES + 1]);
    let body = json!({ "kind": "reply", "body": "Big one.", "attachments": [
        { "filename": "ok.txt", "data": "aGk=" }, { "filename": "big.iso", "data": huge } ] });
    let error = app.admin.post(&path, &body).await.want_error(422, "validation");
    assert!(error.field("attachments[1].data").is_some_and(|m| m.contains("10 MB")), "{error:?}");
    let after: rapport_domain::tickets::Ticket = app.admin.fetch("tickets", ticket.id).await;
    assert_eq!(after.message_count, 1, "a refused message wrote nothing");
    assert_eq!(app.admin.get(&path).await.want(200).value()["items"].as_array().unwrap().len(), 1);

    // The OpenAPI document says exactly what a file is.
    let doc = app.admin.get("/api/v1/openapi.json").await.want(200).value();
    let file = &doc["components"]["schemas"]["AttachmentInput"];
    let properties: Vec<&String> = file["properties"].as_object().expect("properties").keys().collect();
    assert_eq!(properties, ["content_type", "data", "filename"], "{file}");
    assert_eq!(file["properties"]["data"]["format"], "byte", "{file}");
    assert_eq!(file["required"], json!(["filename", "data"]), "{file}");
    let input = &doc["components"]["schemas"]["MessageInput"]["properties"]["attachments"];
    assert_eq!(input["items"]["$ref"], "#/components/schemas/AttachmentInput", "{input}");
    let post = &doc["paths"]["/api/v1/tickets/{id}/messages"]["post"];
    assert!(post["responses"]["413"].is_object() && post["responses"]["422"].is_object(), "{post}");

    // Only those who may see the ticket download its files.
    let billing = app.create_team("Billing").await;
    let support = app.create_team("Support").await;
    let (owner, owner_api) = app.create_user(Role::Agent, Some(billing.id)).await;
    let (_, outsider) = app.create_user(Role::Agent, Some(support.id)).await;
    app.admin.patch(&format!("/api/v1/tickets/{}", ticket.id), &json!({ "assignee_id": owner.id })).await.want(200);
    owner_api.get(&download).await.want(200);
    outsider.get(&download).await.want_error(404, "not_found");
    outsider.post(&path, &with(json!({ "filename": "a", "data": "aGk=" }))).await.want_error(404, "not_found");
}
