//! The procedure a finding goes through: the close-out moves (`close_out`), the look-back
//! after it (`look_back`), the early-warning ladder (`warning`) and its alerts and inbox
//! (`alert`), and what a caller may do next (`can`).

pub mod alert;
pub mod can;
pub mod close_out;
pub mod look_back;
pub mod moves;
pub mod public_feedback;
pub mod supervision;
pub mod warning;
