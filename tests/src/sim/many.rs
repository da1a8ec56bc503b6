//! Running many seeds on several threads and summarising them.

use super::checker::Violation;
use super::plan::SimOptions;
use super::runner::{run_seed, SeedReport};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Results of many seeds.
#[derive(Debug)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// Failed seeds.
    pub failures: Vec<SeedReport>,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Sum of honest ledger heights (batches committed).
    pub batches: u64,
    /// Sum of view changes started.
    pub view_changes: u64,
    /// Sum of invalid messages dropped.
    pub invalid_dropped: u64,
    /// Seeds with at least one Byzantine replica.
    pub byzantine_seeds: u64,
    /// Sum of fetched batches accepted.
    pub batches_fetched: u64,
    /// Sum of fetched answers refused (wrong bytes).
    pub fetches_refused: u64,
}

impl Summary {
    /// Seeds per minute of wall-clock time.
    pub fn seeds_per_minute(&self) -> f64 {
        self.seeds as f64 * 60.0 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs seeds `start..start + count` on `threads` threads.
pub fn run_seeds(start: u64, count: u64, opts: &SimOptions, threads: usize) -> Summary {
    let began = Instant::now();
    let next = AtomicU64::new(start);
    let reports: Mutex<Vec<SeedReport>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= start + count {
                    break;
                }
                let r = std::panic::catch_unwind(|| run_seed(seed, opts)).unwrap_or_else(|_| {
                    SeedReport::failed(seed, opts, Violation::Setup { reason: "panic" })
                });
                if let Ok(mut all) = reports.lock() {
                    all.push(r);
                }
            });
        }
    });
    let reports = reports.into_inner().unwrap_or_default();
    let mut failures: Vec<SeedReport> = reports.iter().filter(|r| !r.ok()).cloned().collect();
    failures.sort_by_key(|r| r.seed);
    Summary {
        seeds: reports.len() as u64,
        batches: reports.iter().map(|r| r.height).sum(),
        view_changes: reports.iter().map(|r| r.view_changes).sum(),
        invalid_dropped: reports.iter().map(|r| r.invalid_dropped).sum(),
        byzantine_seeds: reports.iter().filter(|r| !r.byzantine.is_empty()).count() as u64,
        batches_fetched: reports.iter().map(|r| r.batches_fetched).sum(),
        fetches_refused: reports.iter().map(|r| r.fetches_refused).sum(),
        failures,
        elapsed: began.elapsed(),
    }
}
