//! List endpoints: cursor pagination, sorting, filters and `q` search.

use std::collections::HashSet;

use rapport_domain::access::Role;
use rapport_domain::records::{Activity, Company, Deal, Person, Purchase, Task};
use rapport_storage::{
    ActivityFilter, CompanyFilter, DealFilter, ListShape, PersonFilter, PurchaseFilter, TaskFilter, TicketFilter,
    UserFilter,
};
use serde_json::json;

use crate::common::{
    Backend, Page, TestApp, create_activity, create_company, create_custom_field, create_deal, create_person,
    create_person_with, create_purchase, create_sales_pipeline, create_task, query, rfc3339,
};

backend_tests!(
    people_pagination_visits_everyone_once,
    people_sort_orders,
    people_filters,
    people_updated_since_filter,
    people_search,
    search_folds_accents_punctuation_and_phones,
    search_ranks_exact_then_prefix_then_the_rest,
    search_mends_one_typo_when_nothing_matches,
    companies_and_deals_search_and_filters,
    activity_task_purchase_filters,
    every_documented_sort_works,
);

/// Waits until the next whole second has begun, and returns it.
async fn next_second() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    let next = now.replace_nanosecond(0).unwrap() + time::Duration::seconds(1);
    tokio::time::sleep((next - now).unsigned_abs() + std::time::Duration::from_millis(10)).await;
    next
}

/// Twelve first and last names, in the same alphabetical order.
const FIRST: [&str; 12] =
    ["Abel", "Bruna", "Carlos", "Dalia", "Elias", "Fabia", "Gil", "Helena", "Igor", "Joana", "Kiko", "Lara"];
const LAST: [&str; 12] =
    ["Alves", "Barros", "Costa", "Dias", "Esteves", "Faria", "Gomes", "Horta", "Inacio", "Jesus", "Kruger", "Lopes"];

async fn people_pagination_visits_everyone_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let mut created = Vec::new();
    for i in 0..120 {
        // Many people share a name, so the keyset must break ties.
        let person = create_person_with(api, json!({ "first_name": FIRST[i % 12], "last_name": LAST[i % 12] })).await;
        created.push((person.id, i % 12));
    }
    let all: HashSet<_> = created.iter().map(|(id, _)| *id).collect();

    for sort in [None, Some("name"), Some("-name"), Some("created_at"), Some("-created_at"), Some("-updated_at")] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut sizes = Vec::new();
        loop {
            let mut params = vec![("limit", "50".to_owned())];
            if let Some(sort) = sort {
                params.push(("sort", sort.to_owned()));
            }
            if let Some(c) = &cursor {
                params.push(("cursor", c.clone()));
            }
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let page: Page<Person> = api.list(&query("/api/v1/people", &params)).await;
            sizes.push(page.items.len());
            seen.extend(page.items.iter().map(|p| p.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
            assert!(sizes.len() < 10, "sort {sort:?}: endless pages {sizes:?}");
        }
        assert_eq!(sizes, [50, 50, 20], "sort {sort:?}: page sizes");
        let unique: HashSet<_> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "sort {sort:?}: someone was listed twice");
        assert_eq!(unique, all, "sort {sort:?}: not everyone was listed");

        let rank = |id| created.iter().find(|(c, _)| *c == id).unwrap().1;
        let ranks: Vec<usize> = seen.iter().map(|id| rank(*id)).collect();
        let positions: Vec<usize> = seen.iter().map(|id| created.iter().position(|(c, _)| c == id).unwrap()).collect();
        match sort {
            Some("name") => assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "sort=name: {ranks:?}"),
            Some("-name") => assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "sort=-name: {ranks:?}"),
            Some("created_at") => assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}"),
            Some("-created_at") | Some("-updated_at") => {
                assert!(positions.windows(2).all(|w| w[0] > w[1]), "sort {sort:?}: {positions:?}")
            }
            _ => {}
        }
    }

    // A page of one, and the default page size.
    let one: Page<Person> = api.list("/api/v1/people?limit=1").await;
    assert_eq!(one.items.len(), 1);
    assert!(one.next_cursor.is_some());
    let default: Page<Person> = api.list("/api/v1/people").await;
    assert_eq!(default.items.len(), 50, "the default page size is 50");
    let big: Page<Person> = api.list("/api/v1/people?limit=200").await;
    assert_eq!(big.items.len(), 120);
    assert_eq!(big.next_cursor, None);
}

async fn people_sort_orders(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    // Created out of alphabetical order; lower case must not sort after upper case.
    let carla = create_person_with(api, json!({ "first_name": "Carla", "last_name": "Costa" })).await;
    let ana = create_person_with(api, json!({ "first_name": "Ana", "last_name": "Alves" })).await;
    let bia = create_person_with(api, json!({ "first_name": "bia", "last_name": "barros" })).await;
    let names = |page: &Page<Person>| page.items.iter().map(|p| p.id).collect::<Vec<_>>();

    let by_name: Page<Person> = api.list("/api/v1/people?sort=name").await;
    assert_eq!(names(&by_name), [ana.id, bia.id, carla.id], "sort=name");
    let by_name_desc: Page<Person> = api.list("/api/v1/people?sort=-name").await;
    assert_eq!(names(&by_name_desc), [carla.id, bia.id, ana.id], "sort=-name");
    let by_created: Page<Person> = api.list("/api/v1/people?sort=created_at").await;
    assert_eq!(names(&by_created), [carla.id, ana.id, bia.id], "sort=created_at");
    let by_created_desc: Page<Person> = api.list("/api/v1/people?sort=-created_at").await;
    assert_eq!(names(&by_created_desc), [bia.id, ana.id, carla.id], "sort=-created_at");

    // Renaming moves a person in the name order.
    let _: Person = api.update("people", carla.id, json!({ "first_name": "Aaron", "last_name": "Aa" })).await;
    let by_name: Page<Person> = api.list("/api/v1/people?sort=name").await;
    assert_eq!(names(&by_name), [carla.id, ana.id, bia.id], "sort=name after a rename");

    // An edit moves a person to the front of -updated_at (times are whole seconds).
    next_second().await;
    let _: Person = api.update("people", ana.id, json!({ "job_title": "CEO" })).await;
    let by_updated_desc: Page<Person> = api.list("/api/v1/people?sort=-updated_at").await;
    assert_eq!(names(&by_updated_desc)[0], ana.id, "sort=-updated_at");
    let by_updated: Page<Person> = api.list("/api/v1/people?sort=updated_at").await;
    assert_eq!(names(&by_updated)[2], ana.id, "sort=updated_at");

    // The lifecycle stage sorts in funnel order, not alphabetically (the
    // people page's Stage column sorts by it).
    let _: Person = api.update("people", ana.id, json!({ "lifecycle_stage": "churned" })).await;
    let _: Person = api.update("people", bia.id, json!({ "lifecycle_stage": "customer" })).await;
    let _: Person = api.update("people", carla.id, json!({ "lifecycle_stage": "prospect" })).await;
    let by_stage: Page<Person> = api.list("/api/v1/people?sort=lifecycle_stage").await;
    assert_eq!(names(&by_stage), [carla.id, bia.id, ana.id], "sort=lifecycle_stage");
    let by_stage_desc: Page<Person> = api.list("/api/v1/people?sort=-lifecycle_stage&limit=1").await;
    assert_eq!(names(&by_stage_desc), [ana.id], "sort=-lifecycle_stage");
    let cursor = by_stage_desc.next_cursor.expect("a second page");
    let next: Page<Person> = api.list(&format!("/api/v1/people?sort=-lifecycle_stage&limit=2&cursor={cursor}")).await;
    assert_eq!(names(&next), [bia.id, carla.id], "sort=-lifecycle_stage, second page");
}

async fn people_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let team = app.create_team("A").await;
    let (agent, _) = app.create_user(Role::Agent, Some(team.id)).await;
    let acme = create_company(api, "Acme").await;
    create_custom_field(
        api,
        json!({ "entity_type": "person", "key": "tier", "label": "Tier", "kind": "choice", "choices": ["gold", "silver"] }),
    )
    .await;
    create_custom_field(api, json!({ "entity_type": "person", "key": "score", "label": "Score", "kind": "number" }))
        .await;
    create_custom_field(api, json!({ "entity_type": "person", "key": "vip", "label": "VIP", "kind": "boolean" })).await;

    let ana = create_person_with(
        api,
        json!({ "first_name": "Ana", "tags": ["vip", "b2b"], "owner_id": agent.id, "lifecycle_stage": "customer",
                "company_id": acme.id, "custom_fields": { "tier": "gold", "score": 5, "vip": true } }),
    )
    .await;
    let bruno = create_person_with(
        api,
        json!({ "first_name": "Bruno", "tags": ["VIP"], "lifecycle_stage": "lead",
                "custom_fields": { "tier": "silver", "score": 5.5 } }),
    )
    .await;
    let carla = create_person_with(
        api,
        json!({ "first_name": "Carla", "tags": ["b2c"], "owner_id": app.admin_user.id, "lifecycle_stage": "customer",
                "custom_fields": { "score": 5.0, "vip": false } }),
    )
    .await;

    let ids = move |params: &[(&str, &str)]| {
        let path = query("/api/v1/people", params);
        async move {
            let page: Page<Person> = api.list(&path).await;
            let mut ids: Vec<_> = page.items.iter().map(|p| p.id).collect();
            ids.sort();
            ids
        }
    };
    let sorted = |mut v: Vec<rapport_domain::PersonId>| {
        v.sort();
        v
    };
    let agent_id = agent.id.to_string();
    let admin_id = app.admin_user.id.to_string();
    let acme_id = acme.id.to_string();

    assert_eq!(ids(&[("tag", "vip")]).await, sorted(vec![ana.id, bruno.id]), "tag=vip");
    assert_eq!(ids(&[("tag", "VIP")]).await, sorted(vec![ana.id, bruno.id]), "tag=VIP");
    assert_eq!(ids(&[("tag", "b2c")]).await, [carla.id], "tag=b2c");
    assert!(ids(&[("tag", "nobody")]).await.is_empty(), "tag=nobody");
    assert_eq!(ids(&[("owner_id", &agent_id)]).await, [ana.id], "owner_id=agent");
    assert_eq!(ids(&[("owner_id", &admin_id)]).await, [carla.id], "owner_id=admin");
    assert_eq!(ids(&[("lifecycle_stage", "customer")]).await, sorted(vec![ana.id, carla.id]), "lifecycle_stage");
    assert!(ids(&[("lifecycle_stage", "churned")]).await.is_empty());
    assert_eq!(ids(&[("company_id", &acme_id)]).await, [ana.id], "company_id");
    assert_eq!(ids(&[("cf.tier", "gold")]).await, [ana.id], "cf.tier=gold");
    assert_eq!(ids(&[("cf.tier", "silver")]).await, [bruno.id], "cf.tier=silver");
    assert_eq!(ids(&[("cf.score", "5")]).await, sorted(vec![ana.id, carla.id]), "cf.score=5 (5 and 5.0)");
    assert_eq!(ids(&[("cf.score", "5.5")]).await, [bruno.id], "cf.score=5.5");
    assert_eq!(ids(&[("cf.vip", "true")]).await, [ana.id], "cf.vip=true");
    assert_eq!(ids(&[("cf.vip", "false")]).await, [carla.id], "cf.vip=false");
    // Filters combine with AND.
    assert_eq!(ids(&[("tag", "vip"), ("lifecycle_stage", "customer")]).await, [ana.id], "tag and stage");
    assert!(ids(&[("tag", "vip"), ("cf.tier", "silver"), ("lifecycle_stage", "customer")]).await.is_empty());

    // Changing a custom value moves the person between filters.
    let _: Person = api.update("people", bruno.id, json!({ "custom_fields": { "tier": "gold" } })).await;
    assert_eq!(ids(&[("cf.tier", "gold")]).await, sorted(vec![ana.id, bruno.id]), "cf.tier after an update");
}

async fn people_updated_since_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let ana = create_person(api, "Ana").await;
    let bruno = create_person(api, "Bruno").await;
    let _carla = create_person(api, "Carla").await;
    let ids = move |params: &[(&str, &str)]| {
        let path = query("/api/v1/people", params);
        async move {
            let page: Page<Person> = api.list(&path).await;
            page.items.iter().map(|p| p.id).collect::<Vec<_>>()
        }
    };

    // updated_since: only what changed at or after the time. Times are whole
    // seconds, so the edit waits for the next second.
    let since = next_second().await;
    let touched: Person = api.update("people", bruno.id, json!({ "job_title": "Chef" })).await;
    assert!(
        touched.meta.updated_at >= since,
        "updated_at {} of a PATCH made after {since} is earlier",
        touched.meta.updated_at
    );
    assert_eq!(ids(&[("updated_since", &rfc3339(since))]).await, [bruno.id], "updated_since");
    let at_update = rfc3339(touched.meta.updated_at);
    assert_eq!(ids(&[("updated_since", &at_update)]).await, [bruno.id], "updated_since is inclusive");
    let with_offset = rfc3339(since.to_offset(time::macros::offset!(+02:00)));
    assert_eq!(ids(&[("updated_since", &with_offset)]).await, [bruno.id], "updated_since with an offset");
    let early = rfc3339(ana.meta.created_at - time::Duration::seconds(1));
    assert_eq!(ids(&[("updated_since", &early)]).await.len(), 3);
    let later = rfc3339(time::OffsetDateTime::now_utc() + time::Duration::minutes(1));
    assert!(ids(&[("updated_since", &later)]).await.is_empty());
}

async fn people_search(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let zephyr = create_company(api, "Zephyrine Logistics").await;
    let marguerite = create_person_with(
        api,
        json!({ "first_name": "Marguerite", "last_name": "Okonkwo",
                "emails": [{ "address": "m.okonkwo@acme-widgets.test" }],
                "phones": [{ "number": "+1 (555) 010-2030" }],
                "company_id": zephyr.id }),
    )
    .await;
    let mark = create_person_with(
        api,
        json!({ "first_name": "Mark", "last_name": "Okafor", "emails": [{ "address": "mark@example.org" }],
                "phones": [{ "number": "+44 20 7946 0958" }] }),
    )
    .await;
    let _other = create_person(api, "Zoe").await;

    let search = move |q: &str| {
        let path = query("/api/v1/people", &[("q", q)]);
        async move {
            let page: Page<Person> = api.list(&path).await;
            let mut ids: Vec<_> = page.items.iter().map(|p| p.id).collect();
            ids.sort();
            ids
        }
    };
    let both = {
        let mut v = vec![marguerite.id, mark.id];
        v.sort();
        v
    };
    assert_eq!(search("Marguerite").await, [marguerite.id], "full first name");
    assert_eq!(search("margu").await, [marguerite.id], "name prefix, any case");
    assert_eq!(search("ma").await, both, "short prefix");
    assert_eq!(search("Ma Oko").await, [marguerite.id], "every word must match");
    assert_eq!(search("okonkwo marg").await, [marguerite.id], "words in any order");
    assert_eq!(search("m.okonkwo@acme-widgets.test").await, [marguerite.id], "whole email");
    assert_eq!(search("acme").await, [marguerite.id], "email domain word");
    assert_eq!(search("mark@example.org").await, [mark.id], "another email");
    assert_eq!(search("15550102030").await, [marguerite.id], "phone digits");
    assert_eq!(search("+1 555 010 2030").await, [marguerite.id], "phone as typed differently");
    assert_eq!(search("44207946").await, [mark.id], "phone digit prefix");
    assert_eq!(search("Zephyr").await, [marguerite.id], "company name");
    assert!(search("nobody").await.is_empty(), "no match");
    assert!(search("arguerite").await.is_empty(), "infix is not a prefix");
    // Punctuation and operators of either full-text engine are just text.
    for odd in ["\"", "ma*", "ana OR 1=1", "'; drop table people; --", "(", "a:b", "-", "&|!", "NEAR(x y)"] {
        let resp = api.get(&query("/api/v1/people", &[("q", odd)])).await.want(200);
        let _: Page<Person> = resp.json();
    }

    // The index follows edits.
    let _: Person = api.update("people", mark.id, json!({ "last_name": "Quill" })).await;
    assert!(search("okafor").await.is_empty(), "an old name is still found");
    assert_eq!(search("quill").await, [mark.id], "a new name is not found");
    // Search combines with filters and pagination.
    let page: Page<Person> = api.list(&query("/api/v1/people", &[("q", "ma"), ("limit", "1")])).await;
    assert_eq!(page.items.len(), 1);
    let cursor = page.next_cursor.expect("a second page");
    let next: Page<Person> =
        api.list(&query("/api/v1/people", &[("q", "ma"), ("limit", "1"), ("cursor", &cursor)])).await;
    assert_eq!(next.items.len(), 1);
    assert_ne!(next.items[0].id, page.items[0].id);
    let deleted = api.delete(&format!("/api/v1/people/{}", marguerite.id)).await;
    deleted.want(204);
    assert!(search("marguerite").await.is_empty(), "a deleted person is still found");
}

/// `zoe` finds "Zoë", `obrien` and `o'brien` find "O'Brien", `+44 20 7946`
/// finds "+442079460000": on both backends alike.
async fn search_folds_accents_punctuation_and_phones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let zoe = create_person_with(api, json!({ "first_name": "Zoë", "last_name": "Æberg" })).await;
    let obrien = create_person_with(api, json!({ "first_name": "Mary", "last_name": "O'Brien" })).await;
    let jean = create_person_with(api, json!({ "first_name": "Jean-Luc", "last_name": "Łukasz" })).await;
    let phone =
        create_person_with(api, json!({ "first_name": "Priya", "phones": [{ "number": "+442079460000" }] })).await;
    let _other = create_person_with(
        api,
        json!({ "first_name": "Brien", "last_name": "Zola", "phones": [{ "number": "+1 415 555 0100" }] }),
    )
    .await;
    let search = move |q: &str| {
        let path = query("/api/v1/people", &[("q", q)]);
        async move {
            let page: Page<Person> = api.list(&path).await;
            page.items.iter().map(|p| p.id).collect::<Vec<_>>()
        }
    };
    for q in ["zoe", "ZOË", "zoë aeberg", "aeberg", "Æberg"] {
        assert_eq!(search(q).await, [zoe.id], "{q:?} finds Zoë Æberg");
    }
    for q in ["obrien", "o'brien", "O’Brien", "mary o brien", "o'bri"] {
        assert_eq!(search(q).await, [obrien.id], "{q:?} finds Mary O'Brien");
    }
    for q in ["jean-luc", "jeanluc", "jean luc lukasz", "Łukasz"] {
        assert_eq!(search(q).await, [jean.id], "{q:?} finds Jean-Luc Łukasz");
    }
    for q in ["+44 20 7946", "+44 (20) 7946-0000", "442079", "44 207"] {
        assert_eq!(search(q).await, [phone.id], "{q:?} finds +442079460000");
    }

    let company: Company = api.create("companies", json!({ "name": "Société Générale" })).await;
    let found: Page<Company> = api.list(&query("/api/v1/companies", &[("q", "societe gen")])).await;
    assert_eq!(found.items.iter().map(|c| c.id).collect::<Vec<_>>(), [company.id], "a company's accents fold");
    let pipeline = create_sales_pipeline(api).await;
    let deal = create_deal(api, &pipeline, "Café O'Neill rollout", json!({})).await;
    let found: Page<Deal> = api.list(&query("/api/v1/deals", &[("q", "cafe oneill")])).await;
    assert_eq!(found.items.iter().map(|d| d.id).collect::<Vec<_>>(), [deal.id], "a deal's accents fold");
}

/// With `q` and no `sort`, a name or email equal to the query comes first,
/// then those starting with it, then the rest: by name within each, and the
/// same order page by page.
async fn search_ranks_exact_then_prefix_then_the_rest(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    // Created in an order, and with names, that sort differently by name.
    let maria = create_person_with(api, json!({ "first_name": "Rosa Maria", "last_name": "Larsen" })).await;
    let larsenberg = create_person_with(api, json!({ "first_name": "Rosa", "last_name": "Larsenberg" })).await;
    let anders = create_person_with(
        api,
        json!({ "first_name": "Anders", "last_name": "Berg", "emails": [{ "address": "rosa.larsen@example.com" }] }),
    )
    .await;
    let exact = create_person_with(api, json!({ "first_name": "Rosa", "last_name": "Larsen" })).await;
    let ids = move |params: Vec<(&'static str, String)>| async move {
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page: Page<Person> = api.list(&query("/api/v1/people", &params)).await;
        (page.items.iter().map(|p| p.id).collect::<Vec<_>>(), page.next_cursor)
    };
    let q = |text: &str| ("q", text.to_owned());
    // Exact: Rosa Larsen. Starting so: Anders Berg's email, Rosa Larsenberg
    // (by name: "berg anders" before "larsenberg rosa"). The rest: Rosa Maria Larsen.
    let ranked = [exact.id, anders.id, larsenberg.id, maria.id];
    let (found, _) = ids(vec![q("rosa larsen")]).await;
    assert_eq!(found, ranked, "exact name, then names and emails starting so, then the rest");
    let (found, _) = ids(vec![q("Larsen, Rosa")]).await;
    assert_eq!(found, [exact.id, maria.id, anders.id, larsenberg.id], "a name the other way round");
    let (found, _) = ids(vec![q("rosa.larsen@example.com")]).await;
    assert_eq!(found, [anders.id], "a whole email");

    // One at a time, the pages keep the ranked order.
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let mut params = vec![q("rosa larsen"), ("limit", "1".to_owned())];
        params.extend(cursor.map(|c| ("cursor", c)));
        let (page, next) = ids(params).await;
        paged.extend(page);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, ranked, "page by page");
    let (reversed, _) = ids(vec![q("rosa larsen"), ("sort", "-relevance".to_owned())]).await;
    assert_eq!(reversed, ranked.iter().rev().copied().collect::<Vec<_>>(), "-relevance is the other way round");
    // An explicit sort wins; relevance without `q` is by name.
    let (by_name, _) = ids(vec![q("rosa larsen"), ("sort", "name".to_owned())]).await;
    let (relevance_alone, _) = ids(vec![("sort", "relevance".to_owned())]).await;
    let (name_alone, _) = ids(vec![("sort", "name".to_owned())]).await;
    assert_eq!(relevance_alone, name_alone, "relevance without q");
    assert_eq!(by_name, name_alone, "sort=name with q");
}

/// A search that finds nothing tries again with one typo mended per word:
/// a letter missing, one too many, or two swapped. It does not when the
/// search as typed finds someone, and other filters still apply.
async fn search_mends_one_typo_when_nothing_matches(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let rosa = create_person_with(api, json!({ "first_name": "Rosa", "last_name": "Larsen", "tags": ["vip"] })).await;
    let larsa = create_person_with(api, json!({ "first_name": "Larsa", "last_name": "Berg" })).await;
    let _other = create_person_with(api, json!({ "first_name": "Anders", "last_name": "Holm" })).await;
    let search = move |params: Vec<(&'static str, &'static str)>| async move {
        let page: Page<Person> = api.list(&query("/api/v1/people", &params)).await;
        let mut ids: Vec<_> = page.items.iter().map(|p| p.id).collect();
        ids.sort();
        ids
    };
    let both = {
        let mut v = vec![rosa.id, larsa.id];
        v.sort();
        v
    };
    assert_eq!(search(vec![("q", "larsn")]).await, both, "a letter missing (lars…)");
    assert_eq!(search(vec![("q", "lasren")]).await, [rosa.id], "two letters swapped");
    assert_eq!(search(vec![("q", "larssen rosa")]).await, [rosa.id], "a letter too many");
    assert_eq!(search(vec![("q", "larsn"), ("tag", "vip")]).await, [rosa.id], "with a filter");
    assert_eq!(search(vec![("q", "larsa")]).await, [larsa.id], "as typed first: no mending when it matches");
    assert!(search(vec![("q", "xqzw")]).await.is_empty(), "nothing near");
    assert!(search(vec![("q", "ros")]).await.len() == 1, "short words are not mended");
}

async fn companies_and_deals_search_and_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let acme: Company =
        api.create("companies", json!({ "name": "Acme Widgets", "domain": "acme.example", "tags": ["partner"] })).await;
    let globex: Company = api
        .create(
            "companies",
            json!({ "name": "Globex", "domain": "globex.test", "owner_id": app.admin_user.id, "tags": ["Supplier"] }),
        )
        .await;
    let company_ids = move |params: &[(&str, &str)]| {
        let path = query("/api/v1/companies", params);
        async move {
            let page: Page<Company> = api.list(&path).await;
            page.items.iter().map(|c| c.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(company_ids(&[("q", "widg")]).await, [acme.id], "company name prefix");
    assert_eq!(company_ids(&[("q", "globex.test")]).await, [globex.id], "company domain");
    assert_eq!(company_ids(&[("tag", "supplier")]).await, [globex.id], "company tag");
    let admin_id = app.admin_user.id.to_string();
    assert_eq!(company_ids(&[("owner_id", &admin_id)]).await, [globex.id], "company owner");
    assert_eq!(company_ids(&[("sort", "name")]).await, [acme.id, globex.id], "company sort");

    let pipeline = create_sales_pipeline(api).await;
    let other = create_sales_pipeline(api).await;
    let person = create_person(api, "Ana").await;
    let pilot = create_deal(api, &pipeline, "Pilot rollout", json!({ "person_id": person.id, "tags": ["q3"] })).await;
    let renewal = create_deal(
        api,
        &pipeline,
        "Renewal",
        json!({ "stage_id": pipeline.stages[1].id, "company_id": acme.id, "owner_id": app.admin_user.id }),
    )
    .await;
    let lost = create_deal(api, &other, "Lost cause", json!({ "status": "lost", "company_id": acme.id })).await;
    let deal_ids = move |params: &[(&str, &str)]| {
        let path = query("/api/v1/deals", params);
        async move {
            let page: Page<Deal> = api.list(&path).await;
            let mut ids: Vec<_> = page.items.iter().map(|d| d.id).collect();
            ids.sort();
            ids
        }
    };
    let sorted = |mut v: Vec<rapport_domain::DealId>| {
        v.sort();
        v
    };
    let (p1, p2) = (pipeline.id.to_string(), other.id.to_string());
    let stage = pipeline.stages[1].id.to_string();
    let (person_id, acme_id) = (person.id.to_string(), acme.id.to_string());
    assert_eq!(deal_ids(&[("q", "pilot")]).await, [pilot.id], "deal name");
    assert_eq!(deal_ids(&[("pipeline_id", &p1)]).await, sorted(vec![pilot.id, renewal.id]), "pipeline_id");
    assert_eq!(deal_ids(&[("pipeline_id", &p2)]).await, [lost.id], "pipeline_id");
    assert_eq!(deal_ids(&[("stage_id", &stage)]).await, [renewal.id], "stage_id");
    assert_eq!(deal_ids(&[("status", "lost")]).await, [lost.id], "status=lost");
    assert_eq!(deal_ids(&[("status", "open")]).await, sorted(vec![pilot.id, renewal.id]), "status=open");
    assert_eq!(deal_ids(&[("person_id", &person_id)]).await, [pilot.id], "person_id");
    assert_eq!(deal_ids(&[("company_id", &acme_id)]).await, sorted(vec![renewal.id, lost.id]), "company_id");
    assert_eq!(deal_ids(&[("owner_id", &admin_id)]).await, [renewal.id], "owner_id");
    assert_eq!(deal_ids(&[("tag", "q3")]).await, [pilot.id], "tag");
    let error = api.get("/api/v1/deals?status=maybe").await.want_error(422, "validation");
    assert!(error.field("status").is_some(), "{error:?}");
}

async fn activity_task_purchase_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let (agent, agent_api) = app.create_user(Role::Agent, None).await;
    let ana = create_person(api, "Ana").await;
    let bruno = create_person(api, "Bruno").await;
    let acme = create_company(api, "Acme").await;
    let pipeline = create_sales_pipeline(api).await;
    let deal = create_deal(api, &pipeline, "Pilot", json!({})).await;

    let call: Activity = create_activity(api, json!({ "kind": "call", "subject": "a", "person_id": ana.id })).await;
    let note: Activity =
        create_activity(api, json!({ "kind": "note", "body": "b", "person_id": ana.id, "deal_id": deal.id })).await;
    let email: Activity =
        create_activity(&agent_api, json!({ "kind": "email", "subject": "c", "company_id": acme.id })).await;
    assert_eq!(email.fields.author_id, Some(agent.id));
    let activity_ids = move |params: &[(&str, &str)]| {
        let path = query("/api/v1/activities", params);
        async move {
            let page: Page<Activity> = api.list(&path).await;
            let mut ids: Vec<_> = page.items.iter().map(|a| a.id).collect();
            ids.sort();
            ids
        }
    };
    let (ana_id, bruno_id, acme_id, deal_id) =
        (ana.id.to_string(), bruno.id.to_string(), acme.id.to_string(), deal.id.to_string());
    let mut both = vec![call.id, note.id];
    both.sort();
    assert_eq!(activity_ids(&[("person_id", &ana_id)]).await, both, "activities person_id");
    assert!(activity_ids(&[("person_id", &bruno_id)]).await.is_empty());
    assert_eq!(activity_ids(&[("company_id", &acme_id)]).await, [email.id], "activities company_id");
    assert_eq!(activity_ids(&[("deal_id", &deal_id)]).await, [note.id], "activities deal_id");
    assert_eq!(activity_ids(&[("kind", "call")]).await, [call.id], "activities kind");
    assert_eq!(activity_ids(&[("person_id", &ana_id), ("kind", "note")]).await, [note.id]);

    let open: Task = create_task(api, json!({ "title": "Open", "person_id": ana.id })).await;
    let done: Task = create_task(api, json!({ "title": "Done", "person_id": ana.id, "done": true })).await;
    assert!(done.done_at.is_some(), "a task created done has done_at");
    let theirs: Task =
        create_task(api, json!({ "title": "Theirs", "company_id": acme.id, "assignee_id": agent.id })).await;
    let task_ids = move |params: &[(&str, &str)]| {
        let path = query("/api/v1/tasks", params);
        async move {
            let page: Page<Task> = api.list(&path).await;
            let mut ids: Vec<_> = page.items.iter().map(|t| t.id).collect();
            ids.sort();
            ids
        }
    };
    let agent_id = agent.id.to_string();
    let mut mine = vec![open.id, theirs.id];
    mine.sort();
    assert_eq!(task_ids(&[("open", "true")]).await, mine, "tasks open=true");
    assert_eq!(task_ids(&[("assignee_id", &agent_id)]).await, [theirs.id], "tasks assignee_id");
    let mut anas = vec![open.id, done.id];
    anas.sort();
    assert_eq!(task_ids(&[("person_id", &ana_id)]).await, anas, "tasks person_id");
    assert_eq!(task_ids(&[("company_id", &acme_id)]).await, [theirs.id], "tasks company_id");
    assert_eq!(task_ids(&[("person_id", &ana_id), ("open", "true")]).await, [open.id]);

    let p1: Purchase = create_purchase(api, ana.id, "2024-01-01T10:00:00Z", json!({})).await;
    let p2: Purchase = create_purchase(api, ana.id, "2024-02-01T10:00:00Z", json!({})).await;
    let p3: Purchase = create_purchase(api, bruno.id, "2024-03-01T10:00:00Z", json!({})).await;
    let page: Page<Purchase> = api.list(&query("/api/v1/purchases", &[("person_id", &ana_id)])).await;
    let mut got: Vec<_> = page.items.iter().map(|p| p.id).collect();
    got.sort();
    let mut want = vec![p1.id, p2.id];
    want.sort();
    assert_eq!(got, want, "purchases person_id");
    let page: Page<Purchase> = api.list(&query("/api/v1/purchases", &[("person_id", &bruno_id)])).await;
    assert_eq!(page.items.iter().map(|p| p.id).collect::<Vec<_>>(), [p3.id]);
    // A company's purchases are its people's: Bruno joins Acme, Ana does not.
    api.patch(&format!("/api/v1/people/{}", bruno.id), &json!({ "company_id": acme.id })).await.want(200);
    let page: Page<Purchase> = api.list(&query("/api/v1/purchases", &[("company_id", &acme_id)])).await;
    assert_eq!(page.items.iter().map(|p| p.id).collect::<Vec<_>>(), [p3.id], "purchases company_id");
    assert_eq!(page.items[0].fields.amount.amount_minor, 2500);
}

/// Each list sorts by every field its filter type names, both ways, and the
/// OpenAPI document offers exactly those.
async fn every_documented_sort_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let document = api.get("/api/v1/openapi.json").await.want(200).json::<serde_json::Value>();
    let lists: [(&str, &[&str], bool); 8] = [
        ("/api/v1/people", PersonFilter::SORTS, PersonFilter::SEARCH_AND_TAGS),
        ("/api/v1/companies", CompanyFilter::SORTS, CompanyFilter::SEARCH_AND_TAGS),
        ("/api/v1/deals", DealFilter::SORTS, DealFilter::SEARCH_AND_TAGS),
        ("/api/v1/activities", ActivityFilter::SORTS, ActivityFilter::SEARCH_AND_TAGS),
        ("/api/v1/tasks", TaskFilter::SORTS, TaskFilter::SEARCH_AND_TAGS),
        ("/api/v1/purchases", PurchaseFilter::SORTS, PurchaseFilter::SEARCH_AND_TAGS),
        ("/api/v1/tickets", TicketFilter::SORTS, TicketFilter::SEARCH_AND_TAGS),
        ("/api/v1/users", UserFilter::SORTS, UserFilter::SEARCH_AND_TAGS),
    ];
    for (path, sorts, search_and_tags) in lists {
        let params = document["paths"][path]["get"]["parameters"].as_array().expect("the list has parameters");
        let named = |name: &str| params.iter().find(|p| p["name"] == name);
        let offered: Vec<&str> = named("sort").expect("sort")["schema"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let mut expected = vec![""];
        let descending: Vec<String> = sorts.iter().map(|field| format!("-{field}")).collect();
        for (field, down) in sorts.iter().zip(&descending) {
            expected.extend([*field, down.as_str()]);
        }
        assert_eq!(offered, expected, "{path}: the document's sort fields");
        assert_eq!(named("q").is_some(), search_and_tags, "{path}: q documented");
        assert_eq!(named("tag").is_some(), search_and_tags, "{path}: tag documented");
        for sort in offered {
            api.get(&format!("{path}?sort={sort}&limit=2")).await.want(200);
        }
        let unknown = api.get(&format!("{path}?sort=nonsense")).await.want_error(422, "validation");
        assert!(unknown.field("sort").is_some(), "{path}: {unknown:?}");
    }
}
