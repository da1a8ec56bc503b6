//! Replica configuration. All durations are abstract units (the shell maps
//! them to real time; the simulator uses ticks).

use crate::error::{Error, Result};
use crate::types::ReplicaId;

/// Deliberate protocol defects, compiled in only with the `test-bugs`
/// feature so the simulator can show that its checkers catch them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Bug {
    /// The protocol as specified.
    #[default]
    None,
    /// Commit with 2f COMMITs instead of 2f + 1.
    CommitQuorum2f,
    /// NEW-VIEW ignores prepared certificates and fills every slot with a
    /// null batch (both when building and when checking a NEW-VIEW).
    NewViewDropsPrepared,
}

/// Static parameters of one replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Number of replicas; must be `3f + 1`.
    pub n: usize,
    /// This replica's index in `0..n`.
    pub id: ReplicaId,
    /// A checkpoint is taken every `checkpoint_interval` sequence numbers (K).
    pub checkpoint_interval: u64,
    /// Watermark window L: sequence numbers in `(h, h + L]` are accepted,
    /// where `h` is the last stable checkpoint. Must be a multiple of K, at
    /// least 2K.
    pub watermark_window: u64,
    /// A batch is cut as soon as it holds this many requests.
    pub max_batch_count: usize,
    /// A batch is cut before its payload bytes would exceed this; a single
    /// request larger than this is refused.
    pub max_batch_bytes: usize,
    /// The primary cuts a partial batch this long after its first request.
    pub batch_timeout: u64,
    /// A replica with a pending request that does not execute within this
    /// long suspects the primary and starts a view change.
    pub request_timeout: u64,
    /// Base timeout for collecting a NEW-VIEW once 2f + 1 VIEW-CHANGEs are
    /// in; doubles with every consecutive failed view change.
    pub view_change_timeout: u64,
    /// Period of the STATUS broadcast that drives retransmission.
    pub status_interval: u64,
    /// How many executed request digests are remembered for deduplication.
    pub dedup_window: usize,
    pub(crate) bug: Bug,
}

impl Config {
    /// A configuration for replica `id` of `n` with default parameters
    /// (K = 16, L = 64, batches of 64 requests or 1 MiB, timeouts in
    /// milliseconds).
    pub fn new(n: usize, id: ReplicaId) -> Result<Config> {
        let c = Config {
            n,
            id,
            checkpoint_interval: 16,
            watermark_window: 64,
            max_batch_count: 64,
            max_batch_bytes: 1 << 20,
            batch_timeout: 20,
            request_timeout: 2_000,
            view_change_timeout: 2_000,
            status_interval: 500,
            dedup_window: 1 << 16,
            bug: Bug::None,
        };
        c.validate()?;
        Ok(c)
    }

    /// Checks the invariants the protocol relies on.
    pub fn validate(&self) -> Result<()> {
        let err = |reason| Err(Error::Config { reason });
        if self.n == 0 || self.n % 3 != 1 {
            return err("n must be 3f + 1");
        }
        if (self.id as usize) >= self.n {
            return err("id must be below n");
        }
        if self.checkpoint_interval == 0 {
            return err("checkpoint interval must be positive");
        }
        if self.watermark_window < 2 * self.checkpoint_interval
            || !self
                .watermark_window
                .is_multiple_of(self.checkpoint_interval)
        {
            return err("watermark window must be a multiple of K, at least 2K");
        }
        if self.max_batch_count == 0 || self.max_batch_bytes == 0 {
            return err("batch limits must be positive");
        }
        if self.batch_timeout == 0
            || self.request_timeout == 0
            || self.view_change_timeout == 0
            || self.status_interval == 0
        {
            return err("timeouts must be positive");
        }
        Ok(())
    }

    /// Number of faults tolerated: `f = (n - 1) / 3`.
    pub fn f(&self) -> usize {
        (self.n - 1) / 3
    }

    /// Size of a quorum certificate: `2f + 1`.
    pub fn quorum(&self) -> usize {
        2 * self.f() + 1
    }

    /// Replicas that must report a view for a replica to join it: `f + 1`.
    pub fn weak_quorum(&self) -> usize {
        self.f() + 1
    }

    /// Primary of `view`.
    pub fn primary(&self, view: u64) -> ReplicaId {
        // n < 2^32 because ids are u32; the remainder fits.
        (view % self.n as u64) as ReplicaId
    }

    /// Quorum of COMMITs this replica waits for (2f + 1 unless a bug is injected).
    pub(crate) fn commit_quorum(&self) -> usize {
        match self.bug {
            Bug::CommitQuorum2f => 2 * self.f(),
            _ => self.quorum(),
        }
    }

    /// Injects a deliberate defect (simulator self-tests only).
    #[cfg(feature = "test-bugs")]
    pub fn inject_bug(&mut self, bug: Bug) {
        self.bug = bug;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_n_equals_3f_plus_1() {
        for (n, f) in [(1, 0), (4, 1), (7, 2), (10, 3)] {
            let c = Config::new(n, 0).unwrap();
            assert_eq!(c.f(), f);
            assert_eq!(c.quorum(), 2 * f + 1);
            assert_eq!(c.primary(n as u64 + 2), 2 % n as u32);
        }
        for n in [0, 2, 3, 5, 6] {
            assert!(matches!(Config::new(n, 0), Err(Error::Config { .. })));
        }
        assert!(Config::new(4, 4).is_err());
        let mut c = Config::new(4, 0).unwrap();
        c.watermark_window = c.checkpoint_interval + 1;
        assert!(c.validate().is_err());
    }
}
