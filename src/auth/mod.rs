//! Who is calling, and what that caller may do.
//!
//! Every request is resolved once, in `http::auth`, into a [`Caller`]: anonymous when no token
//! is given, or an identity from a verified token. A token that is present but invalid is
//! refused with 401 before anything runs; it is never treated as anonymous.
//!
//! - [`keys`]: the verification and signing keys, from configuration.
//! - [`token`]: verifying tokens and issuing them.
//! - [`policy`]: the one table of what each role may do, and the department scope it reaches.
//! - [`password`]: argon2id hashing for local accounts.

pub mod keys;
pub mod password;
pub mod policy;
pub mod token;

use entity::enums::Role;

pub use policy::{Permission, Reach};

/// The department a caller acts for: its external code and its place in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerDepartment {
    pub id: i32,
    pub code: String,
    pub name: String,
    /// Materialised path (`/1/4/`); the caller's subtree is every path starting with it.
    pub path: String,
}

/// An authenticated identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The token's `sub`.
    pub sub: String,
    /// The token's `name`, when given.
    pub name: Option<String>,
    pub role: Role,
    pub department: Option<CallerDepartment>,
    /// The local account this token was issued for, if any.
    pub account_id: Option<i32>,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Caller {
    #[default]
    Anonymous,
    Authenticated(Identity),
}

impl Caller {
    pub fn identity(&self) -> Option<&Identity> {
        match self {
            Caller::Anonymous => None,
            Caller::Authenticated(identity) => Some(identity),
        }
    }

    pub fn role(&self) -> Option<Role> {
        self.identity().map(|i| i.role)
    }

    /// The actor recorded in the audit trail and the ledger.
    pub fn actor(&self, request_id: Option<String>) -> crate::audit::Actor {
        match self {
            Caller::Anonymous => crate::audit::Actor {
                sub: "anonymous".to_owned(),
                role: "viewer".to_owned(),
                request_id,
            },
            Caller::Authenticated(identity) => crate::audit::Actor {
                sub: identity.sub.clone(),
                role: identity.role.as_str().to_owned(),
                request_id,
            },
        }
    }
}

/// The client's address as the rate limits see it (the peer's, or behind a trusted proxy the
/// one it forwards), for what counts per address further in (login attempts): the HTTP guard
/// sets it on every request.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub std::net::IpAddr);
