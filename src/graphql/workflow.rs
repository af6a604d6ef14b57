//! The close-out procedure (销号) and look-back re-checks (回头看).

use async_graphql::{Context, ID, Object, Result};

use super::finding::Finding;
use super::parse_id;
use super::progress::ProgressEntry;
use super::write;
use crate::domain::workflow::close_out::{self, Move, MoveInput};

#[derive(Default)]
pub struct WorkflowMutation;

async fn step(
    ctx: &Context<'_>,
    id: &ID,
    version: Option<i32>,
    step: Move,
    input: MoveInput,
) -> Result<Finding> {
    let id = parse_id("findingId", id)?;
    let input = MoveInput { version, ..input };
    let moved = write(ctx, async |txn, who| {
        close_out::transition(txn, who, id, step, input).await
    })
    .await?;
    Ok(moved.into())
}

#[Object]
impl WorkflowMutation {
    /// NOT_STARTED → IN_PROGRESS, explicitly (the first progress entry or measure update does
    /// it too). Officers and managers within their subtree, admins.
    async fn start_finding(
        &self,
        ctx: &Context<'_>,
        finding_id: ID,
        version: Option<i32>,
    ) -> Result<Finding> {
        step(ctx, &finding_id, version, Move::Start, MoveInput::default()).await
    }

    /// IN_PROGRESS → PENDING_REVIEW: asks for close-out (申请销号). Every measure must be DONE
    /// (long-term findings excepted) and every DONE measure must have evidence in the ledger,
    /// unless `noEvidenceReason` says why none applies. Managers within their subtree, admins.
    async fn submit_for_close_out(
        &self,
        ctx: &Context<'_>,
        finding_id: ID,
        summary: String,
        no_evidence_reason: Option<String>,
        version: Option<i32>,
    ) -> Result<Finding> {
        let input = MoveInput {
            text: Some(summary),
            no_evidence_reason,
            ..Default::default()
        };
        step(ctx, &finding_id, version, Move::Submit, input).await
    }

    /// PENDING_REVIEW → CLOSED: approves the close-out (销号). Inspectors and admins; never the
    /// submitter.
    async fn approve_close_out(
        &self,
        ctx: &Context<'_>,
        finding_id: ID,
        comment: Option<String>,
        version: Option<i32>,
    ) -> Result<Finding> {
        let input = MoveInput {
            text: comment,
            ..Default::default()
        };
        step(ctx, &finding_id, version, Move::Approve, input).await
    }

    /// PENDING_REVIEW → IN_PROGRESS: returns the finding for more work (退回), with a reason.
    /// Inspectors and admins.
    async fn return_finding(
        &self,
        ctx: &Context<'_>,
        finding_id: ID,
        reason: String,
        version: Option<i32>,
    ) -> Result<Finding> {
        let input = MoveInput {
            text: Some(reason),
            ..Default::default()
        };
        step(ctx, &finding_id, version, Move::Return, input).await
    }

    /// CLOSED → IN_PROGRESS: reopens a finding whose problem came back (after a look-back
    /// re-check), with a reason. Inspectors and admins.
    async fn reopen_finding(
        &self,
        ctx: &Context<'_>,
        finding_id: ID,
        reason: String,
        version: Option<i32>,
    ) -> Result<Finding> {
        let input = MoveInput {
            text: Some(reason),
            ..Default::default()
        };
        step(ctx, &finding_id, version, Move::Reopen, input).await
    }

    /// Records a look-back re-check (回头看), passed or not, in the finding's ledger.
    /// Managers within their subtree, inspectors and admins.
    async fn record_recheck(
        &self,
        ctx: &Context<'_>,
        finding_id: ID,
        passed: bool,
        note: String,
    ) -> Result<ProgressEntry> {
        let id = parse_id("findingId", &finding_id)?;
        let entry = write(ctx, async |txn, who| {
            close_out::record_recheck(txn, who, id, passed, &note).await
        })
        .await?;
        Ok(entry.into())
    }
}
