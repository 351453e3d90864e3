//! providers — see ARCHITECTURE.md.
