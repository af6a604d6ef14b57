//! The ledger (一问题一台账): appending progress entries with their evidence, and corrections.
//! Entries are never edited or deleted; a mistake is answered by a CORRECTION entry.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::enums::{EvidenceKind, ProgressKind};
use entity::{evidence, finding, measure, progress_entry};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::auth::{Caller, Permission};
use crate::domain::reads::page::{self, EachRead, Key, Order, Page, PageArgs};
use crate::domain::records::change::{Record, audited};
use crate::domain::records::ledger;
use crate::domain::{Acting, reads::scope, records::text, workflow::close_out, write};
use crate::error::{AppError, AppResult};
use crate::evidence::{Store, Stored};

pub struct NewEntry {
    pub finding_id: i32,
    pub measure_id: Option<i32>,
    pub entry_date: Option<NaiveDate>,
    pub kind: ProgressKind,
    pub content: String,
    /// Links to documents that prove the progress.
    pub links: Vec<NewLink>,
    /// Uploaded files that prove it.
    pub files: Vec<NewFile>,
}

pub struct NewLink {
    pub title: String,
    pub url: String,
}

pub struct NewFile {
    pub title: String,
    pub file: std::fs::File,
    /// As declared by the uploader; checked against the allowed types and the content.
    pub media_type: Option<String>,
}

/// Most links and files one entry (or supervision reply) carries.
pub const MAX_EVIDENCE: usize = 20;

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
            t!("url-not-http", url = url),
        ))
    }
}

/// The ledger of a finding the caller may read, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    finding_id: i32,
    args: &PageArgs,
) -> AppResult<Page<progress_entry::Model>> {
    scope::finding(db, caller, finding_id).await?;
    let select =
        progress_entry::Entity::find().filter(progress_entry::Column::FindingId.eq(finding_id));
    let page = page::fetch(db, select, &order(), args).await?;
    // Entries are only ever appended, each in an audited change.
    Ok(page.audited())
}

/// Oldest entry first.
fn order() -> Order<progress_entry::Model> {
    Order {
        name: "progress.id",
        exprs: vec![Expr::col((
            progress_entry::Entity,
            progress_entry::Column::Id,
        ))],
        keys: |p: &progress_entry::Model| vec![Key::I(p.id.into())],
        descending: false,
    }
}

/// The ledgers of many findings, a page each with the same page arguments, in one statement;
/// a finding outside the caller's reach has an empty ledger, as its entries are never read.
pub async fn list_each(
    db: &impl ConnectionTrait,
    caller: &Caller,
    finding_ids: &[i32],
    args: &PageArgs,
    reads: Option<u64>,
) -> AppResult<HashMap<i32, Page<progress_entry::Model>>> {
    each(caller, args, reads)?.fetch(db, finding_ids).await
}

/// [`list_each`] to be read, for findings not yet read: with their page, in its statement
/// ([`page::fetch_under`]). Reads the columns `reads` names (a bit each by its place in the
/// model, as the catalogue derives them from the fields shown; `None`: every one) and the id,
/// which orders the ledger; the others are left unread (`progress_entry::Projected` refuses
/// them).
pub fn each(
    caller: &Caller,
    args: &PageArgs,
    reads: Option<u64>,
) -> AppResult<EachRead<progress_entry::Entity>> {
    caller.require_identity()?;
    let columns = progress_entry::selected(reads);
    let select = progress_entry::Entity::find()
        .select_only()
        .columns(columns.iter().copied())
        .filter(scope::readable_finding(
            progress_entry::Column::FindingId,
            caller,
        ));
    let parent = Expr::col((progress_entry::Entity, progress_entry::Column::FindingId));
    // Every entry is appended with its audit event.
    Ok(EachRead::new(
        select,
        parent,
        order(),
        args,
        &columns,
        progress_entry::Model::from_columns,
    )?
    .audited())
}

/// The latest entry of these kinds in each of these findings' ledgers: what a ledger's 整改进展
/// column shows (the import compares with it, the export writes it).
pub async fn latest_of_kinds(
    db: &impl ConnectionTrait,
    finding_ids: &[i32],
    kinds: &[ProgressKind],
) -> AppResult<HashMap<i32, progress_entry::Model>> {
    let entries = progress_entry::Entity::find()
        .filter(progress_entry::Column::FindingId.is_in(finding_ids.iter().copied()))
        .filter(progress_entry::Column::Kind.is_in(kinds.iter().copied()))
        .order_by_asc(progress_entry::Column::Id)
        .all(db)
        .await?;
    Ok(entries.into_iter().map(|e| (e.finding_id, e)).collect())
}

/// The finding an entry goes to, checked for the caller's reach, and the department whose
/// write permission governs the entry (its measure's, or the finding's).
async fn writable_target(
    db: &impl ConnectionTrait,
    who: &Acting,
    finding_id: i32,
    measure_id: Option<i32>,
) -> AppResult<(finding::Model, i32)> {
    let finding = scope::finding(db, &who.caller, finding_id).await?;
    let department_id = match measure_id {
        None => finding.department_id,
        Some(measure_id) => {
            let m = measure::Entity::find_by_id(measure_id)
                .one(db)
                .await?
                .filter(|m| m.finding_id == finding.id)
                .ok_or_else(|| {
                    AppError::bad_input(
                        "measureId",
                        t!(
                            "finding-has-no-measure",
                            finding = finding.id,
                            measure = measure_id
                        ),
                    )
                })?;
            m.department_id.unwrap_or(finding.department_id)
        }
    };
    scope::require_writable(db, &who.caller, department_id).await?;
    // A merged finding's ledger is its origin's.
    crate::domain::integration::origin::require_own(db, "finding", finding.id).await?;
    Ok((finding, department_id))
}

/// An entry ready to append: checked, its files already stored.
pub struct Checked {
    pub finding_id: i32,
    pub measure_id: Option<i32>,
    /// None: today, in the configured zone.
    pub entry_date: Option<NaiveDate>,
    pub kind: ProgressKind,
    pub content: String,
    pub links: Vec<(String, String)>,
    pub files: Vec<(String, Stored)>,
}

/// The text of an entry.
pub fn content(value: &str) -> AppResult<String> {
    text::required("content", value, 10_000)
}

/// Checks an entry's text, kind, date and links (files are checked as they are stored).
pub fn check(
    finding_id: i32,
    measure_id: Option<i32>,
    entry_date: Option<NaiveDate>,
    kind: ProgressKind,
    content_text: &str,
    links: &[NewLink],
) -> AppResult<Checked> {
    if matches!(
        kind,
        ProgressKind::StatusChange | ProgressKind::Correction | ProgressKind::Recheck
    ) {
        return Err(AppError::bad_input("kind", t!("entry-kind-reserved")));
    }
    let content = content(content_text)?;
    if links.len() > MAX_EVIDENCE {
        return Err(AppError::bad_input(
            "links",
            t!("evidence-too-many", max = MAX_EVIDENCE),
        ));
    }
    let mut checked_links = Vec::with_capacity(links.len());
    for link in links {
        checked_links.push((
            text::required("links.title", &link.title, 300)?,
            check_url(&link.url)?,
        ));
    }
    let entry_date = text::maybe_date("entryDate", entry_date)?;
    Ok(Checked {
        finding_id,
        measure_id,
        entry_date,
        kind,
        content,
        links: checked_links,
        files: Vec::new(),
    })
}

/// Appends an entry to a finding's ledger with its evidence, for a caller who may add progress
/// there. Files are stored first; if the entry does not commit, the files it brought are removed.
pub async fn add(
    db: &DatabaseConnection,
    store: &Store,
    who: &Acting,
    input: NewEntry,
) -> AppResult<progress_entry::Model> {
    who.require(Permission::AddProgress)?;
    let mut checked = check(
        input.finding_id,
        input.measure_id,
        input.entry_date,
        input.kind,
        &input.content,
        &input.links,
    )?;
    if input.links.len() + input.files.len() > MAX_EVIDENCE {
        return Err(AppError::bad_input(
            "files",
            t!("evidence-too-many", max = MAX_EVIDENCE),
        ));
    }
    let titles = input
        .files
        .iter()
        .map(|f| text::required("files.title", &f.title, 300))
        .collect::<AppResult<Vec<_>>>()?;
    for (title, file) in titles.into_iter().zip(input.files) {
        match store.put(file.file, file.media_type).await {
            Ok(stored) => checked.files.push((title, stored)),
            Err(err) => {
                checked.files.iter().for_each(|(_, s)| s.discard());
                return Err(err);
            }
        }
    }
    let result = write(db, who, async |txn| append(txn, who, &checked).await).await;
    if result.is_err() || who.dry_run {
        checked.files.iter().for_each(|(_, s)| s.discard());
    }
    result
}

/// Appends a checked entry (the command every road to the ledger takes: GraphQL, bulk, the
/// import). The first work recorded on a NOT_STARTED finding starts it.
pub async fn append(
    db: &impl ConnectionTrait,
    who: &Acting,
    entry: &Checked,
) -> AppResult<progress_entry::Model> {
    who.require(Permission::AddProgress)?;
    let (finding, department_id) =
        writable_target(db, who, entry.finding_id, entry.measure_id).await?;
    let today = who.today();
    let entry_date = entry.entry_date.unwrap_or(today);
    if entry_date > today {
        return Err(AppError::bad_input("entryDate", t!("entry-in-future")));
    }
    // The evidence is dated with its entry.
    let now = who.now();
    let created = progress_entry::ActiveModel {
        finding_id: Set(finding.id),
        measure_id: Set(entry.measure_id),
        entry_date: Set(entry_date),
        kind: Set(entry.kind),
        content: Set(entry.content.clone()),
        created_at: Set(now),
        ..ledger::new_row(who)
    }
    .insert(db)
    .await?;
    attach(db, created.id, &entry.links, &entry.files, now).await?;
    close_out::start_on_first_work(db, who, &finding).await?;
    let record = Record {
        kind: "progress_entry",
        id: created.id,
        department_id: Some(department_id),
    };
    audited(
        db,
        who,
        "progress_entry.create",
        record,
        None,
        Some(&created),
    )
    .await?;
    Ok(created)
}

/// Attaches checked links and stored files to a ledger entry, links first, each in the order
/// given (every road that writes evidence: entries, supervision replies).
pub async fn attach(
    db: &impl ConnectionTrait,
    entry_id: i32,
    links: &[(String, String)],
    files: &[(String, Stored)],
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<evidence::Model>> {
    let mut out = Vec::with_capacity(links.len() + files.len());
    for (title, url) in links {
        out.push(
            evidence::ActiveModel {
                progress_entry_id: Set(entry_id),
                title: Set(title.clone()),
                kind: Set(EvidenceKind::Link),
                url: Set(Some(url.clone())),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?,
        );
    }
    for (title, file) in files {
        out.push(
            evidence::ActiveModel {
                progress_entry_id: Set(entry_id),
                title: Set(title.clone()),
                kind: Set(EvidenceKind::File),
                sha256: Set(Some(file.sha256.clone())),
                size_bytes: Set(Some(file.size)),
                media_type: Set(Some(file.media_type.clone())),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?,
        );
    }
    Ok(out)
}

/// Checks evidence given with a text (links' titles and addresses, files' titles, at most
/// [`MAX_EVIDENCE`] in all) and stores the files; on a refusal nothing stays stored. The
/// caller discards the stored files if its write does not commit.
pub async fn evidence_stored(
    store: &Store,
    links: &[NewLink],
    files: Vec<NewFile>,
) -> AppResult<(Vec<(String, String)>, Vec<(String, Stored)>)> {
    if links.len() + files.len() > MAX_EVIDENCE {
        return Err(AppError::bad_input(
            "files",
            t!("evidence-too-many", max = MAX_EVIDENCE),
        ));
    }
    let mut checked_links = Vec::with_capacity(links.len());
    for link in links {
        checked_links.push((
            text::required("links.title", &link.title, 300)?,
            check_url(&link.url)?,
        ));
    }
    let titles = files
        .iter()
        .map(|f| text::required("files.title", &f.title, 300))
        .collect::<AppResult<Vec<_>>>()?;
    let mut stored: Vec<(String, Stored)> = Vec::with_capacity(files.len());
    for (title, file) in titles.into_iter().zip(files) {
        match store.put(file.file, file.media_type).await {
            Ok(s) => stored.push((title, s)),
            Err(err) => {
                stored.iter().for_each(|(_, s)| s.discard());
                return Err(err);
            }
        }
    }
    Ok((checked_links, stored))
}

/// Corrects an entry by appending a CORRECTION that points at it; the original stays as it was.
pub async fn correct(
    db: &impl ConnectionTrait,
    who: &Acting,
    entry_id: i32,
    content_text: &str,
) -> AppResult<progress_entry::Model> {
    who.require(Permission::AddProgress)?;
    let content = content(content_text)?;
    let original = progress_entry::Entity::find_by_id(entry_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("progress entry", entry_id))?;
    let (_, department_id) = writable_target(db, who, original.finding_id, original.measure_id)
        .await
        .map_err(|err| match err {
            AppError::NotFound(_) => AppError::not_found("progress entry", entry_id),
            other => other,
        })?;
    let entry = progress_entry::ActiveModel {
        finding_id: Set(original.finding_id),
        measure_id: Set(original.measure_id),
        entry_date: Set(who.today()),
        kind: Set(ProgressKind::Correction),
        content: Set(content),
        corrects_id: Set(Some(entry_id)),
        ..ledger::new_row(who)
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "progress_entry",
        id: entry.id,
        department_id: Some(department_id),
    };
    audited(
        db,
        who,
        "progress_entry.correct",
        record,
        None,
        Some(&entry),
    )
    .await?;
    Ok(entry)
}

/// An evidence file the caller may download: the evidence row and its stored file's digest.
pub async fn downloadable(
    db: &impl ConnectionTrait,
    caller: &Caller,
    evidence_id: i32,
) -> AppResult<evidence::Model> {
    caller.require_identity()?;
    let item = evidence::Entity::find_by_id(evidence_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("evidence", evidence_id))?;
    let entry = progress_entry::Entity::find_by_id(item.progress_entry_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("evidence", evidence_id))?;
    // A supervision reply's evidence is read with its order: whoever reads the order (a
    // section through another of its findings too) may download it.
    if scope::finding(db, caller, entry.finding_id).await.is_err()
        && !crate::domain::reads::supervision_relations::reply_evidence_readable(
            db,
            caller,
            evidence_id,
        )
        .await?
    {
        return Err(AppError::not_found("evidence", evidence_id));
    }
    if item.kind != EvidenceKind::File {
        return Err(AppError::NotFound(t!("evidence-is-link", id = evidence_id)));
    }
    Ok(item)
}
