//! The authorization rules, in one place (DOMAIN.md, "Who uses it"):
//!
//! | role | may |
//! | --- | --- |
//! | admin | everything, including departments and accounts |
//! | inspector | read everything; create inspections; approve or return close-outs; pull reports |
//! | manager | within its department subtree: findings, measures, regulations, progress, reports; submit for close-out |
//! | officer | within its department subtree: update measures and add progress entries |
//! | viewer | read within its subtree (or everything when it has no department) |
//! | anonymous | published bulletins only |
//!
//! Resolvers ask [`Caller::require`] whether a role may act at all; the data layer narrows
//! every query and checks every write with [`Caller::read_reach`] / [`Caller::write_reach`], so
//! that a record outside the caller's subtree is simply not found.

use async_graphql::Enum;
use entity::enums::Role;

use super::Caller;
use crate::error::{AppError, AppResult};

/// What a caller may do (权限), as `me.permissions` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Permission {
    /// Read every unit's records.
    ReadAll,
    /// Read the records of the caller's department subtree.
    ReadSubtree,
    /// Create and edit inspections (巡察).
    ManageInspections,
    /// Create and edit findings, categories, targets and regulations in scope.
    ManageFindings,
    /// Update measures (整改措施) in scope.
    UpdateMeasures,
    /// Add progress entries (台账记录) with evidence in scope.
    AddProgress,
    /// Submit findings for close-out (申请销号).
    SubmitCloseOut,
    /// Approve or return close-outs (销号审核).
    ReviewCloseOut,
    /// Generate and submit reports in scope.
    ManageReports,
    /// Pull the reports of every unit.
    PullReports,
    /// Create, move and archive departments.
    ManageDepartments,
    /// Create, disable and reset local accounts.
    ManageAccounts,
    /// Register the systems that receive events by webhook, and replay their deliveries.
    ManageWebhooks,
    /// Read the audit trail.
    ReadAuditLog,
    /// Import a unit's older ledger with the statuses it had, closed findings included.
    ImportHistory,
    /// Register the other instances this one exchanges signed bundles with (报送).
    ManageExchange,
}

impl Permission {
    /// What the permission allows, as the domain says it (审核销号申请), in the current
    /// language: refusals name the action, never the permission's code name.
    pub fn action(self) -> String {
        use Permission::*;
        match self {
            ReadAll => t!("permission-read-all"),
            ReadSubtree => t!("permission-read-subtree"),
            ManageInspections => t!("permission-manage-inspections"),
            ManageFindings => t!("permission-manage-findings"),
            UpdateMeasures => t!("permission-update-measures"),
            AddProgress => t!("permission-add-progress"),
            SubmitCloseOut => t!("permission-submit-close-out"),
            ReviewCloseOut => t!("permission-review-close-out"),
            ManageReports => t!("permission-manage-reports"),
            PullReports => t!("permission-pull-reports"),
            ManageDepartments => t!("permission-manage-departments"),
            ManageAccounts => t!("permission-manage-accounts"),
            ManageWebhooks => t!("permission-manage-webhooks"),
            ReadAuditLog => t!("permission-read-audit-log"),
            ImportHistory => t!("permission-import-history"),
            ManageExchange => t!("permission-manage-exchange"),
        }
    }
}

/// The permissions of a role: the single table every check reads.
pub fn permissions(role: Role) -> &'static [Permission] {
    use Permission::*;
    match role {
        Role::Admin => &[
            ReadAll,
            ManageInspections,
            ManageFindings,
            UpdateMeasures,
            AddProgress,
            SubmitCloseOut,
            ReviewCloseOut,
            ManageReports,
            PullReports,
            ManageDepartments,
            ManageAccounts,
            ManageWebhooks,
            ReadAuditLog,
            ImportHistory,
            ManageExchange,
        ],
        Role::Inspector => &[
            ReadAll,
            ManageInspections,
            ReviewCloseOut,
            PullReports,
            ReadAuditLog,
        ],
        Role::Manager => &[
            ReadSubtree,
            ManageFindings,
            UpdateMeasures,
            AddProgress,
            SubmitCloseOut,
            ManageReports,
            ReadAuditLog,
        ],
        Role::Officer => &[ReadSubtree, UpdateMeasures, AddProgress],
        // A viewer without a department reads everything (a leader, the discipline group).
        Role::Viewer => &[ReadSubtree],
    }
}

/// The part of the department tree a caller reaches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reach {
    /// Every department.
    All,
    /// Departments whose path starts with this prefix (`/1/4/`).
    Subtree(String),
    /// None at all.
    Nothing,
}

impl Reach {
    /// Whether a department with this materialised path is within reach.
    pub fn contains(&self, path: &str) -> bool {
        match self {
            Reach::All => true,
            Reach::Subtree(prefix) => path.starts_with(prefix.as_str()),
            Reach::Nothing => false,
        }
    }
}

impl Caller {
    /// The caller's permissions (empty for anonymous callers).
    pub fn permissions(&self) -> &'static [Permission] {
        self.role().map_or(&[], permissions)
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    /// `UNAUTHENTICATED` for anonymous callers, `FORBIDDEN` when the role lacks `permission`.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        match self {
            Caller::Anonymous => self.require_identity().map(|_| ()),
            Caller::Authenticated(identity) if !self.can(permission) => {
                Err(AppError::Forbidden(t!(
                    "role-may-not",
                    role = identity.role,
                    action = permission.action()
                )))
            }
            Caller::Authenticated(_) => Ok(()),
        }
    }

    /// `UNAUTHENTICATED` for anonymous callers, who may read published bulletins only.
    pub fn require_identity(&self) -> AppResult<&super::Identity> {
        self.identity()
            .ok_or_else(|| AppError::Unauthenticated(t!("token-required")))
    }

    /// What the caller may read.
    pub fn read_reach(&self) -> Reach {
        match self {
            Caller::Anonymous => Reach::Nothing,
            Caller::Authenticated(identity) => {
                if self.can(Permission::ReadAll) {
                    Reach::All
                } else {
                    match &identity.department {
                        Some(dept) => Reach::Subtree(dept.path.clone()),
                        // Only a viewer may lack a department (tokens are checked for it).
                        None => Reach::All,
                    }
                }
            }
        }
    }

    /// Where the caller may write: everywhere for admins; its subtree for managers and
    /// officers; nowhere for the others (whose writes, if any, are not scoped by department).
    pub fn write_reach(&self) -> Reach {
        match self.role() {
            Some(Role::Admin) => Reach::All,
            Some(Role::Manager | Role::Officer) => {
                match self.identity().and_then(|i| i.department.as_ref()) {
                    Some(dept) => Reach::Subtree(dept.path.clone()),
                    None => Reach::Nothing,
                }
            }
            _ => Reach::Nothing,
        }
    }
}
