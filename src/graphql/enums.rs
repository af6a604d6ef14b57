//! GraphQL enums (SCREAMING_SNAKE_CASE), mirroring the stored ones in `entity::enums`.

use async_graphql::Enum;

/// Declares a GraphQL enum and its conversions to and from the stored enum.
macro_rules! mirror {
    ($(#[$meta:meta])* $name:ident => $stored:path { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

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
        Unit,
        Section,
    }
);

mirror!(
    /// Where a finding stands in the close-out procedure (整改状态).
    FindingStatus => entity::enums::FindingStatus {
        /// 未开始
        NotStarted,
        /// 整改中
        InProgress,
        /// 待审核销号
        PendingReview,
        /// 已销号
        Closed,
    }
);

mirror!(
    /// Rectification type (整改类型).
    RectificationType => entity::enums::RectificationType {
        /// 立行立改
        Immediate,
        /// 限期整改
        ByDeadline,
        /// 长期坚持
        LongTerm,
    }
);

mirror!(
    /// Status of a measure (措施状态).
    MeasureStatus => entity::enums::MeasureStatus {
        /// 计划中
        Planned,
        /// 推进中
        InProgress,
        /// 已完成
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
        /// 整改进展
        Progress,
        /// 状态变更 (written by the workflow)
        StatusChange,
        /// 会议
        Meeting,
        /// 回头看
        Recheck,
        /// 备注
        Comment,
        /// 更正 (points at the entry it corrects)
        Correction,
    }
);

mirror!(
    /// The field a regulation governs (制度类别).
    RegulationDomain => entity::enums::RegulationDomain {
        /// 党建工作
        PartyBuilding,
        /// 党风廉政
        CleanGovernment,
        /// 财务管理
        Finance,
        /// 组织人事
        Personnel,
        /// 行政管理
        Administration,
        /// 意识形态
        Ideology,
        /// 其他
        Other,
    }
);

mirror!(
    /// Where a regulation stands (制度状态).
    RegulationStatus => entity::enums::RegulationStatus {
        /// 起草中
        Draft,
        /// 现行有效
        InForce,
        /// 已修订
        Revised,
        /// 已废止
        Repealed,
    }
);
