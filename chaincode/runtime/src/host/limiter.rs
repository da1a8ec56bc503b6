//! Memory and table limits, enforced through wasmtime's resource limiter.
//! Exceeding a limit traps the guest at once (rather than letting
//! `memory.grow` return -1), and the limiter remembers what was asked so the
//! caller gets [`crate::Error::ResourceLimit`].

use wasmtime::ResourceLimiter;

/// Per-store limits and the first violation.
pub(crate) struct Limiter {
    memory_limit: usize,
    table_limit: usize,
    /// `(what, requested, limit)` of the first violation.
    pub(crate) hit: Option<(&'static str, usize, usize)>,
}

impl Limiter {
    pub(crate) fn new(memory_limit: usize, table_limit: usize) -> Self {
        Limiter {
            memory_limit,
            table_limit,
            hit: None,
        }
    }

    fn check(
        &mut self,
        what: &'static str,
        desired: usize,
        limit: usize,
    ) -> wasmtime::Result<bool> {
        if desired > limit {
            self.hit.get_or_insert((what, desired, limit));
            return Err(wasmtime::Error::msg("resource limit exceeded"));
        }
        Ok(true)
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.check("memory", desired, self.memory_limit)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.check("table", desired, self.table_limit)
    }
}
