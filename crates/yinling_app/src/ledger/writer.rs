//! The group-commit writer: postings queued from many requests commit together.

use super::*;

// ---- the group-commit writer ----

pub(super) struct Job {
    posting: Posting,
    reply: oneshot::Sender<AppResult<Receipt>>,
}

/// Most postings one commit carries.
pub(super) const MAX_BATCH: usize = 2_000;

/// The queue in front of the one writer task. Started on first use.
#[derive(Default)]
pub struct LedgerWriter {
    sender: OnceLock<mpsc::Sender<Job>>,
    ids: Arc<AccountIds>,
}

impl LedgerWriter {
    pub fn ids(&self) -> &AccountIds {
        &self.ids
    }

    pub(super) fn sender(&self, store: &Store, clock: &Clock) -> mpsc::Sender<Job> {
        self.sender
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
                tokio::spawn(run_writer(
                    store.clone(),
                    clock.clone(),
                    self.ids.clone(),
                    rx,
                ));
                tx
            })
            .clone()
    }
}

pub(super) async fn run_writer(
    store: Store,
    clock: Clock,
    ids_cache: Arc<AccountIds>,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let postings: Vec<Posting> = jobs.iter().map(|j| j.posting.clone()).collect();
        let result = apply_alone(&store, &ids_cache, &postings, clock.now()).await;
        match result {
            Ok(results) => {
                for (job, r) in jobs.drain(..).zip(results) {
                    let _ = job.reply.send(r);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, batch = jobs.len(), "ledger batch failed");
                for job in jobs.drain(..) {
                    let _ = job
                        .reply
                        .send(Err(AppError::Internal(format!("ledger batch failed: {e}"))));
                }
            }
        }
    }
}

impl Ledger<'_> {
    /// Queues a posting for the writer and waits until it is committed (or refused).
    #[tracing::instrument(name = "ledger.post", skip_all, err(level = "debug"))]
    pub async fn post(self, posting: Posting) -> AppResult<Receipt> {
        posting.check()?;
        let (reply, answer) = oneshot::channel();
        self.writer()
            .sender(self.app.store(), self.app.clock())
            .send(Job { posting, reply })
            .await
            .map_err(|_| AppError::Internal("ledger writer stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("ledger writer dropped a posting".into()))?
    }

    /// Applies postings in one transaction of the caller's own (no queue): for jobs.
    #[tracing::instrument(name = "ledger.post_now", skip_all, err(level = "debug"))]
    pub async fn post_now(self, postings: &[Posting]) -> AppResult<Vec<AppResult<Receipt>>> {
        apply_alone(
            self.app.store(),
            self.writer().ids(),
            postings,
            self.app.now(),
        )
        .await
    }
}
