//! The close-out procedure (销号) and look-back re-checks (回头看).

use async_graphql::{Context, ID, Result};

use super::catalogue;
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

impl catalogue::Root for WorkflowMutation {
    const NAME: &'static str = "WorkflowMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "startFinding",
            "NOT_STARTED → IN_PROGRESS, explicitly (the first progress entry or measure update does\n\
            it too). Officers and managers within their subtree, admins.",
            (param::<ID>("findingId"), param::<Option<i32>>("version")),
            |ctx, (finding_id, version)| Box::pin(Self::start_finding(ctx, finding_id, version)),
        );
        f.field(
            "submitForCloseOut",
            "IN_PROGRESS → PENDING_REVIEW: asks for close-out (申请销号). Every measure must be DONE\n\
            (long-term findings excepted) and every DONE measure must have evidence in the ledger,\n\
            unless `noEvidenceReason` says why none applies. Managers within their subtree, admins.",
            (
                param::<ID>("findingId"),
                param::<String>("summary"),
                param::<Option<String>>("noEvidenceReason"),
                param::<Option<i32>>("version"),
            ),
            |ctx, (finding_id, summary, no_evidence_reason, version)| {
                Box::pin(Self::submit_for_close_out(
                    ctx,
                    finding_id,
                    summary,
                    no_evidence_reason,
                    version,
                ))
            },
        );
        f.field(
            "approveCloseOut",
            "PENDING_REVIEW → CLOSED: approves the close-out (销号). Inspectors and admins; never the\n\
            submitter.",
            (
                param::<ID>("findingId"),
                param::<Option<String>>("comment"),
                param::<Option<i32>>("version"),
            ),
            |ctx, (finding_id, comment, version)| {
                Box::pin(Self::approve_close_out(ctx, finding_id, comment, version))
            },
        );
        f.field(
            "returnFinding",
            "PENDING_REVIEW → IN_PROGRESS: returns the finding for more work (退回), with a reason.\n\
            Inspectors and admins.",
            (param::<ID>("findingId"), param::<String>("reason"), param::<Option<i32>>("version")),
            |ctx, (finding_id, reason, version)| {
                Box::pin(Self::return_finding(ctx, finding_id, reason, version))
            },
        );
        f.field(
            "reopenFinding",
            "CLOSED → IN_PROGRESS: reopens a finding whose problem came back (after a look-back\n\
            re-check), with a reason. Inspectors and admins.",
            (
                param::<ID>("findingId"),
                param::<String>("reason"),
                param::<Option<i32>>("version"),
            ),
            |ctx, (finding_id, reason, version)| {
                Box::pin(Self::reopen_finding(ctx, finding_id, reason, version))
            },
        );
        f.field(
            "recordRecheck",
            "Records a look-back re-check (回头看), passed or not, in the finding's ledger.\n\
            Managers within their subtree, inspectors and admins.",
            (
                param::<ID>("findingId"),
                param::<bool>("passed"),
                param::<String>("note"),
            ),
            |ctx, (finding_id, passed, note)| {
                Box::pin(Self::record_recheck(ctx, finding_id, passed, note))
            },
        );
    }
}

crate::root!(WorkflowMutation);

impl WorkflowMutation {
    async fn start_finding(
        ctx: &Context<'_>,
        finding_id: ID,
        version: Option<i32>,
    ) -> Result<Finding> {
        step(ctx, &finding_id, version, Move::Start, MoveInput::default()).await
    }

    async fn submit_for_close_out(
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

    async fn approve_close_out(
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

    async fn return_finding(
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

    async fn reopen_finding(
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

    async fn record_recheck(
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
