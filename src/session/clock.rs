//! The wall clock in whole seconds, as the layer reads it on every request
//! to check a token's `exp`: the kernel's coarse clock where there is one
//! (Linux's `CLOCK_REALTIME_COARSE`, read from the vDSO: a value the kernel
//! keeps, at most one timer tick behind, a few milliseconds, where a precise
//! read scales the clock source), else [`SystemTime`].

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub(crate) fn unix_secs() -> i64 {
    #[cfg(target_os = "linux")]
    {
        use rustix::time::{ClockId, DynamicClockId, clock_gettime_dynamic};
        // The fallible call: a kernel or sandbox refusing the coarse clock
        // means the precise one, never a panic.
        if let Ok(now) = clock_gettime_dynamic(DynamicClockId::Known(ClockId::RealtimeCoarse)) {
            return now.tv_sec;
        }
    }
    precise_unix_secs()
}

fn precise_unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_coarse_clock_tells_the_precise_clocks_second() {
        let before = super::precise_unix_secs();
        let coarse = super::unix_secs();
        let after = super::precise_unix_secs();
        // One tick behind at most: the second before, never after.
        assert!(
            before - 1 <= coarse && coarse <= after,
            "{before} {coarse} {after}"
        );
    }
}
