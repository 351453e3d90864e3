//! docs — see ARCHITECTURE.md.
