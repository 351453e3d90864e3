//! The sink's schema as a migration (`jingu audit sink init [--print-sql]`).

pub const SCHEMA_SQL: &str = include_str!("schema.sql");
