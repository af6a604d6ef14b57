//! Compiled reads: the front ends' list pages answered without async-graphql's per-field
//! machinery.
//!
//! Why: a page of 50 findings with their measures is about a thousand fields. async-graphql
//! resolves each through boxed futures and builds a value tree before serialising it, which
//! made the list page CPU-bound (docs/BENCHMARKS.md). Like PostGraphile, which turns an
//! operation into one plan, rectrack compiles a query text once and then answers it by running
//! the plan's reads and writing the JSON straight from the rows.
//!
//! The rules that keep the two paths alike:
//! - A text is compiled only after async-graphql has answered it without errors, so it passed
//!   parsing, validation and every limit. Of those, only complexity depends on the request,
//!   through the page sizes: a plan runs only for sizes no larger than ones already validated,
//!   and a larger request goes the normal way (and, once it passes, raises the bar).
//! - Plans cover an exact subset: `findings` with Finding's scalar fields, its department and
//!   its measures, `__typename`, aliases and fragments. Anything else, and any failure while a
//!   plan runs, is answered by async-graphql, which gives the answer or the error.
//! - Plans read through the same domain function and loaders as the resolvers, so scoping,
//!   filters, order and cursors are one piece of code. Nothing read is kept between requests.
//! - A plan writes an object's keys in selection order, as the GraphQL spec asks. async-graphql
//!   orders fields it resolves concurrently by completion, so the two answers are equal as JSON
//!   values but not always byte for byte (the tests compare values).

mod plan;
mod write;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use async_graphql::dataloader::Loader as _;
use async_graphql::{InputType, Name, Request, Value, Variables};
use sea_orm::DatabaseConnection;

use self::plan::{Plan, Root};
use self::write::{Answer, RootPage};
use super::finding::{Finding, FindingFilterInput, FindingOrderInput, list_terms};
use super::loaders::{DepartmentById, Loader};
use crate::auth::Caller;
use crate::config::Config;
use crate::domain::page::{DEFAULT_SIZE, PageArgs};
use crate::domain::relations::{Archived, measures_of_findings};
use crate::domain::warning::Thresholds;
use crate::error::{AppError, AppResult};

/// Texts longer than this are not compiled (front ends' list queries are far shorter).
const MAX_TEXT: usize = 8 * 1024;
/// Distinct texts remembered; the table starts afresh when it is full.
const MAX_TEXTS: usize = 512;

/// What a query text compiles to, per operation name.
type Operations = Vec<(Option<String>, Arc<Entry>)>;

/// The plans learnt so far, by query text.
pub struct Compiled {
    texts: RwLock<HashMap<String, Operations>>,
    loader: Loader,
    enabled: bool,
    /// Operations answered by a plan since start-up (served at `/metrics`).
    pub answered: AtomicU64,
}

enum Entry {
    /// Outside the subset: always the normal path.
    Outside,
    Plan {
        plan: Plan,
        /// Per root field, the largest page size validated so far.
        validated: Mutex<Vec<u64>>,
        /// The length of the last answer, to size the next one's buffer.
        last_len: AtomicUsize,
    },
}

impl Compiled {
    pub fn new(db: DatabaseConnection, enabled: bool) -> Self {
        Self {
            texts: RwLock::default(),
            loader: Loader::new(db),
            enabled,
            answered: AtomicU64::new(0),
        }
    }

    fn entry(&self, query: &str, operation: Option<&str>) -> Option<Arc<Entry>> {
        let texts = self.texts.read().unwrap_or_else(|e| e.into_inner());
        texts
            .get(query)?
            .iter()
            .find(|(name, _)| name.as_deref() == operation)
            .map(|(_, entry)| entry.clone())
    }

    /// Whether a successful normal answer to `request` should be passed to [`Self::learn`]:
    /// the text is new, or its plan did not run (a larger page than validated). Only texts of
    /// identified callers are learnt, so anonymous requests cannot fill the table.
    pub fn wants_to_learn(&self, caller: &Caller, request: &Request) -> bool {
        self.enabled
            && !matches!(caller, Caller::Anonymous)
            && request.query.len() <= MAX_TEXT
            && request.uploads.is_empty()
            && !matches!(
                self.entry(&request.query, request.operation_name.as_deref())
                    .as_deref(),
                Some(Entry::Outside)
            )
    }

    /// Records what a text that async-graphql answered without errors compiles to.
    pub fn learn(&self, query: String, operation: Option<String>, variables: &Variables) {
        if let Some(entry) = self.entry(&query, operation.as_deref()) {
            if let Entry::Plan {
                plan, validated, ..
            } = &*entry
                && let Some(sizes) = page_sizes(plan, variables)
            {
                let mut validated = validated.lock().unwrap_or_else(|e| e.into_inner());
                if sizes
                    .iter()
                    .zip(validated.iter())
                    .all(|(new, old)| new >= old)
                {
                    *validated = sizes;
                }
            }
            return;
        }
        // When the table is full it starts afresh: texts in use are learnt again at the cost of
        // one answer each, and a flood of one-off texts cannot lock the front ends' out.
        {
            let mut texts = self.texts.write().unwrap_or_else(|e| e.into_inner());
            if texts.len() >= MAX_TEXTS && !texts.contains_key(&query) {
                texts.clear();
            }
        }
        let entry = match plan::compile(&query, operation.as_deref()) {
            Some(plan) => match page_sizes(&plan, variables) {
                Some(sizes) => Entry::Plan {
                    plan,
                    validated: Mutex::new(sizes),
                    last_len: AtomicUsize::new(16 * 1024),
                },
                None => return,
            },
            None => Entry::Outside,
        };
        let mut texts = self.texts.write().unwrap_or_else(|e| e.into_inner());
        let operations = texts.entry(query).or_default();
        // Another request may have learnt the same text meanwhile.
        if !operations.iter().any(|(name, _)| *name == operation) {
            operations.push((operation, Arc::new(entry)));
        }
    }

    /// The response body for `request` from its plan; `Ok(None)` sends it the normal way. A
    /// timeout is the one failure answered here: running the operation again would only
    /// load a database that is already too slow.
    pub async fn answer(
        &self,
        db: &DatabaseConnection,
        config: &Config,
        caller: &Caller,
        request: &Request,
    ) -> AppResult<Option<Vec<u8>>> {
        Ok(match self.plan_answer(db, config, caller, request).await {
            Some(Ok(body)) => Some(body),
            Some(Err(AppError::Timeout(message))) => return Err(AppError::Timeout(message)),
            // async-graphql runs the operation again and reports the error its own way.
            Some(Err(err)) => {
                tracing::debug!(error = ?err, "compiled read fell back");
                None
            }
            None => None,
        })
    }

    async fn plan_answer(
        &self,
        db: &DatabaseConnection,
        config: &Config,
        caller: &Caller,
        request: &Request,
    ) -> Option<AppResult<Vec<u8>>> {
        if !self.enabled || !request.uploads.is_empty() {
            return None;
        }
        let entry = self.entry(&request.query, request.operation_name.as_deref())?;
        let Entry::Plan {
            plan,
            validated,
            last_len,
        } = &*entry
        else {
            return None;
        };
        let args = arguments(plan, &request.variables)?;
        {
            let validated = validated.lock().unwrap_or_else(|e| e.into_inner());
            let sizes = args.iter().map(|a| a.as_ref().map_or(0, |a| a.size()));
            if sizes.zip(validated.iter()).any(|(size, max)| size > *max) {
                return None;
            }
        }
        // A little more than the last answer, so the buffer seldom grows while it is written.
        let capacity = last_len.load(Ordering::Relaxed) * 9 / 8;
        let answer = self.run(db, config, caller, plan, args, capacity).await;
        if let Ok(body) = &answer {
            self.answered.fetch_add(1, Ordering::Relaxed);
            last_len.store(body.len(), Ordering::Relaxed);
        }
        Some(answer)
    }

    async fn run(
        &self,
        db: &DatabaseConnection,
        config: &Config,
        caller: &Caller,
        plan: &Plan,
        args: Vec<Option<ListArgs>>,
        capacity: usize,
    ) -> AppResult<Vec<u8>> {
        let thresholds = Thresholds::from_config(config);
        let mut pages = Vec::with_capacity(args.len());
        for (root, args) in plan.roots.iter().zip(args) {
            let (Root::Findings { select, .. }, Some(args)) = (&root.kind, args) else {
                pages.push(None);
                continue;
            };
            let (filter, sort) = list_terms(args.filter.unwrap_or_default(), args.order_by)?;
            let page = crate::domain::finding_list::list_columns(
                db,
                caller,
                &filter,
                sort,
                &thresholds,
                &args.page,
                &plan.reads.findings,
            )
            .await?;
            let counted = select
                .iter()
                .any(|f| matches!(f.kind, plan::ConnField::TotalCount));
            let total = if counted {
                Some(page.count.run(db).await?)
            } else {
                None
            };
            pages.push(Some(RootPage {
                findings: page
                    .rows
                    .into_iter()
                    .map(|(cursor, row)| (cursor, Finding::from(row)))
                    .collect(),
                has_previous: page.has_previous,
                has_next: page.has_next,
                total,
            }));
        }
        let findings = || pages.iter().flatten().flat_map(|p| p.findings.iter());
        let departments = async {
            if !plan.reads.departments {
                return Ok(HashMap::new());
            }
            let keys: Vec<DepartmentById> = unique(findings().map(|(_, f)| f.department_id))
                .map(DepartmentById)
                .collect();
            self.loader.load(&keys).await
        };
        let measures = async {
            let Some(columns) = &plan.reads.measures else {
                return Ok(HashMap::new());
            };
            let ids: Vec<i32> = unique(findings().map(|(_, f)| f.row_id)).collect();
            measures_of_findings(db, &ids, columns, Archived::Left).await
        };
        // The two relations are read at once, on two connections.
        let (departments, measures) = tokio::join!(departments, measures);
        let answer = Answer {
            departments: departments?
                .into_iter()
                .map(|(k, d)| (k.0, d.into()))
                .collect(),
            measures: measures?
                .into_iter()
                .map(|(id, ms)| (id, ms.into_iter().map(Into::into).collect()))
                .collect(),
            today: thresholds.today,
            pages,
        };
        Ok(write::response(plan, &answer, capacity))
    }
}

/// Distinct values, in first-seen order.
fn unique(values: impl Iterator<Item = i32>) -> impl Iterator<Item = i32> {
    let mut seen = HashSet::new();
    values.filter(move |v| seen.insert(*v))
}

/// The arguments of one `findings` field, resolved against the request's variables.
struct ListArgs {
    filter: Option<FindingFilterInput>,
    order_by: Option<FindingOrderInput>,
    page: PageArgs,
}

impl ListArgs {
    /// The page size as the complexity limit counts it (`connection::page_cost`).
    fn size(&self) -> u64 {
        self.page
            .first
            .or(self.page.last)
            .map_or(DEFAULT_SIZE, |n| n.max(0) as u64)
    }
}

/// Per root field, its list arguments (`None` for `__typename`); `None` in all when a variable
/// is missing or a value does not parse (async-graphql then reports it).
fn arguments(plan: &Plan, variables: &Variables) -> Option<Vec<Option<ListArgs>>> {
    for variable in &plan.variables {
        if variable.required && !variables.contains_key(&variable.name) {
            return None;
        }
    }
    let lookup = |name: Name| -> Result<Value, ()> {
        Ok(match variables.get(&name) {
            Some(value) => value.clone(),
            None => plan
                .variables
                .iter()
                .find(|v| v.name == name)
                .and_then(|v| v.default.clone())
                .unwrap_or(Value::Null),
        })
    };
    let mut all = Vec::with_capacity(plan.roots.len());
    for root in &plan.roots {
        let Root::Findings { args, .. } = &root.kind else {
            all.push(None);
            continue;
        };
        let mut values: HashMap<&str, Value> = HashMap::new();
        for (name, value) in args {
            values.insert(name.as_str(), value.clone().into_const_with(lookup).ok()?);
        }
        let mut take = |name: &str| values.remove(name);
        all.push(Some(ListArgs {
            filter: input_object(take("filter"))?,
            order_by: input_object(take("orderBy"))?,
            page: PageArgs {
                first: InputType::parse(take("first")).ok()?,
                after: InputType::parse(take("after")).ok()?,
                last: InputType::parse(take("last")).ok()?,
                before: InputType::parse(take("before")).ok()?,
            },
        }));
    }
    Some(all)
}

/// An input object argument, parsed as async-graphql parses it. Its parser skips fields it
/// does not know, which async-graphql's validation refuses first; such a value is declined
/// here (`None`) so that the refusal is the same.
fn input_object<T: InputType>(value: Option<Value>) -> Option<Option<T>> {
    let parsed: Option<T> = InputType::parse(value.clone()).ok()?;
    match (&value, &parsed) {
        (Some(given), Some(known)) => only_known_fields(given, &known.to_value()).then_some(parsed),
        _ => Some(parsed),
    }
}

/// Whether every field of `given`, at every depth, is one that `known` (the parsed value
/// written back, which names every field) has.
fn only_known_fields(given: &Value, known: &Value) -> bool {
    match (given, known) {
        (Value::Object(given), Value::Object(known)) => given.iter().all(|(name, value)| {
            known
                .get(name)
                .is_some_and(|known| only_known_fields(value, known))
        }),
        (Value::List(given), Value::List(known)) if given.len() == known.len() => given
            .iter()
            .zip(known)
            .all(|(given, known)| only_known_fields(given, known)),
        (Value::Object(_), _) => false,
        _ => true,
    }
}

/// The page sizes a request asks for, per root field.
fn page_sizes(plan: &Plan, variables: &Variables) -> Option<Vec<u64>> {
    Some(
        arguments(plan, variables)?
            .iter()
            .map(|a| a.as_ref().map_or(0, ListArgs::size))
            .collect(),
    )
}
