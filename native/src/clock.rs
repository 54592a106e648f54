//! The node's clock: wall-clock time anchored once, advanced by the
//! monotonic clock.
//!
//! The core counts time in Unix milliseconds ([`Timestamp`]) and its timers
//! must never run backwards. Reading `SystemTime` on every input would let an
//! NTP step move deadlines into the past (or far future), so we read it once
//! at start and add `Instant` elapsed time afterwards.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;
use torpeer_core::Timestamp;

/// Monotonic clock that speaks both core [`Timestamp`]s and tokio
/// [`Instant`]s, so `poll_timeout` deadlines map straight to `sleep_until`.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    unix_ms_at_start: u64,
    start: Instant,
}

impl Clock {
    /// Anchor the clock now.
    pub fn new() -> Self {
        let unix_ms_at_start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            // A clock before 1970 is a broken host; 0 keeps the node running
            // and records will simply fail verification at peers.
            .unwrap_or(0);
        Self {
            unix_ms_at_start,
            start: Instant::now(),
        }
    }

    /// The current time for the core.
    pub fn now(&self) -> Timestamp {
        let elapsed = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        Timestamp::from_millis(self.unix_ms_at_start.saturating_add(elapsed))
    }

    /// The tokio instant at which the core's `deadline` falls. Deadlines in
    /// the past map to the start instant (i.e. "now").
    pub fn instant_at(&self, deadline: Timestamp) -> Instant {
        let offset = deadline.as_millis().saturating_sub(self.unix_ms_at_start);
        self.start + Duration::from_millis(offset)
    }

    /// Time since the clock was anchored (node uptime).
    pub fn uptime(&self) -> Duration {
        self.start.elapsed()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_map_back_to_instants() {
        let clock = Clock::new();
        let now = clock.now();
        let later = now.plus_millis(1500);
        let at = clock.instant_at(later);
        let expected =
            clock.start + Duration::from_millis(later.as_millis() - clock.unix_ms_at_start);
        assert_eq!(at, expected);
        // A deadline before the anchor is clamped, never panics.
        assert_eq!(clock.instant_at(Timestamp::from_millis(0)), clock.start);
    }
}
