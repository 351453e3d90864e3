//! Unit tests of the ACP front end.
