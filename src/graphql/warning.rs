//! Early warning (逾期预警) on findings and measures.

use super::scalars::{Date, naive};
use async_graphql::{Context, Enum, Result};

use super::catalogue::{self, Fields};

use super::ContextExt;
use super::loaders::{DepartmentById, InspectionById, UnfinishedOrdersOfFinding};
use crate::domain::workflow::warning::{Audience, Level, audience};

/// How close work is to its deadline (预警等级).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum WarningLevel {
    /// No deadline near, no deadline at all, or the work is finished.
    None,
    /// The deadline is within the green threshold (default 20 days): alert the responsible person.
    Green,
    /// The deadline is within the yellow threshold (default 10 days): also the responsible leader.
    Yellow,
    /// Overdue (逾期): also the unit's principal leader.
    Red,
}

impl From<Level> for WarningLevel {
    fn from(level: Level) -> Self {
        match level {
            Level::None => Self::None,
            Level::Green => Self::Green,
            Level::Yellow => Self::Yellow,
            Level::Red => Self::Red,
        }
    }
}

impl From<WarningLevel> for Level {
    fn from(level: WarningLevel) -> Self {
        match level {
            WarningLevel::None => Level::None,
            WarningLevel::Green => Level::Green,
            WarningLevel::Yellow => Level::Yellow,
            WarningLevel::Red => Level::Red,
        }
    }
}

crate::enum_leaf!(WarningLevel, AlertRole);

/// Who is alerted (提醒对象).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AlertRole {
    /// The responsible person (责任人).
    ResponsiblePerson,
    /// The responsible leader (责任领导).
    ResponsibleLeader,
    /// The inspected unit's principal leader (主要负责同志).
    PrincipalLeader,
    /// A manager of the inspected unit's rectification office (整改办), told of supervision
    /// orders (督办单).
    Manager,
}

impl From<Audience> for AlertRole {
    fn from(audience: Audience) -> Self {
        match audience {
            Audience::ResponsiblePerson => Self::ResponsiblePerson,
            Audience::ResponsibleLeader => Self::ResponsibleLeader,
            Audience::PrincipalLeader => Self::PrincipalLeader,
        }
    }
}

/// One person to alert.
#[derive(Clone)]
pub struct AlertRecipient {
    /// Why this person is alerted.
    pub role: AlertRole,
    /// The name on record, or null when none is recorded (the alert still applies).
    pub name: Option<String>,
}

impl catalogue::Object for AlertRecipient {
    const NAME: &'static str = "AlertRecipient";
    const DOC: &'static str = "One person to alert.";

    fn fields(f: &mut Fields<Self>) {
        f.value("role", "Why this person is alerted.", |r, _| r.role);
        f.value(
            "name",
            "The name on record, or null when none is recorded (the alert still applies).",
            |r, _| r.name.clone(),
        );
    }
}

crate::object!(AlertRecipient);

/// The early warning of a finding or measure.
#[derive(Clone)]
pub struct EarlyWarning {
    /// The level as of today, in the configured time zone.
    pub level: WarningLevel,
    /// Days until the deadline (negative once overdue); null without a deadline.
    pub days_left: Option<i64>,
    /// Who must be alerted at this level, in order of escalation; empty at NONE.
    pub alert: Vec<AlertRecipient>,
    /// Supervision orders (督办单) about it open past their reply deadline (逾期未复): while
    /// there is one the level is RED, whatever the deadline (closing a finding does not close
    /// its orders). Always 0 on a measure.
    pub overdue_supervision_orders: i32,
}

impl catalogue::Object for EarlyWarning {
    const NAME: &'static str = "EarlyWarning";
    const DOC: &'static str = "The early warning of a finding or measure.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "level",
            "The level as of today, in the configured time zone.",
            |r, _| r.level,
        );
        f.value(
            "daysLeft",
            "Days until the deadline (negative once overdue); null without a deadline.",
            |r, _| r.days_left,
        );
        f.nested(
            "alert",
            "Who must be alerted at this level, in order of escalation; empty at NONE.",
            |r| &r.alert,
        );
        f.value("overdueSupervisionOrders", "Supervision orders (督办单) about it open past their reply deadline (逾期未复): while\nthere is one the level is RED, whatever the deadline (closing a finding does not close\nits orders). Always 0 on a measure.", |r, _| r.overdue_supervision_orders);
    }
}

crate::object!(EarlyWarning);

/// A finding's warning: its deadline's, raised to RED while a supervision order about it is
/// unanswered past its reply deadline (逾期未复), so that such orders show red wherever
/// warnings show.
pub async fn finding_warning(
    ctx: &Context<'_>,
    finding_id: i32,
    deadline: Option<Date>,
    finished: bool,
    person: Option<String>,
    leader: Option<String>,
    inspection_id: i32,
) -> Result<EarlyWarning> {
    let today = ctx.thresholds().today;
    let unfinished = ctx
        .loader()
        .load_one(UnfinishedOrdersOfFinding(finding_id))
        .await?
        .unwrap_or_default();
    let overdue = unfinished.iter().filter(|u| u.overdue(today)).count();
    let overdue = i32::try_from(overdue).unwrap_or(i32::MAX);
    warned(
        ctx,
        deadline,
        finished,
        person,
        leader,
        inspection_id,
        overdue,
    )
    .await
}

/// The warning of work due on `deadline`, with its responsible people, under inspection
/// `inspection_id` (whose unit's principal leader is alerted at RED).
pub async fn warning(
    ctx: &Context<'_>,
    deadline: Option<Date>,
    finished: bool,
    person: Option<String>,
    leader: Option<String>,
    inspection_id: i32,
) -> Result<EarlyWarning> {
    warned(ctx, deadline, finished, person, leader, inspection_id, 0).await
}

async fn warned(
    ctx: &Context<'_>,
    deadline: Option<Date>,
    finished: bool,
    person: Option<String>,
    leader: Option<String>,
    inspection_id: i32,
    overdue_orders: i32,
) -> Result<EarlyWarning> {
    let thresholds = ctx.thresholds();
    let level = if overdue_orders > 0 {
        Level::Red
    } else {
        thresholds.level(naive(deadline), finished)
    };
    let mut alert = Vec::new();
    for role in audience(level) {
        let name = match role {
            Audience::ResponsiblePerson => person.clone(),
            Audience::ResponsibleLeader => leader.clone(),
            Audience::PrincipalLeader => {
                let inspection = ctx.loader().load_one(InspectionById(inspection_id)).await?;
                let unit = match inspection {
                    Some(i) => ctx.loader().load_one(DepartmentById(i.unit_id)).await?,
                    None => None,
                };
                unit.and_then(|u| u.principal_leader)
            }
        };
        alert.push(AlertRecipient {
            role: (*role).into(),
            name,
        });
    }
    Ok(EarlyWarning {
        level: level.into(),
        days_left: deadline.map(|d| (d.0 - thresholds.today).num_days()),
        alert,
        overdue_supervision_orders: overdue_orders,
    })
}
