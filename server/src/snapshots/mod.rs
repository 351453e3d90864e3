//! snapshots — see ARCHITECTURE.md.
