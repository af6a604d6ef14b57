//! Bulk mutations for scripts: all or nothing, each item's outcome reported.

use super::scalars::{Date, naive};
use async_graphql::{Context, InputObject, Result};

use super::catalogue::{self, Fields};

use super::ContextExt;
use super::measure::{Measure, UpdateMeasureInput};
use super::progress::{EvidenceLinkInput, ProgressEntry};
use super::{parse_id, parse_opt_id, patch};
use crate::domain::documents::bulk::{self, Outcome};
use crate::domain::records::measure::MeasurePatch;
use crate::domain::records::progress::{self, NewLink};
use crate::error::AppError;

/// Why an item failed.
pub struct ItemError {
    /// The same codes as everywhere: BAD_USER_INPUT, NOT_FOUND, CONFLICT, FORBIDDEN, ...
    pub code: String,
    pub message: String,
    /// The offending input field, when there is one.
    pub field: Option<String>,
}

impl catalogue::Object for ItemError {
    const NAME: &'static str = "ItemError";
    const DOC: &'static str = "Why an item failed.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "code",
            "The same codes as everywhere: BAD_USER_INPUT, NOT_FOUND, CONFLICT, FORBIDDEN, ...",
            |r, _| r.code.clone(),
        );
        f.value("message", "", |r, _| r.message.clone());
        f.value(
            "field",
            "The offending input field, when there is one.",
            |r, _| r.field.clone(),
        );
    }
}

crate::object!(ItemError);

impl From<AppError> for ItemError {
    fn from(err: AppError) -> Self {
        let field = match &err {
            AppError::BadUserInput { field, .. } => field.clone(),
            _ => None,
        };
        Self {
            code: err.code().to_owned(),
            message: err.message().to_owned(),
            field,
        }
    }
}

/// Declares a bulk result type and its item type for one kind of record.
macro_rules! bulk_result {
    ($result:ident, $item:ident, $node:ty, $field:ident) => {
        /// One item's outcome.
        pub struct $item {
            /// The item's position in the request, from 0.
            pub index: i32,
            /// The record as changed, when the request was applied.
            pub $field: Option<$node>,
            /// Why the item failed; null for an item that succeeded (or would have).
            pub error: Option<ItemError>,
        }

        impl catalogue::Object for $item {
            const NAME: &'static str = stringify!($item);
            const DOC: &'static str = "One item's outcome.";

            fn fields(f: &mut Fields<Self>) {
                f.value(
                    "index",
                    "The item's position in the request, from 0.",
                    |r, _| r.index,
                );
                // The field is named as the record kind (`measure`, `entry`): one word, so the
                // Rust name is the schema's.
                f.nested(
                    stringify!($field),
                    "The record as changed, when the request was applied.",
                    |r| &r.$field,
                );
                f.nested(
                    "error",
                    "Why the item failed; null for an item that succeeded (or would have).",
                    |r| &r.error,
                );
            }
        }

        crate::object!($item);

        /// A bulk request's outcome: applied as a whole, or not at all.
        pub struct $result {
            /// True when every item succeeded and all were applied; false when none was.
            pub applied: bool,
            /// How many items failed (the request is then not applied).
            pub failed: i32,
            pub items: Vec<$item>,
        }

        impl catalogue::Object for $result {
            const NAME: &'static str = stringify!($result);
            const DOC: &'static str =
                "A bulk request's outcome: applied as a whole, or not at all.";

            fn fields(f: &mut Fields<Self>) {
                f.value(
                    "applied",
                    "True when every item succeeded and all were applied; false when none was.",
                    |r, _| r.applied,
                );
                f.value(
                    "failed",
                    "How many items failed (the request is then not applied).",
                    |r, _| r.failed,
                );
                f.nested("items", "", |r| &r.items);
            }
        }

        crate::object!($result);

        impl<M> From<Outcome<M>> for $result
        where
            $node: From<M>,
        {
            fn from(outcome: Outcome<M>) -> Self {
                let applied = outcome.applied;
                let mut failed = 0;
                let items = outcome
                    .items
                    .into_iter()
                    .enumerate()
                    .map(|(index, item)| match item {
                        Ok(model) => $item {
                            index: index as i32,
                            $field: applied.then(|| model.into()),
                            error: None,
                        },
                        Err(err) => {
                            failed += 1;
                            $item {
                                index: index as i32,
                                $field: None,
                                error: Some(err.into()),
                            }
                        }
                    })
                    .collect();
                Self {
                    applied,
                    failed,
                    items,
                }
            }
        }
    };
}

bulk_result!(BulkMeasureResult, BulkMeasureItem, Measure, measure);
bulk_result!(BulkProgressResult, BulkProgressItem, ProgressEntry, entry);

/// A ledger entry of a bulk addition (links only; files go through addProgressEntry).
#[derive(InputObject)]
pub struct BulkProgressInput {
    /// The finding whose ledger (台账) gets the entry.
    pub finding_id: async_graphql::ID,
    /// The measure the entry is about, if any.
    pub measure_id: Option<async_graphql::ID>,
    /// The date it speaks of (default: today).
    pub entry_date: Option<Date>,
    /// PROGRESS (default), MEETING, RECHECK or COMMENT.
    pub kind: Option<super::enums::ProgressKind>,
    /// The entry's text.
    pub content: String,
    /// Links to documents as evidence.
    #[graphql(default)]
    pub links: Vec<EvidenceLinkInput>,
}

#[derive(Default)]
pub struct BulkMutation;

impl catalogue::Root for BulkMutation {
    const NAME: &'static str = "BulkMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "bulkUpdateMeasures",
            "Updates up to 100 measures in one transaction: all are applied, or none (each item's\n\
            outcome is reported). Safe to retry with an `Idempotency-Key` header.",
            param::<Vec<UpdateMeasureInput>>("items"),
            |ctx, items| Box::pin(Self::bulk_update_measures(ctx, items)),
        );
        f.field(
            "bulkAddProgress",
            "Adds up to 100 ledger entries in one transaction: all are applied, or none (each item's\n\
            outcome is reported). Safe to retry with an `Idempotency-Key` header.",
            param::<Vec<BulkProgressInput>>("items"),
            |ctx, items| Box::pin(Self::bulk_add_progress(ctx, items)),
        );
    }
}

crate::root!(BulkMutation);

impl BulkMutation {
    async fn bulk_update_measures(
        ctx: &Context<'_>,
        items: Vec<UpdateMeasureInput>,
    ) -> Result<BulkMeasureResult> {
        let mut parsed = Vec::with_capacity(items.len());
        for item in items {
            parsed.push((
                parse_id("id", &item.id)?,
                item.version,
                MeasurePatch {
                    content: item.content,
                    status: item.status.map(Into::into),
                    reason: item.reason,
                    completed_on: naive(item.completed_on),
                    deadline: patch(item.deadline),
                    responsible_person: patch(item.responsible_person),
                    department_code: patch(item.department_code),
                },
            ));
        }
        let outcome = bulk::update_measures(ctx.db(), &ctx.acting(), parsed).await?;
        Ok(outcome.into())
    }

    async fn bulk_add_progress(
        ctx: &Context<'_>,
        items: Vec<BulkProgressInput>,
    ) -> Result<BulkProgressResult> {
        let checked = items
            .into_iter()
            .map(|item| {
                let links: Vec<NewLink> = item
                    .links
                    .into_iter()
                    .map(|l| NewLink {
                        title: l.title,
                        url: l.url,
                    })
                    .collect();
                progress::check(
                    parse_id("findingId", &item.finding_id)?,
                    parse_opt_id("measureId", item.measure_id.as_ref())?,
                    naive(item.entry_date),
                    item.kind
                        .map_or(entity::enums::ProgressKind::Progress, Into::into),
                    &item.content,
                    &links,
                )
            })
            .collect();
        let outcome = bulk::add_progress(ctx.db(), &ctx.acting(), checked).await?;
        Ok(outcome.into())
    }
}
