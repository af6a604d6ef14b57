//! Regulations (规章制度) made or revised in answer to findings, and their links to findings.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{ProgressKind, RegulationDomain, RegulationStatus};
use entity::{finding, finding_regulation, regulation};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait, Select, Set,
};
use serde_json::json;

use crate::auth::{Caller, Permission, Reach};
use crate::domain::reads::listing::{contains, search_text, subtree_of};
use crate::domain::reads::page::{self, Key, Order, Page, PageArgs};
use crate::domain::records::change::{self, Kind, Record, Versioned, audited, versioned_update};
use crate::domain::records::ledger::{self, Note};
use crate::domain::{Acting, reads::scope, records::department, records::text};
use crate::error::{AppError, AppResult};

pub struct NewRegulation {
    pub title: String,
    pub document_number: Option<String>,
    pub domain: RegulationDomain,
    pub department_code: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub status: RegulationStatus,
}

#[derive(Default)]
pub struct RegulationPatch {
    pub title: Option<String>,
    pub document_number: Option<Option<String>>,
    pub domain: Option<RegulationDomain>,
    pub issued_on: Option<Option<NaiveDate>>,
    pub status: Option<RegulationStatus>,
}

#[derive(Debug, Default, Clone)]
pub struct RegulationFilter {
    pub domain: Vec<RegulationDomain>,
    pub status: Vec<RegulationStatus>,
    pub department_id: Option<i32>,
    pub finding_id: Option<i32>,
    pub search: Option<String>,
    pub include_archived: bool,
}

/// Regulations the caller may read: those issued within its reach, and those answering a
/// finding it may read.
pub fn visible(caller: &Caller) -> Select<regulation::Entity> {
    match caller.read_reach() {
        Reach::All => regulation::Entity::find(),
        reach => {
            let linked = Query::select()
                .column(finding_regulation::Column::RegulationId)
                .from(finding_regulation::Entity)
                .and_where(finding_regulation::Column::UnlinkedAt.is_null())
                .and_where(
                    finding_regulation::Column::FindingId
                        .in_subquery(scope::findings(caller).select_only_id()),
                )
                .to_owned();
            regulation::Entity::find().filter(
                Condition::any()
                    .add(scope::department_in(
                        regulation::Column::DepartmentId,
                        &reach,
                    ))
                    .add(regulation::Column::Id.in_subquery(linked)),
            )
        }
    }
}

/// Selecting only the ids of a scoped finding query, for subqueries.
trait SelectOnlyId {
    fn select_only_id(self) -> sea_orm::sea_query::SelectStatement;
}

impl SelectOnlyId for Select<entity::finding::Entity> {
    fn select_only_id(self) -> sea_orm::sea_query::SelectStatement {
        self.select_only()
            .column(entity::finding::Column::Id)
            .into_query()
    }
}

pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: i32,
) -> AppResult<regulation::Model> {
    caller.require_identity()?;
    visible(caller)
        .filter(regulation::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("regulation", id))
}

pub fn order(descending: bool) -> Order<regulation::Model> {
    Order {
        name: "regulation.id",
        exprs: vec![Expr::col(regulation::Column::Id)],
        keys: |r| vec![Key::I(r.id.into())],
        descending,
    }
}

/// The page of those the caller may read, by `filter`; with `nested`, the list under each
/// of them read in the same statement ([`page::fetch_under`]). Reads the columns `reads` names
/// (a bit each by its place in the model, as the catalogue derives them from the fields shown;
/// `None`: every one) and the id, which orders the page; the others are left unread
/// (`regulation::Projected` refuses them).
#[allow(clippy::too_many_arguments)]
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &RegulationFilter,
    descending: bool,
    args: &PageArgs,
    reads: Option<u64>,
    nested: Option<&mut dyn page::Lateral>,
) -> AppResult<Page<regulation::Model>> {
    caller.require_identity()?;
    let mut select = visible(caller);
    if !filter.include_archived {
        select = select.filter(regulation::Column::ArchivedAt.is_null());
    }
    if !filter.domain.is_empty() {
        select = select.filter(regulation::Column::Domain.is_in(filter.domain.iter().copied()));
    }
    if !filter.status.is_empty() {
        select = select.filter(regulation::Column::Status.is_in(filter.status.iter().copied()));
    }
    if let Some(id) = filter.department_id {
        select =
            select.filter(regulation::Column::DepartmentId.in_subquery(subtree_of(db, id).await?));
    }
    if let Some(finding_id) = filter.finding_id {
        let linked = Query::select()
            .column(finding_regulation::Column::RegulationId)
            .from(finding_regulation::Entity)
            .and_where(finding_regulation::Column::FindingId.eq(finding_id))
            .and_where(finding_regulation::Column::UnlinkedAt.is_null())
            .to_owned();
        select = select.filter(regulation::Column::Id.in_subquery(linked));
    }
    if let Some(text) = search_text(filter.search.as_deref())? {
        select = select.filter(
            Condition::any()
                .add(contains(regulation::Column::Title, &text))
                .add(contains(regulation::Column::DocumentNumber, &text)),
        );
    }
    let columns = regulation::selected(reads);
    let select = select.select_only().columns(columns.iter().copied());
    let decode =
        |row: &sea_orm::QueryResult, at| regulation::Model::from_columns_at(row, &columns, at);
    page::fetch_under(db, select, &order(descending), args, decode, nested).await
}

/// What every new regulation starts as, whichever road creates it: version 1, created and
/// updated `now`, in force, not archived. Callers set its own fields over it.
pub fn new_row(now: DateTime<Utc>) -> regulation::ActiveModel {
    regulation::ActiveModel {
        status: Set(RegulationStatus::InForce),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        ..Default::default()
    }
}

/// A new link of a finding and a regulation, made by `who` now.
pub fn new_link(
    who: &Acting,
    finding_id: i32,
    regulation_id: i32,
) -> finding_regulation::ActiveModel {
    finding_regulation::ActiveModel {
        finding_id: Set(finding_id),
        regulation_id: Set(regulation_id),
        linked_at: Set(who.now()),
        linked_by: Set(who.sub().to_owned()),
        unlinked_at: Set(None),
    }
}

fn title_of(title: &str) -> AppResult<String> {
    // Titles are stored without the 《》 that surround them in prose.
    let title = text::required("title", title, 300)?;
    Ok(title
        .trim_start_matches('《')
        .trim_end_matches('》')
        .trim()
        .to_owned())
}

pub async fn create(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewRegulation,
) -> AppResult<regulation::Model> {
    who.require(Permission::ManageFindings)?;
    let title = title_of(&input.title)?;
    let number = text::maybe("documentNumber", input.document_number.as_deref(), 100)?;
    let issued_on = text::maybe_date("issuedOn", input.issued_on)?;
    let department_id = match input.department_code.as_deref() {
        Some(code) => Some(department::assignable(db, &who.caller, "departmentCode", code).await?),
        None if who.caller.write_reach() == Reach::All => None,
        None => {
            return Err(AppError::bad_input(
                "departmentCode",
                t!("regulation-needs-department"),
            ));
        }
    };
    let created = regulation::ActiveModel {
        title: Set(title),
        document_number: Set(number),
        domain: Set(input.domain),
        department_id: Set(department_id),
        issued_on: Set(issued_on),
        status: Set(input.status),
        ..new_row(who.now())
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "regulation",
        id: created.id,
        department_id: created.department_id,
    };
    audited(db, who, "regulation.create", record, None, Some(&created)).await?;
    Ok(created)
}

impl Kind for regulation::Entity {
    const NAME: &'static str = "regulation";
    const COLUMNS: Versioned<regulation::Column> = Versioned {
        id: regulation::Column::Id,
        version: regulation::Column::Version,
        updated_at: regulation::Column::UpdatedAt,
        archived_at: regulation::Column::ArchivedAt,
    };
    const MANAGE: Permission = Permission::ManageFindings;

    async fn readable(
        db: &impl ConnectionTrait,
        who: &Acting,
        id: i32,
    ) -> AppResult<regulation::Model> {
        get(db, &who.caller, id).await
    }

    /// The issuing department (one without is changed by admins only).
    async fn governing(
        _: &impl ConnectionTrait,
        models: &[regulation::Model],
    ) -> AppResult<Vec<Option<i32>>> {
        Ok(models.iter().map(|r| r.department_id).collect())
    }

    fn archived(model: &regulation::Model) -> bool {
        model.archived_at.is_some()
    }
}

pub async fn update(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    version: i32,
    patch: RegulationPatch,
) -> AppResult<regulation::Model> {
    who.require(Permission::ManageFindings)?;
    let (current, department_id) = change::writable::<regulation::Entity>(db, who, id).await?;
    let mut update = regulation::Entity::update_many();
    if let Some(title) = &patch.title {
        update = update.col_expr(regulation::Column::Title, Expr::value(title_of(title)?));
    }
    if let Some(number) = patch.document_number {
        let number = text::maybe("documentNumber", number.as_deref(), 100)?;
        update = update.col_expr(regulation::Column::DocumentNumber, Expr::value(number));
    }
    if let Some(domain) = patch.domain {
        update = update.col_expr(regulation::Column::Domain, Expr::value(domain.as_str()));
    }
    if let Some(issued_on) = patch.issued_on {
        let issued_on = text::maybe_date("issuedOn", issued_on)?;
        update = update.col_expr(regulation::Column::IssuedOn, Expr::value(issued_on));
    }
    if let Some(status) = patch.status {
        update = update.col_expr(regulation::Column::Status, Expr::value(status.as_str()));
    }
    let updated = versioned_update::<regulation::Entity>(db, update, id, version).await?;
    let record = Record {
        kind: "regulation",
        id,
        department_id,
    };
    audited(
        db,
        who,
        "regulation.update",
        record,
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}

/// Links (or, with `linked = false`, unlinks) a regulation and a finding the caller may
/// write; the finding's ledger records it. Unlinking keeps the row, marked.
pub async fn set_link(
    db: &impl ConnectionTrait,
    who: &Acting,
    finding_id: i32,
    regulation_id: i32,
    linked: bool,
) -> AppResult<regulation::Model> {
    let (regulation, finding_record, link) =
        change_link(db, who, finding_id, regulation_id, linked).await?;
    let note = Note {
        finding_id,
        measure_id: None,
        entry_date: who.today(),
        kind: ProgressKind::Comment,
        content: if linked {
            format!("关联制度《{}》", regulation.title)
        } else {
            format!("取消关联制度《{}》", regulation.title)
        },
        details: Some(json!({"regulation_id": regulation_id, "linked": linked})),
    };
    ledger::note(db, who, note).await?;
    let action = if linked {
        "regulation.link"
    } else {
        "regulation.unlink"
    };
    audited(db, who, action, finding_record, None, Some(&link)).await?;
    Ok(regulation)
}

/// Links a regulation and a finding as a published document records them (the demo's
/// bulletin names the rules made for each problem), admins only: the rules of [`set_link`]
/// and its audit event, without its ledger note, as for
/// [`crate::domain::records::finding::create_recorded`].
pub async fn link_recorded(
    db: &impl ConnectionTrait,
    who: &Acting,
    finding_id: i32,
    regulation_id: i32,
) -> AppResult<regulation::Model> {
    who.require(Permission::ImportHistory)?;
    let (regulation, finding_record, link) =
        change_link(db, who, finding_id, regulation_id, true).await?;
    audited(
        db,
        who,
        "regulation.link",
        finding_record,
        None,
        Some(&link),
    )
    .await?;
    Ok(regulation)
}

/// The link row changed as [`set_link`] says, with the regulation and the finding's record.
async fn change_link(
    db: &impl ConnectionTrait,
    who: &Acting,
    finding_id: i32,
    regulation_id: i32,
    linked: bool,
) -> AppResult<(
    regulation::Model,
    Record<'static>,
    finding_regulation::Model,
)> {
    who.require(Permission::ManageFindings)?;
    let (finding, department_id) = change::writable::<finding::Entity>(db, who, finding_id).await?;
    let regulation = get(db, &who.caller, regulation_id).await?;
    let existing = finding_regulation::Entity::find_by_id((finding_id, regulation_id))
        .one(db)
        .await?;
    let active = existing.as_ref().is_some_and(|l| l.unlinked_at.is_none());
    if active == linked {
        return Err(AppError::Conflict(if linked {
            t!(
                "regulation-linked-already",
                regulation = regulation_id,
                finding = finding_id
            )
        } else {
            t!(
                "regulation-not-linked",
                regulation = regulation_id,
                finding = finding_id
            )
        }));
    }
    let link = match existing {
        None => new_link(who, finding_id, regulation_id).insert(db).await?,
        Some(row) => {
            let mut row: finding_regulation::ActiveModel = row.into();
            if linked {
                let fresh = new_link(who, finding_id, regulation_id);
                row.linked_at = fresh.linked_at;
                row.linked_by = fresh.linked_by;
                row.unlinked_at = fresh.unlinked_at;
            } else {
                row.unlinked_at = Set(Some(who.now()));
            }
            row.update(db).await?
        }
    };
    let record = Record {
        kind: "finding",
        id: finding.id,
        department_id,
    };
    Ok((regulation, record, link))
}
