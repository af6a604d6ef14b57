//! Merging a checked bundle's records under their origin (inside the import's transaction).
//!
//! Every record the bundle carries is the sender's current state of it, by the sender's id
//! (its origin id). A record received before is updated in place; a new one is inserted and
//! `exchange_origin` remembers (peer, kind, origin id) → local id. Foreign keys are mapped to
//! local ids the same way (a finding's inspection and category, a measure's finding, an
//! entry's finding, measure and corrected entry, evidence's entry, a report's inspection), and
//! departments by code: the sender's unit is the registered peer's unit here, its
//! sub-departments are the departments with the same codes within that unit's subtree here
//! (one that is missing is refused, named), and a department outside the sender's unit (a
//! regulation's issuer) is the one with the same code here, or none. Ledger entries, evidence
//! and reports (only submitted or published ones travel, and those never change) are
//! append-only: once received, they are not written again.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use entity::{
    category, department, evidence, exchange_peer, finding, finding_regulation, inspection,
    measure, progress_entry, regulation, report, stage, target,
};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait,
    IntoActiveModel, ModelTrait, QueryFilter, Value,
};
use serde::de::DeserializeOwned;

use super::bundle::Manifest;
use super::check::Budgets;
use crate::domain::Acting;
use crate::domain::integration::origin;
use crate::error::{AppError, AppResult, codes};

type Archive = zip::ZipArchive<std::fs::File>;

fn refused(code: &'static str, message: String) -> AppError {
    AppError::Request { code, message }
}

/// A record naming another the bundle does not carry and that was not received before.
fn orphan(kind: &str, id: i32, parent: &str, parent_id: i32) -> AppError {
    refused(
        codes::BUNDLE_UNREADABLE,
        t!(
            "exchange-bundle-unreadable",
            detail = format!("{kind} {id} → {parent} {parent_id}")
        ),
    )
}

/// Reads `records/<table>.jsonl` one line at a time (each line bounded) and calls `each`.
async fn each_line<T: DeserializeOwned>(
    archive: &mut Archive,
    table: &str,
    mut each: impl AsyncFnMut(T) -> AppResult<()>,
) -> AppResult<u64> {
    let name = format!("records/{table}.jsonl");
    let Ok(entry) = archive.by_name(&name) else {
        return Ok(0);
    };
    let mut reader = BufReader::new(entry);
    let mut line = Vec::new();
    let mut rows = 0u64;
    let limit = Budgets::default().manifest;
    loop {
        line.clear();
        let n = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut line)
            .map_err(|e| AppError::internal(format!("{name}: {e}")))?;
        if n == 0 {
            break;
        }
        let row: T = serde_json::from_slice(&line).map_err(|e| {
            refused(
                codes::BUNDLE_UNREADABLE,
                t!(
                    "exchange-bundle-unreadable",
                    detail = format!("{name}: {e}")
                ),
            )
        })?;
        each(row).await?;
        rows += 1;
    }
    Ok(rows)
}

/// The sender's departments mapped to local ones.
struct Departments {
    sent: HashMap<i32, department::Model>,
    unit_code: String,
    sent_unit_path: String,
    local_unit: department::Model,
    mapped: HashMap<i32, Option<i32>>,
    /// Whether a local department lies within the peer's unit here.
    inside: HashMap<i32, bool>,
}

impl Departments {
    /// The local department for the sender's `id`, required and within the peer's unit here
    /// (an inspection's unit, a finding's or a measure's department): whatever a bundle
    /// claims, a unit's records land in its own subtree.
    async fn required(&mut self, db: &impl ConnectionTrait, id: i32) -> AppResult<i32> {
        let found = self.resolve(db, id).await?;
        let inside = match found {
            Some(local) if local == self.local_unit.id => true,
            Some(local) => match self.inside.get(&local) {
                Some(known) => *known,
                None => {
                    let known = department::Entity::find_by_id(local)
                        .one(db)
                        .await?
                        .is_some_and(|d| d.path.starts_with(&self.local_unit.path));
                    self.inside.insert(local, known);
                    known
                }
            },
            None => false,
        };
        if inside {
            Ok(found.unwrap_or_default())
        } else {
            Err(self.unknown(id))
        }
    }

    fn unknown(&self, id: i32) -> AppError {
        let (code, name) = self
            .sent
            .get(&id)
            .map(|d| (d.code.clone(), d.name.clone()))
            .unwrap_or_else(|| (format!("#{id}"), String::new()));
        refused(
            codes::BUNDLE_UNKNOWN_DEPARTMENT,
            t!(
                "exchange-bundle-unknown-department",
                code = code,
                name = name,
                unit = self.local_unit.name.as_str()
            ),
        )
    }

    /// The local department for the sender's `id`, or none for a department outside the
    /// sender's unit that this instance does not hold; a missing department inside the unit
    /// is refused.
    async fn resolve(&mut self, db: &impl ConnectionTrait, id: i32) -> AppResult<Option<i32>> {
        if let Some(found) = self.mapped.get(&id) {
            return Ok(*found);
        }
        let Some(sent) = self.sent.get(&id) else {
            return Err(self.unknown(id));
        };
        let found = if sent.code == self.unit_code {
            Some(self.local_unit.id)
        } else {
            let local = department::Entity::find()
                .filter(department::Column::Code.eq(sent.code.as_str()))
                .filter(department::Column::ArchivedAt.is_null())
                .one(db)
                .await?;
            let inside = sent.path.starts_with(&self.sent_unit_path);
            match local {
                Some(local) if !inside || local.path.starts_with(&self.local_unit.path) => {
                    Some(local.id)
                }
                _ if inside => return Err(self.unknown(id)),
                _ => None,
            }
        };
        self.mapped.insert(id, found);
        Ok(found)
    }
}

/// The local id for `origin_id` of `kind`, which must have been received.
fn local(
    ids: &HashMap<i32, i32>,
    kind: &str,
    id: i32,
    parent: &str,
    parent_id: i32,
) -> AppResult<i32> {
    ids.get(&parent_id)
        .copied()
        .ok_or_else(|| orphan(kind, id, parent, parent_id))
}

/// Inserts or updates one record under its origin; answers its local id.
#[allow(clippy::too_many_arguments)]
async fn put<E>(
    db: &impl ConnectionTrait,
    peer: i32,
    kind: &str,
    id_column: E::Column,
    ids: &mut HashMap<i32, i32>,
    origin_id: i32,
    model: E::Model,
    append_only: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<i32>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    if let Some(&local) = ids.get(&origin_id) {
        if !append_only {
            let mut row = model.into_active_model().reset_all();
            row.set(id_column, local.into());
            row.update(db).await?;
        }
        return Ok(local);
    }
    let mut row = model.into_active_model();
    row.not_set(id_column);
    let inserted = row.insert(db).await?;
    let local = match inserted.get(id_column) {
        Value::Int(Some(id)) => id,
        other => return Err(AppError::internal(format!("{kind} id {other:?}"))),
    };
    origin::keep(db, peer, kind, origin_id, local, now).await?;
    ids.insert(origin_id, local);
    Ok(local)
}

/// Merges the records of the bundle; answers rows read per table.
pub async fn merge(
    db: &impl ConnectionTrait,
    who: &Acting,
    archive: &mut Archive,
    manifest: &Manifest,
    sender: &exchange_peer::Model,
) -> AppResult<HashMap<String, u64>> {
    let now = who.now();
    let peer = sender.id;
    let mut counts = HashMap::new();

    let mut sent = HashMap::new();
    let n = each_line(archive, "department", async |d: department::Model| {
        sent.insert(d.id, d);
        Ok(())
    })
    .await?;
    counts.insert("department".to_owned(), n);
    let local_unit = department::Entity::find_by_id(sender.department_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("department", sender.department_id))?;
    let sent_unit_path = sent
        .values()
        .find(|d| d.code == manifest.unit.code)
        .map(|d| d.path.clone())
        // A bundle without its unit names no department of it either.
        .unwrap_or_else(|| "\u{0}".to_owned());
    let mut departments = Departments {
        sent,
        unit_code: manifest.unit.code.clone(),
        sent_unit_path,
        local_unit,
        mapped: HashMap::new(),
        inside: HashMap::new(),
    };

    macro_rules! ids {
        ($kind:expr) => {
            origin::local_ids(db, peer, $kind).await?
        };
    }

    let mut inspections = ids!("inspection");
    let n = each_line(archive, "inspection", async |mut r: inspection::Model| {
        let id = r.id;
        r.unit_id = departments.required(db, r.unit_id).await?;
        put::<inspection::Entity>(
            db,
            peer,
            "inspection",
            inspection::Column::Id,
            &mut inspections,
            id,
            r,
            false,
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    counts.insert("inspection".to_owned(), n);

    let mut categories = ids!("category");
    let n = each_line(archive, "category", async |mut r: category::Model| {
        let id = r.id;
        r.inspection_id = local(&inspections, "category", id, "inspection", r.inspection_id)?;
        put::<category::Entity>(
            db,
            peer,
            "category",
            category::Column::Id,
            &mut categories,
            id,
            r,
            false,
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    counts.insert("category".to_owned(), n);

    let mut findings = ids!("finding");
    let n = each_line(archive, "finding", async |mut r: finding::Model| {
        let id = r.id;
        r.inspection_id = local(&inspections, "finding", id, "inspection", r.inspection_id)?;
        r.category_id = match r.category_id {
            Some(c) => Some(local(&categories, "finding", id, "category", c)?),
            None => None,
        };
        r.department_id = departments.required(db, r.department_id).await?;
        put::<finding::Entity>(
            db,
            peer,
            "finding",
            finding::Column::Id,
            &mut findings,
            id,
            r,
            false,
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    counts.insert("finding".to_owned(), n);

    let mut measures = ids!("measure");
    let n = each_line(archive, "measure", async |mut r: measure::Model| {
        let id = r.id;
        r.finding_id = local(&findings, "measure", id, "finding", r.finding_id)?;
        r.department_id = match r.department_id {
            Some(d) => Some(departments.required(db, d).await?),
            None => None,
        };
        put::<measure::Entity>(
            db,
            peer,
            "measure",
            measure::Column::Id,
            &mut measures,
            id,
            r,
            false,
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    counts.insert("measure".to_owned(), n);

    let mut targets = ids!("target");
    let n = each_line(archive, "target", async |mut r: target::Model| {
        let id = r.id;
        r.finding_id = local(&findings, "target", id, "finding", r.finding_id)?;
        put::<target::Entity>(
            db,
            peer,
            "target",
            target::Column::Id,
            &mut targets,
            id,
            r,
            false,
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    counts.insert("target".to_owned(), n);

    let mut stages = ids!("stage");
    let n = each_line(archive, "stage", async |mut r: stage::Model| {
        let id = r.id;
        r.finding_id = local(&findings, "stage", id, "finding", r.finding_id)?;
        put::<stage::Entity>(
            db,
            peer,
            "stage",
            stage::Column::Id,
            &mut stages,
            id,
            r,
            false,
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    counts.insert("stage".to_owned(), n);

    let mut regulations = ids!("regulation");
    let n = each_line(archive, "regulation", async |mut r: regulation::Model| {
        let id = r.id;
        r.department_id = match r.department_id {
            Some(d) => departments.resolve(db, d).await?,
            None => None,
        };
        put::<regulation::Entity>(
            db,
            peer,
            "regulation",
            regulation::Column::Id,
            &mut regulations,
            id,
            r,
            false,
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    counts.insert("regulation".to_owned(), n);

    // Links are keyed by the pair they link: mapped, then inserted or updated.
    let n = each_line(
        archive,
        "finding_regulation",
        async |mut r: finding_regulation::Model| {
            let (f, g) = (r.finding_id, r.regulation_id);
            r.finding_id = local(&findings, "finding_regulation", g, "finding", f)?;
            r.regulation_id = local(&regulations, "finding_regulation", f, "regulation", g)?;
            let there = finding_regulation::Entity::find_by_id((r.finding_id, r.regulation_id))
                .one(db)
                .await?;
            let row = r.into_active_model().reset_all();
            if there.is_some() {
                row.update(db).await?;
            } else {
                row.insert(db).await?;
            }
            Ok(())
        },
    )
    .await?;
    counts.insert("finding_regulation".to_owned(), n);

    let mut entries = ids!("progress_entry");
    let n = each_line(
        archive,
        "progress_entry",
        async |mut r: progress_entry::Model| {
            let id = r.id;
            r.finding_id = local(&findings, "progress_entry", id, "finding", r.finding_id)?;
            r.measure_id = match r.measure_id {
                Some(m) => Some(local(&measures, "progress_entry", id, "measure", m)?),
                None => None,
            };
            r.corrects_id = match r.corrects_id {
                Some(c) => Some(local(&entries, "progress_entry", id, "progress_entry", c)?),
                None => None,
            };
            put::<progress_entry::Entity>(
                db,
                peer,
                "progress_entry",
                progress_entry::Column::Id,
                &mut entries,
                id,
                r,
                true,
                now,
            )
            .await?;
            Ok(())
        },
    )
    .await?;
    counts.insert("progress_entry".to_owned(), n);

    let mut evidence_ids = ids!("evidence");
    let n = each_line(archive, "evidence", async |mut r: evidence::Model| {
        let id = r.id;
        r.progress_entry_id = local(
            &entries,
            "evidence",
            id,
            "progress_entry",
            r.progress_entry_id,
        )?;
        put::<evidence::Entity>(
            db,
            peer,
            "evidence",
            evidence::Column::Id,
            &mut evidence_ids,
            id,
            r,
            true,
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    counts.insert("evidence".to_owned(), n);

    let mut reports = ids!("report");
    let n = each_line(archive, "report", async |mut r: report::Model| {
        let id = r.id;
        r.inspection_id = local(&inspections, "report", id, "inspection", r.inspection_id)?;
        put::<report::Entity>(
            db,
            peer,
            "report",
            report::Column::Id,
            &mut reports,
            id,
            r,
            true,
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    counts.insert("report".to_owned(), n);
    Ok(counts)
}
