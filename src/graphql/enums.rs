//! GraphQL enums (SCREAMING_SNAKE_CASE), mirroring the stored ones in `entity::enums`.

use async_graphql::Enum;

/// Declares a GraphQL enum and its conversions to and from the stored enum.
macro_rules! mirror {
    ($(#[$meta:meta])* $name:ident => $stored:path { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        crate::enum_leaf!($name);

        impl From<$stored> for $name {
            fn from(value: $stored) -> Self {
                use $stored as S;
                match value { $(S::$variant => Self::$variant,)+ }
            }
        }

        impl From<$name> for $stored {
            fn from(value: $name) -> Self {
                use $stored as S;
                match value { $($name::$variant => S::$variant,)+ }
            }
        }
    };
}

mirror!(
    /// Who a caller is (角色).
    Role => entity::enums::Role {
        /// System administrator: everything.
        Admin,
        /// Upstream inspection office (巡察办): reads everything, reviews close-outs.
        Inspector,
        /// The unit's rectification office (整改办): manages its subtree.
        Manager,
        /// A responsible section (责任科室): updates measures, adds progress.
        Officer,
        /// Leaders and the discipline inspection group: read only.
        Viewer,
    }
);

mirror!(
    /// A unit (单位) or a section (科室).
    DepartmentKind => entity::enums::DepartmentKind {
        /// A unit (单位): an organisation that is inspected; its sections sit below it.
        Unit,
        /// A section (科室) within a unit, e.g. a responsible department (责任科室).
        Section,
    }
);

mirror!(
    /// Where a finding stands in the close-out procedure (整改状态).
    FindingStatus => entity::enums::FindingStatus {
        /// Not started yet (未开始).
        NotStarted,
        /// Being rectified (整改中).
        InProgress,
        /// Submitted for close-out, awaiting review (待审核).
        PendingReview,
        /// Closed out once its rectification was verified (已销号).
        Closed,
    }
);

mirror!(
    /// Rectification type (整改类型).
    RectificationType => entity::enums::RectificationType {
        /// Rectified at once (立行立改).
        Immediate,
        /// Rectified by a deadline (限期整改).
        ByDeadline,
        /// Kept up over the long term, with periodic progress (长期坚持).
        LongTerm,
    }
);

mirror!(
    /// Status of a measure (措施状态).
    MeasureStatus => entity::enums::MeasureStatus {
        /// Planned, not yet started (计划).
        Planned,
        /// Under way (进行中).
        InProgress,
        /// Completed (已完成).
        Done,
    }
);

mirror!(
    /// Kind of an evidence item (佐证材料).
    EvidenceKind => entity::enums::EvidenceKind {
        /// An uploaded file, stored by its SHA-256.
        File,
        /// A link to a document elsewhere.
        Link,
    }
);

mirror!(
    /// Kind of a ledger entry (台账记录类型).
    ProgressKind => entity::enums::ProgressKind {
        /// Rectification progress (整改进展).
        Progress,
        /// A status change, written by the workflow (状态变更).
        StatusChange,
        /// A meeting (会议).
        Meeting,
        /// A look-back re-check (回头看).
        Recheck,
        /// A remark (备注).
        Comment,
        /// A correction of an earlier entry, which it points at (更正).
        Correction,
    }
);

mirror!(
    /// The field a regulation governs (制度类别).
    RegulationDomain => entity::enums::RegulationDomain {
        /// Party building (党建工作).
        PartyBuilding,
        /// Clean government (党风廉政).
        CleanGovernment,
        /// Financial management (财务管理).
        Finance,
        /// Organisation and personnel (组织人事).
        Personnel,
        /// Administration (行政管理).
        Administration,
        /// Ideology (意识形态).
        Ideology,
        /// Other (其他).
        Other,
    }
);

mirror!(
    /// Where a regulation stands (制度状态).
    RegulationStatus => entity::enums::RegulationStatus {
        /// Being drafted (起草中).
        Draft,
        /// In force (现行有效).
        InForce,
        /// Revised (已修订).
        Revised,
        /// Repealed (已废止).
        Repealed,
    }
);

mirror!(
    /// Which way a target is met.
    TargetBetter => entity::enums::TargetBetter {
        /// Met at or above the required value (a share, a rate).
        Higher,
        /// Met at or below the required value (misused funds, a backlog).
        Lower,
    }
);

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub enum OrderDirection {
    /// Ascending (the default).
    #[default]
    Asc,
    /// Descending.
    Desc,
}

impl OrderDirection {
    pub fn descending(self) -> bool {
        self == OrderDirection::Desc
    }
}

mirror!(
    /// How hard the inspection office presses (督办级别).
    SupervisionLevel => entity::enums::SupervisionLevel {
        /// 一般督办.
        General,
        /// 重点督办.
        Key,
        /// 挂牌督办.
        Listed,
    }
);

mirror!(
    /// Where a supervision order (督办单) stands.
    SupervisionStatus => entity::enums::SupervisionStatus {
        /// Waiting for the unit's written reply (待回复).
        Open,
        /// Replied, waiting for the office (已回复).
        Replied,
        /// Accepted by the office (已办结).
        Accepted,
    }
);

mirror!(
    /// Where public feedback (公众监督) stands.
    FeedbackStatus => entity::enums::FeedbackStatus {
        /// Received, not yet answered (已受理).
        Received,
        /// Answered by the unit (已答复).
        Answered,
        /// Closed (已办结).
        Closed,
    }
);
