//! When to restart the onion service: the pure decision, no arti types, no
//! clock of its own (every call takes `now`), so it is unit-tested with
//! made-up instants. [`super::onion`] feeds it the service's status events
//! and the end of its rendezvous-request stream, and asks it what to do.
//!
//! Rules:
//! - `Broken` with a problem for [`RestartPolicy::broken_after`] in a row,
//!   or `Broken`/`Recovering` (any mix) for [`RestartPolicy::degraded_after`]
//!   in a row → restart;
//! - the rendezvous-request stream ended (the service stopped delivering
//!   streams) → restart at once;
//! - never for merely not reaching `Running`: in a young test network arti
//!   reports `DegradedUnreachable`/`Bootstrapping` for many minutes while the
//!   service is reachable;
//! - restarts back off exponentially: the k-th restart in a row waits
//!   `min_backoff · 2^(k-1)` (capped at `max_backoff`) after the previous
//!   one; a service that stays out of trouble for `reset_after` since its
//!   last restart starts again at `min_backoff`.

use std::time::Duration;

use tokio::time::Instant;

/// Thresholds and back-off of the supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// How long `Broken` (with a problem) must persist.
    pub broken_after: Duration,
    /// How long `Broken` or `Recovering` (e.g. no working introduction
    /// point) must persist.
    pub degraded_after: Duration,
    /// Wait after the first restart before another one.
    pub min_backoff: Duration,
    /// The longest wait between restarts.
    pub max_backoff: Duration,
    /// Trouble-free time after a restart that resets the back-off.
    pub reset_after: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            broken_after: Duration::from_secs(120),
            degraded_after: Duration::from_secs(600),
            min_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(30 * 60),
            reset_after: Duration::from_secs(30 * 60),
        }
    }
}

/// What the supervisor needs to know of arti's `State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// `Broken`; `problem` says whether arti reports a current problem.
    Broken {
        /// `current_problem()` is `Some`.
        problem: bool,
    },
    /// `Recovering`.
    Recovering,
    /// Anything else (`Bootstrapping`, `Degraded*`, `Running`, `Shutdown`,
    /// states added later): never a reason to restart.
    Other,
}

/// Why the service is (to be) restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `Broken` with a problem for longer than `broken_after`.
    Broken,
    /// `Broken`/`Recovering` for longer than `degraded_after`.
    Degraded,
    /// The rendezvous-request stream ended.
    StreamEnded,
    /// The previous relaunch failed.
    LaunchFailed,
    /// Asked for ([`Supervisor::request`]).
    Requested,
}

impl Reason {
    /// Stable name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Broken => "broken",
            Self::Degraded => "degraded",
            Self::StreamEnded => "stream_ended",
            Self::LaunchFailed => "launch_failed",
            Self::Requested => "requested",
        }
    }
}

/// What to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing to do.
    Keep,
    /// Drop the service and launch it again now.
    Restart(Reason),
    /// A restart is due but backing off until the instant.
    Wait(Reason, Instant),
}

/// The supervisor's memory.
#[derive(Debug, Clone)]
pub struct Supervisor {
    policy: RestartPolicy,
    /// Since when `Broken` with a problem, uninterrupted.
    broken_since: Option<Instant>,
    /// Since when `Broken` or `Recovering`, uninterrupted.
    degraded_since: Option<Instant>,
    /// A restart is owed regardless of the state (stream ended, relaunch
    /// failed).
    pending: Option<Reason>,
    /// Restarts in a row (reset after `reset_after` without trouble).
    streak: u32,
    /// The last restart and since when there has been no trouble.
    last_restart: Option<Instant>,
    calm_since: Instant,
    restarts: u64,
}

impl Supervisor {
    /// A supervisor for a service launched at `now`.
    pub fn new(policy: RestartPolicy, now: Instant) -> Self {
        Self {
            policy,
            broken_since: None,
            degraded_since: None,
            pending: None,
            streak: 0,
            last_restart: None,
            calm_since: now,
            restarts: 0,
        }
    }

    /// Restarts so far.
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// A status event: the service's state is now `health`.
    pub fn observe(&mut self, now: Instant, health: Health) {
        self.settle(now);
        let broken = matches!(health, Health::Broken { problem: true });
        let degraded = matches!(health, Health::Broken { .. } | Health::Recovering);
        if broken {
            self.broken_since.get_or_insert(now);
        } else {
            self.broken_since = None;
        }
        if degraded {
            self.degraded_since.get_or_insert(now);
        } else if self.degraded_since.take().is_some() {
            self.calm_since = now;
        }
    }

    /// The rendezvous-request stream (or the status stream) ended at
    /// `now`: the service no longer delivers streams.
    pub fn stream_ended(&mut self, now: Instant) {
        self.settle(now);
        self.pending = Some(Reason::StreamEnded);
    }

    /// A restart was asked for at `now` (by an operator or a test); it
    /// backs off like any other.
    pub fn request(&mut self, now: Instant) {
        self.settle(now);
        self.pending = Some(Reason::Requested);
    }

    /// The restart decided at `now` was carried out (the old service
    /// dropped, a relaunch attempted). Call [`Self::launch_failed`] too if
    /// the relaunch failed.
    pub fn restarted(&mut self, now: Instant) {
        self.restarts += 1;
        self.streak = self.streak.saturating_add(1);
        self.last_restart = Some(now);
        self.calm_since = now;
        self.broken_since = None;
        self.degraded_since = None;
        self.pending = None;
    }

    /// The relaunch after [`Self::restarted`] failed: try again, backing
    /// off.
    pub fn launch_failed(&mut self) {
        self.pending = Some(Reason::LaunchFailed);
    }

    /// The wait after the previous restart before the next may happen.
    fn backoff(&self) -> Duration {
        let doublings = self.streak.saturating_sub(1).min(20);
        self.policy
            .min_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.policy.max_backoff)
    }

    /// Ends the restart streak once the service has been out of trouble
    /// for `reset_after`.
    fn settle(&mut self, now: Instant) {
        let troubled = self.pending.is_some() || self.degraded_since.is_some();
        if !troubled && now.saturating_duration_since(self.calm_since) >= self.policy.reset_after {
            self.streak = 0;
        }
    }

    /// What to do at `now`.
    pub fn decide(&mut self, now: Instant) -> Decision {
        self.settle(now);
        let elapsed = |since: Option<Instant>| since.map(|t| now.saturating_duration_since(t));
        let reason = if let Some(r) = self.pending {
            r
        } else if elapsed(self.broken_since).is_some_and(|d| d >= self.policy.broken_after) {
            Reason::Broken
        } else if elapsed(self.degraded_since).is_some_and(|d| d >= self.policy.degraded_after) {
            Reason::Degraded
        } else {
            return Decision::Keep;
        };
        match self.last_restart {
            Some(last) if self.streak > 0 => {
                let at = last + self.backoff();
                if now < at {
                    Decision::Wait(reason, at)
                } else {
                    Decision::Restart(reason)
                }
            }
            _ => Decision::Restart(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn policy() -> RestartPolicy {
        RestartPolicy {
            broken_after: secs(120),
            degraded_after: secs(600),
            min_backoff: secs(30),
            max_backoff: secs(300),
            reset_after: secs(1800),
        }
    }

    const BROKEN: Health = Health::Broken { problem: true };

    #[test]
    fn never_restarts_for_not_reaching_running() {
        let t0 = Instant::now();
        let mut s = Supervisor::new(policy(), t0);
        // A young test network: hours of Bootstrapping/DegradedUnreachable.
        for i in 0..1000 {
            s.observe(t0 + secs(i * 20), Health::Other);
            assert_eq!(s.decide(t0 + secs(i * 20 + 10)), Decision::Keep);
        }
        assert_eq!(s.restarts(), 0);
    }

    #[test]
    fn broken_with_a_problem_restarts_after_the_threshold() {
        let t0 = Instant::now();
        let mut s = Supervisor::new(policy(), t0);
        s.observe(t0 + secs(10), BROKEN);
        assert_eq!(s.decide(t0 + secs(10)), Decision::Keep);
        // More Broken events do not restart the clock.
        s.observe(t0 + secs(100), BROKEN);
        assert_eq!(s.decide(t0 + secs(129)), Decision::Keep);
        assert_eq!(s.decide(t0 + secs(130)), Decision::Restart(Reason::Broken));
    }

    #[test]
    fn broken_without_a_problem_or_interrupted_does_not_restart_early() {
        let t0 = Instant::now();
        let mut s = Supervisor::new(policy(), t0);
        s.observe(t0, Health::Broken { problem: false });
        assert_eq!(s.decide(t0 + secs(200)), Decision::Keep);
        // Broken with a problem, then a recovery: the clock restarts.
        let mut s = Supervisor::new(policy(), t0);
        s.observe(t0, BROKEN);
        s.observe(t0 + secs(100), Health::Other);
        s.observe(t0 + secs(110), BROKEN);
        assert_eq!(s.decide(t0 + secs(200)), Decision::Keep);
        assert_eq!(s.decide(t0 + secs(230)), Decision::Restart(Reason::Broken));
    }

    #[test]
    fn long_recovering_or_broken_mix_restarts_after_the_longer_threshold() {
        let t0 = Instant::now();
        let mut s = Supervisor::new(policy(), t0);
        s.observe(t0, Health::Recovering);
        s.observe(t0 + secs(60), BROKEN);
        s.observe(t0 + secs(90), Health::Recovering); // resets broken_since
        s.observe(t0 + secs(170), BROKEN);
        assert_eq!(s.decide(t0 + secs(280)), Decision::Keep);
        s.observe(t0 + secs(285), Health::Recovering);
        assert_eq!(s.decide(t0 + secs(599)), Decision::Keep);
        assert_eq!(
            s.decide(t0 + secs(600)),
            Decision::Restart(Reason::Degraded)
        );
    }

    #[test]
    fn stream_end_restarts_at_once() {
        let t0 = Instant::now();
        let mut s = Supervisor::new(policy(), t0);
        s.observe(t0, Health::Other);
        s.stream_ended(t0 + secs(1));
        assert_eq!(
            s.decide(t0 + secs(1)),
            Decision::Restart(Reason::StreamEnded)
        );
        s.restarted(t0 + secs(1));
        assert_eq!(s.restarts(), 1);
        assert_eq!(s.decide(t0 + secs(2)), Decision::Keep);
    }

    #[test]
    fn restarts_back_off_exponentially_up_to_the_cap() {
        let t0 = Instant::now();
        let mut s = Supervisor::new(policy(), t0);
        let mut now = t0;
        let mut waits = Vec::new();
        for _ in 0..7 {
            // The (new) service's stream ends at once.
            s.stream_ended(now);
            let at = match s.decide(now) {
                Decision::Restart(_) => now,
                Decision::Wait(Reason::StreamEnded, at) => {
                    assert_eq!(
                        s.decide(at - secs(1)),
                        Decision::Wait(Reason::StreamEnded, at)
                    );
                    assert_eq!(s.decide(at), Decision::Restart(Reason::StreamEnded));
                    at
                }
                d => panic!("{d:?}"),
            };
            waits.push(at.duration_since(now).as_secs());
            s.restarted(at);
            now = at;
        }
        assert_eq!(waits, [0, 30, 60, 120, 240, 300, 300]);
        assert_eq!(s.restarts(), 7);
    }

    #[test]
    fn a_failed_relaunch_is_retried_with_back_off() {
        let t0 = Instant::now();
        let mut s = Supervisor::new(policy(), t0);
        s.stream_ended(t0);
        assert_eq!(s.decide(t0), Decision::Restart(Reason::StreamEnded));
        s.restarted(t0);
        s.launch_failed();
        assert_eq!(
            s.decide(t0 + secs(5)),
            Decision::Wait(Reason::LaunchFailed, t0 + secs(30))
        );
        assert_eq!(
            s.decide(t0 + secs(30)),
            Decision::Restart(Reason::LaunchFailed)
        );
    }

    #[test]
    fn calm_time_resets_the_back_off() {
        let t0 = Instant::now();
        let mut s = Supervisor::new(policy(), t0);
        for i in 0..3 {
            let now = t0 + secs(i * 1000);
            s.stream_ended(now);
            assert!(matches!(s.decide(now), Decision::Restart(_)));
            s.restarted(now);
        }
        // The stream ends 1900 s after the third restart, with no trouble
        // in between: the streak is over, so no back-off, and the next one
        // waits min_backoff again, not 4 × 30 s.
        s.observe(t0 + secs(2100), Health::Other);
        s.stream_ended(t0 + secs(3900));
        assert_eq!(
            s.decide(t0 + secs(3900)),
            Decision::Restart(Reason::StreamEnded)
        );
        s.restarted(t0 + secs(3900));
        s.stream_ended(t0 + secs(3901));
        assert_eq!(
            s.decide(t0 + secs(3901)),
            Decision::Wait(Reason::StreamEnded, t0 + secs(3930))
        );
    }

    #[test]
    fn trouble_delays_the_reset() {
        let t0 = Instant::now();
        let mut s = Supervisor::new(policy(), t0);
        s.stream_ended(t0);
        assert!(matches!(s.decide(t0), Decision::Restart(_)));
        s.restarted(t0);
        // Recovering until 500 s: calm only since then, so 1900 s after the
        // restart the streak still counts and the restart after next waits
        // twice min_backoff.
        s.observe(t0 + secs(1), Health::Recovering);
        s.observe(t0 + secs(500), Health::Other);
        s.stream_ended(t0 + secs(1900));
        assert_eq!(
            s.decide(t0 + secs(1900)),
            Decision::Restart(Reason::StreamEnded)
        );
        s.restarted(t0 + secs(1900));
        s.stream_ended(t0 + secs(1901));
        assert_eq!(
            s.decide(t0 + secs(1901)),
            Decision::Wait(Reason::StreamEnded, t0 + secs(1960))
        );
    }
}
