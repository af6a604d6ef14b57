//! Lists nested under a page of records (each inspection's findings, each finding's ledger).
//! Their resolvers ask this loader, which reads the pages of all the parents of a level
//! together: one statement for the pages and, when asked, one for their `totalCount`s
//! ([`crate::domain::page::fetch_each`]), however many parents there are.
//!
//! It is made per request for the request's caller: the domain reads it calls are scoped to
//! that caller, and nothing it reads outlives the request.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use entity::progress_entry;
use sea_orm::DatabaseConnection;

use super::ContextExt;
use super::connection::Conn;
use super::finding::Finding;
use crate::auth::Caller;
use crate::domain::finding_list::{self, FindingFilter, FindingOrder, Parent};
use crate::domain::page::{Page, PageArgs};
use crate::domain::progress;
use crate::domain::warning::Thresholds;
use crate::error::AppError;

pub struct Pages {
    db: DatabaseConnection,
    caller: Caller,
    thresholds: Thresholds,
}

/// The loader for one request's caller.
pub fn loader(
    db: DatabaseConnection,
    caller: Caller,
    thresholds: Thresholds,
    delay: std::time::Duration,
) -> Arc<DataLoader<Pages>> {
    let pages = Pages {
        db,
        caller,
        thresholds,
    };
    Arc::new(DataLoader::new(pages, tokio::spawn).delay(delay))
}

/// The terms of a nested list of findings, the same for every parent of a level.
#[derive(PartialEq, Eq, Hash)]
pub struct FindingTerms {
    pub filter: FindingFilter,
    pub sort: (FindingOrder, bool),
    pub args: PageArgs,
    pub columns: finding_list::Columns,
}

/// The findings under one parent.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FindingsUnder {
    pub parent: Parent,
    pub id: i32,
    pub terms: Arc<FindingTerms>,
}

/// The ledger of one finding.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LedgerOf {
    pub finding_id: i32,
    pub args: Arc<PageArgs>,
}

/// The keys grouped by what their parents share, with the parents' ids.
fn by_terms<K, T: Clone + Eq + std::hash::Hash>(
    keys: &[K],
    terms: impl Fn(&K) -> (T, i32),
) -> HashMap<T, Vec<i32>> {
    let mut groups: HashMap<T, Vec<i32>> = HashMap::new();
    for key in keys {
        let (shared, id) = terms(key);
        groups.entry(shared).or_default().push(id);
    }
    groups
}

/// The findings of one level's pages (every parent's) are siblings of each other.
impl Loader<FindingsUnder> for Pages {
    type Value = Page<Finding>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[FindingsUnder],
    ) -> Result<HashMap<FindingsUnder, Self::Value>, Self::Error> {
        let mut out = HashMap::with_capacity(keys.len());
        for ((parent, terms), ids) in by_terms(keys, |k| ((k.parent, k.terms.clone()), k.id)) {
            let pages = finding_list::list_each(
                &self.db,
                &self.caller,
                &terms.filter,
                parent,
                &ids,
                terms.sort,
                &self.thresholds,
                &terms.args,
                terms.columns,
            )
            .await?;
            out.extend(together(pages, Finding::many).map(|(id, page)| {
                let key = FindingsUnder {
                    parent,
                    id,
                    terms: terms.clone(),
                };
                (key, page)
            }));
        }
        Ok(out)
    }
}

impl Loader<LedgerOf> for Pages {
    type Value = Page<progress_entry::Model>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[LedgerOf]) -> Result<HashMap<LedgerOf, Self::Value>, Self::Error> {
        let mut out = HashMap::with_capacity(keys.len());
        for (args, ids) in by_terms(keys, |k| (k.args.clone(), k.finding_id)) {
            let pages = progress::list_each(&self.db, &self.caller, &ids, &args).await?;
            out.extend(pages.into_iter().map(|(finding_id, page)| {
                let key = LedgerOf {
                    finding_id,
                    args: args.clone(),
                };
                (key, page)
            }));
        }
        Ok(out)
    }
}

/// Pages of several parents with their rows made into API nodes all at once, so that the
/// nodes of one level share what they read ([`super::siblings`]).
fn together<M, N>(
    pages: impl IntoIterator<Item = (i32, Page<M>)>,
    many: impl FnOnce(Vec<M>) -> Vec<N>,
) -> impl Iterator<Item = (i32, Page<N>)> {
    let mut rows = Vec::new();
    let mut shapes = Vec::new();
    for (id, page) in pages {
        let (cursors, models): (Vec<String>, Vec<M>) = page.rows.into_iter().unzip();
        rows.extend(models);
        shapes.push((id, cursors, page.has_previous, page.has_next, page.count));
    }
    let mut nodes = many(rows).into_iter();
    shapes
        .into_iter()
        .map(move |(id, cursors, has_previous, has_next, count)| {
            let page = Page {
                rows: cursors.into_iter().zip(nodes.by_ref()).collect(),
                has_previous,
                has_next,
                count,
            };
            (id, page)
        })
}

/// One parent's page from the request's loader, as a connection of API nodes.
pub async fn connection<K, M, N>(
    ctx: &async_graphql::Context<'_>,
    key: K,
    node: impl Fn(M) -> N,
) -> async_graphql::Result<Conn<N>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    Pages: Loader<K, Value = Page<M>, Error = Arc<AppError>>,
    N: async_graphql::OutputType,
{
    let page = ctx
        .pages()?
        .load_one(key)
        .await
        .map_err(|e| async_graphql::Error::from(&*e))?
        // The loader answers every parent it is asked for.
        .ok_or_else(|| AppError::internal("a nested page was not loaded"))?;
    Ok(super::connection::connection(page, node))
}
