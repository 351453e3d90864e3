//! The agent: turns an instruction into reviewed, snapshotted edits through a tool loop.

pub mod read;
pub mod run;
pub mod tools;
