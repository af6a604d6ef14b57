//! Semi-monthly reports (整改情况报告) and public bulletins (通报).

use super::scalars::{Date, Time, date, time};
use async_graphql::{Context, Enum, ID, InputObject, Json, Result};
use entity::enums::{ReportKind as StoredKind, ReportStatus as StoredStatus};
use entity::report;

use super::catalogue::{self, Conn, Fields};
use super::loaders::InspectionById;
use super::write;
use super::{ContextExt, parse_id, parse_opt_id};
use crate::config::Config;
use crate::domain::documents::report::{self as reports, DueState as StoredDue, ReportFilter};
use crate::domain::reads::page::PageArgs;
use crate::report::render::{self, Format};

/// What a report is (报告类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReportKind {
    /// The half-monthly progress report to the inspection office (半月报).
    SemiMonthly,
    /// The public progress bulletin (通报).
    Bulletin,
}

crate::enum_leaf!(ReportKind);

/// Where a report stands (报告状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReportStatus {
    /// Generated, not yet sent (草稿).
    Draft,
    /// Sent to the inspection office (已报送).
    Submitted,
    /// Public (已公开).
    Published,
}

crate::enum_leaf!(ReportStatus);

impl From<StoredKind> for ReportKind {
    fn from(k: StoredKind) -> Self {
        match k {
            StoredKind::SemiMonthly => Self::SemiMonthly,
            StoredKind::Bulletin => Self::Bulletin,
        }
    }
}

impl From<ReportKind> for StoredKind {
    fn from(k: ReportKind) -> Self {
        match k {
            ReportKind::SemiMonthly => Self::SemiMonthly,
            ReportKind::Bulletin => Self::Bulletin,
        }
    }
}

impl From<StoredStatus> for ReportStatus {
    fn from(s: StoredStatus) -> Self {
        match s {
            StoredStatus::Draft => Self::Draft,
            StoredStatus::Submitted => Self::Submitted,
            StoredStatus::Published => Self::Published,
        }
    }
}

impl From<ReportStatus> for StoredStatus {
    fn from(s: ReportStatus) -> Self {
        match s {
            ReportStatus::Draft => Self::Draft,
            ReportStatus::Submitted => Self::Submitted,
            ReportStatus::Published => Self::Published,
        }
    }
}

/// A report: an immutable snapshot of an inspection's ledger at a date, with its renderings.
#[derive(Clone)]
pub struct Report {
    pub id: ID,
    pub kind: ReportKind,
    pub status: ReportStatus,
    pub period_end: Date,
    pub created_at: Time,
    pub created_by: String,
    pub submitted_at: Option<Time>,
    pub published_at: Option<Time>,
    pub model: report::Model,
}

impl From<report::Model> for Report {
    fn from(r: report::Model) -> Self {
        Self {
            id: ID(r.id.to_string()),
            kind: r.kind.into(),
            status: r.status.into(),
            period_end: Date(r.period_end),
            created_at: Time(r.created_at),
            created_by: r.created_by.clone(),
            submitted_at: time(r.submitted_at),
            published_at: time(r.published_at),
            model: r,
        }
    }
}

/// Where to download a report's renderings (with the bearer token).
pub struct ReportDownloads {
    pub json: String,
    pub csv: String,
    pub xlsx: String,
    pub markdown: String,
    /// A Word document laid out as an official document (GB/T 9704).
    pub docx: String,
    /// For a published bulletin: its public page (no token needed).
    pub public_page: Option<String>,
}

impl catalogue::Object for ReportDownloads {
    const NAME: &'static str = "ReportDownloads";
    const DOC: &'static str = "Where to download a report's renderings (with the bearer token).";

    fn fields(f: &mut Fields<Self>) {
        f.value("json", "", |r, _| r.json.clone());
        f.value("csv", "", |r, _| r.csv.clone());
        f.value("xlsx", "", |r, _| r.xlsx.clone());
        f.value("markdown", "", |r, _| r.markdown.clone());
        f.value(
            "docx",
            "A Word document laid out as an official document (GB/T 9704).",
            |r, _| r.docx.clone(),
        );
        f.value(
            "publicPage",
            "For a published bulletin: its public page (no token needed).",
            |r, _| r.public_page.clone(),
        );
    }
}

crate::object!(ReportDownloads);

impl Report {
    /// The report in `format`, or `None` when it does not come in it.
    fn rendered(&self, format: Format) -> Result<Option<String>> {
        let snapshot = reports::snapshot_of(&self.model)?;
        let document = reports::document(&self.model, &snapshot);
        if !document.formats().contains(&format) {
            return Ok(None);
        }
        Ok(Some(render::render_text(document, format)?))
    }
}

impl catalogue::Object for Report {
    const NAME: &'static str = "Report";
    const DOC: &'static str =
        "A report: an immutable snapshot of an inspection's ledger at a date, with its renderings.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |r, _| r.id.clone());
        f.value("kind", "", |r, _| r.kind);
        f.value("status", "", |r, _| r.status);
        f.value("periodEnd", "The last day the report covers.", |r, _| {
            r.period_end
        });
        f.value("createdAt", "When it was generated.", |r, _| r.created_at);
        f.value("createdBy", "Who generated it.", |r, _| {
            r.created_by.clone()
        });
        f.value(
            "submittedAt",
            "When it was sent to the inspection office.",
            |r, _| r.submitted_at,
        );
        f.value("publishedAt", "When it was made public.", |r, _| {
            r.published_at
        });
        f.each(
            "viewerCan",
            "What the caller may do with this report now.",
            |r, ctx| Box::pin(super::viewer::report(ctx, r.model.id)),
        );
        f.each(
            "periodStart",
            "The first day the report covers (the day after the previous report).",
            |r, _| Box::pin(async move { Ok(date(reports::snapshot_of(&r.model)?.period_start)) }),
        );
        f.one("inspection", "The inspection reported on.", |r, _, _| {
            Some(InspectionById(r.model.inspection_id))
        });
        f.value(
            "snapshot",
            "The stored snapshot: every finding's status, measures, targets and the ledger entries\nof the period, exactly as generated.",
            |r, _| Json(r.model.snapshot.clone()),
        );
        f.each(
            "csv",
            "The ledger as CSV (序号, 问题, 整改措施, 责任领导, 责任科室, 责任人, 整改时限, 整改进展, 状态).",
            |r, _| Box::pin(async move { r.rendered(Format::Csv).map(Option::unwrap_or_default) }),
        );
        f.each(
            "markdown",
            "The report as Markdown (a bulletin in the structure of published bulletins).",
            |r, _| {
                Box::pin(async move { r.rendered(Format::Markdown).map(Option::unwrap_or_default) })
            },
        );
        f.each(
            "html",
            "A bulletin as an HTML page; null for progress reports.",
            |r, _| Box::pin(async move { r.rendered(Format::Html) }),
        );
        f.each(
            "downloads",
            "Download addresses of every rendering.",
            |r, _| Box::pin(async move { Ok(r.downloads()) }),
        );
    }
}

crate::object!(Report);

impl Report {
    /// Where to download each rendering.
    fn downloads(&self) -> ReportDownloads {
        let base = format!("/api/v1/reports/{}", self.id.as_str());
        ReportDownloads {
            json: format!("{base}?format=json"),
            csv: format!("{base}?format=csv"),
            xlsx: format!("{base}?format=xlsx"),
            markdown: format!("{base}?format=md"),
            docx: format!("{base}?format=docx"),
            public_page: (self.status == ReportStatus::Published)
                .then(|| format!("/public/bulletins/{}", self.id.as_str())),
        }
    }
}

/// Where a reporting day stands (报送情况).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DueState {
    /// Submitted by the day (按时报送).
    Submitted,
    /// Submitted after the day (逾期报送).
    Late,
    /// The day passed without a report (未报送).
    Missing,
    /// The day has not come yet (待报送).
    Upcoming,
}

crate::enum_leaf!(DueState);

/// A reporting day (每月15日、月末) and its report.
pub struct ReportDue {
    pub due_on: Date,
    pub state: DueState,
    /// The report submitted for the day, if any.
    pub report: Option<Report>,
}

impl catalogue::Object for ReportDue {
    const NAME: &'static str = "ReportDue";
    const DOC: &'static str = "A reporting day (每月15日、月末) and its report.";

    fn fields(f: &mut Fields<Self>) {
        f.value("dueOn", "", |r, _| r.due_on);
        f.value("state", "", |r, _| r.state);
        f.nested("report", "The report submitted for the day, if any.", |r| {
            &r.report
        });
    }
}

crate::object!(ReportDue);

/// Which reports to list.
#[derive(InputObject, Default)]
pub struct ReportFilterInput {
    pub inspection_id: Option<ID>,
    pub kind: Option<ReportKind>,
    /// Any of these statuses.
    pub status: Option<Vec<ReportStatus>>,
}

#[derive(Default)]
pub struct ReportQuery;

impl catalogue::Root for ReportQuery {
    const NAME: &'static str = "ReportQuery";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "publishedBulletins",
            "Published bulletins (通报), for anyone (no token needed), the latest published first.",
            catalogue::Pages,
            |ctx, pages| Box::pin(Self::published_bulletins(ctx, pages)),
        )
        .cost(catalogue::page_cost);
        f.field(
            "report",
            "A report the caller may read, or null. The inspection office sees reports once submitted.",
            param::<ID>("id"),
            |ctx, id| Box::pin(Self::report(ctx, id)),
        );
        f.field(
            "reports",
            "Reports the caller may read, newest first.",
            (
                param::<Option<ReportFilterInput>>("filter"),
                catalogue::Pages,
            ),
            |ctx, (filter, pages)| Box::pin(Self::reports(ctx, filter, pages)),
        )
        .cost(catalogue::page_cost);
        f.field(
            "reportSchedule",
            "The reporting days of an inspection (the 15th and the last day of each month, from\n\
            feedback to the rectification due date), each marked submitted, late, missing or upcoming.",
            param::<ID>("inspectionId"),
            |ctx, inspection_id| Box::pin(Self::report_schedule(ctx, inspection_id)),
        );
    }
}

crate::root!(ReportQuery);

impl ReportQuery {
    async fn published_bulletins(
        ctx: &Context<'_>,
        pages: PageArgs,
    ) -> Result<Conn<PublishedBulletin>> {
        let page = reports::published_bulletins(ctx.db(), &pages).await?;
        // Each snapshot is parsed once, for its index entry and its renderings.
        let mut rows = Vec::with_capacity(page.rows.len());
        for (cursor, r) in &page.rows {
            let snapshot = reports::snapshot_of(r)?;
            let entry = crate::report::bulletin::IndexEntry::of(r.id, &snapshot);
            rows.push((cursor.clone(), (entry, snapshot)));
        }
        let page = crate::domain::reads::page::Page {
            rows,
            has_previous: page.has_previous,
            has_next: page.has_next,
            count: page.count,
        };
        Ok(Conn::of(page.map(|(entry, snapshot)| PublishedBulletin {
            entry,
            snapshot,
        })))
    }

    async fn report(ctx: &Context<'_>, id: ID) -> Result<Option<Report>> {
        let id = parse_id("id", &id)?;
        super::found(reports::get(ctx.db(), ctx.caller(), id).await)
    }

    async fn reports(
        ctx: &Context<'_>,
        filter: Option<ReportFilterInput>,
        pages: PageArgs,
    ) -> Result<Conn<Report>> {
        let filter = filter.unwrap_or_default();
        let filter = ReportFilter {
            inspection_id: parse_opt_id("filter.inspectionId", filter.inspection_id.as_ref())?,
            kind: filter.kind.map(Into::into),
            status: super::converted(filter.status),
        };
        let page = reports::list(ctx.db(), ctx.caller(), &filter, &pages).await?;
        Ok(Conn::of(page))
    }

    async fn report_schedule(ctx: &Context<'_>, inspection_id: ID) -> Result<Vec<ReportDue>> {
        let id = parse_id("inspectionId", &inspection_id)?;
        let config = ctx.data_unchecked::<std::sync::Arc<Config>>();
        let days =
            reports::schedule(ctx.db(), ctx.caller(), id, ctx.today(), config.timezone.0).await?;
        Ok(days
            .into_iter()
            .map(|d| ReportDue {
                due_on: Date(d.due_on),
                state: match d.state {
                    StoredDue::Submitted => DueState::Submitted,
                    StoredDue::Late => DueState::Late,
                    StoredDue::Missing => DueState::Missing,
                    StoredDue::Upcoming => DueState::Upcoming,
                },
                report: d.report.map(Into::into),
            })
            .collect())
    }
}

#[derive(Default)]
pub struct ReportMutation;

impl catalogue::Root for ReportMutation {
    const NAME: &'static str = "ReportMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "generateReport",
            "Generates the progress report of an inspection for the period ending `periodEnd`\n\
            (default: today), stored immutably as a draft (the unit's managers, admins).",
            (
                param::<ID>("inspectionId"),
                param::<Option<Date>>("periodEnd"),
            ),
            |ctx, (inspection_id, period_end)| {
                Box::pin(Self::generate_report(ctx, inspection_id, period_end))
            },
        );
        f.field(
            "submitReport",
            "Sends a progress report to the inspection office (the unit's managers, admins).",
            param::<ID>("id"),
            |ctx, id| Box::pin(Self::submit_report(ctx, id)),
        );
        f.field(
            "generateBulletin",
            "Generates the public progress bulletin of an inspection as of today, stored as a draft.",
            param::<ID>("inspectionId"),
            |ctx, inspection_id| Box::pin(Self::generate_bulletin(ctx, inspection_id)),
        );
        f.field(
            "publishBulletin",
            "Makes a bulletin public at `/public/bulletins/{id}` (the unit's managers, admins).",
            param::<ID>("id"),
            |ctx, id| Box::pin(Self::publish_bulletin(ctx, id)),
        );
    }
}

crate::root!(ReportMutation);

impl ReportMutation {
    async fn generate_report(
        ctx: &Context<'_>,
        inspection_id: ID,
        period_end: Option<Date>,
    ) -> Result<Report> {
        let id = parse_id("inspectionId", &inspection_id)?;
        let today = ctx.today();
        let created = write(ctx, async |txn, who| {
            reports::generate(
                txn,
                who,
                id,
                StoredKind::SemiMonthly,
                period_end.unwrap_or(Date(today)).0,
            )
            .await
        })
        .await?;
        Ok(created.into())
    }

    async fn submit_report(ctx: &Context<'_>, id: ID) -> Result<Report> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            reports::advance(txn, who, id, StoredStatus::Submitted).await
        })
        .await?
        .into())
    }

    async fn generate_bulletin(ctx: &Context<'_>, inspection_id: ID) -> Result<Report> {
        let id = parse_id("inspectionId", &inspection_id)?;
        let today = ctx.today();
        let created = write(ctx, async |txn, who| {
            reports::generate(txn, who, id, StoredKind::Bulletin, today).await
        })
        .await?;
        Ok(created.into())
    }

    async fn publish_bulletin(ctx: &Context<'_>, id: ID) -> Result<Report> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            reports::advance(txn, who, id, StoredStatus::Published).await
        })
        .await?
        .into())
    }
}

/// A published bulletin (通报), as the public sees it.
pub struct PublishedBulletin {
    entry: crate::report::bulletin::IndexEntry,
    snapshot: crate::report::Snapshot,
}

impl catalogue::Object for PublishedBulletin {
    const NAME: &'static str = "PublishedBulletin";
    // Undescribed in the schema, as it has always been.
    const DOC: &'static str = "";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier (the report's).", |b, _| {
            ID(b.entry.id.to_string())
        });
        f.value("title", "Its title.", |b, _| b.entry.title.clone());
        f.value("issuer", "Who issues it.", |b, _| b.entry.issuer.clone());
        f.value("issuedOn", "The day it is dated.", |b, _| {
            Date(b.entry.issued_on)
        });
        f.value("unitName", "The inspected unit.", |b, _| {
            b.entry.unit_name.clone()
        });
        f.value(
            "inspectionTitle",
            "The inspection it reports on.",
            |b, _| b.entry.inspection_title.clone(),
        );
        f.value("url", "Its public page.", |b, _| b.entry.url.clone());
        f.each("markdown", "The bulletin as Markdown.", |b, _| {
            Box::pin(async move {
                Ok(render::render_text(
                    render::Document::Bulletin(&b.snapshot),
                    Format::Markdown,
                )?)
            })
        });
    }
}

crate::object!(PublishedBulletin);
