//! The ledger (台账): progress entries and their evidence.

use super::scalars::{Date, Time, naive};
use async_graphql::{
    ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject, Upload,
};
use entity::{evidence, progress_entry};

use super::enums::{EvidenceKind, ProgressKind};
use super::loaders::{EntryById, EvidenceOfEntry, MeasureById};
use super::measure::Measure;
use super::write;
use super::{ContextExt, parse_id, parse_opt_id};
use crate::domain::progress::{NewEntry, NewFile, NewLink};
use crate::domain::{self};
use crate::error::AppError;
use crate::evidence::Store;

/// An entry of a finding's ledger (台账记录). Entries are never changed or removed; a mistake
/// is answered by a CORRECTION entry that points at it.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct ProgressEntry {
    /// Opaque identifier.
    pub id: ID,
    /// The date the entry speaks of.
    pub entry_date: Date,
    /// Kind of entry (台账记录类型).
    pub kind: ProgressKind,
    /// The entry's text.
    pub content: String,
    /// Who wrote it: the name in the token, or its subject.
    pub author: String,
    /// When it was written.
    pub created_at: Time,
    #[graphql(skip)]
    pub row_id: i32,
    #[graphql(skip)]
    pub measure_id: Option<i32>,
    #[graphql(skip)]
    pub corrects_id: Option<i32>,
}

impl From<progress_entry::Model> for ProgressEntry {
    fn from(p: progress_entry::Model) -> Self {
        Self {
            id: ID(p.id.to_string()),
            entry_date: Date(p.entry_date),
            kind: p.kind.into(),
            content: p.content,
            author: p.author_name.unwrap_or(p.author_sub),
            created_at: Time(p.created_at),
            row_id: p.id,
            measure_id: p.measure_id,
            corrects_id: p.corrects_id,
        }
    }
}

#[ComplexObject]
impl ProgressEntry {
    /// The measure the entry is about, if any.
    async fn measure(&self, ctx: &Context<'_>) -> Result<Option<Measure>> {
        match self.measure_id {
            Some(id) => Ok(ctx
                .loader()
                .load_one(MeasureById(id))
                .await?
                .map(Into::into)),
            None => Ok(None),
        }
    }

    /// Evidence (佐证材料) attached to the entry.
    #[graphql(complexity = "5 * child_complexity + 1")]
    async fn evidence(&self, ctx: &Context<'_>) -> Result<Vec<Evidence>> {
        let items = ctx.loader().load_one(EvidenceOfEntry(self.row_id)).await?;
        Ok(items
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// For a correction: the entry it corrects.
    async fn corrects(&self, ctx: &Context<'_>) -> Result<Option<ProgressEntry>> {
        match self.corrects_id {
            Some(id) => Ok(ctx.loader().load_one(EntryById(id)).await?.map(Into::into)),
            None => Ok(None),
        }
    }
}

/// A piece of evidence (佐证材料): an uploaded file or a link.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Evidence {
    /// Opaque identifier.
    pub id: ID,
    /// Title shown for the evidence.
    pub title: String,
    /// An uploaded file or a link.
    pub kind: EvidenceKind,
    /// For a link: its address.
    pub url: Option<String>,
    /// For a file: the SHA-256 of its content.
    pub sha256: Option<String>,
    /// For a file: its size in bytes.
    pub size_bytes: Option<i64>,
    /// For a file: its media (MIME) type.
    pub media_type: Option<String>,
    /// When the evidence was attached.
    pub created_at: Time,
}

#[ComplexObject]
impl Evidence {
    /// Where an authorised caller downloads the file (with its bearer token); null for links.
    async fn download_url(&self) -> Option<String> {
        (self.kind == EvidenceKind::File).then(|| format!("/api/v1/evidence/{}", self.id.as_str()))
    }
}

impl From<evidence::Model> for Evidence {
    fn from(e: evidence::Model) -> Self {
        Self {
            id: ID(e.id.to_string()),
            title: e.title,
            kind: e.kind.into(),
            url: e.url,
            sha256: e.sha256,
            size_bytes: e.size_bytes,
            media_type: e.media_type,
            created_at: Time(e.created_at),
        }
    }
}

/// A link to a document that proves progress.
#[derive(InputObject)]
pub struct EvidenceLinkInput {
    /// Title shown for the link.
    pub title: String,
    /// An http(s) address.
    pub url: String,
}

/// A new ledger entry.
#[derive(InputObject)]
pub struct AddProgressEntryInput {
    /// The finding whose ledger (台账) gets the entry.
    pub finding_id: ID,
    /// The measure the entry is about, if any.
    pub measure_id: Option<ID>,
    /// The date it speaks of (default: today).
    pub entry_date: Option<Date>,
    /// PROGRESS (default), MEETING, RECHECK or COMMENT.
    pub kind: Option<ProgressKind>,
    /// The entry's text: what was done or decided.
    pub content: String,
    /// Links to documents as evidence.
    #[graphql(default)]
    pub links: Vec<EvidenceLinkInput>,
    /// Files as evidence, sent with the GraphQL multipart request spec (at most 20 items with
    /// the links; each within the configured size and media types).
    #[graphql(default)]
    pub files: Vec<EvidenceFileInput>,
}

/// An evidence file to upload with a ledger entry.
#[derive(InputObject)]
pub struct EvidenceFileInput {
    /// What the file is, e.g. 会议纪要.
    pub title: String,
    /// The file (a multipart upload).
    pub file: Upload,
}

#[derive(Default)]
pub struct ProgressMutation;

#[Object]
impl ProgressMutation {
    /// Appends an entry to a finding's ledger, with links and uploaded files as evidence
    /// (officers and managers within their subtree, admins). The first entry starts the
    /// finding's rectification.
    async fn add_progress_entry(
        &self,
        ctx: &Context<'_>,
        input: AddProgressEntryInput,
    ) -> Result<ProgressEntry> {
        let mut files = Vec::with_capacity(input.files.len());
        for item in input.files {
            let upload = item
                .file
                .value(ctx)
                .map_err(|_| AppError::bad_input("files", t!("upload-missing")))?;
            files.push(NewFile {
                title: item.title,
                media_type: upload.content_type.clone(),
                file: upload.content,
            });
        }
        let entry = NewEntry {
            finding_id: parse_id("findingId", &input.finding_id)?,
            measure_id: parse_opt_id("measureId", input.measure_id.as_ref())?,
            entry_date: naive(input.entry_date),
            kind: input
                .kind
                .map_or(entity::enums::ProgressKind::Progress, Into::into),
            content: input.content,
            links: input
                .links
                .into_iter()
                .map(|l| NewLink {
                    title: l.title,
                    url: l.url,
                })
                .collect(),
            files,
        };
        let store = ctx.data_unchecked::<Store>();
        let created = domain::progress::add(ctx.db(), store, &ctx.acting(), entry).await?;
        Ok(created.into())
    }

    /// Corrects a ledger entry by appending a CORRECTION that points at it; entries themselves
    /// are never changed (officers and managers within their subtree, admins).
    async fn correct_progress_entry(
        &self,
        ctx: &Context<'_>,
        entry_id: ID,
        content: String,
    ) -> Result<ProgressEntry> {
        let entry_id = parse_id("entryId", &entry_id)?;
        let created = write(ctx, async |txn, who| {
            domain::progress::correct(txn, who, entry_id, &content).await
        })
        .await?;
        Ok(created.into())
    }
}
