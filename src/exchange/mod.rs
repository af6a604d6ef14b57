//! Exchange between instances (报送 across networks): a unit's own instance sends signed,
//! sequenced bundles of its records and its audit chain to the inspection office's instance.
//!
//! - [`identity`]: this instance's id and Ed25519 key, a file beside the data;
//! - [`bundle`]: the bundle format (a zip of JSON Lines and blobs, a signed manifest);
//! - [`check`]: a bundle checked as its addressee does, before any record is read;
//! - [`export`]: what a bundle to a peer carries, read in one snapshot and written as a file;
//! - [`import`]: the office's import (the checks, the sequence, the chain's continuity with
//!   what was received, the merge in one transaction) and the signed acknowledgement it
//!   answers (the records merged under their origin: `domain::integration::incoming`;
//!   what a bundle carries: `domain::integration::outgoing`); [`ack`]: the unit recording
//!   an acknowledgement, so that its next bundle starts after it;
//! - [`connected`]: connected mode, the same bundles pushed and pulled over HTTP(S) on a
//!   schedule, and the signed requests between peers.
//!
//! The peers and the exchange log are domain records (`domain::integration::exchange`).

pub mod ack;
pub mod bundle;
pub mod check;
pub mod conflicts;
pub mod connected;
pub mod export;
pub mod identity;
pub mod import;
