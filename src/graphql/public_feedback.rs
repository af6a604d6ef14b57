//! Public supervision (公众监督): the feedback the public sent about a unit's published
//! bulletins, read by those who read the unit's reports and handled by its managers (link to a
//! finding or open one, answer, close). Senders' names and contacts are shown to the unit's
//! managers and admins only. The rules are `domain::workflow::public_feedback`'s.

use async_graphql::{Context, ID, InputObject, Result};
use entity::{public_feedback, public_feedback_reply};

use super::catalogue::{self, Conn, Fields};
use super::catalogue::{Loads, times};
use super::enums::{FeedbackStatus, RectificationType};
use super::loaders::{FindingById, RepliesOfFeedback};
use super::scalars::{Date, Time, time};
use super::{ContextExt, VERSION, id, parse_id, parse_opt_id, write};
use crate::domain::reads::page::PageArgs;
use crate::domain::workflow::public_feedback::{
    self as rules, FeedbackCounts, FeedbackFilter, FindingFromFeedback,
};

/// Feedback from the public about a published bulletin (公众监督).
#[derive(Clone)]
pub struct PublicFeedback(pub public_feedback::Model);

impl From<public_feedback::Model> for PublicFeedback {
    fn from(f: public_feedback::Model) -> Self {
        Self(f)
    }
}

impl catalogue::Object for PublicFeedback {
    const NAME: &'static str = "PublicFeedback";
    const DOC: &'static str = "Feedback from the public about a published bulletin (公众监督).";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |o, _| id(o.0.id));
        f.value(
            "bulletinId",
            "The published bulletin it is about.",
            |o, _| id(o.0.report_id),
        );
        f.value(
            "problemNo",
            "The bulletin's number (序号) of the problem it concerns.",
            |o, _| o.0.problem_no,
        );
        f.value("content", "What was sent.", |o, _| o.0.content.clone());
        f.value(
            "senderName",
            "The sender's name: shown to the unit's managers and admins only (null to others).",
            |o, env| {
                rules::contact_visible(env.caller)
                    .then(|| o.0.name.clone())
                    .flatten()
            },
        );
        f.value(
            "contact",
            "The sender's phone or e-mail: shown to the unit's managers and admins only (null to others).",
            |o, env| {
                rules::contact_visible(env.caller)
                    .then(|| o.0.contact.clone())
                    .flatten()
            },
        );
        f.value("status", "Where it stands.", |o, _| {
            FeedbackStatus::from(o.0.status)
        });
        f.value(
            "duplicates",
            "How many times the same text was sent again (folded into this one).",
            |o, _| o.0.duplicates,
        );
        f.value("createdAt", "When it was received.", |o, _| {
            Time(o.0.created_at)
        });
        f.value("answeredAt", "When it was first answered.", |o, _| {
            time(o.0.answered_at)
        });
        f.value("closedAt", "When it was closed.", |o, _| {
            time(o.0.closed_at)
        });
        f.value("version", VERSION, |o, _| o.0.version);
        f.one(
            "finding",
            "The finding it is linked to (absent when none, or outside the caller's reach).",
            |o, shown, _| {
                o.0.finding_id
                    .map(|fid| FindingById(fid, super::finding::columns(shown)))
            },
        );
        f.many(
            "replies",
            "The unit's replies, oldest first (append-only; at most 20, then it is closed).",
            |o, _, _| Some(RepliesOfFeedback(o.0.id)),
        )
        .cost(times::<5>);
        f.value(
            "viewerCanHandle",
            "Whether the caller may link, answer or close it now.",
            |o, env| rules::can(env.caller, &o.0),
        );
    }
}

crate::object!(PublicFeedback);

/// The unit's reply to public feedback.
#[derive(Clone)]
pub struct FeedbackReply(pub public_feedback_reply::Model);

impl catalogue::Object for FeedbackReply {
    const NAME: &'static str = "PublicFeedbackReply";
    const DOC: &'static str = "The unit's reply to public feedback (append-only).";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |r, _| id(r.0.id));
        f.value("content", "What the unit answered.", |r, _| {
            r.0.content.clone()
        });
        f.value(
            "published",
            "Shown to the public (by the receipt code and on the bulletin).",
            |r, _| r.0.published,
        );
        f.value("author", "Who answered (token subject).", |r, _| {
            r.0.author_sub.clone()
        });
        f.value("authorName", "Who answered (name).", |r, _| {
            r.0.author_name.clone()
        });
        f.value("createdAt", "", |r, _| Time(r.0.created_at));
    }
}

crate::object!(FeedbackReply);

impl From<public_feedback_reply::Model> for FeedbackReply {
    fn from(r: public_feedback_reply::Model) -> Self {
        Self(r)
    }
}

impl Loads for super::loaders::FeedbackById {
    type Record = PublicFeedback;
}

impl Loads for RepliesOfFeedback {
    type Record = FeedbackReply;
}

/// Which public feedback to list.
#[derive(InputObject, Default, Clone)]
pub struct PublicFeedbackFilterInput {
    pub status: Option<FeedbackStatus>,
    /// Only that about this bulletin.
    pub bulletin_id: Option<ID>,
    /// Only that linked to a finding (true), or the rest (false).
    pub linked: Option<bool>,
}

/// Public feedback counted: received, answered, linked to a finding.
pub struct PublicFeedbackCounts {
    pub received: i64,
    pub answered: i64,
    pub linked: i64,
}

impl catalogue::Object for PublicFeedbackCounts {
    const NAME: &'static str = "PublicFeedbackCounts";
    const DOC: &'static str = "Public feedback counted: received, answered, linked to a finding.";

    fn fields(f: &mut Fields<Self>) {
        f.value("received", "", |r, _| r.received);
        f.value("answered", "", |r, _| r.answered);
        f.value("linked", "", |r, _| r.linked);
    }
}

crate::object!(PublicFeedbackCounts);

impl From<FeedbackCounts> for PublicFeedbackCounts {
    fn from(c: FeedbackCounts) -> Self {
        Self {
            received: c.received,
            answered: c.answered,
            linked: c.linked,
        }
    }
}

/// A finding to open from public feedback (its text becomes the description).
#[derive(InputObject)]
pub struct OpenFindingFromFeedbackInput {
    pub title: String,
    /// The responsible department (责任科室), by code.
    pub department_code: String,
    pub category_id: Option<ID>,
    pub rectification_type: RectificationType,
    pub deadline: Option<Date>,
}

#[derive(Default)]
pub struct PublicFeedbackQuery;

impl catalogue::Root for PublicFeedbackQuery {
    const NAME: &'static str = "PublicFeedbackQuery";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "publicFeedback",
            "The public feedback (公众监督) about the bulletins of units the caller reads, newest\n\
            first. Senders' names and contacts are shown to the unit's managers and admins only.",
            (
                param::<Option<PublicFeedbackFilterInput>>("filter"),
                param::<Option<i32>>("first"),
                param::<Option<String>>("after"),
            ),
            |ctx, (filter, first, after)| {
                Box::pin(Self::public_feedback(ctx, filter, first, after))
            },
        )
        .cost(catalogue::page_cost);
        f.field(
            "publicFeedbackCounts",
            "Counts of the public feedback the caller reads: received, answered, linked.",
            (),
            |ctx, ()| Box::pin(Self::public_feedback_counts(ctx)),
        );
    }
}

crate::root!(PublicFeedbackQuery);

impl PublicFeedbackQuery {
    async fn public_feedback(
        ctx: &Context<'_>,
        filter: Option<PublicFeedbackFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<PublicFeedback>> {
        let filter = filter.unwrap_or_default();
        let rules_filter = FeedbackFilter {
            status: filter.status.map(Into::into),
            report_id: parse_opt_id("filter.bulletinId", filter.bulletin_id.as_ref())?,
            linked: filter.linked,
        };
        let page = rules::list(
            ctx.db(),
            ctx.caller(),
            rules_filter,
            &PageArgs::relay(first, after, None, None),
        )
        .await?;
        Ok(Conn::of(page))
    }

    async fn public_feedback_counts(ctx: &Context<'_>) -> Result<PublicFeedbackCounts> {
        ctx.caller().require_identity()?;
        Ok(rules::counts(ctx.db(), ctx.caller()).await?.into())
    }
}

#[derive(Default)]
pub struct PublicFeedbackMutation;

impl catalogue::Root for PublicFeedbackMutation {
    const NAME: &'static str = "PublicFeedbackMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "linkPublicFeedback",
            "Links public feedback to a finding of the same inspection: the unit's managers, admins.",
            (param::<ID>("id"), param::<ID>("findingId")),
            |ctx, (id, finding_id)| Box::pin(Self::link_public_feedback(ctx, id, finding_id)),
        );
        f.field(
            "openFindingFromPublicFeedback",
            "Opens a new finding from public feedback and links them: the unit's managers, admins.",
            (
                param::<ID>("id"),
                param::<OpenFindingFromFeedbackInput>("input"),
            ),
            |ctx, (id, input)| Box::pin(Self::open_finding_from_public_feedback(ctx, id, input)),
        );
        f.field(
            "answerPublicFeedback",
            "Answers public feedback (append-only); `publish` shows the answer to the sender by the\n\
            receipt code and on the bulletin's page. The unit's managers, admins.",
            (param::<ID>("id"), param::<String>("reply"), param::<bool>("publish")),
            |ctx, (id, reply, publish)| {
                Box::pin(Self::answer_public_feedback(ctx, id, reply, publish))
            },
        );
        f.field(
            "closePublicFeedback",
            "Closes public feedback: the unit's managers, admins.",
            param::<ID>("id"),
            |ctx, id| Box::pin(Self::close_public_feedback(ctx, id)),
        );
    }
}

crate::root!(PublicFeedbackMutation);

impl PublicFeedbackMutation {
    async fn link_public_feedback(
        ctx: &Context<'_>,
        id: ID,
        finding_id: ID,
    ) -> Result<PublicFeedback> {
        let id = parse_id("id", &id)?;
        let finding_id = parse_id("findingId", &finding_id)?;
        let row = write(ctx, async |txn, who| {
            rules::link(txn, who, id, finding_id).await
        })
        .await?;
        Ok(row.into())
    }

    async fn open_finding_from_public_feedback(
        ctx: &Context<'_>,
        id: ID,
        input: OpenFindingFromFeedbackInput,
    ) -> Result<PublicFeedback> {
        let id = parse_id("id", &id)?;
        let input = FindingFromFeedback {
            title: input.title,
            department_code: input.department_code,
            category_id: parse_opt_id("input.categoryId", input.category_id.as_ref())?,
            rectification_type: input.rectification_type.into(),
            deadline: input.deadline.map(|d| d.0),
        };
        let (row, _) = write(ctx, async |txn, who| {
            rules::open_finding(txn, who, id, input).await
        })
        .await?;
        Ok(row.into())
    }

    async fn answer_public_feedback(
        ctx: &Context<'_>,
        id: ID,
        reply: String,
        publish: bool,
    ) -> Result<PublicFeedback> {
        let id = parse_id("id", &id)?;
        let row = write(ctx, async |txn, who| {
            rules::answer(txn, who, id, &reply, publish).await
        })
        .await?;
        Ok(row.into())
    }

    async fn close_public_feedback(ctx: &Context<'_>, id: ID) -> Result<PublicFeedback> {
        let id = parse_id("id", &id)?;
        let row = write(ctx, async |txn, who| rules::close(txn, who, id).await).await?;
        Ok(row.into())
    }
}
