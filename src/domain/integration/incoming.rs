//! What a bundle from a peer brings: its records merged under their origin, inside the
//! import's transaction, once `crate::exchange` has checked the bundle (signature, hashes,
//! sequence, the chain's continuity). The bundle is read through a [`Source`], member by
//! member, a bounded line at a time.
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
use std::io::{BufRead, Read};

use entity::{
    category, department, evidence, exchange_peer, finding, finding_regulation, inspection,
    measure, progress_entry, regulation, report, stage, target,
};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait,
    IntoActiveModel, ModelTrait, QueryFilter, Value,
};
use serde::de::DeserializeOwned;

use crate::domain::Acting;
use crate::domain::integration::origin;
use crate::error::{AppError, AppResult, codes};

/// A bundle's members, as the import reads them.
pub trait Source {
    /// A member's reader.
    type Member<'a>: BufRead + Send
    where
        Self: 'a;
    /// The longest line a member may have, in bytes.
    const LINE_MAX: u64;
    /// The member `name`, or `None` when the bundle has none of that name.
    fn member(&mut self, name: &str) -> AppResult<Option<Self::Member<'_>>>;
}

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
    archive: &mut impl Source,
    table: &str,
    each: impl AsyncFnMut(T) -> AppResult<()>,
) -> AppResult<u64> {
    each_member_line(archive, &format!("records/{table}.jsonl"), each).await
}

/// Reads the JSON Lines member `name` one line at a time (each line bounded) and calls `each`
/// (none for a member the bundle does not have); a line that does not parse is
/// `BUNDLE_UNREADABLE`, naming the member.
pub async fn each_member_line<T: DeserializeOwned, S: Source>(
    archive: &mut S,
    name: &str,
    mut each: impl AsyncFnMut(T) -> AppResult<()>,
) -> AppResult<u64> {
    let Some(mut reader) = archive.member(name)? else {
        return Ok(0);
    };
    let mut line = Vec::new();
    let mut rows = 0u64;
    let limit = S::LINE_MAX;
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

/// How a record received before is kept: updated to the sender's current state, or (ledger
/// entries, evidence, submitted reports: they never change) left as first received.
#[derive(Clone, Copy, PartialEq)]
enum Kept {
    Current,
    AsReceived,
}

/// The tables of a bundle merged one after the other, each under its origin.
struct Tables<'a, C> {
    db: &'a C,
    peer: i32,
    now: chrono::DateTime<chrono::Utc>,
    counts: &'a mut HashMap<String, u64>,
}

impl<C: ConnectionTrait> Tables<'_, C> {
    /// Merges `records/<table>.jsonl`: each record's references are mapped to local ids by
    /// `map` (given the record, its origin id and the table's own ids so far), then it is
    /// inserted or updated under its origin. Answers the table's ids (origin → local).
    async fn merge<E>(
        &mut self,
        archive: &mut impl Source,
        id_column: E::Column,
        kept: Kept,
        mut map: impl AsyncFnMut(&mut E::Model, i32, &HashMap<i32, i32>) -> AppResult<()>,
    ) -> AppResult<HashMap<i32, i32>>
    where
        E: EntityTrait,
        E::Model: DeserializeOwned + IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    {
        let (db, peer, now) = (self.db, self.peer, self.now);
        let kind = E::default().table_name().to_owned();
        let mut ids = origin::local_ids(db, peer, &kind).await?;
        let n = each_line(archive, &kind, async |mut r: E::Model| {
            let id = match r.get(id_column) {
                Value::Int(Some(id)) => id,
                other => return Err(AppError::internal(format!("{kind} id {other:?}"))),
            };
            map(&mut r, id, &ids).await?;
            if let Some(&local) = ids.get(&id) {
                if kept == Kept::Current {
                    let mut row = r.into_active_model().reset_all();
                    row.set(id_column, local.into());
                    row.update(db).await?;
                }
                return Ok(());
            }
            let mut row = r.into_active_model();
            row.not_set(id_column);
            let inserted = row.insert(db).await?;
            let local = match inserted.get(id_column) {
                Value::Int(Some(local)) => local,
                other => return Err(AppError::internal(format!("{kind} id {other:?}"))),
            };
            origin::keep(db, peer, &kind, id, local, now).await?;
            ids.insert(id, local);
            Ok(())
        })
        .await?;
        self.counts.insert(kind, n);
        Ok(ids)
    }
}

/// Merges the records of the bundle from `sender`, whose unit has `unit_code` there; answers
/// rows read per table.
pub async fn merge(
    db: &impl ConnectionTrait,
    who: &Acting,
    archive: &mut impl Source,
    unit_code: &str,
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
    let local_unit = super::exchange::unit_of(db, sender).await?;
    let sent_unit_path = sent
        .values()
        .find(|d| d.code == unit_code)
        .map(|d| d.path.clone())
        // A bundle without its unit names no department of it either.
        .unwrap_or_else(|| "\u{0}".to_owned());
    let mut departments = Departments {
        sent,
        unit_code: unit_code.to_owned(),
        sent_unit_path,
        local_unit,
        mapped: HashMap::new(),
        inside: HashMap::new(),
    };

    let mut tables = Tables {
        db,
        peer,
        now,
        counts: &mut counts,
    };
    let inspections = tables
        .merge::<inspection::Entity>(
            archive,
            inspection::Column::Id,
            Kept::Current,
            async |r, _, _| {
                r.unit_id = departments.required(db, r.unit_id).await?;
                Ok(())
            },
        )
        .await?;
    let categories = tables
        .merge::<category::Entity>(
            archive,
            category::Column::Id,
            Kept::Current,
            async |r, id, _| {
                r.inspection_id =
                    local(&inspections, "category", id, "inspection", r.inspection_id)?;
                Ok(())
            },
        )
        .await?;
    let findings = tables
        .merge::<finding::Entity>(
            archive,
            finding::Column::Id,
            Kept::Current,
            async |r, id, _| {
                r.inspection_id =
                    local(&inspections, "finding", id, "inspection", r.inspection_id)?;
                r.category_id = match r.category_id {
                    Some(c) => Some(local(&categories, "finding", id, "category", c)?),
                    None => None,
                };
                r.department_id = departments.required(db, r.department_id).await?;
                Ok(())
            },
        )
        .await?;
    let measures = tables
        .merge::<measure::Entity>(
            archive,
            measure::Column::Id,
            Kept::Current,
            async |r, id, _| {
                r.finding_id = local(&findings, "measure", id, "finding", r.finding_id)?;
                r.department_id = match r.department_id {
                    Some(d) => Some(departments.required(db, d).await?),
                    None => None,
                };
                Ok(())
            },
        )
        .await?;
    tables
        .merge::<target::Entity>(
            archive,
            target::Column::Id,
            Kept::Current,
            async |r, id, _| {
                r.finding_id = local(&findings, "target", id, "finding", r.finding_id)?;
                Ok(())
            },
        )
        .await?;
    tables
        .merge::<stage::Entity>(
            archive,
            stage::Column::Id,
            Kept::Current,
            async |r, id, _| {
                r.finding_id = local(&findings, "stage", id, "finding", r.finding_id)?;
                Ok(())
            },
        )
        .await?;
    let regulations = tables
        .merge::<regulation::Entity>(
            archive,
            regulation::Column::Id,
            Kept::Current,
            async |r, _, _| {
                r.department_id = match r.department_id {
                    Some(d) => departments.resolve(db, d).await?,
                    None => None,
                };
                Ok(())
            },
        )
        .await?;

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
    tables.counts.insert("finding_regulation".to_owned(), n);

    let entries = tables
        .merge::<progress_entry::Entity>(
            archive,
            progress_entry::Column::Id,
            Kept::AsReceived,
            async |r, id, entries| {
                r.finding_id = local(&findings, "progress_entry", id, "finding", r.finding_id)?;
                r.measure_id = match r.measure_id {
                    Some(m) => Some(local(&measures, "progress_entry", id, "measure", m)?),
                    None => None,
                };
                r.corrects_id = match r.corrects_id {
                    Some(c) => Some(local(entries, "progress_entry", id, "progress_entry", c)?),
                    None => None,
                };
                Ok(())
            },
        )
        .await?;
    tables
        .merge::<evidence::Entity>(
            archive,
            evidence::Column::Id,
            Kept::AsReceived,
            async |r, id, _| {
                r.progress_entry_id = local(
                    &entries,
                    "evidence",
                    id,
                    "progress_entry",
                    r.progress_entry_id,
                )?;
                Ok(())
            },
        )
        .await?;
    tables
        .merge::<report::Entity>(
            archive,
            report::Column::Id,
            Kept::AsReceived,
            async |r, id, _| {
                r.inspection_id = local(&inspections, "report", id, "inspection", r.inspection_id)?;
                Ok(())
            },
        )
        .await?;
    Ok(counts)
}
