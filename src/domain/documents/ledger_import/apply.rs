//! Applying a checked sheet: every change through the domain commands that every other
//! surface uses (create, update, measures, progress, the workflow's moves), all in the
//! caller's one transaction. Each finding runs in a savepoint, so that a command's refusal is
//! reported at its row and column and the other findings are still tried (a dry run then
//! reports every problem); the caller rolls everything back if any finding failed.

use entity::enums::{FindingStatus, MeasureStatus, ProgressKind, RectificationType};
use entity::{finding, inspection};
use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait, TransactionTrait};

use super::Problem;
use super::check::{Planned, path};
use super::parse::RowMeasure;
use crate::domain::records::finding::{FindingPatch, NewFinding};
use crate::domain::records::ledger::{self, Note};
use crate::domain::records::measure::{MeasurePatch, NewMeasure};
use crate::domain::records::progress::{self, Checked};
use crate::domain::workflow::close_out::{self, Move, MoveInput};
use crate::domain::{Acting, records::category, records::finding as findings, records::measure};
use crate::error::{AppError, AppResult};
use crate::ledger_file::{Col, heading};

/// What an applied sheet changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub findings_created: usize,
    pub findings_updated: usize,
    pub measures_created: usize,
    pub measures_updated: usize,
    pub entries_added: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.findings_created += o.findings_created;
        self.findings_updated += o.findings_updated;
        self.measures_created += o.measures_created;
        self.measures_updated += o.measures_updated;
        self.entries_added += o.entries_added;
    }
}

/// What a sheet would change (when problems keep it from being applied): decided by the same
/// comparisons the apply step makes, so that rows that change nothing count for nothing.
pub fn planned_counts(plan: &[Planned<'_>]) -> Counts {
    let mut counts = Counts::default();
    for p in plan {
        match &p.existing {
            None => counts.findings_created += 1,
            Some(current) => {
                let fields = !patch_of(p, current, None).is_empty() || category_changes(p);
                if fields || p.target.is_some() {
                    counts.findings_updated += 1;
                }
            }
        }
        for m in &p.measures {
            match &m.existing {
                None => counts.measures_created += 1,
                Some(current)
                    if measure_patch(
                        m.row,
                        current,
                        p.existing.as_ref().and_then(|f| f.deadline),
                    )
                    .is_some() =>
                {
                    counts.measures_updated += 1
                }
                Some(_) => {}
            }
        }
        if p.row.progress.is_some() {
            counts.entries_added += 1;
        }
    }
    counts
}

/// Whether the rows name a category other than the finding's (a new finding's always counts).
fn category_changes(planned: &Planned<'_>) -> bool {
    planned
        .row
        .category
        .as_ref()
        .is_some_and(|title| planned.existing.is_none() || planned.category.as_ref() != Some(title))
}

/// The changes a measure's row makes to it, if any.
/// A deadline equal to the finding's on a measure without one of its own is the finding's,
/// shown on the measure's row (as the printed ledger does): no change.
fn measure_patch(
    mr: &RowMeasure,
    current: &entity::measure::Model,
    finding_deadline: Option<chrono::NaiveDate>,
) -> Option<MeasurePatch> {
    let status = mr.status.filter(|s| *s != current.status);
    let completed_on = mr.completed_on.filter(|d| {
        Some(*d) != current.completed_on
            && (status == Some(MeasureStatus::Done)
                || (status.is_none() && current.status == MeasureStatus::Done))
    });
    let patch = MeasurePatch {
        content: Some(mr.content.clone()).filter(|c| *c != current.content),
        status,
        completed_on,
        deadline: mr
            .deadline
            .filter(|d| {
                Some(*d) != current.deadline
                    && !(current.deadline.is_none() && Some(*d) == finding_deadline)
            })
            .map(Some),
        ..Default::default()
    };
    let changed = patch.content.is_some()
        || patch.status.is_some()
        || patch.completed_on.is_some()
        || patch.deadline.is_some();
    changed.then_some(patch)
}

/// A command's refusal, where in the sheet it belongs.
struct Located {
    row: usize,
    col: Col,
    err: AppError,
}

trait At<T> {
    /// Places an error at a row, in the column its field names (or `col`).
    fn at(self, row: usize, col: Col) -> Result<T, Located>;
}

impl<T> At<T> for AppResult<T> {
    fn at(self, row: usize, col: Col) -> Result<T, Located> {
        self.map_err(|err| {
            let named = match &err {
                AppError::BadUserInput {
                    field: Some(field), ..
                } => column_of(field, col),
                _ => col,
            };
            Located {
                row,
                col: named,
                err,
            }
        })
    }
}

/// The column of a command's input field, in the context of `col` (a measure's `deadline`
/// is 措施时限, a finding's 整改时限).
fn column_of(field: &str, col: Col) -> Col {
    let measure = matches!(
        col,
        Col::Measure
            | Col::MeasureStatus
            | Col::MeasureDeadline
            | Col::MeasureOrdinal
            | Col::CompletedOn
    );
    match field {
        "title" if col == Col::Category => Col::Category,
        "title" => Col::Title,
        "description" => Col::Description,
        "deadline" if measure => Col::MeasureDeadline,
        "deadline" => Col::Deadline,
        "responsibleLeader" => Col::Leader,
        "responsiblePerson" | "departmentCode" if measure => col,
        "responsiblePerson" => Col::Person,
        "departmentCode" => Col::Department,
        "ordinal" if measure => Col::MeasureOrdinal,
        "ordinal" => Col::Ordinal,
        "completedOn" => Col::CompletedOn,
        "status" | "reason" if measure => Col::MeasureStatus,
        "content" if measure => Col::Measure,
        "content" | "entryDate" => Col::Progress,
        _ => col,
    }
}

/// Applies every planned finding; returns what changed and the problems met.
pub async fn apply(
    txn: &DatabaseTransaction,
    who: &Acting,
    inspection: &inspection::Model,
    sheet: &str,
    plan: &[Planned<'_>],
    historical: bool,
) -> AppResult<(Counts, Vec<Problem>)> {
    let mut counts = Counts::default();
    let mut problems = Vec::new();
    for planned in plan {
        let savepoint = txn.begin().await?;
        match apply_one(&savepoint, who, inspection, planned, historical).await {
            Ok(changed) => {
                savepoint.commit().await?;
                counts += changed;
            }
            Err(Located { row, col, err }) => {
                savepoint.rollback().await?;
                problems.push(Problem {
                    sheet: sheet.to_owned(),
                    row,
                    column: heading(col).to_owned(),
                    code: err.code(),
                    message: err.message().to_owned(),
                });
            }
        }
    }
    Ok((counts, problems))
}

async fn apply_one(
    db: &impl ConnectionTrait,
    who: &Acting,
    inspection: &inspection::Model,
    planned: &Planned<'_>,
    historical: bool,
) -> Result<Counts, Located> {
    let row = &planned.row;
    let r = row.row;
    let mut counts = Counts::default();
    let category_id = match row.category.as_ref().filter(|_| category_changes(planned)) {
        Some(title) => Some(
            category::find_or_create(db, who, inspection.id, title)
                .await
                .at(r, Col::Category)?
                .id,
        ),
        None => None,
    };
    let finding = match &planned.existing {
        None => {
            let input = NewFinding {
                inspection_id: inspection.id,
                category_id,
                ordinal: row.ordinal,
                title: row.title.clone(),
                description: row.description.clone().unwrap_or_default(),
                rectification_type: row.kind.unwrap_or(RectificationType::ByDeadline),
                deadline: row.deadline,
                responsible_leader: row.leader.clone(),
                department_code: planned
                    .department
                    .as_ref()
                    .map(|(_, code)| code.clone())
                    .unwrap_or_default(),
                responsible_person: row.person.clone(),
                disclosed: row.disclosed.unwrap_or(true),
            };
            let created = match planned.target.filter(|_| historical) {
                Some(status) => {
                    let closed_on = row.measures.iter().filter_map(|m| m.completed_on).max();
                    findings::create_historical(db, who, input, status, closed_on).await
                }
                None => findings::create(db, who, input).await,
            }
            .at(r, Col::Title)?;
            note(db, who, &created, "新增").await.at(r, Col::Title)?;
            counts.findings_created += 1;
            created
        }
        Some(current) => {
            let patch = patch_of(planned, current, category_id);
            if patch.is_empty() {
                if planned.target.is_some() {
                    counts.findings_updated += 1;
                }
                current.clone()
            } else {
                let version = row.version.unwrap_or(current.version);
                let updated = findings::update(db, who, current.id, version, patch)
                    .await
                    .at(r, Col::Title)?;
                note(db, who, &updated, "更新").await.at(r, Col::Title)?;
                counts.findings_updated += 1;
                updated
            }
        }
    };
    for m in &planned.measures {
        let mr = m.row;
        match &m.existing {
            None => {
                let created = measure::create(
                    db,
                    who,
                    NewMeasure {
                        finding_id: finding.id,
                        ordinal: mr.ordinal,
                        content: mr.content.clone(),
                        department_code: None,
                        responsible_person: None,
                        deadline: mr.deadline,
                    },
                )
                .await
                .at(mr.row, Col::Measure)?;
                counts.measures_created += 1;
                if let Some(status) = mr.status.filter(|s| *s != MeasureStatus::Planned) {
                    let patch = MeasurePatch {
                        status: Some(status),
                        completed_on: mr.completed_on,
                        ..Default::default()
                    };
                    measure::update(db, who, created.id, created.version, patch)
                        .await
                        .at(mr.row, Col::MeasureStatus)?;
                }
            }
            Some(current) => {
                if let Some(patch) = measure_patch(mr, current, finding.deadline) {
                    let version = mr.version.unwrap_or(current.version);
                    measure::update(db, who, current.id, version, patch)
                        .await
                        .at(mr.row, Col::MeasureStatus)?;
                    counts.measures_updated += 1;
                }
            }
        }
    }
    let historical_new = historical && planned.existing.is_none();
    let target = planned.target.filter(|_| !historical_new);
    // A closed finding is reopened before its new work is written; any other records its
    // work first (which starts a finding not yet started, and is the text a submission uses).
    let reopens = finding.status == FindingStatus::Closed;
    if reopens && let Some(to) = target {
        move_to(db, who, finding.id, to, None)
            .await
            .at(r, Col::Status)?;
    }
    // Only new text is left in the row (see `check`), and it is written once per finding.
    if let Some(text) = &row.progress {
        let entry = Checked {
            finding_id: finding.id,
            measure_id: None,
            entry_date: None,
            kind: ProgressKind::Progress,
            content: text.clone(),
            links: Vec::new(),
            files: Vec::new(),
        };
        progress::append(db, who, &entry)
            .await
            .at(r, Col::Progress)?;
        counts.entries_added += 1;
    }
    if !reopens && let Some(to) = target {
        move_to(db, who, finding.id, to, row.progress.as_deref())
            .await
            .at(r, Col::Status)?;
    }
    Ok(counts)
}

/// The finding's fields the row changes (blank cells change nothing).
fn patch_of(
    planned: &Planned<'_>,
    current: &finding::Model,
    category_id: Option<i32>,
) -> FindingPatch {
    let row = &planned.row;
    fn changed<T: PartialEq + Clone>(new: &Option<T>, old: &T) -> Option<T> {
        new.as_ref().filter(|v| *v != old).cloned()
    }
    fn changed_opt<T: PartialEq + Clone>(new: &Option<T>, old: &Option<T>) -> Option<Option<T>> {
        new.as_ref()
            .filter(|v| Some(*v) != old.as_ref())
            .map(|v| Some(v.clone()))
    }
    FindingPatch {
        title: Some(row.title.clone()).filter(|t| *t != current.title),
        description: changed(&row.description, &current.description),
        rectification_type: changed(&row.kind, &current.rectification_type),
        category_id: changed_opt(&category_id, &current.category_id),
        ordinal: changed(&row.ordinal, &current.ordinal),
        deadline: changed_opt(&row.deadline, &current.deadline),
        responsible_leader: changed_opt(&row.leader, &current.responsible_leader),
        responsible_person: changed_opt(&row.person, &current.responsible_person),
        department_code: planned
            .department
            .as_ref()
            .filter(|(id, _)| *id != current.department_id)
            .map(|(_, code)| code.clone()),
        disclosed: changed(&row.disclosed, &current.disclosed),
    }
}

/// Takes the finding to `to` through the workflow's moves, from wherever the commands above
/// left it (the first recorded work may have started it already).
async fn move_to(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    to: FindingStatus,
    progress: Option<&str>,
) -> AppResult<()> {
    let current = finding::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("finding", id))?;
    let moves = path(current.status, to).ok_or_else(|| {
        AppError::InvalidTransition(t!(
            "import-no-move",
            from = crate::i18n::finding_status(current.status),
            to = crate::i18n::finding_status(to)
        ))
    })?;
    for step in moves {
        let text = match step {
            Move::Submit => Some(progress.unwrap_or("依据导入的整改台账申请销号").to_owned()),
            Move::Return | Move::Reopen => Some("依据导入的整改台账调整状态".to_owned()),
            Move::Start | Move::Approve => None,
        };
        let input = MoveInput {
            version: None,
            text,
            no_evidence_reason: None,
        };
        close_out::transition(db, who, id, step, input).await?;
    }
    Ok(())
}

/// The ledger's line for a finding the import created or changed.
async fn note(
    db: &impl ConnectionTrait,
    who: &Acting,
    finding: &finding::Model,
    what: &str,
) -> AppResult<()> {
    ledger::note(
        db,
        who,
        Note {
            finding_id: finding.id,
            measure_id: None,
            entry_date: who.today(),
            kind: ProgressKind::Comment,
            content: format!("台账导入：{what}问题{}", finding.ordinal),
            details: Some(serde_json::json!({"import": true})),
        },
    )
    .await?;
    Ok(())
}
