//! The ledger (台账): progress entries and their evidence.

use async_graphql::{Context, ID, InputObject, Result, ServerResult, Upload};
use entity::{evidence, progress_entry};
use futures_util::future::BoxFuture;

use super::catalogue::{
    self, Env, Fields, Level, Loads, PageSource, Preload, Shown, Under, distinct, in_order, times,
};
use super::enums::{EvidenceKind, ProgressKind};
use super::finding::Finding;
use super::loaders::{EntryById, EvidenceOfEntry, MeasureById};
use super::scalars::{Date, Time, naive};
use super::write;
use super::{ContextExt, id, parse_id, parse_opt_id};
use crate::domain::reads::page::{Page, PageArgs};
use crate::domain::records::progress::{NewEntry, NewFile, NewLink};
use crate::domain::{self};
use crate::error::AppError;
use crate::evidence::Store;

/// An entry of a finding's ledger (台账记录). Entries are never changed or removed; a mistake
/// is answered by a CORRECTION entry that points at it. Its fields read through
/// [`progress_entry::Projected`], so that a column a read left out is refused, never served.
#[derive(Clone)]
pub struct ProgressEntry(pub progress_entry::Projected);

impl catalogue::Object for ProgressEntry {
    const NAME: &'static str = "ProgressEntry";
    const DOC: &'static str = "An entry of a finding's ledger (台账记录). Entries are never changed or removed; a mistake\nis answered by a CORRECTION entry that points at it.";

    fn fields(f: &mut Fields<Self>) {
        f.projected("id", "Opaque identifier.", |p| id(p.id()));
        f.projected("entryDate", "The date the entry speaks of.", |p| {
            Date(p.entry_date())
        });
        f.projected("kind", "Kind of entry (台账记录类型).", |p| {
            ProgressKind::from(p.kind())
        });
        f.projected("content", "The entry's text.", |p| p.content());
        f.projected(
            "author",
            "Who wrote it: the name in the token, or its subject.",
            |p| p.author_name().unwrap_or_else(|| p.author_sub()),
        );
        f.projected("createdAt", "When it was written.", |p| {
            Time(p.created_at())
        });
        f.refers("measure", "The measure the entry is about, if any.", |p| {
            p.measure_id().map(MeasureById)
        });
        f.many(
            "evidence",
            "Evidence (佐证材料) attached to the entry.",
            |p, _, _| Some(EvidenceOfEntry(p.id())),
        )
        .cost(times::<5>)
        .reads_id();
        f.refers(
            "corrects",
            "For a correction: the entry it corrects.",
            |p| p.corrects_id().map(EntryById),
        );
    }
}

crate::object!(ProgressEntry over progress_entry);

impl Loads for EntryById {
    type Record = ProgressEntry;
}

/// A piece of evidence (佐证材料): an uploaded file or a link.
#[derive(Clone)]
pub struct Evidence(pub evidence::Model);

impl From<evidence::Model> for Evidence {
    fn from(e: evidence::Model) -> Self {
        Self(e)
    }
}

impl catalogue::Object for Evidence {
    const NAME: &'static str = "Evidence";
    const DOC: &'static str = "A piece of evidence (佐证材料): an uploaded file or a link.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |e, _| id(e.0.id));
        f.value("title", "Title shown for the evidence.", |e, _| {
            e.0.title.clone()
        });
        f.value("kind", "An uploaded file or a link.", |e, _| {
            EvidenceKind::from(e.0.kind)
        });
        f.value("url", "For a link: its address.", |e, _| e.0.url.clone());
        f.value(
            "sha256",
            "For a file: the SHA-256 of its content.",
            |e, _| e.0.sha256.clone(),
        );
        f.value("sizeBytes", "For a file: its size in bytes.", |e, _| {
            e.0.size_bytes
        });
        f.value("mediaType", "For a file: its media (MIME) type.", |e, _| {
            e.0.media_type.clone()
        });
        f.value("createdAt", "When the evidence was attached.", |e, _| {
            Time(e.0.created_at)
        });
        f.value(
            "downloadUrl",
            "Where an authorised caller downloads the file (with its bearer token); null for links.",
            |e, _| {
                (e.0.kind == entity::enums::EvidenceKind::File)
                    .then(|| format!("/api/v1/evidence/{}", e.0.id))
            },
        );
    }
}

crate::object!(Evidence);

impl Loads for EvidenceOfEntry {
    type Record = Evidence;
}

/// The ledgers of the findings of a level, every finding's page in one read
/// ([`crate::domain::records::progress::list_each`]).
pub struct Ledgers;

impl PageSource<Finding> for Ledgers {
    type Node = ProgressEntry;

    fn pages<'a>(
        &'a self,
        level: &'a Level<'a, Finding>,
        field: &'a Context<'a>,
        args: PageArgs,
        shown: Shown,
    ) -> BoxFuture<'a, ServerResult<Vec<Page<ProgressEntry>>>> {
        Box::pin(async move {
            let failed = |err: AppError| {
                async_graphql::Error::from(err).into_server_error(catalogue::pos(field))
            };
            let ids: Vec<i32> = level.items.iter().map(|f| f.id()).collect();
            let env = level.env;
            let reads = shown.reads::<ProgressEntry>();
            let pages = domain::records::progress::list_each(
                env.db,
                env.caller,
                &distinct(&ids),
                &args,
                reads,
            )
            .await
            .map_err(failed)?;
            in_order(&ids, pages).map_err(failed)
        })
    }

    fn lateral<'a>(
        &'a self,
        env: &'a Env<'a>,
        _: &'a Context<'a>,
        args: PageArgs,
        shown: Shown,
    ) -> BoxFuture<'a, Option<Box<dyn Preload<Finding>>>> {
        Box::pin(async move {
            let reads = shown.reads::<ProgressEntry>();
            let read = domain::records::progress::each(env.caller, &args, reads).ok()?;
            Some(Under::<Finding, ProgressEntry>::boxed(read, |f| f.id()))
        })
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

impl catalogue::Root for ProgressMutation {
    const NAME: &'static str = "ProgressMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "addProgressEntry",
            "Appends an entry to a finding's ledger, with links and uploaded files as evidence\n\
            (officers and managers within their subtree, admins). The first entry starts the\n\
            finding's rectification.",
            param::<AddProgressEntryInput>("input"),
            |ctx, input| Box::pin(Self::add_progress_entry(ctx, input)),
        );
        f.field(
            "correctProgressEntry",
            "Corrects a ledger entry by appending a CORRECTION that points at it; entries themselves\n\
            are never changed (officers and managers within their subtree, admins).",
            (param::<ID>("entryId"), param::<String>("content")),
            |ctx, (entry_id, content)| {
                Box::pin(Self::correct_progress_entry(ctx, entry_id, content))
            },
        );
    }
}

crate::root!(ProgressMutation);

impl ProgressMutation {
    async fn add_progress_entry(
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
        let created = domain::records::progress::add(ctx.db(), store, &ctx.acting(), entry).await?;
        Ok(created.into())
    }

    async fn correct_progress_entry(
        ctx: &Context<'_>,
        entry_id: ID,
        content: String,
    ) -> Result<ProgressEntry> {
        let entry_id = parse_id("entryId", &entry_id)?;
        let created = write(ctx, async |txn, who| {
            domain::records::progress::correct(txn, who, entry_id, &content).await
        })
        .await?;
        Ok(created.into())
    }
}

#[cfg(test)]
mod tests {
    use std::panic::AssertUnwindSafe;

    use entity::progress_entry::Column as C;
    use sea_orm::{ConnectionTrait, Database, DbBackend, IdenStatic, Statement};

    use super::*;

    /// The columns a read of entries selects for `fields` shown together, by name.
    fn selected(fields: &[&str]) -> Vec<String> {
        let reads = <ProgressEntry as catalogue::Catalogued>::catalogue()
            .reads(fields.iter().copied())
            .expect("every field of a ledger entry declares its columns");
        names(&progress_entry::selected(Some(reads)))
    }

    fn names(columns: &[C]) -> Vec<String> {
        columns.iter().map(|c| c.as_str().to_owned()).collect()
    }

    #[test]
    fn every_field_selects_the_columns_it_reads_and_no_more() {
        let expected: &[(&str, &[C])] = &[
            ("id", &[C::Id]),
            ("entryDate", &[C::Id, C::EntryDate]),
            ("kind", &[C::Id, C::Kind]),
            ("content", &[C::Id, C::Content]),
            // The name in the token, else its subject: both read (the placeholder name is
            // none, so the recording takes the fallback).
            ("author", &[C::Id, C::AuthorSub, C::AuthorName]),
            ("createdAt", &[C::Id, C::CreatedAt]),
            ("measure", &[C::Id, C::MeasureId]),
            ("evidence", &[C::Id]),
            ("corrects", &[C::Id, C::CorrectsId]),
        ];
        let catalogue = <ProgressEntry as catalogue::Catalogued>::catalogue();
        assert_eq!(
            catalogue.fields().len(),
            expected.len(),
            "a field without its row here"
        );
        for (field, columns) in expected {
            assert_eq!(selected(&[field]), names(columns), "{field}");
        }
        // H3's selection: four of the twelve columns.
        assert_eq!(
            selected(&["id", "entryDate", "kind", "content"]),
            names(&[C::Id, C::EntryDate, C::Kind, C::Content])
        );
    }

    #[tokio::test]
    async fn a_column_a_read_did_not_select_is_refused_not_served_as_its_placeholder() {
        let db = Database::connect("sqlite::memory:")
            .await
            .expect("SQLite in memory");
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT 7, 'met the owners'",
            ))
            .await
            .expect("the statement runs")
            .expect("one row");
        let entry = ProgressEntry::from(
            progress_entry::Model::from_columns(&row, &[C::Id, C::Content]).expect("decoded"),
        );
        assert_eq!(entry.id(), 7);
        assert_eq!(entry.content(), "met the owners");
        // PROGRESS, the kind's placeholder, is not answered as the entry's kind.
        let refused = std::panic::catch_unwind(AssertUnwindSafe(|| entry.kind()))
            .expect_err("the kind was not read");
        let message = refused
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(message.contains("progress_entry.kind"), "{message}");
    }
}
