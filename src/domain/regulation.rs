//! Regulations (规章制度) made or revised in answer to findings, and their links to findings.

use chrono::{NaiveDate, Utc};
use entity::enums::{ProgressKind, RegulationDomain, RegulationStatus};
use entity::{finding_regulation, progress_entry, regulation};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryTrait, Select, Set,
};
use serde_json::json;

use crate::auth::{Caller, Permission, Reach};
use crate::db;
use crate::domain::change::{Record, Versioned, archive_audited, commit_audited, versioned_update};
use crate::domain::listing::{contains, search_text, subtree_of};
use crate::domain::page::{self, Key, Order, Page, PageArgs};
use crate::domain::{department, scope, text};
use crate::error::{AppError, AppResult};

const COLUMNS: Versioned<regulation::Column> = Versioned {
    what: "regulation",
    id: regulation::Column::Id,
    version: regulation::Column::Version,
    updated_at: regulation::Column::UpdatedAt,
    archived_at: regulation::Column::ArchivedAt,
};

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
        use sea_orm::QuerySelect;
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

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &RegulationFilter,
    descending: bool,
    args: &PageArgs,
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
    page::fetch(db, select, &order(descending), args).await
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
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    input: NewRegulation,
) -> AppResult<regulation::Model> {
    caller.require(Permission::ManageFindings)?;
    let title = title_of(&input.title)?;
    let number = input
        .document_number
        .map(|n| text::optional("documentNumber", &n, 100))
        .transpose()?
        .flatten();
    let txn = db::begin_write(db).await?;
    let department_id = match input.department_code.as_deref() {
        Some(code) => Some(department::assignable(&txn, caller, "departmentCode", code).await?),
        None if caller.write_reach() == Reach::All => None,
        None => {
            return Err(AppError::bad_input(
                "departmentCode",
                "name the issuing department",
            ));
        }
    };
    let now = Utc::now();
    let created = regulation::ActiveModel {
        title: Set(title),
        document_number: Set(number),
        domain: Set(input.domain),
        department_id: Set(department_id),
        issued_on: Set(input.issued_on),
        status: Set(input.status),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    commit_audited(
        txn,
        &caller.actor(request_id),
        "regulation.create",
        Record {
            kind: "regulation",
            id: created.id,
            department_id: created.department_id,
        },
        None,
        Some(&created),
    )
    .await?;
    Ok(created)
}

/// Checks that the caller may change this regulation: one issued within its write reach (an
/// unassigned one only for admins).
async fn writable(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: i32,
) -> AppResult<regulation::Model> {
    let current = get(db, caller, id).await?;
    match current.department_id {
        Some(dept) => scope::require_writable(db, caller, dept).await?,
        None if caller.write_reach() == Reach::All => {}
        None => {
            return Err(AppError::Forbidden(
                "only admins change regulations without an issuing department".to_owned(),
            ));
        }
    }
    Ok(current)
}

pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    id: i32,
    version: i32,
    patch: RegulationPatch,
) -> AppResult<regulation::Model> {
    caller.require(Permission::ManageFindings)?;
    let txn = db::begin_write(db).await?;
    let current = writable(&txn, caller, id).await?;
    let mut update = regulation::Entity::update_many();
    if let Some(title) = &patch.title {
        update = update.col_expr(regulation::Column::Title, Expr::value(title_of(title)?));
    }
    if let Some(number) = patch.document_number {
        let number = number
            .map(|n| text::optional("documentNumber", &n, 100))
            .transpose()?
            .flatten();
        update = update.col_expr(regulation::Column::DocumentNumber, Expr::value(number));
    }
    if let Some(domain) = patch.domain {
        update = update.col_expr(regulation::Column::Domain, Expr::value(domain.as_str()));
    }
    if let Some(issued_on) = patch.issued_on {
        update = update.col_expr(regulation::Column::IssuedOn, Expr::value(issued_on));
    }
    if let Some(status) = patch.status {
        update = update.col_expr(regulation::Column::Status, Expr::value(status.as_str()));
    }
    let updated = versioned_update(&txn, update, COLUMNS, id, version).await?;
    commit_audited(
        txn,
        &caller.actor(request_id),
        "regulation.update",
        Record {
            kind: "regulation",
            id,
            department_id: current.department_id,
        },
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}

pub async fn archive(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    id: i32,
    version: i32,
) -> AppResult<regulation::Model> {
    caller.require(Permission::ManageFindings)?;
    let txn = db::begin_write(db).await?;
    let current = writable(&txn, caller, id).await?;
    archive_audited::<regulation::Entity>(
        txn,
        &caller.actor(request_id),
        COLUMNS,
        Record {
            kind: "regulation",
            id,
            department_id: current.department_id,
        },
        &current,
        current.archived_at.is_some(),
        version,
    )
    .await
}

/// Links (or, with `linked = false`, unlinks) a regulation and a finding the caller may
/// write; the finding's ledger records it. Unlinking keeps the row, marked.
pub async fn set_link(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    finding_id: i32,
    regulation_id: i32,
    linked: bool,
) -> AppResult<regulation::Model> {
    caller.require(Permission::ManageFindings)?;
    let txn = db::begin_write(db).await?;
    let finding = scope::finding(&txn, caller, finding_id).await?;
    scope::require_writable(&txn, caller, finding.department_id).await?;
    let regulation = get(&txn, caller, regulation_id).await?;
    let existing = finding_regulation::Entity::find_by_id((finding_id, regulation_id))
        .one(&txn)
        .await?;
    let active = existing.as_ref().is_some_and(|l| l.unlinked_at.is_none());
    if active == linked {
        return Err(AppError::Conflict(format!(
            "regulation {regulation_id} is already {} finding {finding_id}",
            if linked { "linked to" } else { "not linked to" }
        )));
    }
    let actor = caller.actor(request_id);
    let now = Utc::now();
    let link = match existing {
        None => {
            finding_regulation::ActiveModel {
                finding_id: Set(finding_id),
                regulation_id: Set(regulation_id),
                linked_at: Set(now),
                linked_by: Set(actor.sub.clone()),
                unlinked_at: Set(None),
            }
            .insert(&txn)
            .await?
        }
        Some(row) => {
            let mut row: finding_regulation::ActiveModel = row.into();
            if linked {
                row.linked_at = Set(now);
                row.linked_by = Set(actor.sub.clone());
                row.unlinked_at = Set(None);
            } else {
                row.unlinked_at = Set(Some(now));
            }
            row.update(&txn).await?
        }
    };
    progress_entry::ActiveModel {
        finding_id: Set(finding_id),
        entry_date: Set(now.date_naive()),
        kind: Set(ProgressKind::Comment),
        content: Set(if linked {
            format!("关联制度《{}》", regulation.title)
        } else {
            format!("取消关联制度《{}》", regulation.title)
        }),
        author_sub: Set(actor.sub.clone()),
        author_name: Set(caller.identity().and_then(|i| i.name.clone())),
        author_role: Set(Some(actor.role.clone())),
        details: Set(Some(
            json!({"regulation_id": regulation_id, "linked": linked}),
        )),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let action = if linked {
        "regulation.link"
    } else {
        "regulation.unlink"
    };
    commit_audited(
        txn,
        &actor,
        action,
        Record {
            kind: "finding",
            id: finding_id,
            department_id: Some(finding.department_id),
        },
        None,
        Some(&link),
    )
    .await?;
    Ok(regulation)
}
