//! ACP's view of the run modes (`session/set_mode`); the modes themselves live in `ops`, shared
//! with `jingu ask --mode`.

use agent_client_protocol::v1::schema::{SessionMode, SessionModeState};

pub use jingu_core::ops::Mode;

/// The modes offered to the client, with `current` selected.
pub(crate) fn state(current: Mode) -> SessionModeState {
    let modes = Mode::ALL
        .into_iter()
        .map(|m| SessionMode::new(m.id(), m.name()).description(m.description().to_string()))
        .collect();
    SessionModeState::new(current.id(), modes)
}
