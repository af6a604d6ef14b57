//! Telling other systems: the event outbox (`events`), webhook endpoints, their targets and
//! notices, and deliveries from the outbox.

pub mod delivery;
pub mod events;
pub mod exchange;
pub mod webhook;
pub mod webhook_notice;
pub mod webhook_target;
