//! Measurable targets of a finding (e.g. 12% of departments against a required 25%). A change
//! of the current value is written into the finding's ledger.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{ProgressKind, TargetBetter};
use entity::{finding, target};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::json;

use crate::auth::Permission;
use crate::domain::records::change::{self, Kind, Record, Versioned, audited, versioned_update};
use crate::domain::records::ledger::{self, Note};
use crate::domain::{Acting, reads::scope, records::text};
use crate::error::{AppError, AppResult};

pub struct NewTarget {
    pub finding_id: i32,
    pub name: String,
    pub unit: String,
    pub baseline: Option<f64>,
    pub required_value: Option<f64>,
    pub current_value: Option<f64>,
    pub as_of: Option<NaiveDate>,
    /// Default: higher is better.
    pub better: Option<TargetBetter>,
}

#[derive(Default)]
pub struct TargetPatch {
    pub name: Option<String>,
    pub unit: Option<String>,
    pub baseline: Option<Option<f64>>,
    pub required_value: Option<Option<f64>>,
    pub current_value: Option<Option<f64>>,
    pub as_of: Option<Option<NaiveDate>>,
    pub better: Option<TargetBetter>,
}

/// Whether a target is met: its current value reaches the required one from the side its
/// direction says is better. Unknown (None) while either value is missing.
pub fn met(better: TargetBetter, required: Option<f64>, current: Option<f64>) -> Option<bool> {
    let (required, current) = (required?, current?);
    Some(match better {
        TargetBetter::Higher => current >= required,
        TargetBetter::Lower => current <= required,
    })
}

impl Kind for target::Entity {
    const NAME: &'static str = "target";
    const COLUMNS: Versioned<target::Column> = Versioned {
        id: target::Column::Id,
        version: target::Column::Version,
        updated_at: target::Column::UpdatedAt,
        archived_at: target::Column::ArchivedAt,
    };
    const MANAGE: Permission = Permission::ManageFindings;

    async fn readable(
        db: &impl ConnectionTrait,
        who: &Acting,
        id: i32,
    ) -> AppResult<target::Model> {
        let current = target::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("target", id))?;
        scope::finding(db, &who.caller, current.finding_id)
            .await
            .map_err(|_| AppError::not_found("target", id))?;
        Ok(current)
    }

    /// A target's finding's department.
    async fn governing(
        db: &impl ConnectionTrait,
        models: &[target::Model],
    ) -> AppResult<Vec<Option<i32>>> {
        let findings =
            crate::domain::reads::relations::findings(db, models.iter().map(|t| t.finding_id))
                .await?;
        Ok(models
            .iter()
            .map(|t| {
                findings
                    .iter()
                    .find(|f| f.id == t.finding_id)
                    .map(|f| f.department_id)
            })
            .collect())
    }

    fn archived(model: &target::Model) -> bool {
        model.archived_at.is_some()
    }
}

/// What every new target starts as, whichever road creates it: version 1, created and
/// updated `now`, higher is better, not archived. Callers set its own fields over it.
pub fn new_row(now: DateTime<Utc>) -> target::ActiveModel {
    target::ActiveModel {
        better: Set(TargetBetter::default()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        ..Default::default()
    }
}

pub async fn create(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewTarget,
) -> AppResult<target::Model> {
    who.require(Permission::ManageFindings)?;
    let name = text::required("name", &input.name, 300)?;
    let unit = text::optional("unit", &input.unit, 20)?.unwrap_or_default();
    let as_of = text::maybe_date("asOf", input.as_of)?;
    let (finding, department_id) =
        change::writable::<finding::Entity>(db, who, input.finding_id).await?;
    let mut row = new_row(who.now());
    if let Some(better) = input.better {
        row.better = Set(better);
    }
    let created = target::ActiveModel {
        finding_id: Set(finding.id),
        name: Set(name),
        unit: Set(unit),
        baseline: Set(text::number("baseline", input.baseline)?),
        required_value: Set(text::number("requiredValue", input.required_value)?),
        current_value: Set(text::number("currentValue", input.current_value)?),
        as_of: Set(as_of),
        ..row
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "target",
        id: created.id,
        department_id,
    };
    audited(db, who, "target.create", record, None, Some(&created)).await?;
    Ok(created)
}

pub async fn update(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    version: i32,
    patch: TargetPatch,
) -> AppResult<target::Model> {
    who.require(Permission::ManageFindings)?;
    let (current, department_id) = change::writable::<target::Entity>(db, who, id).await?;
    let mut update = target::Entity::update_many();
    if let Some(name) = &patch.name {
        update = update.col_expr(
            target::Column::Name,
            Expr::value(text::required("name", name, 300)?),
        );
    }
    if let Some(unit) = &patch.unit {
        update = update.col_expr(
            target::Column::Unit,
            Expr::value(text::optional("unit", unit, 20)?.unwrap_or_default()),
        );
    }
    for (column, field, value) in [
        (target::Column::Baseline, "baseline", patch.baseline),
        (
            target::Column::RequiredValue,
            "requiredValue",
            patch.required_value,
        ),
        (
            target::Column::CurrentValue,
            "currentValue",
            patch.current_value,
        ),
    ] {
        if let Some(v) = value {
            update = update.col_expr(column, Expr::value(text::number(field, v)?));
        }
    }
    let as_of = match (patch.as_of, patch.current_value) {
        (Some(as_of), _) => Some(text::maybe_date("asOf", as_of)?),
        // A new current value without a date is as of today.
        (None, Some(_)) => Some(Some(who.today())),
        (None, None) => None,
    };
    if let Some(as_of) = as_of {
        update = update.col_expr(target::Column::AsOf, Expr::value(as_of));
    }
    if let Some(better) = patch.better {
        update = update.col_expr(target::Column::Better, Expr::value(better.as_str()));
    }
    let updated = versioned_update::<target::Entity>(db, update, id, version).await?;
    if updated.current_value != current.current_value {
        let show = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v}{}", updated.unit));
        let note = Note {
            finding_id: updated.finding_id,
            measure_id: None,
            entry_date: updated.as_of.unwrap_or_else(|| who.today()),
            kind: ProgressKind::Progress,
            content: format!(
                "目标“{}”当前值：{} → {}",
                updated.name,
                show(current.current_value),
                show(updated.current_value)
            ),
            details: Some(
                json!({"target_id": id, "from": current.current_value, "to": updated.current_value}),
            ),
        };
        ledger::note(db, who, note).await?;
    }
    let record = Record {
        kind: "target",
        id,
        department_id,
    };
    audited(
        db,
        who,
        "target.update",
        record,
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_met_from_the_side_its_direction_says() {
        use TargetBetter::*;
        assert_eq!(met(Higher, Some(25.0), Some(12.0)), Some(false));
        assert_eq!(met(Higher, Some(80.0), Some(86.4)), Some(true));
        assert_eq!(met(Higher, Some(80.0), Some(80.0)), Some(true));
        assert_eq!(met(Lower, Some(0.0), Some(11.57)), Some(false));
        assert_eq!(met(Lower, Some(0.0), Some(0.0)), Some(true));
        assert_eq!(met(Lower, Some(0.0), None), None);
        assert_eq!(met(Higher, None, Some(1.0)), None);
    }
}
