//! policy — see ARCHITECTURE.md.
