//! The gate in front of commands: login attempts counted (`login_throttle`), replayed
//! requests answered once (`idempotency`), the public feedback form's challenge (`feedback_challenge`).

pub mod feedback_challenge;
pub mod idempotency;
pub mod login_throttle;
