//! The moves of the close-out procedure (销号), apart from the command that makes them
//! (`close_out`), so that what only names a move (the office's decisions, the flags of what a
//! caller may do) does not depend on the command.

use entity::enums::FindingStatus;

use crate::auth::Permission;

/// A move of the procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Start,
    Submit,
    Approve,
    Return,
    Reopen,
}

impl Move {
    pub fn name(self) -> &'static str {
        match self {
            Move::Start => "start",
            Move::Submit => "submitForCloseOut",
            Move::Approve => "approveCloseOut",
            Move::Return => "returnFinding",
            Move::Reopen => "reopenFinding",
        }
    }

    /// The move as people name it (申请销号), in the request's language; [`Self::name`] stays
    /// the machine's word, in audit records and events.
    pub fn label(self) -> String {
        match self {
            Move::Start => t!("move-start"),
            Move::Submit => t!("move-submit"),
            Move::Approve => t!("move-approve"),
            Move::Return => t!("move-return"),
            Move::Reopen => t!("move-reopen"),
        }
    }

    /// Where the move goes from and to.
    pub fn edge(self) -> (FindingStatus, FindingStatus) {
        use FindingStatus::*;
        match self {
            Move::Start => (NotStarted, InProgress),
            Move::Submit => (InProgress, PendingReview),
            Move::Approve => (PendingReview, Closed),
            Move::Return => (PendingReview, InProgress),
            Move::Reopen => (Closed, InProgress),
        }
    }

    /// Who may make it.
    pub fn permission(self) -> Permission {
        match self {
            Move::Start => Permission::AddProgress,
            Move::Submit => Permission::SubmitCloseOut,
            Move::Approve | Move::Return | Move::Reopen => Permission::ReviewCloseOut,
        }
    }
}

/// Every move, in the procedure's order.
pub const MOVES: [Move; 5] = [
    Move::Start,
    Move::Submit,
    Move::Approve,
    Move::Return,
    Move::Reopen,
];

impl Move {
    /// The move by its machine name ([`Move::name`]).
    pub fn named(name: &str) -> Option<Move> {
        MOVES.into_iter().find(|m| m.name() == name)
    }

    /// Whether the office may make it on a finding kept under its origin (merged from a unit's
    /// instance): the reviews, which travel back to the unit as decisions. The others (start,
    /// submit) are the unit's own, refused at the office with `KEPT_BY_ORIGIN`; the command and
    /// `viewerCan` both ask this.
    pub fn travels(self) -> bool {
        matches!(self, Move::Approve | Move::Return | Move::Reopen)
    }
}
