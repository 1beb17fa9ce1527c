//! What the report tests share: a migrated throwaway database with an
//! admin, and staff members.

use rapport_domain::records::UserInput;
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, Role, TeamId};
use rapport_storage::Store;
use rapport_testing::{Backend, TestDatabase};

/// A migrated throwaway database, its store and an admin.
pub async fn open(backend: Backend) -> (TestDatabase, Store, Actor) {
    let db = TestDatabase::migrated(backend, Store::migrate_database).await;
    let store = Store::connect(&db.url).await.expect("connect");
    let admin = staff(&store, "Admin", Role::Admin, None).await;
    (db, store, admin)
}

/// An active user named `name`, with the address `name@example.com`.
pub fn user_input(name: &str, role: Role, team_id: Option<TeamId>) -> UserInput {
    UserInput {
        name: Name::try_from(name).unwrap(),
        email: Email::parse(&format!("{}@example.com", name.to_lowercase())).unwrap(),
        role,
        team_id,
        active: true,
    }
}

pub async fn staff(store: &Store, name: &str, role: Role, team_id: Option<TeamId>) -> Actor {
    let user = store.create_user(user_input(name, role, team_id), None, None).await.expect("a user");
    Actor { user_id: user.id, role, team_id }
}
