//! Measures (整改措施) and targets (目标) of findings.

use std::sync::LazyLock;

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Result};
use entity::enums::MeasureStatus as Status;
use entity::{measure, target};

use super::catalogue::{self, Conn, Fields, Loads};
use super::enums::MeasureStatus;
use super::enums::OrderDirection;
use super::finding::Finding;
use super::loaders::{
    DepartmentById, FindingById, MeasureById, MeasuresOfFinding, TargetsOfFinding,
};
use super::scalars::{Date, Time, date, naive};
use super::warning::{WarningLevel, warning};
use super::write;
use super::{ContextExt, VERSION, id, overdue_days, parse_id, parse_opt_id, patch};
use crate::domain::reads::columns::Columns;
use crate::domain::reads::measure_list::{MeasureFilter, MeasureOrder};
use crate::domain::reads::page::PageArgs;
use crate::domain::records::measure::{MeasurePatch, NewMeasure};
use crate::domain::records::target::{NewTarget, TargetPatch};
use crate::domain::{self};

/// A rectification measure of a finding (整改措施): its fields read through
/// [`measure::Projected`], so that a column a read left out is refused, never served.
#[derive(Clone)]
pub struct Measure(pub measure::Projected);

impl Measure {
    /// Days past the deadline as of `today`, when overdue (never once done).
    pub fn overdue_days(&self, today: chrono::NaiveDate) -> Option<i64> {
        overdue_days(self.deadline(), self.status() == Status::Done, today)
    }
}

/// What the measure's notices and warning read of its finding `finding_id`: read with the
/// columns [`brief`] touches, and no more.
async fn brief_finding(ctx: &Context<'_>, finding_id: i32) -> Result<Option<Brief>> {
    Ok(ctx
        .loader()
        .load_one(FindingById(finding_id, *BRIEF))
        .await?
        .map(|f| brief(&Finding::from(f))))
}

/// The columns a read of measures selects for the fields `shown` (every one when a field shown
/// declares none), a bit each by place, as [`MeasuresOfFinding`] takes them.
pub fn reads(shown: &catalogue::Shown) -> u64 {
    shown
        .reads::<Measure>()
        .unwrap_or((1 << measure::COLUMNS.len()) - 1)
}

/// What a measure's notices and warning read of its finding.
struct Brief {
    deadline: Option<chrono::NaiveDate>,
    responsible_person: Option<String>,
    responsible_leader: Option<String>,
    inspection_id: i32,
}

/// The columns of a measure's finding [`brief`] reads: what it is read with.
static BRIEF: LazyLock<Columns> = LazyLock::new(|| {
    Columns::from_bits(catalogue::touched(|f: &Finding| {
        brief(f);
    }))
});

/// [`Brief`] of a finding: its columns are the ones a measure's finding is read with.
fn brief(f: &Finding) -> Brief {
    Brief {
        deadline: f.deadline(),
        responsible_person: f.responsible_person(),
        responsible_leader: f.responsible_leader(),
        inspection_id: f.inspection_id(),
    }
}

/// Something worth telling about a record that is not wrong enough to refuse it.
pub struct Notice {
    /// A stable code: MEASURE_DUE_AFTER_FINDING.
    pub code: String,
    pub message: String,
}

impl catalogue::Object for Notice {
    const NAME: &'static str = "Notice";
    const DOC: &'static str =
        "Something worth telling about a record that is not wrong enough to refuse it.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "code",
            "A stable code: MEASURE_DUE_AFTER_FINDING.",
            |r, _| r.code.clone(),
        );
        f.value("message", "", |r, _| r.message.clone());
    }
}

crate::object!(Notice);

impl From<domain::records::measure::Notice> for Notice {
    fn from(n: domain::records::measure::Notice) -> Self {
        Self {
            code: n.code.to_owned(),
            message: n.message,
        }
    }
}

impl catalogue::Object for Measure {
    const NAME: &'static str = "Measure";
    const DOC: &'static str = "A rectification measure of a finding (整改措施).";

    fn fields(f: &mut Fields<Self>) {
        f.projected("id", "Opaque identifier.", |m| id(m.id()));
        f.projected(
            "ordinal",
            "Number within the finding (一是, 二是, ... as 1, 2, ...).",
            |m| m.ordinal(),
        );
        f.projected("content", "What is to be done.", |m| m.content());
        f.projected("status", "Status (措施状态).", |m| {
            MeasureStatus::from(m.status())
        });
        f.projected("deadline", "Deadline (整改时限), if any.", |m| {
            date(m.deadline())
        });
        f.projected("completedOn", "Completion date, once done.", |m| {
            date(m.completed_on())
        });
        f.projected(
            "responsiblePerson",
            "Responsible person (责任人).",
            |m| m.responsible_person(),
        );
        f.projected(
            "archived",
            "Whether the measure is archived (left out of lists by default; its ledger entries stay).",
            |m| m.archived_at().is_some(),
        );
        f.projected("updatedAt", "When the measure last changed.", |m| {
            Time(m.updated_at())
        });
        f.projected("version", VERSION, |m| m.version());
        f.awaited(
            "viewerCan",
            "What the caller may do with this measure now.",
            |m| m.id(),
            |id, ctx| Box::pin(super::viewer::record(ctx, super::viewer::MeasureKey(id))),
        );
        f.awaited("notices",
            "Warnings about the measure, e.g. a deadline after its finding's (MEASURE_DUE_AFTER_FINDING).",
            |m| (m.deadline(), m.finding_id()),
            |(deadline, finding_id), ctx| {
                Box::pin(async move {
                    let finding = brief_finding(ctx, finding_id).await?;
                    Ok(domain::records::measure::notices(
                        deadline,
                        finding.and_then(|f| f.deadline),
                    )
                    .into_iter()
                    .map(Notice::from)
                    .collect::<Vec<_>>())
                })
            },
        );
        f.dated(
            "isOverdue",
            "Past its deadline and not done, as of today in the configured time zone.",
            |m, today| m.overdue_days(today).is_some(),
        );
        f.dated(
            "daysOverdue",
            "Days past the deadline, when overdue.",
            |m, today| m.overdue_days(today),
        );
        f.refers(
            "department",
            "Responsible department (责任科室), when the measure has its own.",
            |m| m.department_id().map(DepartmentById),
        );
        f.refers_showing(
            "finding",
            "The finding the measure belongs to.",
            |m, shown| Some(FindingById(m.finding_id(), super::finding::columns(shown))),
        );
        f.awaited("warning",
            "Early warning (逾期预警): the level as of today and who must be alerted (the measure's\nresponsible person, or else its finding's).",
            |m| {
                (
                    m.finding_id(),
                    m.responsible_person(),
                    m.deadline(),
                    m.status(),
                )
            },
            |(finding_id, person, deadline, status), ctx| {
                Box::pin(async move {
                    let finding = brief_finding(ctx, finding_id).await?;
                    let (person, leader, inspection) = match finding {
                        Some(f) => (
                            person.or(f.responsible_person),
                            f.responsible_leader,
                            f.inspection_id,
                        ),
                        None => (person, None, 0),
                    };
                    warning(
                        ctx,
                        date(deadline),
                        status == Status::Done,
                        person,
                        leader,
                        inspection,
                    )
                    .await
                })
            },
        );
    }
}

crate::object!(Measure over measure);

impl Loads for MeasureById {
    type Record = Measure;
}

impl Loads for MeasuresOfFinding {
    type Record = Measure;
}

/// A measurable target of a finding (目标), e.g. 12% against a required 25%.
#[derive(Clone)]
pub struct Target(pub target::Model);

impl From<target::Model> for Target {
    fn from(t: target::Model) -> Self {
        Self(t)
    }
}

impl catalogue::Object for Target {
    const NAME: &'static str = "Target";
    const DOC: &'static str =
        "A measurable target of a finding (目标), e.g. 12% against a required 25%.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |t, _| id(t.0.id));
        f.value("name", "What is measured.", |t, _| t.0.name.clone());
        f.value(
            "unit",
            "Unit of the values (%, 万元, 人, ...).",
            |t, _| t.0.unit.clone(),
        );
        f.value(
            "baseline",
            "The value when the finding was made.",
            |t, _| t.0.baseline,
        );
        f.value("requiredValue", "The value to reach.", |t, _| {
            t.0.required_value
        });
        f.value("currentValue", "The latest value.", |t, _| {
            t.0.current_value
        });
        f.value("asOf", "The date of the latest value.", |t, _| {
            date(t.0.as_of)
        });
        f.value(
            "better",
            "Whether higher or lower values are better.",
            |t, _| super::enums::TargetBetter::from(t.0.better),
        );
        f.value(
            "met",
            "Whether the latest value meets the required one (达标); null while either is unknown.",
            |t, _| domain::records::target::met(t.0.better, t.0.required_value, t.0.current_value),
        );
        f.value("version", VERSION, |t, _| t.0.version);
        f.each(
            "viewerCan",
            "What the caller may do with this target now.",
            |t, ctx| Box::pin(super::viewer::record(ctx, super::viewer::TargetKey(t.0.id))),
        );
    }
}

crate::object!(Target);

impl Loads for TargetsOfFinding {
    type Record = Target;
}

/// Which measures to list.
#[derive(InputObject, Default)]
pub struct MeasureFilterInput {
    /// Measures of this finding.
    pub finding_id: Option<ID>,
    /// Measures of this department or below (their own, or their finding's when they have none).
    pub department_id: Option<ID>,
    /// Any of these statuses.
    pub status: Option<Vec<MeasureStatus>>,
    /// Past the deadline and not done (true), or not (false).
    pub overdue: Option<bool>,
    /// At any of these early-warning levels (预警等级).
    pub warning_level: Option<Vec<WarningLevel>>,
    /// Also list archived measures (default false: archived ones are left out).
    #[graphql(default)]
    pub include_archived: bool,
    /// Words separated by spaces, each in the measure's content or its finding's title or
    /// description (Chinese works as typed).
    pub search: Option<String>,
}

/// What measures are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub enum MeasureOrderField {
    /// By finding, then number.
    #[default]
    Ordinal,
    /// By deadline; measures without one come last.
    Deadline,
    /// By last change.
    UpdatedAt,
}

/// How measures are sorted.
#[derive(InputObject, Default, Clone, Copy)]
pub struct MeasureOrderInput {
    /// What to sort by (default ORDINAL).
    #[graphql(default)]
    pub field: MeasureOrderField,
    /// Ascending (default) or descending.
    #[graphql(default)]
    pub direction: OrderDirection,
}

#[derive(Default)]
pub struct MeasureQuery;

impl catalogue::Root for MeasureQuery {
    const NAME: &'static str = "MeasureQuery";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "measure",
            "A measure within the caller's reach, or null.",
            param::<ID>("id"),
            |ctx, id| Box::pin(Self::measure(ctx, id)),
        );
        f.field(
            "measures",
            "The measures within the caller's reach.",
            (
                param::<Option<MeasureFilterInput>>("filter"),
                param::<Option<MeasureOrderInput>>("orderBy"),
                catalogue::Pages,
            ),
            |ctx, (filter, order_by, pages)| Box::pin(Self::measures(ctx, filter, order_by, pages)),
        )
        .cost(catalogue::page_cost);
    }
}

crate::root!(MeasureQuery);

impl MeasureQuery {
    async fn measure(ctx: &Context<'_>, id: ID) -> Result<Option<Measure>> {
        let id = parse_id("id", &id)?;
        super::found(domain::records::measure::get(ctx.db(), ctx.caller(), id).await)
    }

    #[allow(clippy::too_many_arguments)]
    async fn measures(
        ctx: &Context<'_>,
        filter: Option<MeasureFilterInput>,
        order_by: Option<MeasureOrderInput>,
        pages: PageArgs,
    ) -> Result<Conn<Measure>> {
        let filter = filter.unwrap_or_default();
        let order_by = order_by.unwrap_or_default();
        let filter = MeasureFilter {
            finding_id: parse_opt_id("filter.findingId", filter.finding_id.as_ref())?,
            department_id: parse_opt_id("filter.departmentId", filter.department_id.as_ref())?,
            status: super::converted(filter.status),
            overdue: filter.overdue,
            warning: super::converted(filter.warning_level),
            include_archived: filter.include_archived,
            search: filter.search,
        };
        let field = match order_by.field {
            MeasureOrderField::Ordinal => MeasureOrder::Ordinal,
            MeasureOrderField::Deadline => MeasureOrder::Deadline,
            MeasureOrderField::UpdatedAt => MeasureOrder::UpdatedAt,
        };
        let page = domain::reads::measure_list::list(
            ctx.db(),
            ctx.caller(),
            &filter,
            (field, order_by.direction.descending()),
            &ctx.thresholds(),
            &pages,
            catalogue::shown_in_page::<Measure>(ctx),
        )
        .await?;
        Ok(Conn::of(page))
    }
}

/// A new measure (整改措施) of a finding.
#[derive(InputObject)]
pub struct CreateMeasureInput {
    /// The finding the measure belongs to.
    pub finding_id: ID,
    /// Number within the finding; the next free one when omitted.
    pub ordinal: Option<i32>,
    /// What is to be done.
    pub content: String,
    /// Code of the responsible department, when not the finding's.
    pub department_code: Option<String>,
    /// Responsible person (责任人).
    pub responsible_person: Option<String>,
    /// Deadline (整改时限), if any.
    pub deadline: Option<Date>,
}

/// Changes to a measure. Moving back from DONE needs a `reason`.
#[derive(InputObject)]
pub struct UpdateMeasureInput {
    /// The measure to change.
    pub id: ID,
    /// The version the measure was read at; if the measure has changed since, the update fails with CONFLICT.
    pub version: i32,
    /// New text; omit to keep.
    pub content: Option<String>,
    /// New status: PLANNED, IN_PROGRESS, DONE, forward only unless reopening from DONE with a `reason`; omit to keep.
    pub status: Option<MeasureStatus>,
    /// Why a DONE measure is reopened (kept in the ledger).
    pub reason: Option<String>,
    /// Completion date when moving to DONE (default: today).
    pub completed_on: Option<Date>,
    /// Deadline (整改时限); omit to keep, null to clear.
    pub deadline: MaybeUndefined<Date>,
    /// Responsible person (责任人); omit to keep, null to clear.
    pub responsible_person: MaybeUndefined<String>,
    /// Code of the responsible department (责任科室); omit to keep, null to return the measure to its finding's.
    pub department_code: MaybeUndefined<String>,
}

/// A new measurable target (目标) of a finding.
#[derive(InputObject)]
pub struct CreateTargetInput {
    /// The finding the target belongs to.
    pub finding_id: ID,
    /// What is measured.
    pub name: String,
    /// Unit of the values (%, 万元, 人, ...); default empty.
    #[graphql(default)]
    pub unit: String,
    /// The value when the finding was made.
    pub baseline: Option<f64>,
    /// The value to reach.
    pub required_value: Option<f64>,
    /// The latest value.
    pub current_value: Option<f64>,
    /// The date of the latest value.
    pub as_of: Option<Date>,
    /// Whether higher (default) or lower values are better.
    pub better: Option<super::enums::TargetBetter>,
}

/// Changes to a target. A new current value without `asOf` is as of today; the ledger records it.
#[derive(InputObject)]
pub struct UpdateTargetInput {
    /// The target to change.
    pub id: ID,
    /// The version the target was read at; if the target has changed since, the update fails with CONFLICT.
    pub version: i32,
    /// New name of what is measured; omit to keep.
    pub name: Option<String>,
    /// New unit of the values; omit to keep.
    pub unit: Option<String>,
    /// The value when the finding was made; omit to keep, null to clear.
    pub baseline: MaybeUndefined<f64>,
    /// The value to reach; omit to keep, null to clear.
    pub required_value: MaybeUndefined<f64>,
    /// The latest value; omit to keep, null to clear.
    pub current_value: MaybeUndefined<f64>,
    /// The date of the latest value; omit to keep (today if `currentValue` is set), null to clear.
    pub as_of: MaybeUndefined<Date>,
    /// Whether higher or lower values are better; omit to keep.
    pub better: Option<super::enums::TargetBetter>,
}

#[derive(Default)]
pub struct MeasureMutation;

impl catalogue::Root for MeasureMutation {
    const NAME: &'static str = "MeasureMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "createMeasure",
            "Adds a measure to a finding (managers within their subtree, admins).",
            param::<CreateMeasureInput>("input"),
            |ctx, input| Box::pin(Self::create_measure(ctx, input)),
        );
        f.field(
            "updateMeasure",
            "Edits a measure (officers and managers within their subtree, admins).",
            param::<UpdateMeasureInput>("input"),
            |ctx, input| Box::pin(Self::update_measure(ctx, input)),
        );
        f.field(
            "archiveMeasure",
            "Archives a measure; its ledger entries stay (managers within their subtree, admins).",
            (param::<ID>("id"), param::<i32>("version")),
            |ctx, (id, version)| Box::pin(Self::archive_measure(ctx, id, version)),
        );
        f.field(
            "createTarget",
            "Adds a measurable target to a finding (managers within their subtree, admins).",
            param::<CreateTargetInput>("input"),
            |ctx, input| Box::pin(Self::create_target(ctx, input)),
        );
        f.field(
            "updateTarget",
            "Edits a target, e.g. sets its current value (managers within their subtree, admins).",
            param::<UpdateTargetInput>("input"),
            |ctx, input| Box::pin(Self::update_target(ctx, input)),
        );
        f.field(
            "archiveTarget",
            "Archives a target.",
            (param::<ID>("id"), param::<i32>("version")),
            |ctx, (id, version)| Box::pin(Self::archive_target(ctx, id, version)),
        );
    }
}

crate::root!(MeasureMutation);

impl MeasureMutation {
    async fn create_measure(ctx: &Context<'_>, input: CreateMeasureInput) -> Result<Measure> {
        let created = write(ctx, async |txn, who| {
            domain::records::measure::create(
                txn,
                who,
                NewMeasure {
                    finding_id: parse_id("findingId", &input.finding_id)?,
                    ordinal: input.ordinal,
                    content: input.content,
                    department_code: input.department_code,
                    responsible_person: input.responsible_person,
                    deadline: naive(input.deadline),
                },
            )
            .await
        })
        .await?;
        Ok(created.into())
    }

    async fn update_measure(ctx: &Context<'_>, input: UpdateMeasureInput) -> Result<Measure> {
        let id = parse_id("id", &input.id)?;
        let changes = MeasurePatch {
            content: input.content,
            status: input.status.map(Into::into),
            reason: input.reason,
            completed_on: naive(input.completed_on),
            deadline: patch(input.deadline),
            responsible_person: patch(input.responsible_person),
            department_code: patch(input.department_code),
        };
        let updated = write(ctx, async |txn, who| {
            domain::records::measure::update(txn, who, id, input.version, changes).await
        })
        .await?;
        Ok(updated.into())
    }

    async fn archive_measure(ctx: &Context<'_>, id: ID, version: i32) -> Result<Measure> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::records::change::archive::<entity::measure::Entity>(txn, who, id, version).await
        })
        .await?
        .into())
    }

    async fn create_target(ctx: &Context<'_>, input: CreateTargetInput) -> Result<Target> {
        let created = write(ctx, async |txn, who| {
            domain::records::target::create(
                txn,
                who,
                NewTarget {
                    finding_id: parse_id("findingId", &input.finding_id)?,
                    name: input.name,
                    unit: input.unit,
                    baseline: input.baseline,
                    required_value: input.required_value,
                    current_value: input.current_value,
                    as_of: naive(input.as_of),
                    better: input.better.map(Into::into),
                },
            )
            .await
        })
        .await?;
        Ok(created.into())
    }

    async fn update_target(ctx: &Context<'_>, input: UpdateTargetInput) -> Result<Target> {
        let id = parse_id("id", &input.id)?;
        let changes = TargetPatch {
            name: input.name,
            unit: input.unit,
            baseline: patch(input.baseline),
            required_value: patch(input.required_value),
            current_value: patch(input.current_value),
            as_of: patch(input.as_of),
            better: input.better.map(Into::into),
        };
        let updated = write(ctx, async |txn, who| {
            domain::records::target::update(txn, who, id, input.version, changes).await
        })
        .await?;
        Ok(updated.into())
    }

    async fn archive_target(ctx: &Context<'_>, id: ID, version: i32) -> Result<Target> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::records::change::archive::<entity::target::Entity>(txn, who, id, version).await
        })
        .await?
        .into())
    }
}

#[cfg(test)]
mod tests {
    use entity::finding::Column as C;

    use super::*;

    #[test]
    fn a_measure_reads_its_finding_with_the_columns_its_notices_and_warning_read() {
        // The list the measure declared by hand before it was derived from `brief`.
        assert_eq!(
            *BRIEF,
            Columns::of(&[
                C::Deadline,
                C::ResponsiblePerson,
                C::ResponsibleLeader,
                C::InspectionId,
            ])
        );
    }

    #[test]
    fn every_field_of_a_measure_selects_the_columns_it_reads_and_no_more() {
        use entity::measure::Column as M;
        use sea_orm::IdenStatic;
        let names = |columns: &[M]| -> Vec<&str> { columns.iter().map(|c| c.as_str()).collect() };
        let selected = |field: &str| {
            let reads = <Measure as catalogue::Catalogued>::catalogue()
                .reads([field])
                .expect("every field of a measure declares its columns");
            names(&measure::selected(Some(reads)))
        };
        let expected: &[(&str, &[M])] = &[
            ("id", &[M::Id]),
            ("ordinal", &[M::Id, M::Ordinal]),
            ("content", &[M::Id, M::Content]),
            ("status", &[M::Id, M::Status]),
            ("deadline", &[M::Id, M::Deadline]),
            ("completedOn", &[M::Id, M::CompletedOn]),
            ("responsiblePerson", &[M::Id, M::ResponsiblePerson]),
            ("archived", &[M::Id, M::ArchivedAt]),
            ("updatedAt", &[M::Id, M::UpdatedAt]),
            ("version", &[M::Id, M::Version]),
            ("viewerCan", &[M::Id]),
            ("notices", &[M::Id, M::FindingId, M::Deadline]),
            ("isOverdue", &[M::Id, M::Deadline, M::Status]),
            ("daysOverdue", &[M::Id, M::Deadline, M::Status]),
            ("department", &[M::Id, M::DepartmentId]),
            ("finding", &[M::Id, M::FindingId]),
            (
                "warning",
                &[
                    M::Id,
                    M::FindingId,
                    M::ResponsiblePerson,
                    M::Deadline,
                    M::Status,
                ],
            ),
        ];
        let catalogue = <Measure as catalogue::Catalogued>::catalogue();
        assert_eq!(
            catalogue.fields().len(),
            expected.len(),
            "a field without its row here"
        );
        for (field, columns) in expected {
            assert_eq!(selected(field), names(columns), "{field}");
        }
    }
}
