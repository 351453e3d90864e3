//! Benchmarks live in the `[[bench]]` targets beside this file; this library holds what they
//! share.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message

/// Quick sizes for CI: `JINGU_BENCH_QUICK` set to anything but empty or `0`. One rule for every
/// bench, so `JINGU_BENCH_QUICK= scripts/bench.sh` (empty) runs the full sizes everywhere.
pub fn quick() -> bool {
    std::env::var_os("JINGU_BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0")
}
