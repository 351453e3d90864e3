//! sandbox — see ARCHITECTURE.md.
