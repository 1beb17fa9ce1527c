//! Recently verified credentials, so that a burst of API calls costs one
//! credential look-up, not one per call. Entries live a few seconds; every
//! change to users or credentials made through this server clears the cache
//! at once, so only a change made elsewhere (another node, the CLI) can take
//! up to `TTL` to be seen.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rapport_domain::Actor;
use rapport_domain::records::User;

pub const TTL: Duration = Duration::from_secs(5);
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
