//! Merging people and companies through the API: everything attached moves
//! to the survivor in one go, undo returns exactly the state before, and
//! refusals (bad choices, stale versions, changed survivors, other people's
//! records) change nothing.

use rapport_domain::Role;
use rapport_domain::history::{HistoryAction, TrashReason};
use rapport_domain::records::{Activity, Company, Deal, Person, Purchase, Task};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{
    Api, Backend, Page, TestApp, create_activity, create_custom_field, create_deal, create_person_with,
    create_purchase, create_sales_pipeline, create_task, history, trash, unknown_id,
};

backend_tests!(
    merging_people_moves_everything_and_undo_puts_it_back,
    merging_companies_moves_people_and_deals,
    refused_merges_change_nothing
);

/// The ids of a list's items, sorted, for comparing what is attached.
async fn ids<T: DeserializeOwned + HasId>(api: &Api, path: &str) -> Vec<Uuid> {
    let page: Page<T> = api.get(path).await.want(200).json();
    assert!(page.next_cursor.is_none(), "one page holds them all");
    let mut ids: Vec<Uuid> = page.items.iter().map(HasId::id).collect();
    ids.sort();
    ids
}

trait HasId {
    fn id(&self) -> Uuid;
}

macro_rules! has_id {
    ($($t:ty),*) => {$(impl HasId for $t { fn id(&self) -> Uuid { self.id.0 } })*};
}
has_id!(Person, Activity, Task, Deal, Purchase);

/// Everything attached to a person, per table.
async fn attached(api: &Api, person: Uuid) -> Vec<Vec<Uuid>> {
    vec![
        ids::<Activity>(api, &format!("/api/v1/activities?person_id={person}&limit=200")).await,
        ids::<Task>(api, &format!("/api/v1/tasks?person_id={person}&limit=200")).await,
        ids::<Deal>(api, &format!("/api/v1/deals?person_id={person}&limit=200")).await,
        ids::<Purchase>(api, &format!("/api/v1/purchases?person_id={person}&limit=200")).await,
        ids::<Person>(api, &format!("/api/v1/people?referred_by_id={person}&limit=200")).await,
    ]
}

fn merge_id(resp: &crate::common::Resp) -> String {
    resp.header("merge-id").expect("a merge answers its undo id")
}

async fn merging_people_moves_everything_and_undo_puts_it_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    create_custom_field(api, json!({ "entity_type": "person", "key": "tier", "label": "Tier", "kind": "text" })).await;
    let pipeline = create_sales_pipeline(api).await;
    let survivor = create_person_with(
        api,
        json!({ "first_name": "A.", "last_name": "Lima",
        "emails": [{ "address": "ana@example.com" }], "phones": [{ "number": "+44 20 7946 0958" }],
        "tags": ["vip"], "custom_fields": { "tier": "gold" } }),
    )
    .await;
    let other = create_person_with(
        api,
        json!({ "first_name": "Ana", "last_name": "Lima", "source": "event",
        "emails": [{ "address": "ana.lima@home.example" }], "phones": [{ "number": "020 7946 0958" }],
        "tags": ["newsletter"], "custom_fields": { "tier": "silver" } }),
    )
    .await;
    let with = |extra: Value| {
        let mut body = json!({ "kind": "call", "direction": "outbound", "occurred_at": "2026-01-05T10:00:00Z", "subject": "Catch-up" });
        crate::common::merge(&mut body, extra);
        body
    };
    create_activity(api, with(json!({ "person_id": survivor.id }))).await;
    create_activity(api, with(json!({ "person_id": other.id }))).await;
    create_activity(api, with(json!({ "person_id": other.id, "occurred_at": "2026-02-01T10:00:00Z" }))).await;
    create_task(api, json!({ "title": "Call back", "person_id": other.id })).await;
    create_deal(api, &pipeline, "Renewal", json!({ "person_id": other.id })).await;
    create_purchase(api, other.id, "2026-01-10T10:00:00Z", json!({ "reference": "ORD-9" })).await;
    create_person_with(api, json!({ "first_name": "Friend", "referred_by_id": other.id })).await;

    let survivor_before = attached(api, survivor.id.0).await;
    let other_before = attached(api, other.id.0).await;
    assert_eq!(other_before.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1, 1, 1, 1]);
    let survivor_record: Person = api.fetch("people", survivor.id).await;
    let other_record: Person = api.fetch("people", other.id).await;

    let path = format!("/api/v1/people/{}/merge", survivor.id);
    let body = json!({ "other": other.id, "fields": { "first_name": "other", "custom_fields.tier": "other" } });
    let resp =
        api.send(api.request(reqwest::Method::POST, &path).header("if-match", "\"1\"").json(&body)).await.want(200);
    let undo_id = merge_id(&resp);
    let merged: Person = resp.json();
    assert_eq!(merged.fields.first_name.as_str(), "Ana");
    assert_eq!(merged.fields.source.as_ref().map(|s| s.as_str()), Some("event"), "filled from the other");
    let emails: Vec<&str> = merged.fields.emails.iter().map(|e| e.address.as_str()).collect();
    assert_eq!(emails, ["ana@example.com", "ana.lima@home.example"]);
    assert_eq!(merged.fields.phones.len(), 1, "one number typed two ways");
    assert_eq!(merged.fields.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["newsletter", "vip"]);
    assert_eq!(merged.fields.custom_fields["tier"], json!("silver"));
    assert_eq!(merged.meta.version, survivor_record.meta.version + 1);

    // Everything moved: per table, the survivor holds both sets, the other nothing.
    let survivor_after = attached(api, survivor.id.0).await;
    for ((mine, theirs), now) in survivor_before.iter().zip(&other_before).zip(&survivor_after) {
        let mut expected: Vec<Uuid> = mine.iter().chain(theirs).copied().collect();
        expected.sort();
        assert_eq!(now, &expected);
    }
    api.get(&format!("/api/v1/people/{}", other.id)).await.want_error(404, "not_found");
    let last = history(api, "people", survivor.id).await.remove(0);
    assert_eq!((last.action, last.related_id), (HistoryAction::Merge, Some(other.id.0)));
    assert!(last.changes.iter().any(|c| c.field == "first_name" && c.old == json!("A.") && c.new == json!("Ana")));
    let entry = trash(api).await.into_iter().find(|e| e.record_id == other.id.0).expect("the other is in the trash");
    assert_eq!((entry.reason, entry.merged_into), (TrashReason::Merged, Some(survivor.id.0)));
    assert_eq!(entry.id.to_string(), undo_id);
    // The plain restore does not bring back half a merge.
    api.post(&format!("/api/v1/trash/{}/restore", entry.id), &json!({})).await.want_error(409, "conflict");

    let undone: Value = api.post(&format!("/api/v1/merges/{undo_id}/undo"), &json!({})).await.want(200).json();
    assert_eq!(undone["survivor"], json!(survivor.id));
    assert_eq!(undone["other"], json!(other.id));
    let survivor_now: Person = api.fetch("people", survivor.id).await;
    let other_now: Person = api.fetch("people", other.id).await;
    assert_eq!(survivor_now.fields, survivor_record.fields, "the survivor's fields are back");
    assert_eq!(other_now.fields, other_record.fields, "the other is back as it was");
    assert_eq!(other_now.meta, other_record.meta);
    assert_eq!(attached(api, survivor.id.0).await, survivor_before);
    assert_eq!(attached(api, other.id.0).await, other_before);
    assert_eq!(history(api, "people", survivor.id).await[0].action, HistoryAction::Unmerge);
    assert!(trash(api).await.iter().all(|e| e.record_id != other.id.0));
    api.post(&format!("/api/v1/merges/{undo_id}/undo"), &json!({})).await.want_error(404, "not_found");

    // A survivor changed after the merge is not overwritten by an undo.
    let resp = api.post(&path, &json!({ "other": other.id })).await.want(200);
    let undo_id = merge_id(&resp);
    let _: Person = api.update("people", survivor.id, json!({ "job_title": "Buyer" })).await;
    let error = api.post(&format!("/api/v1/merges/{undo_id}/undo"), &json!({})).await.want_error(409, "conflict");
    assert!(error.message.contains("A. Lima") || error.message.contains("Ana Lima"), "{}", error.message);
    assert!(error.message.contains("changed"), "{}", error.message);
    api.get(&format!("/api/v1/people/{}", other.id)).await.want_error(404, "not_found");
}

async fn merging_companies_moves_people_and_deals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let pipeline = create_sales_pipeline(api).await;
    let acme: Company = api.create("companies", json!({ "name": "Acme Inc", "domain": "acme.com" })).await;
    let acme_de: Company =
        api.create("companies", json!({ "name": "ACME Inc.", "domain": "acme.de", "industry": "Tools" })).await;
    let worker = create_person_with(api, json!({ "first_name": "Wim", "company_id": acme_de.id })).await;
    let deal = create_deal(api, &pipeline, "Big order", json!({ "company_id": acme_de.id })).await;
    let task = create_task(api, json!({ "title": "Visit", "company_id": acme_de.id })).await;

    let path = format!("/api/v1/companies/{}/merge", acme.id);
    let resp = api.post(&path, &json!({ "other": acme_de.id, "fields": { "domain": "other" } })).await.want(200);
    let undo_id = merge_id(&resp);
    let merged: Company = resp.json();
    assert_eq!(merged.fields.domain.as_ref().map(|d| d.as_str()), Some("acme.de"), "taken from the merged company");
    assert_eq!(merged.fields.industry.as_ref().map(|i| i.as_str()), Some("Tools"));
    assert_eq!(api.fetch::<Person>("people", worker.id).await.fields.company_id, Some(acme.id));
    assert_eq!(api.fetch::<Deal>("deals", deal.id).await.fields.company_id, Some(acme.id));
    assert_eq!(api.fetch::<Task>("tasks", task.id).await.fields.links.company_id, Some(acme.id));
    // People moved are found under the survivor's name.
    let found: Page<Person> = api.get("/api/v1/people?q=acme").await.want(200).json();
    assert_eq!(found.items.len(), 1);

    api.post(&format!("/api/v1/merges/{undo_id}/undo"), &json!({})).await.want(200);
    assert_eq!(api.fetch::<Company>("companies", acme.id).await.fields, acme.fields);
    assert_eq!(api.fetch::<Company>("companies", acme_de.id).await.fields, acme_de.fields);
    assert_eq!(api.fetch::<Person>("people", worker.id).await.fields.company_id, Some(acme_de.id));
    assert_eq!(api.fetch::<Deal>("deals", deal.id).await.fields.company_id, Some(acme_de.id));
    assert_eq!(api.fetch::<Task>("tasks", task.id).await.fields.links.company_id, Some(acme_de.id));
}

async fn refused_merges_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let team = app.create_team("Sales").await;
    let (stranger, _) = app.create_user(Role::Agent, None).await;
    let (agent_user, agent) = app.create_user(Role::Agent, Some(team.id)).await;
    let (_, viewer) = app.create_user(Role::Viewer, Some(team.id)).await;
    let one = create_person_with(api, json!({ "first_name": "One" })).await;
    let two = create_person_with(api, json!({ "first_name": "Two" })).await;
    let theirs = create_person_with(api, json!({ "first_name": "Theirs", "owner_id": stranger.id })).await;
    let own = create_person_with(api, json!({ "first_name": "Own", "owner_id": agent_user.id })).await;
    let path = format!("/api/v1/people/{}/merge", one.id);

    for (body, field) in [
        (json!({ "other": two.id, "fields": { "emails": "other" } }), "fields.emails"),
        (json!({ "other": two.id, "fields": { "nickname": "other" } }), "fields.nickname"),
        (json!({ "other": two.id, "fields": { "custom_fields.nope": "other" } }), "fields.custom_fields.nope"),
        (json!({ "other": two.id, "fields": { "first_name": "both" } }), "fields.first_name"),
        (json!({ "other": one.id }), "other"),
        (json!({ "other": unknown_id() }), "other"),
        (json!({ "other": "not-an-id" }), "other"),
        (json!({ "fields": {} }), "other"),
    ] {
        let error = api.post(&path, &body).await.want_error(422, "validation");
        assert!(error.field(field).is_some(), "{body}: {error:?}");
    }
    api.post(&format!("/api/v1/people/{}/merge", unknown_id()), &json!({ "other": two.id }))
        .await
        .want_error(404, "not_found");
    let stale = api
        .send(api.request(reqwest::Method::POST, &path).header("if-match", "\"7\"").json(&json!({ "other": two.id })))
        .await;
    stale.want_error(412, "version_mismatch");
    api.post(&path, &json!({ "other": two.id, "other_version": 9 })).await.want_error(412, "version_mismatch");
    // An agent may not merge away a record outside their reach, nor into one; a viewer, nothing.
    agent.post(&path, &json!({ "other": theirs.id })).await.want_error(403, "forbidden");
    agent
        .post(&format!("/api/v1/people/{}/merge", theirs.id), &json!({ "other": two.id }))
        .await
        .want_error(403, "forbidden");
    viewer.post(&path, &json!({ "other": two.id })).await.want_error(403, "forbidden");
    // Merging away sends the other to the trash: an agent may do that only to their own.
    agent.post(&path, &json!({ "other": two.id })).await.want_error(403, "forbidden");
    api.post(&format!("/api/v1/merges/{}/undo", unknown_id()), &json!({})).await.want_error(404, "not_found");

    for person in [&one, &two, &theirs, &own] {
        let now: Person = api.fetch("people", person.id).await;
        assert_eq!(&now, person, "a refused merge changed {}", person.fields.first_name.as_str());
    }
    assert!(trash(api).await.is_empty());
    // The agent may merge their own record into one they may edit; a viewer may not undo it.
    let resp = agent.post(&path, &json!({ "other": own.id })).await.want(200);
    viewer.post(&format!("/api/v1/merges/{}/undo", merge_id(&resp)), &json!({})).await.want_error(403, "forbidden");
}
