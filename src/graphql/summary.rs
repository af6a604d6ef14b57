//! Status summaries (整改进度) on inspections, departments and overall. Totals are counted
//! once per summary and only when asked for; breakdowns only when asked for.

use async_graphql::{Context, Result};

use super::catalogue::{self, Fields, times};
use entity::finding;
use sea_orm::Select;
use tokio::sync::OnceCell;

use super::ContextExt;
use super::department::{self, Department};
use super::inspection::Category;
use super::loaders::CategoryById;
use crate::domain::reads::summary::{self, Counts, GroupBy, Over};
use crate::domain::reads::supervision_counts::{self, OrderCounts};
use crate::error::AppResult;

/// Counts over a set of findings.
#[derive(Clone)]
pub struct SummaryCounts {
    /// Findings in all (archived ones left out).
    pub total: i64,
    /// Not started yet (未开始).
    pub not_started: i64,
    /// Being rectified (整改中).
    pub in_progress: i64,
    /// Submitted for close-out (待审核).
    pub pending_review: i64,
    /// Closed out (已销号).
    pub closed: i64,
    /// Rectified immediately (立行立改).
    pub immediate: i64,
    /// Rectified by a deadline (限期整改).
    pub by_deadline: i64,
    /// Long-term (长期坚持).
    pub long_term: i64,
    /// Past their deadline and not closed (逾期).
    pub overdue: i64,
    /// Measures in all.
    pub measures_total: i64,
    /// Measures done.
    pub measures_done: i64,
    /// Closed findings as a share of all, 0 to 1 (整改完成率).
    pub completion_rate: f64,
}

impl catalogue::Object for SummaryCounts {
    const NAME: &'static str = "SummaryCounts";
    const DOC: &'static str = "Counts over a set of findings.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "total",
            "Findings in all (archived ones left out).",
            |r, _| r.total,
        );
        f.value("notStarted", "Not started yet (未开始).", |r, _| {
            r.not_started
        });
        f.value("inProgress", "Being rectified (整改中).", |r, _| {
            r.in_progress
        });
        f.value(
            "pendingReview",
            "Submitted for close-out (待审核).",
            |r, _| r.pending_review,
        );
        f.value("closed", "Closed out (已销号).", |r, _| r.closed);
        f.value(
            "immediate",
            "Rectified immediately (立行立改).",
            |r, _| r.immediate,
        );
        f.value(
            "byDeadline",
            "Rectified by a deadline (限期整改).",
            |r, _| r.by_deadline,
        );
        f.value("longTerm", "Long-term (长期坚持).", |r, _| r.long_term);
        f.value(
            "overdue",
            "Past their deadline and not closed (逾期).",
            |r, _| r.overdue,
        );
        f.value("measuresTotal", "Measures in all.", |r, _| r.measures_total);
        f.value("measuresDone", "Measures done.", |r, _| r.measures_done);
        f.value(
            "completionRate",
            "Closed findings as a share of all, 0 to 1 (整改完成率).",
            |r, _| r.completion_rate,
        );
    }
}

crate::object!(SummaryCounts);

impl From<Counts> for SummaryCounts {
    fn from(c: Counts) -> Self {
        Self {
            completion_rate: c.completion_rate(),
            total: c.total,
            not_started: c.not_started,
            in_progress: c.in_progress,
            pending_review: c.pending_review,
            closed: c.closed,
            immediate: c.immediate,
            by_deadline: c.by_deadline,
            long_term: c.long_term,
            overdue: c.overdue,
            measures_total: c.measures_total,
            measures_done: c.measures_done,
        }
    }
}

/// Supervision orders (督办单) about the findings counted, as the office reports them.
#[derive(Clone, Copy)]
pub struct SupervisionCounts {
    /// Orders issued (督办件数).
    pub issued: i64,
    /// Awaiting the unit's reply (待回复), returned ones included.
    pub open: i64,
    /// Replied, awaiting the office (待办结).
    pub replied: i64,
    /// Accepted (已办结).
    pub accepted: i64,
    /// Open past the reply deadline (逾期未复): shown red, as overdue findings are.
    pub overdue: i64,
    /// Replied without ever going unanswered past the deadline.
    pub replied_on_time: i64,
    /// Replies in time as a share of the orders due, 0 to 1 (按期回复率); null while none is due.
    pub on_time_rate: Option<f64>,
}

impl catalogue::Object for SupervisionCounts {
    const NAME: &'static str = "SupervisionCounts";
    const DOC: &'static str =
        "Supervision orders (督办单) about the findings counted, as the office reports them.";

    fn fields(f: &mut Fields<Self>) {
        f.value("issued", "Orders issued (督办件数).", |r, _| r.issued);
        f.value(
            "open",
            "Awaiting the unit's reply (待回复), returned ones included.",
            |r, _| r.open,
        );
        f.value(
            "replied",
            "Replied, awaiting the office (待办结).",
            |r, _| r.replied,
        );
        f.value("accepted", "Accepted (已办结).", |r, _| r.accepted);
        f.value(
            "overdue",
            "Open past the reply deadline (逾期未复): shown red, as overdue findings are.",
            |r, _| r.overdue,
        );
        f.value(
            "repliedOnTime",
            "Replied without ever going unanswered past the deadline.",
            |r, _| r.replied_on_time,
        );
        f.value("onTimeRate", "Replies in time as a share of the orders due, 0 to 1 (按期回复率); null while none is due.", |r, _| r.on_time_rate);
    }
}

crate::object!(SupervisionCounts);

impl From<OrderCounts> for SupervisionCounts {
    fn from(c: OrderCounts) -> Self {
        Self {
            on_time_rate: c.on_time_rate(),
            issued: c.issued,
            open: c.open,
            replied: c.replied,
            accepted: c.accepted,
            overdue: c.overdue,
            replied_on_time: c.on_time,
        }
    }
}

/// The counts of one feedback heading.
pub struct CategorySummary {
    /// The heading; null for findings under none.
    pub category: Option<Category>,
    pub counts: SummaryCounts,
}

impl catalogue::Object for CategorySummary {
    const NAME: &'static str = "CategorySummary";
    const DOC: &'static str = "The counts of one feedback heading.";

    fn fields(f: &mut Fields<Self>) {
        f.nested(
            "category",
            "The heading; null for findings under none.",
            |r| &r.category,
        );
        f.nested("counts", "", |r| &r.counts);
    }
}

crate::object!(CategorySummary);

/// The counts of one responsible department.
pub struct DepartmentSummary {
    pub department: Option<Department>,
    pub counts: SummaryCounts,
}

impl catalogue::Object for DepartmentSummary {
    const NAME: &'static str = "DepartmentSummary";
    const DOC: &'static str = "The counts of one responsible department.";

    fn fields(f: &mut Fields<Self>) {
        f.nested("department", "", |r| &r.department);
        f.nested("counts", "", |r| &r.counts);
    }
}

crate::object!(DepartmentSummary);

/// A unit whose records here come from its own instance by bundles (报送 across networks):
/// its figures are its records as of its last merged bundle, which this says.
pub struct ExchangedUnit {
    /// The unit the bundles feed.
    pub unit: Department,
    /// The sending instance's name as registered (the exchange peer).
    pub peer: String,
    /// The last bundle merged (its number); null while none has arrived.
    pub sequence: Option<i32>,
    /// When that bundle was merged here.
    pub received_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Its age now, in whole hours and whole days; null while none has arrived.
    pub age_hours: Option<i64>,
    pub age_days: Option<i64>,
    /// The sentence people read: 市委统战部的数据截至其第 3 次报送（2026-12-07 09:30 收到，距今 2 天）,
    /// or 市委统战部：尚未收到报送.
    pub label: String,
}

impl catalogue::Object for ExchangedUnit {
    const NAME: &'static str = "ExchangedUnit";
    const DOC: &'static str = "A unit whose records here come from its own instance by bundles (报送 across networks):\nits figures are its records as of its last merged bundle, which this says.";

    fn fields(f: &mut Fields<Self>) {
        f.nested("unit", "The unit the bundles feed.", |r| &r.unit);
        f.value(
            "peer",
            "The sending instance's name as registered (the exchange peer).",
            |r, _| r.peer.clone(),
        );
        f.value(
            "sequence",
            "The last bundle merged (its number); null while none has arrived.",
            |r, _| r.sequence,
        );
        f.value("receivedAt", "When that bundle was merged here.", |r, _| {
            r.received_at
        });
        f.value(
            "ageHours",
            "Its age now, in whole hours and whole days; null while none has arrived.",
            |r, _| r.age_hours,
        );
        f.value("ageDays", "", |r, _| r.age_days);
        f.value("label", "The sentence people read: 市委统战部的数据截至其第 3 次报送（2026-12-07 09:30 收到，距今 2 天）,\nor 市委统战部：尚未收到报送.", |r, _| r.label.clone());
    }
}

crate::object!(ExchangedUnit);

/// Progress in numbers (整改进度) over the findings the caller may read. Finding counts come
/// from the summary cache (current after every change); measure counts and breakdowns are
/// computed only when asked for.
pub struct StatusSummary {
    findings: Select<finding::Entity>,
    over: Over,
    today: chrono::NaiveDate,
    key: String,
    totals: OnceCell<Counts>,
    measures: OnceCell<(i64, i64)>,
    targets: OnceCell<summary::TargetCounts>,
    relapses: OnceCell<(i64, i64)>,
}

impl StatusSummary {
    /// The summary of `over`, within the caller's reach.
    pub async fn over(ctx: &Context<'_>, over: Over) -> AppResult<Self> {
        let today = ctx.today();
        Ok(Self {
            findings: summary::findings(ctx.db(), ctx.caller(), over).await?,
            over,
            key: format!("{:?}|{over:?}|{today}", ctx.caller().read_reach()),
            today,
            totals: OnceCell::new(),
            measures: OnceCell::new(),
            targets: OnceCell::new(),
            relapses: OnceCell::new(),
        })
    }

    async fn totals(&self, ctx: &Context<'_>) -> AppResult<&Counts> {
        self.totals
            .get_or_try_init(|| async {
                let cache = ctx.data_unchecked::<std::sync::Arc<summary::Cache>>();
                cache
                    .finding_totals(ctx.db(), self.key.clone(), &self.findings, self.today)
                    .await
            })
            .await
    }

    /// Target counts, read once however many of their fields are asked for.
    async fn targets(&self, ctx: &Context<'_>) -> AppResult<summary::TargetCounts> {
        self.targets
            .get_or_try_init(|| summary::targets(ctx.db(), &self.findings))
            .await
            .copied()
    }

    /// (relapsed findings, relapses), read once.
    async fn relapse_counts(&self, ctx: &Context<'_>) -> AppResult<(i64, i64)> {
        self.relapses
            .get_or_try_init(|| summary::relapses(ctx.db(), &self.findings))
            .await
            .copied()
    }

    async fn measures(&self, ctx: &Context<'_>) -> AppResult<(i64, i64)> {
        self.measures
            .get_or_try_init(|| async {
                let groups =
                    summary::measure_counts(ctx.db(), &self.findings, GroupBy::Nothing).await?;
                Ok(groups.get(&None).copied().unwrap_or_default())
            })
            .await
            .copied()
    }
}

impl catalogue::Object for StatusSummary {
    const NAME: &'static str = "StatusSummary";
    // Served without a description, as it always was (the derived impl it replaces had none).
    const DOC: &'static str = "";

    /// Every field is awaited: the counts are read (once per summary, see the cells above)
    /// only when a field asks for them.
    fn fields(f: &mut Fields<Self>) {
        f.each(
            "total",
            "Findings in all (archived ones left out).",
            |s, ctx| Box::pin(s.total(ctx)),
        );
        f.each("notStarted", "Not started yet (未开始).", |s, ctx| {
            Box::pin(s.not_started(ctx))
        });
        f.each("inProgress", "Being rectified (整改中).", |s, ctx| {
            Box::pin(s.in_progress(ctx))
        });
        f.each(
            "pendingReview",
            "Submitted for close-out (待审核).",
            |s, ctx| Box::pin(s.pending_review(ctx)),
        );
        f.each("closed", "Closed out (已销号).", |s, ctx| {
            Box::pin(s.closed(ctx))
        });
        f.each(
            "overdue",
            "Past their deadline and not closed (逾期).",
            |s, ctx| Box::pin(s.overdue(ctx)),
        );
        f.each("measuresTotal", "Measures in all.", |s, ctx| {
            Box::pin(s.measures_total(ctx))
        });
        f.each("measuresDone", "Measures done.", |s, ctx| {
            Box::pin(s.measures_done(ctx))
        });
        f.each(
            "completionRate",
            "Closed findings as a share of all, 0 to 1 (整改完成率).",
            |s, ctx| Box::pin(s.completion_rate(ctx)),
        );
        f.each(
            "counts",
            "Every count at once, including by rectification type.",
            |s, ctx| Box::pin(s.counts(ctx)),
        );
        f.each(
            "regulations",
            "Regulations made or revised in answer to these findings (建章立制).",
            |s, ctx| Box::pin(s.regulations(ctx)),
        );
        f.each(
            "targetsTotal",
            "Measurable targets (目标) of these findings.",
            |s, ctx| Box::pin(s.targets_total(ctx)),
        );
        f.each(
            "targetsMet",
            "Targets whose latest value meets the required one (达标), by each target's direction.",
            |s, ctx| Box::pin(s.targets_met(ctx)),
        );
        f.each(
            "relapsed",
            "Findings that relapsed (问题反弹) at least once after being closed.",
            |s, ctx| Box::pin(s.relapsed(ctx)),
        );
        f.each(
            "relapses",
            "Relapses in all (a finding may relapse once per closing).",
            |s, ctx| Box::pin(s.relapses(ctx)),
        );
        f.each(
            "supervision",
            "Supervision orders (督办单) about these findings: 督办件数, 逾期未复, 按期回复率.",
            |s, ctx| Box::pin(s.supervision(ctx)),
        );
        f.each("exchangedUnits", "The units counted here whose records come from their own instance by bundles (报送\nacross networks), within the caller's reach: what their figures stand on (the last\nbundle merged, when, how old) or that none has arrived. Empty when none is.", |s, ctx| Box::pin(s.exchanged_units(ctx)));
        f.each(
            "byCategory",
            "The same counts for each feedback heading.",
            |s, ctx| Box::pin(s.by_category(ctx)),
        )
        .cost(times::<10>);
        f.each(
            "byDepartment",
            "The same counts for each responsible department.",
            |s, ctx| Box::pin(s.by_department(ctx)),
        )
        .cost(times::<10>);
    }
}

crate::object!(StatusSummary);

/// The fields of a summary, read through its cells.
impl StatusSummary {
    async fn total(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.totals(ctx).await?.total)
    }
    async fn not_started(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.totals(ctx).await?.not_started)
    }
    async fn in_progress(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.totals(ctx).await?.in_progress)
    }
    async fn pending_review(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.totals(ctx).await?.pending_review)
    }
    async fn closed(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.totals(ctx).await?.closed)
    }
    async fn overdue(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.totals(ctx).await?.overdue)
    }
    async fn measures_total(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.measures(ctx).await?.0)
    }
    async fn measures_done(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.measures(ctx).await?.1)
    }
    async fn completion_rate(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(self.totals(ctx).await?.completion_rate())
    }
    async fn counts(&self, ctx: &Context<'_>) -> Result<SummaryCounts> {
        let mut counts = self.totals(ctx).await?.clone();
        (counts.measures_total, counts.measures_done) = self.measures(ctx).await?;
        Ok(counts.into())
    }
    async fn regulations(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(summary::regulations(ctx.db(), &self.findings).await?)
    }
    async fn targets_total(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.targets(ctx).await?.total)
    }
    async fn targets_met(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.targets(ctx).await?.met)
    }
    async fn relapsed(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.relapse_counts(ctx).await?.0)
    }
    async fn relapses(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.relapse_counts(ctx).await?.1)
    }
    async fn supervision(&self, ctx: &Context<'_>) -> Result<SupervisionCounts> {
        Ok(
            supervision_counts::totals(ctx.db(), &self.findings, self.today)
                .await?
                .into(),
        )
    }
    async fn exchanged_units(&self, ctx: &Context<'_>) -> Result<Vec<ExchangedUnit>> {
        let now = ctx.acting().local_now();
        let standings = crate::domain::reads::exchanged::standings(
            ctx.db(),
            &ctx.caller().read_reach(),
            self.over,
            now.to_utc(),
        )
        .await?;
        let mut out = Vec::with_capacity(standings.len());
        for s in standings {
            out.push(ExchangedUnit {
                unit: Department(s.unit.clone()),
                label: s.sentence(crate::i18n::current(), *now.offset(), false),
                peer: s.peer.clone(),
                sequence: s.bundle.map(|b| b.sequence),
                received_at: s.bundle.map(|b| b.received_at),
                age_hours: s.age_hours(),
                age_days: s.age_days(),
            });
        }
        Ok(out)
    }
    async fn by_category(&self, ctx: &Context<'_>) -> Result<Vec<CategorySummary>> {
        let groups =
            summary::counts(ctx.db(), &self.findings, GroupBy::Category, self.today).await?;
        let mut out = Vec::with_capacity(groups.len());
        for (key, counts) in groups {
            let category = match key {
                Some(id) => ctx
                    .loader()
                    .load_one(CategoryById(id))
                    .await?
                    .map(Into::into),
                None => None,
            };
            out.push(CategorySummary {
                category,
                counts: counts.into(),
            });
        }
        out.sort_by_key(|s| s.category.as_ref().map_or(i32::MAX, |c| c.0.ordinal));
        Ok(out)
    }
    async fn by_department(&self, ctx: &Context<'_>) -> Result<Vec<DepartmentSummary>> {
        let groups =
            summary::counts(ctx.db(), &self.findings, GroupBy::Department, self.today).await?;
        let mut out = Vec::with_capacity(groups.len());
        for (key, counts) in groups {
            let department = match key {
                Some(id) => department::load(ctx, id).await?,
                None => None,
            };
            out.push(DepartmentSummary {
                department,
                counts: counts.into(),
            });
        }
        Ok(out)
    }
}
