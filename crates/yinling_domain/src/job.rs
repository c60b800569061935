//! Periodic jobs as data: how a run ended, and when a failed job is tried again. The runner
//! itself (claims, leases, the registry) lives in the application; these rules take their
//! inputs and read no clock.

vocabulary! {
    /// How a job's run ended.
    JobOutcome {
        Ok = "ok", "成功";
        Partial = "partial", "部分条目搁置";
        Failed = "failed", "失败";
    }
}

/// The first retry after a failure waits this long (microseconds): 10 s.
pub const FIRST_RETRY: i64 = 10_000_000;

/// How long after its `attempts`-th failure in a row a job is tried again: ten seconds,
/// doubled with each further failure, never longer than the job's own `interval` (a
/// failing job is not run less often than a healthy one).
pub fn retry_after(attempts: i64, interval: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
    FIRST_RETRY
        .saturating_mul(1_i64 << doublings)
        .min(interval)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_ten_seconds_and_stop_at_the_interval() {
        let hour = 3_600_000_000;
        let waits: Vec<i64> = (1..=11).map(|a| retry_after(a, hour) / 1_000_000).collect();
        assert_eq!(
            waits,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(retry_after(1, 10_000_000), 10_000_000);
        assert_eq!(retry_after(3, 10_000_000), 10_000_000);
        assert_eq!(retry_after(i64::MAX, hour), hour);
        assert_eq!(retry_after(0, hour), FIRST_RETRY);
    }

    #[test]
    fn outcomes_round_trip() {
        for o in JobOutcome::ALL {
            assert_eq!(JobOutcome::parse(o.as_str()), Some(o));
        }
    }
}
