//! audit — see ARCHITECTURE.md.
