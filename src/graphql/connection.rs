//! Relay connections over [`crate::domain::reads::page`]: `edges { cursor node }`, `pageInfo`, and a
//! `totalCount` that is counted only when asked for.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, Object, OutputType, Result};

use super::ContextExt;
use crate::domain::reads::page::{CountQuery, Cursor, Page, PageArgs};

/// The `totalCount` of a list.
pub struct TotalCount(CountQuery);

#[Object]
impl TotalCount {
    /// How many items the list has in all, across pages.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let kept = ctx.data_opt::<std::sync::Arc<crate::domain::reads::page::Counts>>();
        Ok(self.0.run(ctx.db(), kept.map(AsRef::as_ref)).await?)
    }
}

pub type Conn<N> = Connection<String, N, TotalCount, EmptyFields>;

/// Turns a page of rows into a connection of API nodes.
pub fn connection<M, N: OutputType>(page: Page<M>, node: impl Fn(M) -> N) -> Conn<N> {
    connection_of(page, |rows| rows.into_iter().map(node).collect())
}

/// Turns a page of rows into a connection of API nodes made all at once.
pub fn connection_of<M, N: OutputType>(
    page: Page<M>,
    nodes: impl FnOnce(Vec<M>) -> Vec<N>,
) -> Conn<N> {
    let mut connection = Connection::with_additional_fields(
        page.has_previous,
        page.has_next,
        TotalCount(page.count),
    );
    let (cursors, rows): (Vec<Cursor>, Vec<M>) = page.rows.into_iter().unzip();
    connection.edges.extend(
        cursors
            .into_iter()
            .zip(nodes(rows))
            .map(|(cursor, node)| Edge::new(cursor.to_string(), node)),
    );
    connection
}

/// Relay arguments to a page request.
pub fn args(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> PageArgs {
    PageArgs {
        first,
        after,
        last,
        before,
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub enum OrderDirection {
    /// Ascending (the default).
    #[default]
    Asc,
    /// Descending.
    Desc,
}

impl OrderDirection {
    pub fn descending(self) -> bool {
        self == OrderDirection::Desc
    }
}

/// The cost of a list field for the complexity limit: its page size times its content.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let size = first
        .or(last)
        .map_or(crate::domain::reads::page::DEFAULT_SIZE as usize, |n| {
            n.max(0) as usize
        });
    size.max(1) * child + 1
}
