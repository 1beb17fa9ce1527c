//! The mail settings form: a password is kept as typed (spaces too), and one
//! holding a control character is refused on the form, named, with nothing
//! saved.

use crate::common::{Backend, TestApp};

backend_tests!(a_password_with_a_control_character_is_refused_and_named);

async fn a_password_with_a_control_character_is_refused_and_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let incoming = |password: &'static str| {
        [
            ("imap_host", "127.0.0.1"),
            ("imap_port", "143"),
            ("imap_security", "none"),
            ("imap_username", "support"),
            ("imap_password", password),
        ]
    };

    let refused = web.post_form("/settings/mail/incoming", &incoming("nul\u{0}inside")).await.want(422);
    assert!(refused.text.contains("id=\"e-imap_password\""), "the password is named: {}", refused.text);
    assert!(refused.text.contains("must not contain control characters"), "{}", refused.text);
    assert!(app.store.imap_settings().await.unwrap().is_none(), "refused settings were saved");

    web.post_form("/settings/mail/incoming", &incoming(" two words ")).await.want(303);
    let saved = app.store.imap_settings().await.unwrap().expect("saved settings");
    assert_eq!(saved.password.expose(), " two words ", "kept as typed");
}
