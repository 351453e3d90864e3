//! Benchmarks live in the `[[bench]]` targets beside this file; this library is empty.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should panic with its message
