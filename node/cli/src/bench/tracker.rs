//! Commit events for the benchmark: one filtered-block stream from one
//! peer; a transaction registers its id before it is submitted and is told
//! when (and with which validation code) a block carrying it arrived.

use cryptanet_proto::client::PeerClient;
use cryptanet_proto::v1::{deliver_request::Start, DeliverRequest, SeekNewest};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::oneshot;

/// When a transaction's block arrived, and its validation code name.
pub type Commit = (Instant, &'static str);

/// Waiting transactions by wire tx id.
#[derive(Debug, Default)]
pub struct Tracker {
    waiting: Mutex<HashMap<String, oneshot::Sender<Commit>>>,
}

impl Tracker {
    /// Opens the filtered-block stream on `peer` (from its newest block) and
    /// starts resolving registrations. The stream is open when this returns,
    /// so any transaction registered afterwards is seen.
    pub async fn start(peer: &PeerClient) -> crate::Result<Arc<Tracker>> {
        let mut blocks = peer
            .deliver()
            .filtered_blocks(DeliverRequest {
                start: Some(Start::Newest(SeekNewest {})),
                stop: None,
            })
            .await
            .map_err(cryptanet_proto::Error::from)?
            .into_inner();
        let tracker = Arc::new(Tracker::default());
        let resolver = Arc::downgrade(&tracker);
        tokio::spawn(async move {
            while let Ok(Some(block)) = blocks.message().await {
                let now = Instant::now();
                let Some(tracker) = resolver.upgrade() else {
                    return;
                };
                for tx in block.txs {
                    let code = cryptanet_proto::validation::from_wire(tx.validation_code)
                        .map_or("UNKNOWN", |c| c.name());
                    tracker.resolve(&tx.tx_id, (now, code));
                }
            }
            tracing::warn!("bench: the filtered-block stream ended");
        });
        Ok(tracker)
    }

    /// Registers `tx_id` (wire form); the receiver yields its commit.
    pub fn register(&self, tx_id: String) -> oneshot::Receiver<Commit> {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(tx_id, tx);
        rx
    }

    /// Drops a registration (the transaction was never submitted).
    pub fn forget(&self, tx_id: &str) {
        self.lock().remove(tx_id);
    }

    /// Delivers a commit to its waiter, if any.
    pub fn resolve(&self, tx_id: &str, commit: Commit) {
        if let Some(waiter) = self.lock().remove(tx_id) {
            // The waiter may have timed out and gone: nothing to tell.
            let _ = waiter.send(commit);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Commit>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_registered_transaction_learns_its_code_others_are_ignored() {
        let t = Tracker::default();
        let rx = t.register("aa".into());
        let gone = t.register("bb".into());
        t.forget("bb");
        let at = Instant::now();
        t.resolve("cc", (at, "VALID"));
        t.resolve("bb", (at, "VALID"));
        t.resolve("aa", (at, "MVCC_READ_CONFLICT"));
        assert_eq!(rx.await.unwrap(), (at, "MVCC_READ_CONFLICT"));
        assert!(gone.await.is_err());
        assert!(t.lock().is_empty());
    }
}
