//! What several storage suites share: a
//! migrated throwaway database with its first admin, and staff members.

use rapport_domain::records::UserInput;
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, Role, TeamId};
use rapport_storage::Store;
use rapport_testing::{Backend, TestDatabase};

/// A migrated throwaway database and its first admin.
pub async fn open(backend: Backend) -> (TestDatabase, Store, Actor) {
    let db = TestDatabase::migrated(backend, Store::migrate_database).await;
    let store = Store::connect(&db.url).await.unwrap_or_else(|err| panic!("connect to {}: {err}", db.url));
    let admin = user(&store, "Admin", Role::Admin, None).await;
    (db, store, admin)
}

/// A staff member (`name@example.com`) as the storage layer's actor.
pub async fn user(store: &Store, user_name: &str, role: Role, team_id: Option<TeamId>) -> Actor {
    let input = UserInput {
        name: Name::try_from(user_name).expect("a valid name"),
        email: Email::parse(&format!("{}@example.com", user_name.to_lowercase())).expect("an email"),
        role,
        team_id,
        active: true,
    };
    let user = store.create_user(input, None, None).await.expect("create a user");
    Actor { user_id: user.id, role: user.fields.role, team_id: user.fields.team_id }
}
