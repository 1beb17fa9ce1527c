//! Creating one person, as the API and the forms do, with the creates that
//! arrive at the same moment committed together (group commit): at 32
//! concurrent clients each create otherwise paid for a transaction of its
//! own, a dozen statements and, on PostgreSQL, a flush of the log. Every
//! caller still gets the outcome its create would have had alone.

use std::collections::HashSet;

use rapport_domain::Actor;
use rapport_domain::records::{Person, PersonInput};

use super::people::{SharedEmail, email_holders, insert_people, refuse_taken_emails};
use crate::group_commit::Queued;
use crate::{Result, StorageError, Store};

/// A create waiting for its batch.
pub(crate) struct NewPerson {
    actor: Actor,
    input: PersonInput,
    shared: SharedEmail,
}

impl Store {
    /// Creates a person under the rule for shared email addresses.
    pub async fn add_person(&self, actor: &Actor, input: PersonInput, shared: SharedEmail) -> Result<Person> {
        let store = self.clone();
        let new = NewPerson { actor: *actor, input, shared };
        let run = move |batch| {
            let store = store.clone();
            async move { store.add_people_together(batch).await }
        };
        self.person_creates.submit(new, run).await
    }

    /// One create in its own transaction.
    async fn add_person_alone(&self, new: NewPerson) -> Result<Person> {
        let w = self.begin_write().await?;
        if new.shared == SharedEmail::Refuse {
            refuse_taken_emails(&*w, &new.input, None).await?;
        }
        let mut outcomes = insert_people(&*w, &new.actor, vec![new.input]).await?;
        let person = outcomes
            .pop()
            .unwrap_or_else(|| Err(StorageError::Corrupt("one person to insert gave no outcome".into())))?;
        w.commit().await?;
        Ok(person)
    }

    /// Answers every create of the batch. They are tried in one transaction;
    /// should the database fail it, each is made again alone, so one
    /// create's failure never becomes its neighbours'.
    async fn add_people_together(&self, batch: Vec<Queued<NewPerson, Person>>) {
        if batch.len() > 1 {
            let news: Vec<(Actor, &PersonInput, SharedEmail)> =
                batch.iter().map(|q| (q.item.actor, &q.item.input, q.item.shared)).collect();
            match self.try_together(&news).await {
                Ok(outcomes) => {
                    for (Queued { item, reply }, outcome) in batch.into_iter().zip(outcomes) {
                        match outcome {
                            Some(outcome) => reply.send(outcome),
                            None => reply.send(self.add_person_alone(item).await),
                        }
                    }
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, creates = batch.len(), "creating people together failed; creating each alone");
                }
            }
        }
        for Queued { item, reply } in batch {
            reply.send(self.add_person_alone(item).await);
        }
    }

    /// The batch's creates in one transaction, in order, each checked as it
    /// would be alone. `None` marks a create that must wait until the others
    /// are committed: it refuses an address that an earlier one of the batch
    /// takes, and alone it would name that person.
    async fn try_together(&self, news: &[(Actor, &PersonInput, SharedEmail)]) -> Result<Vec<Option<Result<Person>>>> {
        let w = self.begin_write().await?;
        let mut outcomes: Vec<Option<Result<Person>>> = news.iter().map(|_| None).collect();
        let refused: Vec<&str> = news
            .iter()
            .filter(|(_, _, shared)| *shared == SharedEmail::Refuse)
            .flat_map(|(_, input, _)| input.emails.iter().map(|e| e.address.as_str()))
            .collect();
        let held: HashSet<String> =
            email_holders(&*w, refused.iter().copied()).await?.into_iter().map(|(address, _)| address).collect();
        let mut batch_addresses: HashSet<&str> = HashSet::new();
        // Runs of creates by the same staff member, checked and written together.
        let mut runs: Vec<(Actor, Vec<usize>)> = Vec::new();
        for (i, (actor, input, shared)) in news.iter().enumerate() {
            let addresses: Vec<&str> = input.emails.iter().map(|e| e.address.as_str()).collect();
            let refuses = *shared == SharedEmail::Refuse;
            let waits = refuses && addresses.iter().any(|a| batch_addresses.contains(a));
            batch_addresses.extend(addresses.iter().copied());
            if waits {
                continue;
            }
            if refuses && addresses.iter().any(|a| held.contains(*a)) {
                match refuse_taken_emails(&*w, input, None).await {
                    Err(taken @ StorageError::Taken { .. }) => {
                        outcomes[i] = Some(Err(taken));
                        continue;
                    }
                    Err(failed) => return Err(failed),
                    Ok(()) => {}
                }
            }
            match runs.last_mut() {
                Some((by, members)) if by == actor => members.push(i),
                _ => runs.push((*actor, vec![i])),
            }
        }
        for (actor, members) in runs {
            let inputs = members.iter().map(|&i| news[i].1.clone()).collect();
            let created = insert_people(&*w, &actor, inputs).await?;
            for (i, outcome) in members.into_iter().zip(created) {
                outcomes[i] = Some(outcome);
            }
        }
        w.commit().await?;
        Ok(outcomes)
    }
}
