//! Telling other systems: the event outbox (`events`), webhook endpoints, their targets and
//! notices, and deliveries from the outbox; exchange with other instances: the peers and the
//! log (`exchange`), what a bundle to a peer carries (`outgoing`), what a bundle from one
//! brings, merged (`incoming`), and what each peer's bundles brought so far (`received`); the
//! records kept under their origin (`origin`), with the office's decisions on them carried
//! back to their unit (`decisions`) and applied there (`applied`); a peer's signatures checked
//! (`signature`).

pub mod applied;
pub mod decisions;
pub mod delivery;
pub mod events;
pub mod exchange;
pub mod incoming;
pub mod origin;
pub mod outgoing;
pub mod received;
pub mod signature;
pub mod webhook;
pub mod webhook_notice;
pub mod webhook_target;
