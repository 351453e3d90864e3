//! identity — see ARCHITECTURE.md.
