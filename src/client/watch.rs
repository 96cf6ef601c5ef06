//! When `sync --watch` syncs next: every interval with ±20% jitter (so a fleet started
//! together does not arrive together), soon after new local changes, and with exponential
//! back-off from 30 s while the server is unreachable, never longer than the interval.
//!
//! A pure schedule: this module must not sleep, read the clock, open the store or sync.
//! The CLI drives it and does the waiting.

use std::ops::Range;
use std::time::Duration;

use rand::Rng;

/// How far the wait may stray from its base, as factors.
pub const JITTER: Range<f64> = 0.8..1.2;
/// The first wait after a sync found the server unreachable; it doubles each time after.
pub const FIRST_OFFLINE_WAIT: Duration = Duration::from_secs(30);
/// How soon to sync after the queue grew while waiting.
pub const SOON_AFTER_CHANGES: Duration = Duration::from_secs(10);
/// How often to look at the queue while waiting.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);

/// The watch loop's state between two syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    interval: Duration,
    offline_streak: u32,
}

impl Schedule {
    pub fn new(interval: Duration) -> Schedule {
        Schedule {
            interval,
            offline_streak: 0,
        }
    }

    /// A sync reached the server.
    pub fn synced(&mut self) {
        self.offline_streak = 0;
    }

    /// A sync could not reach the server (or another sync held the database).
    pub fn unreachable(&mut self) {
        self.offline_streak = self.offline_streak.saturating_add(1);
    }

    /// Syncs in a row that could not reach the server.
    pub fn offline_streak(&self) -> u32 {
        self.offline_streak
    }

    /// The wait before the next sync, before jitter.
    pub fn base_wait(&self) -> Duration {
        match self.offline_streak {
            0 => self.interval,
            n => FIRST_OFFLINE_WAIT
                .saturating_mul(2u32.saturating_pow(n - 1))
                .min(self.interval),
        }
    }

    /// The wait before the next sync for a jitter factor in [`JITTER`] (clamped into it).
    pub fn wait(&self, jitter: f64) -> Duration {
        let factor = if jitter.is_finite() {
            jitter.clamp(JITTER.start, JITTER.end)
        } else {
            1.0
        };
        self.base_wait().mul_f64(factor)
    }

    /// The wait before the next sync, with a random jitter.
    pub fn next_wait(&self, rng: &mut impl Rng) -> Duration {
        self.wait(rng.gen_range(JITTER))
    }

    /// Should new local changes bring the next sync forward? Not while offline: the
    /// back-off is there so that a device out of range does not keep trying.
    pub fn wakes_for_changes(&self) -> bool {
        self.offline_streak == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn online_waits_the_interval() {
        let s = Schedule::new(15 * MIN);
        assert_eq!(s.base_wait(), 15 * MIN);
        assert_eq!(s.wait(1.0), 15 * MIN);
        assert!(s.wakes_for_changes());
    }

    #[test]
    fn offline_backs_off_from_30s_doubling_up_to_the_interval() {
        let mut s = Schedule::new(5 * MIN);
        let mut seen = Vec::new();
        for _ in 0..6 {
            s.unreachable();
            seen.push(s.base_wait().as_secs());
        }
        assert_eq!(seen, vec![30, 60, 120, 240, 300, 300]);
        assert!(!s.wakes_for_changes());
        s.synced();
        assert_eq!(s.base_wait(), 5 * MIN);
        assert!(s.wakes_for_changes());
    }

    #[test]
    fn a_short_interval_caps_the_back_off() {
        let mut s = Schedule::new(Duration::from_secs(10));
        s.unreachable();
        assert_eq!(s.base_wait(), Duration::from_secs(10));
    }

    #[test]
    fn jitter_outside_its_range_is_clamped() {
        let s = Schedule::new(100 * MIN);
        assert_eq!(s.wait(5.0), s.base_wait().mul_f64(1.2));
        assert_eq!(s.wait(0.0), 80 * MIN);
        assert_eq!(s.wait(f64::NAN), 100 * MIN);
    }

    #[test]
    fn a_long_streak_does_not_overflow() {
        let mut s = Schedule::new(Duration::from_secs(3600));
        for _ in 0..100 {
            s.unreachable();
        }
        assert_eq!(s.base_wait(), Duration::from_secs(3600));
    }

    proptest! {
        /// Every wait is within ±20% of its base, and the base never exceeds the interval.
        #[test]
        fn waits_stay_within_twenty_percent(
            interval_s in 1u64..100_000,
            streak in 0u32..40,
            seed in any::<u64>(),
        ) {
            use rand::SeedableRng;
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let mut s = Schedule::new(Duration::from_secs(interval_s));
            for _ in 0..streak {
                s.unreachable();
            }
            let base = s.base_wait();
            prop_assert!(base <= Duration::from_secs(interval_s));
            let w = s.next_wait(&mut rng);
            prop_assert!(w >= base.mul_f64(0.8) && w <= base.mul_f64(1.2), "{w:?} vs {base:?}");
        }
    }
}
