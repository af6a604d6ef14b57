//! Supervision orders (督办单): the office's orders to a unit, the unit's replies, and the
//! office's acceptance (办结) or return. The rules are `domain::workflow::supervision`'s.

use async_graphql::{Context, ID, InputObject, Result};
use entity::{supervision_order, supervision_order_subject, supervision_reply};

use super::catalogue::{self, Conn, Fields};
use super::catalogue::{Loads, times};
use super::enums::{SupervisionLevel, SupervisionStatus};
use super::loaders::{
    DepartmentById, EvidenceOfReply, FindingById, RepliesOfOrder, SubjectsOfOrder,
};
use super::progress::{Evidence, EvidenceFileInput, EvidenceLinkInput};
use super::scalars::{Date, Time, time};
use super::{ContextExt, VERSION, id, parse_id, write};
use crate::domain::reads::columns::Columns;
use crate::domain::reads::page::PageArgs;
use crate::domain::records::progress::{NewFile, NewLink};
use crate::domain::workflow::supervision::{self as rules, NewOrder, OrderFilter};
use crate::error::AppError;
use crate::evidence::Store;
use std::collections::BTreeSet;

/// A supervision order (督办单) from the inspection office to an inspected unit.
#[derive(Clone)]
pub struct SupervisionOrder(pub supervision_order::Model);

impl From<supervision_order::Model> for SupervisionOrder {
    fn from(o: supervision_order::Model) -> Self {
        Self(o)
    }
}

impl catalogue::Object for SupervisionOrder {
    const NAME: &'static str = "SupervisionOrder";
    const DOC: &'static str =
        "A supervision order (督办单) from the inspection office to an inspected unit.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |o, _| id(o.0.id));
        f.value(
            "level",
            "How hard the office presses (督办级别).",
            |o, _| SupervisionLevel::from(o.0.level),
        );
        f.value(
            "requirement",
            "What the office requires (督办要求).",
            |o, _| o.0.requirement.clone(),
        );
        f.value(
            "replyDeadline",
            "The day the unit is to reply by (回复期限).",
            |o, _| Date(o.0.reply_deadline),
        );
        f.value("status", "Where it stands.", |o, _| {
            SupervisionStatus::from(o.0.status)
        });
        f.value(
            "overdue",
            "Past its deadline without a reply (逾期未复).",
            |o, env| rules::is_overdue(&o.0, env.thresholds.today),
        );
        f.value("issuedBy", "Who issued it (token subject).", |o, _| {
            o.0.issued_by.clone()
        });
        f.value("issuedByName", "Who issued it (name).", |o, _| {
            o.0.issued_by_name.clone()
        });
        f.value(
            "acceptedAt",
            "When the office accepted the reply (办结).",
            |o, _| time(o.0.accepted_at),
        );
        f.value("createdAt", "When it was issued.", |o, _| {
            Time(o.0.created_at)
        });
        f.value("updatedAt", "When it last changed.", |o, _| {
            Time(o.0.updated_at)
        });
        f.value("version", VERSION, |o, _| o.0.version);
        f.one(
            "inspection",
            "The inspection whose findings it is about.",
            |o, _, _| Some(super::loaders::InspectionById(o.0.inspection_id)),
        );
        f.many(
            "subjects",
            "The findings (and measures) it is about.",
            |o, _, _| Some(SubjectsOfOrder(o.0.id)),
        )
        .cost(times::<5>);
        f.many(
            "replies",
            "The unit's written replies (书面回复), oldest first.",
            |o, _, _| Some(RepliesOfOrder(o.0.id)),
        )
        .cost(times::<5>);
        f.each(
            "viewerCan",
            "What the caller may do with this order now.",
            |o, ctx| {
                Box::pin(async move {
                    // Read through the loaders, so that a page of orders reads each
                    // relation once; the rule is the domain's.
                    let loader = ctx.loader();
                    let subjects = loader
                        .load_one(SubjectsOfOrder(o.0.id))
                        .await?
                        .unwrap_or_default();
                    let shown = Columns::of(&[entity::finding::Column::DepartmentId]);
                    let findings = loader
                        .load_many(subjects.iter().map(|s| FindingById(s.finding_id, shown)))
                        .await?;
                    let departments: BTreeSet<i32> =
                        findings.values().map(|f| f.department_id).collect();
                    let paths: Vec<Option<String>> = loader
                        .load_many(departments.iter().map(|d| DepartmentById(*d)))
                        .await?
                        .into_values()
                        .map(|d| Some(d.path))
                        .collect();
                    let replies = loader
                        .load_one(RepliesOfOrder(o.0.id))
                        .await?
                        .unwrap_or_default();
                    let last = replies.last().map(|r| r.author_sub.as_str());
                    let can = rules::can_on(ctx.caller(), &o.0, &paths, last);
                    Ok(SupervisionViewerCan {
                        reply: can.reply,
                        accept: can.accept,
                        send_back: can.send_back,
                    })
                })
            },
        );
    }
}

crate::object!(SupervisionOrder);

/// A finding (or one of its measures) a supervision order is about.
#[derive(Clone)]
pub struct SupervisionSubject(pub supervision_order_subject::Model);

impl catalogue::Object for SupervisionSubject {
    const NAME: &'static str = "SupervisionSubject";
    const DOC: &'static str = "A finding (or one of its measures) a supervision order is about.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "measureId",
            "The measure, when the order names one.",
            |s, _| s.0.measure_id.map(id),
        );
        f.one(
            "finding",
            "The finding (absent when outside the caller's reach).",
            |s, shown, _| Some(FindingById(s.0.finding_id, super::finding::columns(shown))),
        );
    }
}

crate::object!(SupervisionSubject);

impl From<supervision_order_subject::Model> for SupervisionSubject {
    fn from(s: supervision_order_subject::Model) -> Self {
        Self(s)
    }
}

impl Loads for SubjectsOfOrder {
    type Record = SupervisionSubject;
}

/// The unit's written reply (书面回复) to a supervision order.
#[derive(Clone)]
pub struct SupervisionReply(pub supervision_reply::Model);

impl catalogue::Object for SupervisionReply {
    const NAME: &'static str = "SupervisionReply";
    const DOC: &'static str = "The unit's written reply (书面回复) to a supervision order.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |r, _| id(r.0.id));
        f.value("content", "What the unit answered.", |r, _| {
            r.0.content.clone()
        });
        f.value("author", "Who replied (token subject).", |r, _| {
            r.0.author_sub.clone()
        });
        f.value("authorName", "Who replied (name).", |r, _| {
            r.0.author_name.clone()
        });
        f.value("createdAt", "", |r, _| Time(r.0.created_at));
        f.value(
            "returnedAt",
            "When the office returned it, if it did.",
            |r, _| time(r.0.returned_at),
        );
        f.value("returnReason", "Why it was returned.", |r, _| {
            r.0.return_reason.clone()
        });
        f.value(
            "newDeadline",
            "The new reply deadline it was returned with.",
            |r, _| super::scalars::date(r.0.new_deadline),
        );
        f.many(
            "evidence",
            "Evidence (佐证材料) sent with the reply: links and files, also in each subject finding's ledger with the reply's note. Whoever reads the order may download the files.",
            |r, _, _| Some(EvidenceOfReply(r.0.id)),
        )
        .cost(times::<5>);
    }
}

crate::object!(SupervisionReply);

impl From<supervision_reply::Model> for SupervisionReply {
    fn from(r: supervision_reply::Model) -> Self {
        Self(r)
    }
}

impl Loads for RepliesOfOrder {
    type Record = SupervisionReply;
}

impl Loads for super::loaders::OrderById {
    type Record = SupervisionOrder;
}

impl Loads for EvidenceOfReply {
    type Record = Evidence;
}

/// What the caller may do with a supervision order now.
pub struct SupervisionViewerCan {
    /// `replyToSupervisionOrder`.
    pub reply: bool,
    /// `acceptSupervisionReply` (never by the person who replied).
    pub accept: bool,
    /// `returnSupervisionReply`.
    pub send_back: bool,
}

impl catalogue::Object for SupervisionViewerCan {
    const NAME: &'static str = "SupervisionViewerCan";
    const DOC: &'static str = "What the caller may do with a supervision order now.";

    fn fields(f: &mut Fields<Self>) {
        f.value("reply", "`replyToSupervisionOrder`.", |r, _| r.reply);
        f.value(
            "accept",
            "`acceptSupervisionReply` (never by the person who replied).",
            |r, _| r.accept,
        );
        f.value("return", "`returnSupervisionReply`.", |r, _| r.send_back);
    }
}

crate::object!(SupervisionViewerCan);

/// Which supervision orders to list.
#[derive(InputObject, Default, Clone)]
pub struct SupervisionOrderFilterInput {
    pub status: Option<SupervisionStatus>,
    pub level: Option<SupervisionLevel>,
    /// Only those past their deadline without a reply (true), or the others (false).
    pub overdue: Option<bool>,
    /// Only those about this finding.
    pub finding_id: Option<ID>,
}

/// A supervision order to issue.
#[derive(InputObject)]
pub struct IssueSupervisionOrderInput {
    /// The findings it is about (of one inspection, within the issuer's reach).
    #[graphql(default)]
    pub finding_ids: Vec<ID>,
    /// Measures it is about (their findings are its subjects too).
    #[graphql(default)]
    pub measure_ids: Vec<ID>,
    pub level: SupervisionLevel,
    /// What the office requires (督办要求).
    pub requirement: String,
    /// The day the unit is to reply by (today or later).
    pub reply_deadline: Date,
}

/// A written reply to a supervision order.
#[derive(InputObject)]
pub struct ReplyToSupervisionOrderInput {
    /// What the unit answers (书面回复).
    pub content: String,
    /// Links to documents as evidence (佐证材料).
    #[graphql(default)]
    pub links: Vec<EvidenceLinkInput>,
    /// Files as evidence, sent with the GraphQL multipart request spec (at most 20 items with
    /// the links; each within the configured size and media types), as a ledger entry's are.
    #[graphql(default)]
    pub files: Vec<EvidenceFileInput>,
}

fn ids(field: &str, ids: &[ID]) -> crate::error::AppResult<Vec<i32>> {
    ids.iter().map(|i| parse_id(field, i)).collect()
}

#[derive(Default)]
pub struct SupervisionQuery;

impl catalogue::Root for SupervisionQuery {
    const NAME: &'static str = "SupervisionQuery";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "supervisionOrders",
            "The supervision orders (督办单) the caller may read, newest first: a unit's about its\n\
            own findings, a section's about findings it works on, the office's all.",
            (
                param::<Option<SupervisionOrderFilterInput>>("filter"),
                param::<Option<i32>>("first"),
                param::<Option<String>>("after"),
            ),
            |ctx, (filter, first, after)| {
                Box::pin(Self::supervision_orders(ctx, filter, first, after))
            },
        )
        .cost(catalogue::page_cost);
        f.field(
            "supervisionOrder",
            "One supervision order the caller may read.",
            param::<ID>("id"),
            |ctx, id| Box::pin(Self::supervision_order(ctx, id)),
        );
    }
}

crate::root!(SupervisionQuery);

impl SupervisionQuery {
    async fn supervision_orders(
        ctx: &Context<'_>,
        filter: Option<SupervisionOrderFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<SupervisionOrder>> {
        let filter = filter.unwrap_or_default();
        let finding_id = super::parse_opt_id("filter.findingId", filter.finding_id.as_ref())?;
        let rules_filter = OrderFilter {
            status: filter.status.map(Into::into),
            level: filter.level.map(Into::into),
            overdue: filter.overdue,
        };
        let page = rules::list(
            ctx.db(),
            ctx.caller(),
            finding_id,
            rules_filter,
            ctx.today(),
            &PageArgs::relay(first, after, None, None),
        )
        .await?;
        Ok(Conn::of(page))
    }

    async fn supervision_order(ctx: &Context<'_>, id: ID) -> Result<SupervisionOrder> {
        let id = parse_id("id", &id)?;
        Ok(rules::get(ctx.db(), ctx.caller(), id).await?.into())
    }
}

#[derive(Default)]
pub struct SupervisionMutation;

impl catalogue::Root for SupervisionMutation {
    const NAME: &'static str = "SupervisionMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "issueSupervisionOrder",
            "Issues a supervision order (下发督办单) to the inspected unit: inspectors and admins.",
            param::<IssueSupervisionOrderInput>("input"),
            |ctx, input| Box::pin(Self::issue_supervision_order(ctx, input)),
        );
        f.field(
            "replyToSupervisionOrder",
            "Replies in writing (书面回复) to an open order: the managers of its findings' unit.",
            (
                param::<ID>("id"),
                param::<ReplyToSupervisionOrderInput>("input"),
            ),
            |ctx, (id, input)| Box::pin(Self::reply_to_supervision_order(ctx, id, input)),
        );
        f.field(
            "acceptSupervisionReply",
            "Accepts the order's latest reply (办结): inspectors and admins, never the replier.",
            param::<ID>("id"),
            |ctx, id| Box::pin(Self::accept_supervision_reply(ctx, id)),
        );
        f.field(
            "returnSupervisionReply",
            "Returns the order's latest reply with a reason and a new deadline (退回): the order is\n\
            open again. Inspectors and admins.",
            (param::<ID>("id"), param::<String>("reason"), param::<Date>("newDeadline")),
            |ctx, (id, reason, new_deadline)| {
                Box::pin(Self::return_supervision_reply(ctx, id, reason, new_deadline))
            },
        );
    }
}

crate::root!(SupervisionMutation);

impl SupervisionMutation {
    async fn issue_supervision_order(
        ctx: &Context<'_>,
        input: IssueSupervisionOrderInput,
    ) -> Result<SupervisionOrder> {
        let input = NewOrder {
            finding_ids: ids("findingIds", &input.finding_ids)?,
            measure_ids: ids("measureIds", &input.measure_ids)?,
            level: input.level.into(),
            requirement: input.requirement,
            reply_deadline: input.reply_deadline.0,
        };
        let order = write(ctx, async |txn, who| rules::issue(txn, who, input).await).await?;
        Ok(order.into())
    }

    async fn reply_to_supervision_order(
        ctx: &Context<'_>,
        id: ID,
        input: ReplyToSupervisionOrderInput,
    ) -> Result<SupervisionOrder> {
        let id = parse_id("id", &id)?;
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
        let links: Vec<NewLink> = input
            .links
            .into_iter()
            .map(|l| NewLink {
                title: l.title,
                url: l.url,
            })
            .collect();
        let store = ctx.data_unchecked::<Store>();
        let order = rules::reply_with_evidence(
            ctx.db(),
            store,
            &ctx.acting(),
            id,
            &input.content,
            &links,
            files,
        )
        .await?;
        Ok(order.into())
    }

    async fn accept_supervision_reply(ctx: &Context<'_>, id: ID) -> Result<SupervisionOrder> {
        let id = parse_id("id", &id)?;
        let order = write(ctx, async |txn, who| rules::accept(txn, who, id).await).await?;
        Ok(order.into())
    }

    async fn return_supervision_reply(
        ctx: &Context<'_>,
        id: ID,
        reason: String,
        new_deadline: Date,
    ) -> Result<SupervisionOrder> {
        let id = parse_id("id", &id)?;
        let order = write(ctx, async |txn, who| {
            rules::send_back(txn, who, id, &reason, new_deadline.0).await
        })
        .await?;
        Ok(order.into())
    }
}
