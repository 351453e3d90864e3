//! skills — see ARCHITECTURE.md.
