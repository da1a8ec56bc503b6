//! When to dial a disconnected peer again: immediately at start, then with a
//! delay that doubles after every attempt up to a bound, reset once a
//! connection is up. Pure: the caller passes the time in.

use crate::config::BackoffConfig;
use std::time::{Duration, Instant};

/// Redial state for one remote peer.
#[derive(Debug, Clone)]
pub(crate) struct Redial {
    config: BackoffConfig,
    delay: Duration,
    next_at: Instant,
    connections: u32,
}

impl Redial {
    /// A peer to dial as soon as possible.
    pub(crate) fn new(config: BackoffConfig, now: Instant) -> Redial {
        Redial {
            config,
            delay: config.initial,
            next_at: now,
            connections: 0,
        }
    }

    /// True when the peer is disconnected and its next attempt is due.
    pub(crate) fn due(&self, now: Instant) -> bool {
        self.connections == 0 && now >= self.next_at
    }

    /// Records an attempt at `now`; the next one waits for the current
    /// delay, which then doubles (bounded).
    pub(crate) fn dialed(&mut self, now: Instant) {
        self.next_at = now + self.delay;
        self.delay = (self.delay * 2).min(self.config.max);
    }

    /// Records the number of open connections after a connect or close.
    pub(crate) fn set_connections(&mut self, connections: u32, now: Instant) {
        if connections > 0 && self.connections == 0 {
            self.delay = self.config.initial;
        }
        if connections == 0 && self.connections > 0 {
            // A fresh disconnect: try again after the shortest delay.
            self.next_at = now + self.config.initial;
        }
        self.connections = connections;
    }

    /// Whether at least one connection is open.
    pub(crate) fn is_connected(&self) -> bool {
        self.connections > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BackoffConfig {
        BackoffConfig {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(350),
        }
    }

    #[test]
    fn delays_double_up_to_the_bound() {
        let t0 = Instant::now();
        let mut r = Redial::new(cfg(), t0);
        assert!(r.due(t0));
        let mut now = t0;
        let mut gaps = Vec::new();
        for _ in 0..5 {
            r.dialed(now);
            let before = now;
            while !r.due(now) {
                now += Duration::from_millis(10);
            }
            gaps.push((now - before).as_millis());
        }
        assert_eq!(gaps, vec![100, 200, 350, 350, 350]);
    }

    #[test]
    fn connecting_resets_and_disconnecting_schedules_a_quick_retry() {
        let t0 = Instant::now();
        let mut r = Redial::new(cfg(), t0);
        for _ in 0..4 {
            r.dialed(t0);
        }
        r.set_connections(1, t0);
        assert!(r.is_connected());
        assert!(!r.due(t0 + Duration::from_secs(60)));
        let t1 = t0 + Duration::from_secs(60);
        r.set_connections(0, t1);
        assert!(!r.due(t1));
        assert!(r.due(t1 + Duration::from_millis(100)));
        r.dialed(t1 + Duration::from_millis(100));
        // The delay was reset by the connection: 100 ms again, not 350.
        assert!(r.due(t1 + Duration::from_millis(200)));
    }
}
