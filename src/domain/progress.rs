//! The ledger (一问题一台账): appending progress entries. Entries are never edited or deleted.

use chrono::{NaiveDate, Utc};
use entity::enums::{EvidenceKind, FindingStatus, ProgressKind};
use entity::{evidence, finding, measure, progress_entry};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::auth::{Caller, Permission};
use crate::db;
use crate::domain::change::commit_audited;
use crate::domain::page::{self, Key, Order, Page, PageArgs};
use crate::domain::{scope, text};
use crate::error::{AppError, AppResult};

pub struct NewEntry {
    pub finding_id: i32,
    pub measure_id: Option<i32>,
    pub entry_date: Option<NaiveDate>,
    pub kind: ProgressKind,
    pub content: String,
    /// Links to documents that prove the progress (files are uploaded separately).
    pub links: Vec<NewLink>,
}

pub struct NewLink {
    pub title: String,
    pub url: String,
}

/// An http(s) address, checked for shape only.
fn check_url(url: &str) -> AppResult<String> {
    let url = url.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && url.len() <= 2000
        && !url.chars().any(char::is_whitespace);
    if ok {
        Ok(url.to_owned())
    } else {
        Err(AppError::bad_input(
            "links.url",
            format!("'{url}' is not an http(s) address"),
        ))
    }
}

/// The ledger of a finding the caller may read, oldest first.
pub async fn list(
    db: &impl sea_orm::ConnectionTrait,
    caller: &Caller,
    finding_id: i32,
    args: &PageArgs,
) -> AppResult<Page<progress_entry::Model>> {
    scope::finding(db, caller, finding_id).await?;
    let select =
        progress_entry::Entity::find().filter(progress_entry::Column::FindingId.eq(finding_id));
    let order = Order {
        name: "progress.id",
        exprs: vec![Expr::col(progress_entry::Column::Id)],
        keys: |p: &progress_entry::Model| vec![Key::I(p.id.into())],
        descending: false,
    };
    page::fetch(db, select, &order, args).await
}

/// Appends an entry to a finding's ledger, for a caller who may add progress there.
pub async fn add(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    input: NewEntry,
) -> AppResult<progress_entry::Model> {
    caller.require(Permission::AddProgress)?;
    if matches!(
        input.kind,
        ProgressKind::StatusChange | ProgressKind::Correction
    ) {
        return Err(AppError::bad_input(
            "kind",
            "status changes are written by the workflow, and corrections point at an entry",
        ));
    }
    let content = text::required("content", &input.content, 10_000)?;
    if input.links.len() > 20 {
        return Err(AppError::bad_input("links", "at most 20 links per entry"));
    }
    let mut links = Vec::with_capacity(input.links.len());
    for link in &input.links {
        links.push((
            text::required("links.title", &link.title, 300)?,
            check_url(&link.url)?,
        ));
    }
    let now = Utc::now();
    let entry_date = input.entry_date.unwrap_or_else(|| now.date_naive());
    if entry_date > now.date_naive() + chrono::Days::new(1) {
        return Err(AppError::bad_input(
            "entryDate",
            "a progress entry cannot be dated in the future",
        ));
    }
    let txn = db::begin_write(db).await?;
    let finding = scope::finding(&txn, caller, input.finding_id).await?;
    let department_id = match input.measure_id {
        None => finding.department_id,
        Some(measure_id) => {
            let m = measure::Entity::find_by_id(measure_id)
                .one(&txn)
                .await?
                .filter(|m| m.finding_id == finding.id)
                .ok_or_else(|| {
                    AppError::bad_input(
                        "measureId",
                        format!("finding {} has no measure {measure_id}", finding.id),
                    )
                })?;
            m.department_id.unwrap_or(finding.department_id)
        }
    };
    scope::require_writable(&txn, caller, department_id).await?;
    let actor = caller.actor(request_id);
    let entry = progress_entry::ActiveModel {
        finding_id: Set(finding.id),
        measure_id: Set(input.measure_id),
        entry_date: Set(entry_date),
        kind: Set(input.kind),
        content: Set(content),
        author_sub: Set(actor.sub.clone()),
        author_name: Set(caller.identity().and_then(|i| i.name.clone())),
        author_role: Set(Some(actor.role.clone())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for (title, url) in links {
        evidence::ActiveModel {
            progress_entry_id: Set(entry.id),
            title: Set(title),
            kind: Set(EvidenceKind::Link),
            url: Set(Some(url)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    // The first progress starts the finding's rectification.
    if finding.status == FindingStatus::NotStarted {
        finding::Entity::update_many()
            .col_expr(
                finding::Column::Status,
                Expr::value(FindingStatus::InProgress.as_str()),
            )
            .col_expr(finding::Column::UpdatedAt, Expr::value(now))
            .col_expr(finding::Column::Version, Expr::value(finding.version + 1))
            .filter(finding::Column::Id.eq(finding.id))
            .exec(&txn)
            .await?;
    }
    commit_audited(
        txn,
        &actor,
        "progress_entry.create",
        "progress_entry",
        entry.id,
        None,
        Some(&entry),
    )
    .await?;
    Ok(entry)
}
