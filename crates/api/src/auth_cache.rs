//! Recently verified credentials, so that a burst of API calls costs one
//! credential look-up, not one per call. Every change to users or credentials
//! made through this server clears the cache at once; a change made elsewhere
//! (another node behind the same load balancer, the CLI) is seen here when the
//! entry runs out, after at most `TTL`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rapport_domain::Actor;
use rapport_domain::records::User;

/// One second, so that a token revoked or a user deactivated on any node stops
/// working on every node within a second. Nodes share nothing but the
/// database, so a node cannot hear of another's change: the honest bound is
/// the entry's lifetime. Telling the other nodes (PostgreSQL `LISTEN/NOTIFY`,
/// a version counter read per request) would allow a longer TTL, but costs a
/// connection per node or a query per request; a 1 s entry still saves every
/// look-up of a burst after its first, which is what the cache is for.
pub const TTL: Duration = Duration::from_secs(1);
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<String, (Instant, Actor, User)>>,
}

impl AuthCache {
    pub fn get(&self, credential: &str) -> Option<(Actor, User)> {
        let entries = self.entries.lock().expect("auth cache lock");
        entries.get(credential).filter(|(at, _, _)| at.elapsed() < TTL).map(|(_, actor, user)| (*actor, user.clone()))
    }

    pub fn put(&self, credential: &str, actor: Actor, user: User) {
        let mut entries = self.entries.lock().expect("auth cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _, _)| at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(credential.to_owned(), (Instant::now(), actor, user));
    }

    /// Forgets everything: called after any change to users, tokens or sessions.
    pub fn clear(&self) {
        self.entries.lock().expect("auth cache lock").clear();
    }
}
