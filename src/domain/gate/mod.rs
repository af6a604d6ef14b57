//! The gate in front of commands: login attempts counted (`login_throttle`), replayed
//! requests answered once (`idempotency`).

pub mod idempotency;
pub mod login_throttle;
