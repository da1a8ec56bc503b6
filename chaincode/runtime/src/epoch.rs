//! The wall-clock safety net: an optional background ticker that advances
//! the engine's epoch, so an invocation that somehow runs far longer than
//! its fuel should allow (a misconfigured fuel limit, a pathological
//! compilation) is interrupted.
//!
//! This is the only clock in the runtime and it is off by default. It can
//! only make an invocation *fail* ([`crate::Error::WallClock`]), never change
//! what a successful one returns, so endorsements stay deterministic: a peer
//! that interrupts simply does not endorse.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::Engine;

/// Epoch period.
pub const TICK: Duration = Duration::from_millis(10);

/// Ticks the engine epoch every [`TICK`] until dropped.
pub(crate) struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    /// Starts the ticker thread for `engine`.
    pub(crate) fn start(engine: &Engine) -> std::io::Result<Ticker> {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, engine) = (stop.clone(), engine.clone());
        std::thread::Builder::new()
            .name("chaincode-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Ticker { stop })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Epoch ticks that cover `limit`, plus one for the partial tick in progress.
pub(crate) fn ticks(limit: Duration) -> u64 {
    let tick = TICK.as_nanos().max(1);
    u64::try_from(limit.as_nanos().div_ceil(tick))
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_rounding() {
        assert_eq!(ticks(Duration::ZERO), 1);
        assert_eq!(ticks(Duration::from_millis(10)), 2);
        assert_eq!(ticks(Duration::from_millis(11)), 3);
        assert_eq!(ticks(Duration::MAX), u64::MAX);
    }
}
