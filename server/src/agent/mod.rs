//! agent — see ARCHITECTURE.md.
