//! Relay connections of catalogued records: `{T}Connection { pageInfo edges nodes totalCount }`
//! and `{T}Edge { node cursor }`, registered as async-graphql's `Connection` registers them
//! (the schema prints the same), and answered for the pages of a whole level at once: the
//! nodes of every page form one level.

use std::any::Any;
use std::borrow::Cow;
use std::marker::PhantomData;

use async_graphql::connection::PageInfo;
use async_graphql::futures_util::future::{BoxFuture, join_all};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field as FieldNode, SelectionSet, VariableDefinition};
use async_graphql::registry::{MetaTypeId, Registry};
use async_graphql::{
    Context, ContextSelectionSet, OutputType, Pos, Positioned, ServerError, ServerResult, Value,
    VisitorContext,
};
use sea_orm::EntityTrait;

use super::run::{Plan, collect, failed, lists_at};
use super::{Arg, Catalogued, Env, Level, LevelField, Selected, Shown, meta_field, object_type};
use crate::domain::reads::page::{Cursor, EachRead, Lateral, Page, PageArgs};
use crate::error::AppResult;

/// A page of catalogued records as a connection.
pub struct Conn<T> {
    page: Page<T>,
    /// The pages of a list under the records, read with them ([`Nested`]).
    preloaded: Option<Preloaded>,
}

impl<T> Conn<T> {
    /// The connection of a page of rows, each made into its record.
    pub fn of<M>(page: Page<M>) -> Self
    where
        T: From<M>,
    {
        Self {
            page: page.map(T::from),
            preloaded: None,
        }
    }
}

impl<T: Catalogued> Conn<T> {
    /// The connection of a page of rows read with the list `nested` under them (a page read by
    /// [`page::fetch_under`](crate::domain::reads::page::fetch_under) with [`Nested::lateral`]).
    pub fn with<M>(page: Page<M>, nested: Option<Nested<T>>) -> ServerResult<Self>
    where
        T: From<M>,
    {
        let mut conn = Self::of(page);
        if let Some(nested) = nested {
            let rows: Vec<&T> = conn.page.rows.iter().map(|(_, row)| row).collect();
            conn.preloaded = Some(Preloaded {
                field: nested.field,
                pages: nested.read.pages(&rows)?,
            });
        }
        Ok(conn)
    }
}

/// A list under the records of a page, read in the page's statement: the first nested
/// connection their selection shows whose source can be read so ([`PageSource::lateral`]).
/// Found before the page is read, by the connection field's resolver.
pub struct Nested<T> {
    /// The field (its first occurrence in the document) whose pages these are.
    field: usize,
    read: Box<dyn Preload<T>>,
}

impl<T: Catalogued> Nested<T> {
    /// The nested list the connection field `ctx` asks for under its nodes, if one can be read
    /// with them.
    pub async fn of(ctx: &Context<'_>) -> Option<Self> {
        let env = Env::of(ctx);
        let set = &ctx.item.node.selection_set;
        let at = ctx.with_selection_set(set);
        for part in collect(&at, &connection_name::<T>(), &[set]) {
            let inside = part.inside(&at);
            let nodes = match part.name() {
                "nodes" => vec![(part, None)],
                "edges" => collect(&inside, &edge_name::<T>(), &part.sets())
                    .into_iter()
                    .filter(|f| f.name() == "node")
                    .map(|node| (node, Some(&inside)))
                    .collect(),
                _ => Vec::new(),
            };
            for (node, edge) in nodes {
                let node_at = match edge {
                    Some(edge) => node.inside(edge),
                    None => inside.clone(),
                };
                let Ok(plan) = Plan::<T>::of(&node_at, &node.sets()) else {
                    continue;
                };
                for (selected, field) in plan.levels() {
                    if let Some(read) = field.preload(&env, &node_at, selected).await {
                        return Some(Self {
                            field: field_id(selected),
                            read,
                        });
                    }
                }
            }
        }
        None
    }

    /// The list's read, for [`page::fetch_under`](crate::domain::reads::page::fetch_under).
    pub fn lateral(&mut self) -> &mut dyn Lateral {
        self.read.lateral()
    }
}

/// The pages of a nested list read with a page of records, one per record, in its order.
pub struct Preloaded {
    field: usize,
    pages: Box<dyn Any + Send + Sync>,
}

/// Names a field of the document by the address of its first occurrence: the same field
/// wherever it is looked at during one request.
fn field_id(selected: &Selected<'_>) -> usize {
    std::ptr::from_ref(selected.first()) as usize
}

/// A nested list's read under a page of records not yet read (from [`PageSource::lateral`]).
pub trait Preload<T>: Send {
    /// The read, as the page's statement takes it.
    fn lateral(&mut self) -> &mut dyn Lateral;
    /// The pages read, one per row of the page, in its order (a `Vec<Page<Node>>`).
    fn pages(self: Box<Self>, rows: &[&T]) -> ServerResult<Box<dyn Any + Send + Sync>>;
}

/// A nested list of the domain under a page of records not yet read ([`EachRead`]), each
/// record's page found by `key`: the [`Preload`] of a [`PageSource::lateral`].
pub struct Under<T, N> {
    read: Box<dyn Nodes<N>>,
    key: fn(&T) -> i32,
}

impl<T: 'static, N: Send + Sync + 'static> Under<T, N> {
    pub fn boxed<E>(read: EachRead<E>, key: fn(&T) -> i32) -> Box<dyn Preload<T>>
    where
        E: EntityTrait,
        N: From<E::Model>,
    {
        Box::new(Self {
            read: Box::new(read),
            key,
        })
    }
}

/// An [`EachRead`] whose rows become records of type `N`.
trait Nodes<N>: Send {
    fn lateral(&mut self) -> &mut dyn Lateral;
    fn into_pages(self: Box<Self>, keys: &[i32]) -> AppResult<Vec<Page<N>>>;
}

impl<E: EntityTrait, N: From<E::Model>> Nodes<N> for EachRead<E> {
    fn lateral(&mut self) -> &mut dyn Lateral {
        self
    }

    fn into_pages(self: Box<Self>, keys: &[i32]) -> AppResult<Vec<Page<N>>> {
        in_order(keys, EachRead::into_pages(*self))
    }
}

impl<T, N: Send + Sync + 'static> Preload<T> for Under<T, N> {
    fn lateral(&mut self) -> &mut dyn Lateral {
        self.read.lateral()
    }

    fn pages(self: Box<Self>, rows: &[&T]) -> ServerResult<Box<dyn Any + Send + Sync>> {
        let keys: Vec<i32> = rows.iter().map(|row| (self.key)(row)).collect();
        let pages = self
            .read
            .into_pages(&keys)
            .map_err(|err| async_graphql::Error::from(err).into_server_error(Pos::default()))?;
        Ok(Box::new(pages))
    }
}

fn connection_name<T: Catalogued>() -> String {
    format!("{}Connection", T::NAME)
}

fn edge_name<T: Catalogued>() -> String {
    format!("{}Edge", T::NAME)
}

impl<T: Catalogued> OutputType for Conn<T> {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(connection_name::<T>())
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_output_type::<Self, _>(MetaTypeId::Object, |registry| {
            let fields = [
                meta_field(
                    "pageInfo",
                    "Information to aid in pagination.",
                    PageInfo::create_type_info(registry),
                ),
                meta_field(
                    "edges",
                    "A list of edges.",
                    <Vec<Edge<T>>>::create_type_info(registry),
                ),
                meta_field(
                    "nodes",
                    "A list of nodes.",
                    <Vec<T>>::create_type_info(registry),
                ),
                meta_field(
                    "totalCount",
                    "How many items the list has in all, across pages.",
                    i64::create_type_info(registry),
                ),
            ];
            let fields = fields.into_iter().map(|f| (f.name.clone(), f)).collect();
            object_type(
                &connection_name::<T>(),
                None,
                fields,
                std::any::type_name::<Self>(),
                true,
            )
        })
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<FieldNode>,
    ) -> ServerResult<Value> {
        let env = Env::of(ctx);
        let at = [ctx.clone()];
        let preloaded = self.preloaded.as_ref();
        Ok(answer(&env, &at, &[&self.page], &[ctx.item], preloaded)
            .await
            .pop()
            .unwrap_or_default())
    }
}

/// `{T}Edge`, for the registry: edges are answered by [`answer`].
struct Edge<T>(PhantomData<fn() -> T>);

impl<T: Catalogued> OutputType for Edge<T> {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(edge_name::<T>())
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_output_type::<Self, _>(MetaTypeId::Object, |registry| {
            let fields = [
                meta_field(
                    "node",
                    "The item at the end of the edge",
                    T::create_type_info(registry),
                ),
                meta_field(
                    "cursor",
                    "A cursor for use in pagination",
                    String::create_type_info(registry),
                ),
            ];
            let fields = fields.into_iter().map(|f| (f.name.clone(), f)).collect();
            let description = Some("An edge in a connection.".to_owned());
            object_type(
                &edge_name::<T>(),
                description,
                fields,
                std::any::type_name::<Self>(),
                true,
            )
        })
    }

    async fn resolve(
        &self,
        _: &ContextSelectionSet<'_>,
        field: &Positioned<FieldNode>,
    ) -> ServerResult<Value> {
        Err(ServerError::new(
            "an edge is answered with its connection",
            Some(field.pos),
        ))
    }
}

/// The connections of a level: page `i` answers at `at[i]` (a context whose path ends at the
/// connection), with the selections `sets`; `preloaded`, a list under the nodes read with them.
pub(super) async fn answer<'a, T: Catalogued>(
    env: &'a Env<'a>,
    at: &'a [ContextSelectionSet<'a>],
    pages: &'a [&'a Page<T>],
    sets: &[&'a Positioned<SelectionSet>],
    preloaded: Option<&'a Preloaded>,
) -> Vec<Value> {
    let Some(first) = at.first() else {
        return Vec::new();
    };
    let selected = collect(first, &connection_name::<T>(), sets);
    let mut parts: Vec<BoxFuture<'_, Vec<Option<Value>>>> = Vec::with_capacity(selected.len());
    for field in &selected {
        parts.push(match field.name() {
            "pageInfo" => Box::pin(async move {
                pages
                    .iter()
                    .map(|page| Some(page_info(first, field, page)))
                    .collect()
            }),
            "totalCount" => Box::pin(async move {
                let mut counts = Vec::with_capacity(pages.len());
                for (page, at) in pages.iter().zip(at) {
                    counts.push(match page.count.run(env.db, env.counts).await {
                        Ok(n) => Some(Value::Number(n.into())),
                        Err(err) => {
                            let ctx = field.on(at);
                            let err = async_graphql::Error::from(err)
                                .into_server_error(field.first().pos);
                            ctx.add_error(ctx.set_error_path(err));
                            None
                        }
                    });
                }
                counts
            }),
            "edges" => Box::pin(edges(env, at, pages, field, preloaded)),
            "nodes" => Box::pin(nodes(env, at, pages, field, preloaded)),
            _ => {
                let name = Value::String(connection_name::<T>());
                Box::pin(async move { vec![Some(name); pages.len()] })
            }
        });
    }
    let mut parts = join_all(parts).await;
    (0..pages.len())
        .map(|p| {
            let mut object = IndexMap::with_capacity(selected.len());
            for (field, values) in selected.iter().zip(parts.iter_mut()) {
                if let Some(value) = values.get_mut(p).and_then(Option::take) {
                    object.insert(field.key.clone(), value);
                }
            }
            Value::Object(object)
        })
        .collect()
}

fn page_info<T>(ctx: &ContextSelectionSet<'_>, field: &Selected<'_>, page: &Page<T>) -> Value {
    let cursor =
        |row: Option<&(Cursor, T)>| row.map_or(Value::Null, |(c, _)| Value::String(c.to_string()));
    let mut object = IndexMap::new();
    for info in collect(ctx, "PageInfo", &field.sets()) {
        let value = match info.name() {
            "hasPreviousPage" => Value::Boolean(page.has_previous),
            "hasNextPage" => Value::Boolean(page.has_next),
            "startCursor" => cursor(page.rows.first()),
            "endCursor" => cursor(page.rows.last()),
            _ => Value::String("PageInfo".to_owned()),
        };
        object.insert(info.key.clone(), value);
    }
    Value::Object(object)
}

/// The edges of every page, their nodes answered as one level per selection of `node`.
async fn edges<'a, T: Catalogued>(
    env: &'a Env<'a>,
    at: &'a [ContextSelectionSet<'a>],
    pages: &'a [&'a Page<T>],
    field: &'a Selected<'a>,
    preloaded: Option<&'a Preloaded>,
) -> Vec<Option<Value>> {
    let lists: Vec<ContextSelectionSet<'_>> = at.iter().map(|a| field.inside(a)).collect();
    let edge_at = lists_at(&lists, pages.iter().map(|p| p.rows.len()));
    let rows: Vec<&(Cursor, T)> = pages.iter().flat_map(|p| p.rows.iter()).collect();
    let selected = collect(&at[0], &edge_name::<T>(), &field.sets());
    let mut columns = Vec::with_capacity(selected.len());
    for edge_field in &selected {
        columns.push(match edge_field.name() {
            "node" => {
                let node_at = edge_at.iter().map(|e| edge_field.inside(e)).collect();
                let items = rows.iter().map(|(_, node)| node).collect();
                nodes_of(env, &at[0], node_at, items, edge_field, preloaded).await
            }
            "cursor" => rows
                .iter()
                .map(|(c, _)| Some(Value::String(c.to_string())))
                .collect(),
            _ => vec![Some(Value::String(edge_name::<T>())); rows.len()],
        });
    }
    let mut edges = (0..rows.len()).map(|e| {
        let mut object = IndexMap::with_capacity(selected.len());
        for (edge_field, values) in selected.iter().zip(columns.iter_mut()) {
            if let Some(value) = values.get_mut(e).and_then(Option::take) {
                object.insert(edge_field.key.clone(), value);
            }
        }
        Value::Object(object)
    });
    pages
        .iter()
        .map(|page| Some(Value::List(edges.by_ref().take(page.rows.len()).collect())))
        .collect()
}

/// The `nodes` of every page, answered as one level.
async fn nodes<'a, T: Catalogued>(
    env: &'a Env<'a>,
    at: &'a [ContextSelectionSet<'a>],
    pages: &'a [&'a Page<T>],
    field: &'a Selected<'a>,
    preloaded: Option<&'a Preloaded>,
) -> Vec<Option<Value>> {
    let lists: Vec<ContextSelectionSet<'_>> = at.iter().map(|a| field.inside(a)).collect();
    let node_at = lists_at(&lists, pages.iter().map(|p| p.rows.len()));
    let items = pages
        .iter()
        .flat_map(|p| p.rows.iter().map(|(_, node)| node))
        .collect();
    let mut values = nodes_of(env, &at[0], node_at, items, field, preloaded)
        .await
        .into_iter();
    pages
        .iter()
        .map(|page| {
            Some(Value::List(
                values.by_ref().take(page.rows.len()).flatten().collect(),
            ))
        })
        .collect()
}

/// Nodes answered as one level (`None` for each when the selection cannot be planned).
async fn nodes_of<'a, T: Catalogued>(
    env: &'a Env<'a>,
    ctx: &ContextSelectionSet<'a>,
    at: Vec<ContextSelectionSet<'a>>,
    items: Vec<&'a T>,
    field: &Selected<'a>,
    preloaded: Option<&'a Preloaded>,
) -> Vec<Option<Value>> {
    let plan = match Plan::<T>::of(ctx, &field.sets()) {
        Ok(plan) => plan,
        Err(err) => {
            ctx.add_error(err);
            return vec![None; items.len()];
        }
    };
    let level = Level {
        items,
        at,
        env,
        preloaded,
    };
    super::run::run(&level, &plan)
        .await
        .into_iter()
        .map(Some)
        .collect()
}

/// What the nodes of a connection field show (through `edges { node }` and `nodes`).
fn nodes_shown<T: Catalogued>(ctx: &ContextSelectionSet<'_>, field: &Selected<'_>) -> Shown {
    let mut shown = Shown::default();
    for part in collect(ctx, &connection_name::<T>(), &field.sets()) {
        let nodes = match part.name() {
            "nodes" => vec![part],
            "edges" => collect(ctx, &edge_name::<T>(), &part.sets())
                .into_iter()
                .filter(|f| f.name() == "node")
                .collect(),
            _ => Vec::new(),
        };
        for node in nodes {
            if let Ok(plan) = Plan::<T>::of(ctx, &node.sets()) {
                shown.extend(plan.shown());
            }
        }
    }
    shown
}

/// Where a nested connection's pages come from: one read for every row of a level.
pub trait PageSource<T>: Send + Sync + 'static {
    type Node: Catalogued;

    /// The field's arguments before the page's own (`first`, `after`, `last`, `before`).
    fn args() -> Vec<Arg> {
        Vec::new()
    }

    /// The page of every row of the level, in the level's order. `field` is the field on the
    /// first row (its arguments are every row's); `shown`, what the selection shows of the
    /// nodes.
    fn pages<'a>(
        &'a self,
        level: &'a Level<'a, T>,
        field: &'a Context<'a>,
        args: PageArgs,
        shown: Shown,
    ) -> BoxFuture<'a, ServerResult<Vec<Page<Self::Node>>>>;

    /// The pages of a level's rows to be read with the rows themselves, when they are a page
    /// of their own not yet read ([`Nested`]); `env`, `field`, `args` and `shown` as for
    /// [`PageSource::pages`]. The list must hang from the rows' primary keys. `None` where the
    /// source cannot be read so, or its arguments are refused (the field is then read, and
    /// its errors reported, by [`PageSource::pages`]).
    fn lateral<'a>(
        &'a self,
        env: &'a Env<'a>,
        field: &'a Context<'a>,
        args: PageArgs,
        shown: Shown,
    ) -> BoxFuture<'a, Option<Box<dyn Preload<T>>>> {
        let _ = (env, field, args, shown);
        Box::pin(async { None })
    }
}

/// A connection nested under the rows of a level ([`super::Field::page`]).
pub(super) struct Paged<S>(pub S);

impl<T: Catalogued, S: PageSource<T>> LevelField<T> for Paged<S> {
    fn resolve<'a>(
        &'a self,
        level: &'a Level<'a, T>,
        selected: &'a Selected<'a>,
    ) -> BoxFuture<'a, Vec<Option<Value>>> {
        Box::pin(async move {
            let at: Vec<ContextSelectionSet<'_>> =
                level.at.iter().map(|a| selected.inside(a)).collect();
            // Read with the level's rows when they are a page of their own.
            let preloaded = level
                .preloaded
                .filter(|p| p.field == field_id(selected))
                .and_then(|p| p.pages.downcast_ref::<Vec<Page<S::Node>>>())
                .filter(|pages| pages.len() == level.items.len());
            if let Some(pages) = preloaded {
                let pages: Vec<&Page<S::Node>> = pages.iter().collect();
                return answer(level.env, &at, &pages, &selected.sets(), None)
                    .await
                    .into_iter()
                    .map(Some)
                    .collect();
            }
            let shown = nodes_shown::<S::Node>(&level.at[0], selected);
            let field = selected.on(&level.at[0]);
            let read = match page_of(&field) {
                Ok(args) => self.0.pages(level, &field, args, shown).await,
                Err(err) => Err(err),
            };
            let pages = match read {
                Ok(pages) => pages,
                Err(err) => return failed(level, selected, err),
            };
            let pages: Vec<&Page<S::Node>> = pages.iter().collect();
            answer(level.env, &at, &pages, &selected.sets(), None)
                .await
                .into_iter()
                .map(Some)
                .collect()
        })
    }

    fn preload<'a>(
        &'a self,
        env: &'a Env<'a>,
        at: &'a ContextSelectionSet<'a>,
        selected: &'a Selected<'a>,
    ) -> BoxFuture<'a, Option<Box<dyn Preload<T>>>> {
        Box::pin(async move {
            let shown = nodes_shown::<S::Node>(at, selected);
            let field = selected.on(at);
            let args = page_of(&field).ok()?;
            self.0.lateral(env, &field, args, shown).await
        })
    }
}

/// The Relay arguments every connection takes.
pub fn page_args() -> Vec<Arg> {
    vec![
        Arg::new::<Option<i32>>("first", ""),
        Arg::new::<Option<String>>("after", ""),
        Arg::new::<Option<i32>>("last", ""),
        Arg::new::<Option<String>>("before", ""),
    ]
}

/// The Relay arguments of a connection field, as given.
pub fn page_of(field: &Context<'_>) -> ServerResult<PageArgs> {
    Ok(PageArgs {
        first: field.param_value::<Option<i32>>("first", None)?.1,
        after: field.param_value::<Option<String>>("after", None)?.1,
        last: field.param_value::<Option<i32>>("last", None)?.1,
        before: field.param_value::<Option<String>>("before", None)?.1,
    })
}

/// A connection's cost: its page size times its content ([`crate::graphql::connection::page_cost`]).
pub fn page_cost(
    ctx: &VisitorContext<'_>,
    variables: &[Positioned<VariableDefinition>],
    field: &FieldNode,
    child: usize,
) -> ServerResult<usize> {
    let first: Option<i32> = ctx.param_value(variables, field, "first", None)?;
    let last: Option<i32> = ctx.param_value(variables, field, "last", None)?;
    Ok(crate::graphql::connection::page_cost(first, last, child))
}

/// The distinct ids of a level's rows (rows may share a parent).
pub fn distinct(ids: &[i32]) -> Vec<i32> {
    let mut distinct = ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    distinct
}

/// The pages read for each parent, in the level's order (a page shared by two rows is
/// copied for the earlier one), each row made into its record.
pub fn in_order<M: Clone, N: From<M>>(
    ids: &[i32],
    mut pages: std::collections::HashMap<i32, Page<M>>,
) -> crate::error::AppResult<Vec<Page<N>>> {
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let page = if ids[i + 1..].contains(id) {
            pages.get(id).cloned()
        } else {
            pages.remove(id)
        };
        let page =
            page.ok_or_else(|| crate::error::AppError::internal("a nested page was not read"))?;
        out.push(page.map(N::from));
    }
    Ok(out)
}
