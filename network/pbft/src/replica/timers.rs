//! Timer generations. Arming a timer bumps its generation and emits
//! `ScheduleTimeout`; a `TimeoutElapsed` whose generation is not current,
//! or for a disarmed timer, is stale and ignored.

use super::Replica;
use crate::io::{Output, TimeoutKind};

/// Largest exponent of the request timer's backoff after idle views.
const MAX_REQUEST_BACKOFF_SHIFT: u32 = 4;

#[derive(Default)]
pub(super) struct Timers {
    generation: [u64; 4],
    armed: [bool; 4],
}

impl Timers {
    pub fn is_armed(&self, kind: TimeoutKind) -> bool {
        self.armed[kind.index()]
    }
}

impl Replica {
    pub(super) fn arm(&mut self, kind: TimeoutKind, after: u64) {
        let i = kind.index();
        self.timers.generation[i] += 1;
        self.timers.armed[i] = true;
        self.out.push(Output::ScheduleTimeout {
            kind,
            generation: self.timers.generation[i],
            after,
        });
    }

    pub(super) fn disarm(&mut self, kind: TimeoutKind) {
        let i = kind.index();
        if self.timers.armed[i] {
            self.timers.generation[i] += 1;
            self.timers.armed[i] = false;
        }
    }

    pub(super) fn arm_status_timer(&mut self) {
        self.arm(TimeoutKind::Status, self.cfg.status_interval);
    }

    /// (Re)starts the request timer if requests are pending, stops it if not.
    /// Its length is `request_timeout × 2^k` after k views were installed
    /// without anything executing (k capped at 4), as the paper's "wait 2T
    /// in the next view": under a backlog that takes a new primary longer
    /// than the base timeout to get through, every view would otherwise end
    /// before its first commit.
    pub(super) fn reset_request_timer(&mut self, restart: bool) {
        if self.requests.pending_len() == 0 || self.changing_to.is_some() {
            self.disarm(TimeoutKind::Request);
        } else if restart || !self.timers.is_armed(TimeoutKind::Request) {
            let factor = 1u64 << self.idle_views.min(MAX_REQUEST_BACKOFF_SHIFT);
            let after = self.cfg.request_timeout.saturating_mul(factor);
            self.arm(TimeoutKind::Request, after);
        }
    }

    pub(super) fn on_timeout(&mut self, kind: TimeoutKind, generation: u64) {
        let i = kind.index();
        if !self.timers.armed[i] || self.timers.generation[i] != generation {
            return;
        }
        self.timers.armed[i] = false;
        match kind {
            TimeoutKind::Batch => self.maybe_propose(true),
            TimeoutKind::Request => self.on_request_timeout(),
            TimeoutKind::ViewChange => self.on_view_change_timeout(),
            TimeoutKind::Status => self.on_status_timeout(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    #[test]
    fn all_kinds_have_distinct_indices() {
        let mut seen: Vec<usize> = crate::io::TimeoutKind::ALL
            .iter()
            .map(|k| k.index())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen, vec![0, 1, 2, 3]);
    }
}
