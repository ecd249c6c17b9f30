//! The wall clock in whole seconds, as the layer reads it on every request
//! to check a token's `exp`: the kernel's coarse clock where there is one
//! (Linux's `CLOCK_REALTIME_COARSE`, read from the vDSO: at most one timer
//! tick behind, a few milliseconds, for a tenth of a precise read's cost),
//! else [`SystemTime`].

#[cfg(not(target_os = "linux"))]
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub(crate) fn unix_secs() -> i64 {
    #[cfg(target_os = "linux")]
    {
        rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse).tv_sec
    }
    #[cfg(not(target_os = "linux"))]
    {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn the_coarse_clock_tells_the_precise_clocks_second() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let coarse = super::unix_secs();
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        // One tick behind at most: the second before, never after.
        assert!(
            before - 1 <= coarse && coarse <= after,
            "{before} {coarse} {after}"
        );
    }
}
