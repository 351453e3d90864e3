//! realdoc — interim: request types (the engine lands from the `realdoc` branch).
mod request;
pub use request::*;
