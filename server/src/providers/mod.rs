//! providers — interim: the neutral types (the wire formats land from the `providers` branch).
mod cancel;
mod types;
pub use cancel::CancelToken;
pub use types::*;
