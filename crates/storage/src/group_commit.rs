//! Committing concurrent writers' work together. Each caller queues its
//! item; whoever finds no batch running takes everything queued and runs it
//! as one batch, while later callers queue behind it for the next one. One
//! transaction's fixed costs (SQLite's one writer, PostgreSQL's commit
//! flush, the reads every check needs) are then paid once per batch rather
//! than once per item.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Semaphore, oneshot};

use crate::{Result, StorageError};

/// An item waiting for its batch, and where its outcome goes.
pub(crate) struct Queued<T, R> {
    pub(crate) item: T,
    pub(crate) reply: Reply<R>,
}

pub(crate) struct Reply<R>(oneshot::Sender<Result<R>>);

impl<R> Reply<R> {
    /// Hands the caller its outcome; a caller that went away meanwhile
    /// (its request was dropped) no longer needs it.
    pub(crate) fn send(self, outcome: Result<R>) {
        let _ = self.0.send(outcome);
    }
}

/// The most items one batch takes: more wait for the next, so that one
/// batch never holds SQLite's writer for long.
const MAX_BATCH: usize = 500;

pub(crate) struct GroupCommit<T, R> {
    queue: Mutex<Vec<Queued<T, R>>>,
    /// A permit per batch that may run at once: one where the database has
    /// one writer (SQLite), several where writers run side by side
    /// (PostgreSQL), so that one batch's round trips do not hold up the rest.
    lanes: Arc<Semaphore>,
}

impl<T, R> GroupCommit<T, R> {
    pub(crate) fn new(lanes: usize) -> Self {
        GroupCommit { queue: Mutex::new(Vec::new()), lanes: Arc::new(Semaphore::new(lanes.max(1))) }
    }
}

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    /// Queues `item` and waits for its outcome. `run` must answer every item
    /// of each batch it is given: it may run several times, the caller
    /// leading batches of others' items until one carries its own. Batches
    /// run on a task of their own, so a caller dropped mid-way (a client
    /// that hung up) cannot cut short the batch that carries other callers'
    /// items.
    pub(crate) async fn submit<F, Fut>(&self, item: T, run: F) -> Result<R>
    where
        F: Fn(Vec<Queued<T, R>>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (reply, mut outcome) = oneshot::channel();
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).push(Queued { item, reply: Reply(reply) });
        loop {
            tokio::select! {
                // A batch that started after the item was queued carried it.
                answered = &mut outcome => return answered.map_err(|_| batch_lost())?,
                lane = self.lanes.clone().acquire_owned() => {
                    let lane = lane.map_err(|_| batch_lost())?;
                    let batch: Vec<_> = {
                        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                        let size = queue.len().min(MAX_BATCH);
                        queue.drain(..size).collect()
                    };
                    // An empty queue: another batch carries this item.
                    if batch.is_empty() {
                        drop(lane);
                        return outcome.await.map_err(|_| batch_lost())?;
                    }
                    let work = run(batch);
                    tokio::spawn(async move {
                        work.await;
                        drop(lane);
                    });
                }
            }
        }
    }
}

fn batch_lost() -> StorageError {
    StorageError::Corrupt("a batch of writes ended without an outcome for one of them".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    type Batch = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

    /// A run that doubles each item after `pause`, noting each batch's size.
    fn doubling(sizes: Arc<Mutex<Vec<usize>>>, pause: Duration) -> impl Fn(Vec<Queued<u32, u32>>) -> Batch {
        move |batch| {
            sizes.lock().unwrap().push(batch.len());
            Box::pin(async move {
                tokio::time::sleep(pause).await;
                for queued in batch {
                    queued.reply.send(Ok(queued.item * 2));
                }
            })
        }
    }

    async fn submit_all(group: &Arc<GroupCommit<u32, u32>>, count: u32, sizes: &Arc<Mutex<Vec<usize>>>) {
        let callers: Vec<_> = (0..count)
            .map(|i| {
                let (group, sizes) = (group.clone(), sizes.clone());
                tokio::spawn(async move { group.submit(i, doubling(sizes, Duration::from_millis(20))).await })
            })
            .collect();
        for (i, caller) in callers.into_iter().enumerate() {
            assert_eq!(caller.await.unwrap().unwrap(), i as u32 * 2);
        }
    }

    /// Items that arrive while a batch runs go together into the next one,
    /// and every caller gets its own item's outcome.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_waiting_behind_a_batch_share_the_next() {
        let (group, sizes) = (Arc::new(GroupCommit::new(1)), Arc::new(Mutex::new(Vec::new())));
        submit_all(&group, 20, &sizes).await;
        let sizes = sizes.lock().unwrap();
        assert_eq!(sizes.iter().sum::<usize>(), 20);
        assert!(sizes.len() < 20, "20 callers in batches of {sizes:?}");
    }

    /// More callers than one batch takes: the rest wait for the next ones.
    #[tokio::test]
    async fn a_batch_takes_at_most_its_limit() {
        let (group, sizes) = (Arc::new(GroupCommit::new(1)), Arc::new(Mutex::new(Vec::new())));
        submit_all(&group, 1_201, &sizes).await;
        let sizes = sizes.lock().unwrap();
        assert_eq!(sizes.iter().sum::<usize>(), 1_201);
        assert!(sizes.iter().all(|&size| size <= MAX_BATCH), "batches of {sizes:?}");
    }

    /// With two lanes, a second batch starts while the first still runs.
    #[tokio::test]
    async fn lanes_run_batches_side_by_side() {
        let group = Arc::new(GroupCommit::<u32, u32>::new(2));
        let running = Arc::new(Mutex::new((0usize, 0usize)));
        let callers: Vec<_> = (0..8u32)
            .map(|i| {
                let (group, running) = (group.clone(), running.clone());
                tokio::spawn(async move {
                    let run = move |batch: Vec<Queued<u32, u32>>| {
                        let running = running.clone();
                        async move {
                            {
                                let mut running = running.lock().unwrap();
                                running.0 += 1;
                                running.1 = running.1.max(running.0);
                            }
                            tokio::time::sleep(Duration::from_millis(30)).await;
                            running.lock().unwrap().0 -= 1;
                            for queued in batch {
                                queued.reply.send(Ok(queued.item));
                            }
                        }
                    };
                    group.submit(i, run).await
                })
            })
            .collect();
        for (i, caller) in callers.into_iter().enumerate() {
            assert_eq!(caller.await.unwrap().unwrap(), i as u32);
        }
        assert_eq!(running.lock().unwrap().1, 2, "at most two batches at once, and two did run together");
    }

    /// A caller that gives up does not stop the batch carrying the others.
    #[tokio::test]
    async fn a_dropped_caller_leaves_the_batch_running() {
        let (group, sizes) = (Arc::new(GroupCommit::new(1)), Arc::new(Mutex::new(Vec::new())));
        let slow = group.clone();
        let first_sizes = sizes.clone();
        let first = tokio::spawn(async move { slow.submit(1, doubling(first_sizes, Duration::from_millis(50))).await });
        while sizes.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        let second = group.submit(2, doubling(sizes.clone(), Duration::ZERO));
        first.abort();
        assert_eq!(second.await.unwrap(), 4);
    }
}
