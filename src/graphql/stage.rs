//! Stages (阶段目标) of long-term findings: the record type and its mutations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Result};
use entity::stage;

use super::catalogue::{self, Fields, Loads};
use super::loaders::StagesOfFinding;
use super::scalars::{Date, date, naive};
use super::write;
use super::{VERSION, id, parse_id, patch};
use crate::domain::records::stage::{self as stages, NewStage, StagePatch};

/// A stage (阶段目标) of a long-term finding: what is to be reached by when.
#[derive(Clone)]
pub struct Stage(pub stage::Model);

impl From<stage::Model> for Stage {
    fn from(s: stage::Model) -> Self {
        Self(s)
    }
}

impl catalogue::Object for Stage {
    const NAME: &'static str = "Stage";
    const DOC: &'static str =
        "A stage (阶段目标) of a long-term (长期坚持) finding: what is to be reached by when.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |s, _| id(s.0.id));
        f.value(
            "ordinal",
            "Number within the finding (第一阶段 as 1).",
            |s, _| s.0.ordinal,
        );
        f.value("content", "What is to be reached.", |s, _| {
            s.0.content.clone()
        });
        f.value(
            "targetOn",
            "By when (目标日期): not before the inspection began nor after the finding's deadline.",
            |s, _| Date(s.0.target_on),
        );
        f.value(
            "achievedOn",
            "The day it was reached, once it was.",
            |s, _| date(s.0.achieved_on),
        );
        f.value("version", VERSION, |s, _| s.0.version);
    }
}

crate::object!(Stage);

impl Loads for StagesOfFinding {
    type Record = Stage;
}

/// A new stage of a long-term finding.
#[derive(InputObject)]
pub struct AddStageInput {
    /// The long-term finding the stage belongs to.
    pub finding_id: ID,
    /// What is to be reached.
    pub content: String,
    /// By when: not before the inspection began nor after the finding's deadline.
    pub target_on: Date,
}

/// Changes to a stage; omitted fields are kept.
#[derive(InputObject)]
pub struct UpdateStageInput {
    /// The stage to change.
    pub id: ID,
    /// The version the stage was read at; if the stage has changed since, the update fails with CONFLICT.
    pub version: i32,
    /// New text of what is to be reached; omit to keep.
    pub content: Option<String>,
    /// New target date; omit to keep.
    pub target_on: Option<Date>,
    /// The day it was reached; omit to keep, null for not reached.
    pub achieved_on: MaybeUndefined<Date>,
}

#[derive(Default)]
pub struct StageMutation;

impl catalogue::Root for StageMutation {
    const NAME: &'static str = "StageMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "addStage",
            "Adds a stage (阶段目标) to a long-term finding (managers within their subtree, admins).",
            param::<AddStageInput>("input"),
            |ctx, input| Box::pin(Self::add_stage(ctx, input)),
        );
        f.field(
            "updateStage",
            "Edits a stage, e.g. marks it reached (managers within their subtree, admins).",
            param::<UpdateStageInput>("input"),
            |ctx, input| Box::pin(Self::update_stage(ctx, input)),
        );
        f.field(
            "removeStage",
            "Removes a stage (archived: its history stays in the audit trail).",
            (param::<ID>("id"), param::<i32>("version")),
            |ctx, (id, version)| Box::pin(Self::remove_stage(ctx, id, version)),
        );
    }
}

crate::root!(StageMutation);

impl StageMutation {
    async fn add_stage(ctx: &Context<'_>, input: AddStageInput) -> Result<Stage> {
        let finding_id = parse_id("findingId", &input.finding_id)?;
        let created = write(ctx, async |txn, who| {
            stages::add(
                txn,
                who,
                NewStage {
                    finding_id,
                    content: input.content,
                    target_on: input.target_on.0,
                },
            )
            .await
        })
        .await?;
        Ok(created.into())
    }

    async fn update_stage(ctx: &Context<'_>, input: UpdateStageInput) -> Result<Stage> {
        let id = parse_id("id", &input.id)?;
        let changes = StagePatch {
            content: input.content,
            target_on: naive(input.target_on),
            achieved_on: patch::<Date, Date>(input.achieved_on).map(|d| d.map(|d| d.0)),
        };
        let updated = write(ctx, async |txn, who| {
            stages::edit(txn, who, id, input.version, changes).await
        })
        .await?;
        Ok(updated.into())
    }

    async fn remove_stage(ctx: &Context<'_>, id: ID, version: i32) -> Result<Stage> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            stages::remove(txn, who, id, version).await
        })
        .await?
        .into())
    }
}
