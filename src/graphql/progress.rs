//! The ledger (台账): progress entries and their evidence.

use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{evidence, progress_entry};

use super::enums::{EvidenceKind, ProgressKind};
use super::loaders::{EntryById, EvidenceOfEntry, MeasureById};
use super::measure::Measure;
use super::{ContextExt, parse_id, parse_opt_id};
use crate::domain::progress::{NewEntry, NewLink};
use crate::domain::{self};

/// An entry of a finding's ledger (台账记录). Entries are never changed or removed; a mistake
/// is answered by a CORRECTION entry that points at it.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct ProgressEntry {
    pub id: ID,
    /// The date the entry speaks of.
    pub entry_date: NaiveDate,
    pub kind: ProgressKind,
    pub content: String,
    /// Who wrote it: the name in the token, or its subject.
    pub author: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
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
            entry_date: p.entry_date,
            kind: p.kind.into(),
            content: p.content,
            author: p.author_name.unwrap_or(p.author_sub),
            created_at: p.created_at,
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
pub struct Evidence {
    pub id: ID,
    pub title: String,
    pub kind: EvidenceKind,
    /// For a link: its address.
    pub url: Option<String>,
    /// For a file: the SHA-256 of its content.
    pub sha256: Option<String>,
    pub size_bytes: Option<i64>,
    pub media_type: Option<String>,
    pub created_at: DateTime<Utc>,
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
            created_at: e.created_at,
        }
    }
}

/// A link to a document that proves progress.
#[derive(InputObject)]
pub struct EvidenceLinkInput {
    pub title: String,
    /// An http(s) address.
    pub url: String,
}

/// A new ledger entry.
#[derive(InputObject)]
pub struct AddProgressEntryInput {
    pub finding_id: ID,
    /// The measure the entry is about, if any.
    pub measure_id: Option<ID>,
    /// The date it speaks of (default: today).
    pub entry_date: Option<NaiveDate>,
    /// PROGRESS (default), MEETING, RECHECK or COMMENT.
    pub kind: Option<ProgressKind>,
    pub content: String,
    /// Links to documents as evidence (at most 20).
    #[graphql(default)]
    pub links: Vec<EvidenceLinkInput>,
}

#[derive(Default)]
pub struct ProgressMutation;

#[Object]
impl ProgressMutation {
    /// Appends an entry to a finding's ledger (officers and managers within their subtree, admins).
    async fn add_progress_entry(
        &self,
        ctx: &Context<'_>,
        input: AddProgressEntryInput,
    ) -> Result<ProgressEntry> {
        let entry = NewEntry {
            finding_id: parse_id("findingId", &input.finding_id)?,
            measure_id: parse_opt_id("measureId", input.measure_id.as_ref())?,
            entry_date: input.entry_date,
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
        };
        let created =
            domain::progress::add(ctx.db(), ctx.caller(), ctx.request_id(), entry).await?;
        Ok(created.into())
    }
}
