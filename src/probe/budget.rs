//! A probe's one time budget (`--timeout`, 3 s by default), shared by the Redis probe and the
//! Docker Engine probe (each request to the engine gets what is left of it).
//!
//! For Redis, every stage of a probe run waits against the same end instant: resolving the name, the
//! TCP handshake, the TLS handshake, the first command (AUTH, or PING without a password),
//! and the rest (SELECT, INFO, CONFIG GET, CLIENT LIST, PUBSUB, the latency PINGs, the
//! sentinels and cluster nodes). A stage gets what the earlier ones left, so a server that
//! answers every step slowly costs the budget once, not once per step. When the budget runs
//! out the stage that was waiting records a timeout naming itself, every answer gathered
//! before stays in the observations, and the later stages are not started (their checks
//! skip, naming the stage that was waiting).

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// The longest budget honoured: an end instant beyond it could overflow the clock.
const LONGEST: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Copy)]
pub struct Budget {
    started: Instant,
    total: Duration,
}

impl Budget {
    /// Starts the clock now.
    pub fn start(total: Duration) -> Budget {
        Budget {
            started: Instant::now(),
            total: total.min(LONGEST),
        }
    }

    pub fn total(&self) -> Duration {
        self.total
    }

    /// The instant every stage's wait ends at.
    pub fn ends(&self) -> Instant {
        self.started + self.total
    }

    pub fn remaining(&self) -> Duration {
        self.ends().saturating_duration_since(Instant::now())
    }

    pub fn spent(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn is_spent(&self) -> bool {
        self.remaining().is_zero()
    }

    /// Runs `f` until it finishes or the budget ends (`None`).
    pub async fn run<F: Future>(&self, f: F) -> Option<F::Output> {
        tokio::time::timeout_at(self.ends(), f).await.ok()
    }

    /// "3s" for the whole budget, as the user gave it.
    pub fn describe(&self) -> String {
        format_wait(self.total)
    }

    /// How long a stage that started at `since` waited, for a message: "3s (--timeout)" when
    /// it had the whole budget, "2.4s (what was left of --timeout 3s)" otherwise. Timer
    /// granularity can overshoot by a millisecond or two: never more than the budget is said.
    pub fn waited_since(&self, since: Instant) -> String {
        let waited = since.elapsed().min(self.total);
        if self.total.saturating_sub(waited) <= Duration::from_millis(10) {
            format!("{} (--timeout)", self.describe())
        } else {
            format!(
                "{} (what was left of --timeout {})",
                format_wait(waited),
                self.describe()
            )
        }
    }
}

/// A wait as a person reads it: `3s`, `2.99s`, `450ms`.
pub fn format_wait(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        let s = format!("{:.2}", d.as_secs_f64());
        format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_like_the_option() {
        assert_eq!(format_wait(Duration::from_secs(3)), "3s");
        assert_eq!(format_wait(Duration::from_millis(500)), "500ms");
        assert_eq!(format_wait(Duration::from_millis(2996)), "3s");
        assert_eq!(format_wait(Duration::from_millis(2987)), "2.99s");
        assert_eq!(format_wait(Duration::from_millis(1500)), "1.5s");
    }

    #[tokio::test]
    async fn stages_share_one_end() {
        let b = Budget::start(Duration::from_millis(100));
        assert!(
            b.run(tokio::time::sleep(Duration::from_millis(60)))
                .await
                .is_some()
        );
        // The second stage gets what the first left (about 40 ms), not another 100 ms.
        let t = std::time::Instant::now();
        assert!(
            b.run(tokio::time::sleep(Duration::from_millis(80)))
                .await
                .is_none()
        );
        assert!(t.elapsed() < Duration::from_millis(75), "{:?}", t.elapsed());
        assert!(b.is_spent());
    }
}
