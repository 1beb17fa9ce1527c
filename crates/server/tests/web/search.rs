//! The search page (and the Ctrl+K dialog it feeds): the best match first,
//! and people of one name told apart by email, company and owner.

use serde_json::json;

use crate::common::{Backend, TestApp, create_company, create_person_with, unescape};

backend_tests!(search_ranks_and_tells_namesakes_apart);

async fn search_ranks_and_tells_namesakes_apart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let acme = create_company(api, "Acme Ltd").await;
    let globex = create_company(api, "Globex").await;
    let owner = app.admin_user.id;
    create_person_with(
        api,
        json!({ "first_name": "Rosa", "last_name": "Larsenberg", "emails": [{ "address": "rl@globex.test" }],
                "company_id": globex.id }),
    )
    .await;
    create_person_with(
        api,
        json!({ "first_name": "Rosa", "last_name": "Larsen", "emails": [{ "address": "rosa@acme.test" }],
                "company_id": acme.id, "owner_id": owner }),
    )
    .await;
    let web = app.web_admin().await;
    let page = unescape(&web.get("/search?q=rosa+larsen").await.want(200).text);
    let exact = page.find("<span>Rosa Larsen</span>").expect("Rosa Larsen is found");
    let prefix = page.find("<span>Rosa Larsenberg</span>").expect("Rosa Larsenberg is found");
    assert!(exact < prefix, "the exact name is not first");
    let owner_name = &app.admin_user.fields.name;
    assert!(
        page.contains(&format!("rosa@acme.test · Acme Ltd · owner {owner_name}")),
        "no email, company and owner beside the name: {page}"
    );
    assert!(page.contains("rl@globex.test · Globex<"), "no company beside the other Rosa: {page}");
    // Accents need not be typed.
    create_company(api, "Société Générale").await;
    let folded = unescape(&web.get("/search?q=societe+gen").await.want(200).text);
    assert!(folded.contains("<span>Société Générale</span>"), "{folded}");
}
