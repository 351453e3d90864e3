//! Bounded capture of a command's output streams.

/// One output stream, cut at the configured limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// At most `max_output_bytes` bytes.
    pub bytes: Vec<u8>,
    /// True if the stream produced more than was kept.
    pub truncated: bool,
    /// Bytes the stream produced in total (kept + discarded).
    pub total: u64,
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Keeps what fits under `max`, counts the rest.
    pub fn push(&mut self, chunk: &[u8], max: usize) {
        self.total += chunk.len() as u64;
        let room = max.saturating_sub(self.bytes.len());
        if chunk.len() > room {
            self.truncated = true;
        }
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
}

/// Why the sandbox killed a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillReason {
    WallTimeout,
    OutputLimit,
    ProcessLimit,
    /// RLIMIT_CPU fired (SIGXCPU).
    CpuLimit,
}

/// Result of a sandboxed command.
#[derive(Debug)]
pub struct CommandOutput {
    pub status: std::process::ExitStatus,
    pub stdout: Captured,
    pub stderr: Captured,
    pub timed_out: bool,
    pub killed_reason: Option<KillReason>,
    pub backend: super::Backend,
    /// E.g. "ran without a sandbox" under `Mode::BestEffort`; the caller audits these.
    pub warnings: Vec<String>,
}
