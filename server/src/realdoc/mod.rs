//! realdoc — see ARCHITECTURE.md.
