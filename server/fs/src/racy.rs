//! The racy-timestamp rule shared by every stat cache (the snapshot scan's and the saved symbol
//! index's), after git's: a file's stat can vouch for its content only if the file was last
//! modified well before the content was read. A write landing within one timestamp tick of an
//! earlier one leaves mtime, size and inode unchanged on file systems with coarse clocks (ext4
//! updates mtime per kernel tick, FAT and some network file systems per 1–2 s), so a file
//! modified within [`RACY_WINDOW_NS`] of the read is stored as "re-check next time" instead.

/// Files modified less than this before the read are not trusted by their stat next time: 2 s
/// covers the coarsest common timestamp granularity (FAT's 2 s) with margin for clock steps.
pub const RACY_WINDOW_NS: i64 = 2_000_000_000;

/// Whether a file with modification time `mtime_ns`, read at or after `read_start_ns`, can be
/// recognised by its stat later.
pub fn stat_vouches(mtime_ns: i64, read_start_ns: i64) -> bool {
    mtime_ns < read_start_ns - RACY_WINDOW_NS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_writes_are_not_trusted() {
        let now = 10 * RACY_WINDOW_NS;
        assert!(stat_vouches(now - RACY_WINDOW_NS - 1, now));
        assert!(!stat_vouches(now - RACY_WINDOW_NS, now));
        assert!(!stat_vouches(now, now));
        assert!(
            !stat_vouches(now + 1, now),
            "a clock behind the file's is not trusted"
        );
    }
}
