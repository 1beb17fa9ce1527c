//! The role matrix: every write endpoint of every record type, tried by every
//! role against records owned by the actor, a teammate, a stranger from
//! another team, and nobody. Every mismatch is collected and reported together.

use std::sync::Mutex;

use rapport_domain::access::Role;
use rapport_domain::records::{Person, Pipeline};
use rapport_domain::{PersonId, UserId};
use serde_json::{Value, json};

use crate::common::{Api, Backend, PASSWORD, Resp, TestApp, create_sales_pipeline, unique};

backend_tests!(role_matrix);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Admin,
    Manager,
    Agent,
    Viewer,
}

/// The order a row's `want` is written in.
const WHO: [Who; 4] = [Who::Admin, Who::Manager, Who::Agent, Who::Viewer];
/// Refusals first, so a wrongly allowed write cannot hide a later check.
const TRY_ORDER: [Who; 4] = [Who::Viewer, Who::Agent, Who::Manager, Who::Admin];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    People,
    Companies,
    Deals,
    Activities,
    Tasks,
    Purchases,
    Teams,
    Users,
    Pipelines,
    CustomFields,
}

use Kind::*;

const RECORDS: &[Kind] = &[People, Companies, Deals, Activities, Tasks, Purchases];
/// Records with an `owner_id` a client may set.
const OWNED: &[Kind] = &[People, Companies, Deals];
/// Records that can have no owner at all.
const UNOWNABLE: &[Kind] = &[People, Companies, Deals, Purchases];
const ADMIN_ONLY: &[Kind] = &[Teams, Users, Pipelines, CustomFields];
const ALL: &[Kind] = &[People, Companies, Deals, Activities, Tasks, Purchases, Teams, Users, Pipelines, CustomFields];

impl Kind {
    fn path(self) -> &'static str {
        match self {
            People => "people",
            Companies => "companies",
            Deals => "deals",
            Activities => "activities",
            Tasks => "tasks",
            Purchases => "purchases",
            Teams => "teams",
            Users => "users",
            Pipelines => "pipelines",
            CustomFields => "custom-fields",
        }
    }

    /// A text field every role's edit changes.
    fn change_field(self) -> &'static str {
        match self {
            People => "job_title",
            Companies => "industry",
            Deals | Teams | Users | Pipelines => "name",
            Activities => "subject",
            Tasks => "title",
            Purchases => "description",
            CustomFields => "label",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Owner {
    Nobody,
    /// The role trying the request.
    Actor,
    /// An agent in the actor's team (team A).
    Mate,
    /// An agent in team B.
    Stranger,
}

#[derive(Clone, Copy, Debug)]
enum By {
    Admin,
    Mate,
    /// The role trying the request (the admin stands in for a viewer, who cannot create).
    Actor,
}

#[derive(Clone, Copy, Debug)]
enum Action {
    /// POST a record owned by this owner.
    Create(Owner),
    Patch,
    Put,
    Delete,
    /// PATCH `owner_id` to this owner.
    Reassign(Owner),
}

struct Row {
    name: &'static str,
    kinds: &'static [Kind],
    action: Action,
    /// Owner and creator of the record the request is about (unused for creates).
    owner: Owner,
    by: By,
    /// Expected status for admin, manager, agent, viewer.
    want: [u16; 4],
}

const fn row(name: &'static str, kinds: &'static [Kind], action: Action, owner: Owner, by: By, want: [u16; 4]) -> Row {
    Row { name, kinds, action, owner, by, want }
}

const ROWS: &[Row] = &[
    row("create unowned", RECORDS, Action::Create(Owner::Nobody), Owner::Nobody, By::Admin, [201, 201, 201, 403]),
    row("create owned by self", OWNED, Action::Create(Owner::Actor), Owner::Nobody, By::Admin, [201, 201, 201, 403]),
    row("create owned by teammate", OWNED, Action::Create(Owner::Mate), Owner::Nobody, By::Admin, [201, 201, 201, 403]),
    row(
        "create owned by stranger",
        OWNED,
        Action::Create(Owner::Stranger),
        Owner::Nobody,
        By::Admin,
        [201, 403, 403, 403],
    ),
    row("patch stranger's", RECORDS, Action::Patch, Owner::Stranger, By::Admin, [200, 403, 403, 403]),
    row("put stranger's", RECORDS, Action::Put, Owner::Stranger, By::Admin, [200, 403, 403, 403]),
    row("delete stranger's", RECORDS, Action::Delete, Owner::Stranger, By::Admin, [204, 403, 403, 403]),
    row("patch teammate's", RECORDS, Action::Patch, Owner::Mate, By::Admin, [200, 200, 200, 403]),
    row("put teammate's", RECORDS, Action::Put, Owner::Mate, By::Admin, [200, 200, 200, 403]),
    row("delete teammate's", RECORDS, Action::Delete, Owner::Mate, By::Admin, [204, 204, 403, 403]),
    row("patch own", RECORDS, Action::Patch, Owner::Actor, By::Admin, [200, 200, 200, 403]),
    row("put own", RECORDS, Action::Put, Owner::Actor, By::Admin, [200, 200, 200, 403]),
    row("delete own", RECORDS, Action::Delete, Owner::Actor, By::Admin, [204, 204, 204, 403]),
    row("patch unowned", UNOWNABLE, Action::Patch, Owner::Nobody, By::Admin, [200, 200, 200, 403]),
    row("put unowned", UNOWNABLE, Action::Put, Owner::Nobody, By::Admin, [200, 200, 200, 403]),
    row("delete unowned made by admin", UNOWNABLE, Action::Delete, Owner::Nobody, By::Admin, [204, 204, 403, 403]),
    row("delete unowned made by teammate", UNOWNABLE, Action::Delete, Owner::Nobody, By::Mate, [204, 204, 403, 403]),
    row("delete unowned made by self", UNOWNABLE, Action::Delete, Owner::Nobody, By::Actor, [204, 204, 204, 403]),
    row(
        "give teammate's to stranger",
        OWNED,
        Action::Reassign(Owner::Stranger),
        Owner::Mate,
        By::Admin,
        [200, 403, 403, 403],
    ),
    row("take teammate's", OWNED, Action::Reassign(Owner::Actor), Owner::Mate, By::Admin, [200, 200, 200, 403]),
    row("give own to teammate", OWNED, Action::Reassign(Owner::Mate), Owner::Actor, By::Admin, [200, 200, 200, 403]),
    row("disown teammate's", OWNED, Action::Reassign(Owner::Nobody), Owner::Mate, By::Admin, [200, 200, 200, 403]),
    row("create", ADMIN_ONLY, Action::Create(Owner::Nobody), Owner::Nobody, By::Admin, [201, 403, 403, 403]),
    row("patch", ADMIN_ONLY, Action::Patch, Owner::Nobody, By::Admin, [200, 403, 403, 403]),
    row("put", ADMIN_ONLY, Action::Put, Owner::Nobody, By::Admin, [200, 403, 403, 403]),
    row("delete", ADMIN_ONLY, Action::Delete, Owner::Nobody, By::Admin, [204, 403, 403, 403]),
];

struct Actor {
    who: Who,
    id: UserId,
    api: Api,
}

struct World {
    app: TestApp,
    actors: Vec<Actor>,
    mate: UserId,
    mate_api: Api,
    stranger: UserId,
    pipeline: Pipeline,
    /// An unowned person that activities and tasks are about.
    subject: PersonId,
    failures: Mutex<Vec<String>>,
    checks: Mutex<usize>,
}

impl World {
    fn actor(&self, who: Who) -> &Actor {
        self.actors.iter().find(|a| a.who == who).unwrap()
    }

    fn admin(&self) -> &Api {
        &self.app.admin
    }

    fn owner_id(&self, owner: Owner, who: Who) -> Option<UserId> {
        match owner {
            Owner::Nobody => None,
            Owner::Actor => Some(self.actor(who).id),
            Owner::Mate => Some(self.mate),
            Owner::Stranger => Some(self.stranger),
        }
    }

    fn creator(&self, by: By, who: Who) -> &Api {
        match by {
            By::Admin => self.admin(),
            By::Mate => &self.mate_api,
            By::Actor if who == Who::Viewer => self.admin(),
            By::Actor => &self.actor(who).api,
        }
    }

    /// A creation body for `kind` owned by `owner`.
    async fn body(&self, kind: Kind, owner: Option<UserId>) -> Value {
        let n = unique();
        let mut body = match kind {
            People => json!({ "first_name": format!("Matrix {n}"), "owner_id": owner }),
            Companies => json!({ "name": format!("Matrix {n}"), "owner_id": owner }),
            Deals => json!({
                "name": format!("Matrix {n}"),
                "amount": { "amount_minor": 1000, "currency": "EUR" },
                "pipeline_id": self.pipeline.id,
                "stage_id": self.pipeline.stages[0].id,
                "owner_id": owner,
            }),
            Activities => json!({ "kind": "note", "body": format!("Matrix {n}"), "person_id": self.subject }),
            Tasks => json!({ "title": format!("Matrix {n}"), "person_id": self.subject }),
            Purchases => {
                // A purchase belongs to whoever owns its person.
                let person = match owner {
                    None => self.subject,
                    Some(owner) => {
                        let person: Person = self
                            .admin()
                            .create("people", json!({ "first_name": format!("Buyer {n}"), "owner_id": owner }))
                            .await;
                        person.id
                    }
                };
                json!({ "person_id": person, "occurred_at": "2024-01-01T00:00:00Z",
                        "amount": { "amount_minor": 1000, "currency": "EUR" } })
            }
            Teams => json!({ "name": format!("Team {n}") }),
            Users => json!({ "name": format!("User {n}"), "email": format!("matrix{n}@example.com"),
                             "role": "viewer", "password": PASSWORD }),
            Pipelines => {
                json!({ "name": format!("Pipeline {n}"), "stages": [{ "name": "Only", "win_probability": 50 }] })
            }
            CustomFields => json!({ "entity_type": "company", "key": format!("k{n}"), "label": format!("Field {n}"),
                                    "kind": "text" }),
        };
        match (kind, owner) {
            (Activities, Some(owner)) => body["author_id"] = json!(owner),
            (Tasks, Some(owner)) => body["assignee_id"] = json!(owner),
            _ => {}
        }
        body
    }

    /// Makes the record a row is about; returns its path and creation body.
    async fn fixture(&self, kind: Kind, owner: Owner, by: By, who: Who) -> (String, Value) {
        let body = self.body(kind, self.owner_id(owner, who)).await;
        let creator = self.creator(by, who);
        let resp = creator.post(&format!("/api/v1/{}", kind.path()), &body).await;
        assert_eq!(
            resp.status, 201,
            "setting up {kind:?} owned by {owner:?}: {} answered {}: {}",
            resp.what, resp.status, resp.text
        );
        let id = resp.value()["id"].as_str().unwrap().to_owned();
        (format!("/api/v1/{}/{id}", kind.path()), body)
    }

    fn record(&self, kind: Kind, row: &str, who: Who, resp: &Resp, want: u16) -> bool {
        *self.checks.lock().unwrap() += 1;
        let mut ok = resp.status == want;
        if ok && want == 403 {
            let code = serde_json::from_str::<Value>(&resp.text)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned));
            ok = code.as_deref() == Some("forbidden");
        }
        if !ok {
            let body: String = resp.text.chars().take(200).collect();
            self.failures
                .lock()
                .unwrap()
                .push(format!("{kind:?} / {row} / {who:?}: want {want}, got {} ({}) {body}", resp.status, resp.what));
        }
        ok
    }

    fn fail(&self, message: String) {
        self.failures.lock().unwrap().push(message);
    }

    async fn run(&self, row: &Row, kind: Kind) {
        for who in TRY_ORDER {
            let want = row.want[WHO.iter().position(|w| *w == who).unwrap()];
            let api = &self.actor(who).api;
            if let Action::Create(owner) = row.action {
                let body = self.body(kind, self.owner_id(owner, who)).await;
                let resp = api.post(&format!("/api/v1/{}", kind.path()), &body).await;
                if self.record(kind, row.name, who, &resp, want) && want == 201 {
                    let created = resp.value();
                    if OWNED.contains(&kind) && created["owner_id"] != body["owner_id"] {
                        self.fail(format!("{kind:?} / {} / {who:?}: owner_id is {}", row.name, created["owner_id"]));
                    }
                    if created["created_by"] != json!(self.actor(who).id) && kind != CustomFields {
                        self.fail(format!(
                            "{kind:?} / {} / {who:?}: created_by is {}",
                            row.name, created["created_by"]
                        ));
                    }
                }
                continue;
            }

            let (path, body) = self.fixture(kind, row.owner, row.by, who).await;
            let before = self.admin().get(&path).await.want(200).value();
            let change = format!("Changed by {who:?} {}", unique());
            let resp = match row.action {
                Action::Patch => {
                    let mut patch = serde_json::Map::new();
                    patch.insert(kind.change_field().to_owned(), json!(change));
                    api.patch(&path, &Value::Object(patch)).await
                }
                Action::Put => {
                    let mut full = body.clone();
                    if let Some(map) = full.as_object_mut() {
                        map.remove("password");
                    }
                    full[kind.change_field()] = json!(change);
                    api.put(&path, &full).await
                }
                Action::Delete => api.delete(&path).await,
                Action::Reassign(owner) => api.patch(&path, &json!({ "owner_id": self.owner_id(owner, who) })).await,
                Action::Create(_) => unreachable!(),
            };
            let allowed = self.record(kind, row.name, who, &resp, want);
            let after = self.admin().get(&path).await;
            match (row.action, want) {
                (Action::Delete, 204) if kind == Users => {
                    let deactivated = after.status == 200 && after.value()["active"] == json!(false);
                    if !deactivated {
                        self.fail(format!("{kind:?} / {} / {who:?}: not deactivated: {}", row.name, after.text));
                    }
                }
                (Action::Delete, 204) if allowed && after.status != 404 => {
                    self.fail(format!("{kind:?} / {} / {who:?}: still there after DELETE", row.name));
                }
                (_, 200) if allowed => {
                    let after = after.value();
                    let expected = match row.action {
                        Action::Reassign(owner) => ("owner_id", json!(self.owner_id(owner, who))),
                        _ => (kind.change_field(), json!(change)),
                    };
                    if after[expected.0] != expected.1 {
                        self.fail(format!(
                            "{kind:?} / {} / {who:?}: {} is {} after the write",
                            row.name, expected.0, after[expected.0]
                        ));
                    }
                }
                (_, 403) => {
                    // A refused write changes nothing.
                    let unchanged = after.status == 200 && after.value() == before;
                    if !unchanged {
                        self.fail(format!(
                            "{kind:?} / {} / {who:?}: a refused request changed the record: {} -> {} {}",
                            row.name, before, after.status, after.text
                        ));
                    }
                }
                _ => {}
            }
        }
    }
}

async fn role_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let team_a = app.create_team("Team A").await;
    let team_b = app.create_team("Team B").await;
    let (manager, manager_api) = app.create_user(Role::Manager, Some(team_a.id)).await;
    let (agent, agent_api) = app.create_user(Role::Agent, Some(team_a.id)).await;
    let (viewer, viewer_api) = app.create_user(Role::Viewer, Some(team_a.id)).await;
    let (mate, mate_api) = app.create_user(Role::Agent, Some(team_a.id)).await;
    let stranger: rapport_domain::records::User = app
        .admin
        .create(
            "users",
            json!({ "name": "Stranger", "email": format!("stranger{}@example.com", unique()), "role": "agent",
                    "team_id": team_b.id, "password": PASSWORD }),
        )
        .await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let subject: Person = app.admin.create("people", json!({ "first_name": "Subject" })).await;
    let actors = vec![
        Actor { who: Who::Admin, id: app.admin_user.id, api: app.admin.clone() },
        Actor { who: Who::Manager, id: manager.id, api: manager_api },
        Actor { who: Who::Agent, id: agent.id, api: agent_api },
        Actor { who: Who::Viewer, id: viewer.id, api: viewer_api },
    ];
    let world = World {
        app,
        actors,
        mate: mate.id,
        mate_api,
        stranger: stranger.id,
        pipeline,
        subject: subject.id,
        failures: Mutex::new(Vec::new()),
        checks: Mutex::new(0),
    };

    for row in ROWS {
        for kind in row.kinds {
            world.run(row, *kind).await;
        }
    }

    // Nobody but an admin changes users' roles, their own included.
    for who in TRY_ORDER {
        let actor = world.actor(who);
        let path = format!("/api/v1/users/{}", actor.id);
        let resp = actor.api.patch(&path, &json!({ "role": "admin" })).await;
        let want = if who == Who::Admin { 200 } else { 403 };
        world.record(Users, "promote self to admin", who, &resp, want);
        let resp = actor.api.patch(&format!("/api/v1/users/{}", world.mate), &json!({ "team_id": team_b.id })).await;
        world.record(Users, "move a teammate to another team", who, &resp, if who == Who::Admin { 200 } else { 403 });
        if who == Who::Admin {
            world
                .admin()
                .patch(&format!("/api/v1/users/{}", world.mate), &json!({ "team_id": team_a.id }))
                .await
                .want(200);
        }
    }
    for who in [Who::Manager, Who::Agent, Who::Viewer] {
        let me: crate::common::SessionBody = world.actor(who).api.get("/api/v1/session").await.want(200).json();
        if me.user.fields.role == Role::Admin {
            world.fail(format!("{who:?} became an admin"));
        }
    }

    // Everyone, the viewer included, reads everything.
    let stranger_person = world.fixture(People, Owner::Stranger, By::Admin, Who::Admin).await.0;
    let stranger_company = world.fixture(Companies, Owner::Stranger, By::Admin, Who::Admin).await.0;
    for who in WHO {
        let api = &world.actor(who).api;
        for kind in ALL {
            let resp = api.get(&format!("/api/v1/{}", kind.path())).await;
            world.record(*kind, "list", who, &resp, 200);
        }
        for path in [
            stranger_person.clone(),
            format!("{stranger_person}/timeline"),
            format!("{stranger_company}/timeline"),
            format!("/api/v1/users/{}", world.stranger),
            format!("/api/v1/pipelines/{}", world.pipeline.id),
            format!("/api/v1/teams/{}", team_b.id),
        ] {
            let resp = api.get(&path).await;
            world.record(People, "read", who, &resp, 200);
        }
    }

    let failures = world.failures.lock().unwrap();
    let checks = *world.checks.lock().unwrap();
    println!("role matrix: {checks} checks, {} failures", failures.len());
    assert!(failures.is_empty(), "{} of {checks} role-matrix checks failed:\n{}", failures.len(), failures.join("\n"));
}
