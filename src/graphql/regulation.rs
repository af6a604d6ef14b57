//! Regulations (规章制度) and their links to findings.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Result};
use entity::regulation;

use super::catalogue::{self, Conn, Fields, Loads, Nested, Pages, Roots, param};
use super::enums::OrderDirection;
use super::enums::{RegulationDomain, RegulationStatus};
use super::finding::FindingsUnder;
use super::loaders::{DepartmentById, RegulationsOfFinding};
use super::scalars::{Date, date, naive};
use super::write;
use super::{ContextExt, VERSION, id, parse_id, parse_opt_id, patch};
use crate::domain::reads::finding_list::Parent;
use crate::domain::reads::page::PageArgs;
use crate::domain::records::regulation::{NewRegulation, RegulationFilter, RegulationPatch};
use crate::domain::{self};

/// A regulation (规章制度) made or revised in answer to findings: its fields read through
/// [`regulation::Projected`], so that a column a read left out is refused, never served.
#[derive(Clone)]
pub struct Regulation(pub regulation::Projected);

impl catalogue::Object for Regulation {
    const NAME: &'static str = "Regulation";
    const DOC: &'static str = "A regulation (规章制度) made or revised in answer to findings.";

    fn fields(f: &mut Fields<Self>) {
        f.projected("id", "Opaque identifier.", |r| id(r.id()));
        f.projected("title", "Title, without 《》.", |r| r.title());
        f.projected("documentNumber", "Document number (文号).", |r| {
            r.document_number()
        });
        f.projected("domain", "The field it governs (制度类别).", |r| {
            RegulationDomain::from(r.domain())
        });
        f.projected("status", "Where it stands (制度状态).", |r| {
            RegulationStatus::from(r.status())
        });
        f.projected("issuedOn", "Issue date (印发日期).", |r| {
            date(r.issued_on())
        });
        f.projected(
            "archived",
            "Whether the regulation is archived (left out of lists by default).",
            |r| r.archived_at().is_some(),
        );
        f.projected("version", VERSION, |r| r.version());
        f.each(
            "viewerCan",
            "What the caller may do with this record now.",
            |r, ctx| {
                Box::pin(super::viewer::record(
                    ctx,
                    super::viewer::RegulationKey(r.id()),
                ))
            },
        )
        .reads_id();
        f.refers("department", "The issuing department.", |r| {
            r.department_id().map(DepartmentById)
        });
        f.page(
            "findings",
            "The findings this regulation answers that the caller may read.",
            FindingsUnder {
                parent: Parent::Regulation,
                id: |r: &Regulation| r.id(),
            },
        )
        .reads_id();
    }
}

crate::object!(Regulation over regulation);

impl Loads for RegulationsOfFinding {
    type Record = Regulation;
}

/// Which regulations to list.
#[derive(InputObject, Default)]
pub struct RegulationFilterInput {
    /// Any of these fields (制度类别).
    pub domain: Option<Vec<RegulationDomain>>,
    /// Any of these statuses.
    pub status: Option<Vec<RegulationStatus>>,
    /// Issued by this department or any below it.
    pub department_id: Option<ID>,
    /// Answering this finding.
    pub finding_id: Option<ID>,
    /// Text in the title or the document number.
    pub search: Option<String>,
    /// Also list archived regulations (default false: archived ones are left out).
    #[graphql(default)]
    pub include_archived: bool,
}

#[derive(Default)]
pub struct RegulationQuery;

impl catalogue::Root for RegulationQuery {
    const NAME: &'static str = "RegulationQuery";

    fn fields(f: &mut Roots) {
        f.field(
            "regulation",
            "A regulation within the caller's reach, or null.",
            param::<ID>("id"),
            |ctx, id| {
                Box::pin(async move {
                    let id = parse_id("id", &id)?;
                    super::found::<_, Regulation>(
                        domain::records::regulation::get(ctx.db(), ctx.caller(), id).await,
                    )
                })
            },
        );
        f.field(
            "regulations",
            "The regulations within the caller's reach, by id.",
            (
                param::<Option<RegulationFilterInput>>("filter"),
                param::<OrderDirection>("direction").or(OrderDirection::default),
                Pages,
            ),
            |ctx, (filter, direction, pages)| Box::pin(regulations(ctx, filter, direction, pages)),
        )
        .cost(catalogue::page_cost);
    }
}

crate::root!(RegulationQuery);

/// The regulations within the caller's reach, a page.
async fn regulations(
    ctx: &Context<'_>,
    filter: Option<RegulationFilterInput>,
    direction: OrderDirection,
    pages: PageArgs,
) -> Result<Conn<Regulation>> {
    let filter = filter.unwrap_or_default();
    let filter = RegulationFilter {
        domain: super::converted(filter.domain),
        status: super::converted(filter.status),
        department_id: parse_opt_id("filter.departmentId", filter.department_id.as_ref())?,
        finding_id: parse_opt_id("filter.findingId", filter.finding_id.as_ref())?,
        search: filter.search,
        include_archived: filter.include_archived,
    };
    let mut nested = Nested::of(ctx).await;
    let page = domain::records::regulation::list(
        ctx.db(),
        ctx.caller(),
        &filter,
        direction.descending(),
        &pages,
        catalogue::shown_in_page::<Regulation>(ctx),
        nested.as_mut().map(Nested::lateral),
    )
    .await?;
    Ok(Conn::with(page, nested)?)
}

/// A new regulation (规章制度).
#[derive(InputObject)]
pub struct CreateRegulationInput {
    /// Title, without 《》.
    pub title: String,
    /// Document number (文号), if any.
    pub document_number: Option<String>,
    /// The field it governs (制度类别).
    pub domain: RegulationDomain,
    /// Code of the issuing department (required except for admins).
    pub department_code: Option<String>,
    /// Issue date (印发日期), once issued.
    pub issued_on: Option<Date>,
    /// Where it stands (制度状态).
    pub status: RegulationStatus,
}

/// Changes to a regulation. Omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateRegulationInput {
    /// The regulation to change.
    pub id: ID,
    /// The version the regulation was read at; if the regulation has changed since, the update fails with CONFLICT.
    pub version: i32,
    /// New title, without 《》; omit to keep.
    pub title: Option<String>,
    /// Document number (文号); omit to keep, null to clear.
    pub document_number: MaybeUndefined<String>,
    /// New field (制度类别); omit to keep.
    pub domain: Option<RegulationDomain>,
    /// Issue date (印发日期); omit to keep, null to clear.
    pub issued_on: MaybeUndefined<Date>,
    /// New status (制度状态); omit to keep.
    pub status: Option<RegulationStatus>,
}

#[derive(Default)]
pub struct RegulationMutation;

impl catalogue::Root for RegulationMutation {
    const NAME: &'static str = "RegulationMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "createRegulation",
            "Records a regulation (managers for their subtree, admins).",
            param::<CreateRegulationInput>("input"),
            |ctx, input| Box::pin(Self::create_regulation(ctx, input)),
        );
        f.field(
            "updateRegulation",
            "Edits a regulation.",
            param::<UpdateRegulationInput>("input"),
            |ctx, input| Box::pin(Self::update_regulation(ctx, input)),
        );
        f.field(
            "archiveRegulation",
            "Archives a regulation.",
            (param::<ID>("id"), param::<i32>("version")),
            |ctx, (id, version)| Box::pin(Self::archive_regulation(ctx, id, version)),
        );
        f.field(
            "linkRegulation",
            "Links a regulation to a finding it answers; the finding's ledger records it.",
            (param::<ID>("findingId"), param::<ID>("regulationId")),
            |ctx, (finding_id, regulation_id)| {
                Box::pin(Self::link_regulation(ctx, finding_id, regulation_id))
            },
        );
        f.field(
            "unlinkRegulation",
            "Undoes a link (kept in history); the finding's ledger records it.",
            (param::<ID>("findingId"), param::<ID>("regulationId")),
            |ctx, (finding_id, regulation_id)| {
                Box::pin(Self::unlink_regulation(ctx, finding_id, regulation_id))
            },
        );
    }
}

crate::root!(RegulationMutation);

impl RegulationMutation {
    async fn create_regulation(
        ctx: &Context<'_>,
        input: CreateRegulationInput,
    ) -> Result<Regulation> {
        let created = write(ctx, async |txn, who| {
            domain::records::regulation::create(
                txn,
                who,
                NewRegulation {
                    title: input.title,
                    document_number: input.document_number,
                    domain: input.domain.into(),
                    department_code: input.department_code,
                    issued_on: naive(input.issued_on),
                    status: input.status.into(),
                },
            )
            .await
        })
        .await?;
        Ok(created.into())
    }

    async fn update_regulation(
        ctx: &Context<'_>,
        input: UpdateRegulationInput,
    ) -> Result<Regulation> {
        let id = parse_id("id", &input.id)?;
        let changes = RegulationPatch {
            title: input.title,
            document_number: patch(input.document_number),
            domain: input.domain.map(Into::into),
            issued_on: patch(input.issued_on),
            status: input.status.map(Into::into),
        };
        let updated = write(ctx, async |txn, who| {
            domain::records::regulation::update(txn, who, id, input.version, changes).await
        })
        .await?;
        Ok(updated.into())
    }

    async fn archive_regulation(ctx: &Context<'_>, id: ID, version: i32) -> Result<Regulation> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::records::change::archive::<entity::regulation::Entity>(txn, who, id, version)
                .await
        })
        .await?
        .into())
    }

    async fn link_regulation(
        ctx: &Context<'_>,
        finding_id: ID,
        regulation_id: ID,
    ) -> Result<Regulation> {
        let finding_id = parse_id("findingId", &finding_id)?;
        let regulation_id = parse_id("regulationId", &regulation_id)?;
        let linked = write(ctx, async |txn, who| {
            domain::records::regulation::set_link(txn, who, finding_id, regulation_id, true).await
        })
        .await?;
        Ok(linked.into())
    }

    async fn unlink_regulation(
        ctx: &Context<'_>,
        finding_id: ID,
        regulation_id: ID,
    ) -> Result<Regulation> {
        let finding_id = parse_id("findingId", &finding_id)?;
        let regulation_id = parse_id("regulationId", &regulation_id)?;
        let unlinked = write(ctx, async |txn, who| {
            domain::records::regulation::set_link(txn, who, finding_id, regulation_id, false).await
        })
        .await?;
        Ok(unlinked.into())
    }
}
