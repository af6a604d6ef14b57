//! The domain's closed sets of values, stored as snake_case text (guarded by CHECK constraints
//! in the migrations) and serialised the same way.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Declares a text-backed enum with its stored strings, once.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $value)] $variant,)+
        }

        impl $name {
            /// The stored (and serialised) text of this value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $value,)+ }
            }

            /// Parses the stored text; `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($value => Some(Self::$variant),)+ _ => None }
            }

            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// A unit (单位) or one of its sections (科室).
    DepartmentKind { Unit = "unit", Section = "section" }
);

text_enum!(
    /// 立行立改 / 限期整改 / 长期坚持.
    RectificationType { Immediate = "immediate", ByDeadline = "by_deadline", LongTerm = "long_term" }
);

text_enum!(
    /// Where a finding stands in the close-out (销号) procedure.
    FindingStatus {
        NotStarted = "not_started",
        InProgress = "in_progress",
        PendingReview = "pending_review",
        Closed = "closed",
    }
);

text_enum!(
    MeasureStatus { Planned = "planned", InProgress = "in_progress", Done = "done" }
);

text_enum!(
    RegulationDomain {
        PartyBuilding = "party_building",
        CleanGovernment = "clean_government",
        Finance = "finance",
        Personnel = "personnel",
        Administration = "administration",
        Ideology = "ideology",
        Other = "other",
    }
);

text_enum!(
    RegulationStatus { Draft = "draft", InForce = "in_force", Revised = "revised", Repealed = "repealed" }
);

text_enum!(
    ProgressKind {
        Progress = "progress",
        StatusChange = "status_change",
        Meeting = "meeting",
        Recheck = "recheck",
        Comment = "comment",
        Correction = "correction",
    }
);

impl ProgressKind {
    /// The kinds that record work done (what a ledger's 整改进展 column shows), as opposed to
    /// the system's notes of status changes, comments and corrections.
    pub const WORK: [ProgressKind; 3] = [
        ProgressKind::Progress,
        ProgressKind::Meeting,
        ProgressKind::Recheck,
    ];
}

text_enum!(
    EvidenceKind { File = "file", Link = "link" }
);

text_enum!(
    ReportKind { SemiMonthly = "semi_monthly", Bulletin = "bulletin" }
);

text_enum!(
    ReportStatus { Draft = "draft", Submitted = "submitted", Published = "published" }
);

text_enum!(
    /// Who a caller is, which decides what it may do (see DOMAIN.md, "Who uses it").
    Role {
        Admin = "admin",
        Inspector = "inspector",
        Manager = "manager",
        Officer = "officer",
        Viewer = "viewer",
    }
);

text_enum!(
    /// Whether a target is met by reaching its required value from below (a share of cadres,
    /// an attendance rate) or from above (misused funds, a backlog).
    TargetBetter { Higher = "higher", Lower = "lower" }
);

impl Default for TargetBetter {
    /// Targets recorded before the direction existed were all of the higher-is-better kind.
    fn default() -> Self {
        TargetBetter::Higher
    }
}

text_enum!(
    /// How a finding relapsed (问题反弹): a look-back re-check found it back, or it was reopened.
    RelapseKind { FailedRecheck = "failed_recheck", Reopen = "reopen" }
);

text_enum!(
    /// 一般督办 / 重点督办 / 挂牌督办: how hard the office presses.
    SupervisionLevel { General = "general", Key = "key", Listed = "listed" }
);

text_enum!(
    /// Where a supervision order (督办单) stands: waiting for the unit's reply, replied, or
    /// accepted by the office (办结).
    SupervisionStatus { Open = "open", Replied = "replied", Accepted = "accepted" }
);

text_enum!(
    /// Where public feedback (公众监督) stands: received, answered by the unit, or closed.
    FeedbackStatus { Received = "received", Answered = "answered", Closed = "closed" }
);
