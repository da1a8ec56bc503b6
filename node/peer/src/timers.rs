//! Generation-tagged timers for the PBFT core.
//!
//! The core asks for `ScheduleTimeout { kind, generation, after }`; we arm a
//! tokio sleep that, when it fires, sends `(kind, generation)` back to the
//! engine. Scheduling a kind again aborts the earlier sleep. A stale fire
//! that races the abort is harmless: the core ignores generations that are
//! no longer current.

use cryptanet_pbft::TimeoutKind;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A timer that fired.
pub type Fired = (TimeoutKind, u64);

/// The set of armed timers.
#[derive(Debug)]
pub struct Timers {
    tx: mpsc::UnboundedSender<Fired>,
    armed: HashMap<TimeoutKind, JoinHandle<()>>,
}

impl Timers {
    /// New timers and the receiver their fires arrive on.
    pub fn new() -> (Timers, mpsc::UnboundedReceiver<Fired>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Timers {
                tx,
                armed: HashMap::new(),
            },
            rx,
        )
    }

    /// Arms `kind` with `generation` to fire after `after_ms` milliseconds.
    pub fn schedule(&mut self, kind: TimeoutKind, generation: u64, after_ms: u64) {
        let tx = self.tx.clone();
        let handle = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(after_ms)).await;
            let _ = tx.send((kind, generation));
        });
        if let Some(old) = self.armed.insert(kind, handle) {
            old.abort();
        }
    }
}

impl Drop for Timers {
    fn drop(&mut self) {
        for (_, h) in self.armed.drain() {
            h.abort();
        }
    }
}
