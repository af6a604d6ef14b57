//! Telling other systems: the event outbox (`events`), webhook endpoints, their targets and
//! notices, and deliveries from the outbox; exchange with other instances (`exchange`) and the
//! records kept under their origin (`origin`), with the office's decisions on them carried
//! back to their unit (`decisions`) and applied there (`applied`).

pub mod applied;
pub mod decisions;
pub mod delivery;
pub mod events;
pub mod exchange;
pub mod origin;
pub mod webhook;
pub mod webhook_notice;
pub mod webhook_target;
