//! Relay connections of catalogued records: `{T}Connection { pageInfo edges nodes totalCount }`
//! and `{T}Edge { node cursor }`, registered as async-graphql's `Connection` registers them
//! (the schema prints the same), and answered for the pages of a whole level at once: the
//! nodes of every page form one level.
//!
//! Each of the three types has one field table ([`CONNECTION`], [`EDGE`], [`PAGE_INFO`]): the
//! schema registers the connection and the edge from theirs, and [`answer`] finds every field
//! it answers in them and answers each by an exhaustive match, so a field is registered if and
//! only if it is answered. `PageInfo` is registered by async-graphql's own type (the library's
//! connections share it); registering a connection checks that the library's fields are
//! exactly the table's. `__typename` is answered by name; any other field is refused as
//! validation refuses it, never answered with an invented value.

use std::any::Any;
use std::marker::PhantomData;

use async_graphql::parser::types::SelectionSet;
use async_graphql::{Context, Pos, Positioned, ServerError, ServerResult, Value};
use futures_util::future::{BoxFuture, join_all};
use indexmap::IndexMap;
use sea_orm::EntityTrait;

use super::engine::{At, Decl, TypeRef, argument};
use super::run::{Plan, collect, failed, lists_at, report};
use super::{Arg, Catalogued, Env, Level, LevelField, Selected, Shown};
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
        let (at, field) = super::engine::under(ctx);
        let set = &field.node.selection_set;
        for part in collect(&at, &connection_name::<T>(), &[set]) {
            let inside = part.inside(&at);
            let nodes = match lookup(CONNECTION, part.name()) {
                Some(ConnField::Nodes) => vec![(part, None)],
                Some(ConnField::Edges) => collect(&inside, &edge_name::<T>(), &part.sets())
                    .into_iter()
                    .filter(|f| lookup(EDGE, f.name()) == Some(EdgeField::Node))
                    .map(|node| (node, Some(&inside)))
                    .collect(),
                Some(ConnField::PageInfo | ConnField::TotalCount) | None => Vec::new(),
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

pub(super) fn connection_name<T: Catalogued>() -> String {
    format!("{}Connection", T::NAME)
}

pub(super) fn edge_name<T: Catalogued>() -> String {
    format!("{}Edge", T::NAME)
}

/// A field of a connection, an edge or `PageInfo`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum ConnField {
    PageInfo,
    Edges,
    Nodes,
    TotalCount,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum EdgeField {
    Node,
    Cursor,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum PageInfoField {
    HasPreviousPage,
    HasNextPage,
    StartCursor,
    EndCursor,
}

/// `{T}Connection`'s fields in the schema's order: name and description.
pub(super) const CONNECTION: &Table<ConnField> = &[
    (
        ConnField::PageInfo,
        "pageInfo",
        "Information to aid in pagination.",
    ),
    (ConnField::Edges, "edges", "A list of edges."),
    (ConnField::Nodes, "nodes", "A list of nodes."),
    (
        ConnField::TotalCount,
        "totalCount",
        "How many items the list has in all, across pages.",
    ),
];

/// `{T}Edge`'s fields in the schema's order.
pub(super) const EDGE: &Table<EdgeField> = &[
    (EdgeField::Node, "node", "The item at the end of the edge"),
    (
        EdgeField::Cursor,
        "cursor",
        "A cursor for use in pagination",
    ),
];

/// `{T}Edge`'s description.
pub(super) const EDGE_DOC: &str = "An edge in a connection.";

/// `PageInfo`'s fields as async-graphql registers them (its `connection::PageInfo`, which the
/// library's connections share): registering a connection checks that the registry holds
/// exactly these, in this order, with these descriptions.
pub(super) const PAGE_INFO: &Table<PageInfoField> = &[
    (
        PageInfoField::HasPreviousPage,
        "hasPreviousPage",
        "When paginating backwards, are there more items?",
    ),
    (
        PageInfoField::HasNextPage,
        "hasNextPage",
        "When paginating forwards, are there more items?",
    ),
    (
        PageInfoField::StartCursor,
        "startCursor",
        "When paginating backwards, the cursor to continue.",
    ),
    (
        PageInfoField::EndCursor,
        "endCursor",
        "When paginating forwards, the cursor to continue.",
    ),
];

/// A type's field table: each field, its name and its description, in the schema's order.
type Table<F> = [(F, &'static str, &'static str)];

/// The field of `table` named `name`.
fn lookup<F: Copy>(table: &Table<F>, name: &str) -> Option<F> {
    table
        .iter()
        .find(|(_, n, _)| *n == name)
        .map(|(f, _, _)| *f)
}

impl ConnField {
    fn ty<T: Catalogued>(self) -> TypeRef {
        match self {
            Self::PageInfo => TypeRef::output::<async_graphql::connection::PageInfo>(),
            Self::Edges => TypeRef::output::<Vec<Edge<T>>>(),
            Self::Nodes => TypeRef::output::<Vec<T>>(),
            Self::TotalCount => TypeRef::output::<i64>(),
        }
    }
}

impl EdgeField {
    fn ty<T: Catalogued>(self) -> TypeRef {
        match self {
            Self::Node => TypeRef::output::<T>(),
            Self::Cursor => TypeRef::output::<String>(),
        }
    }
}

/// A field of a connection or an edge, as the registry is told of it.
pub(super) struct Part {
    name: &'static str,
    doc: &'static str,
    ty: TypeRef,
}

impl Part {
    pub(super) fn decl(&self) -> Decl<'_> {
        Decl {
            name: self.name,
            doc: self.doc,
            ty: self.ty,
            args: &[],
            cost: None,
        }
    }
}

/// `{T}Connection`'s fields, from [`CONNECTION`].
pub(super) fn connection_fields<T: Catalogued>() -> Vec<Part> {
    CONNECTION
        .iter()
        .map(|&(field, name, doc)| Part {
            name,
            doc,
            ty: field.ty::<T>(),
        })
        .collect()
}

/// `{T}Edge`'s fields, from [`EDGE`].
pub(super) fn edge_fields<T: Catalogued>() -> Vec<Part> {
    EDGE.iter()
        .map(|&(field, name, doc)| Part {
            name,
            doc,
            ty: field.ty::<T>(),
        })
        .collect()
}

/// What a selection asks of a type with a field table: its name, or one of its fields.
enum Asked<F> {
    Typename,
    Field(F),
}

/// Finds the field `selected` asks of the type `type_name` in its table. A field the table
/// does not have is refused as validation refuses it (validation runs first, so this is a
/// guard, not a path a request takes).
fn asked<F: Copy>(
    table: &Table<F>,
    type_name: &str,
    selected: &Selected<'_>,
) -> Result<Asked<F>, ServerError> {
    let name = selected.name();
    if name == "__typename" {
        return Ok(Asked::Typename);
    }
    lookup(table, name).map(Asked::Field).ok_or_else(|| {
        ServerError::new(
            format!(r#"Cannot query field "{name}" on type "{type_name}"."#),
            Some(selected.first().pos),
        )
    })
}

/// `{T}Edge`, for the registry (its `OutputType` is in the door): edges are answered by
/// [`answer`] with their connection.
pub(super) struct Edge<T>(PhantomData<fn() -> T>);

/// Answers one connection where async-graphql asks for it (a root field): `at` is where it
/// answers.
pub(super) async fn answer_one<T: Catalogued>(env: &Env<'_>, at: At<'_>, conn: &Conn<T>) -> Value {
    let set = at.set();
    let at = [at];
    answer(env, &at, &[&conn.page], &[set], conn.preloaded.as_ref())
        .await
        .pop()
        .unwrap_or_default()
}

/// Reports `error` at `field` on every page of `at`: the field is left out of each.
fn refused(at: &[At<'_>], field: &Selected<'_>, error: &ServerError) -> Vec<Option<Value>> {
    for at in at {
        report(&field.on(at), error.clone());
    }
    vec![None; at.len()]
}

/// The connections of a level: page `i` answers at `at[i]` (a context whose path ends at the
/// connection), with the selections `sets`; `preloaded`, a list under the nodes read with them.
pub(super) async fn answer<'a, T: Catalogued>(
    env: &'a Env<'a>,
    at: &'a [At<'a>],
    pages: &'a [&'a Page<T>],
    sets: &[&'a Positioned<SelectionSet>],
    preloaded: Option<&'a Preloaded>,
) -> Vec<Value> {
    let Some(first) = at.first() else {
        return Vec::new();
    };
    let type_name = connection_name::<T>();
    let selected = collect(first, &type_name, sets);
    let mut parts: Vec<BoxFuture<'_, Vec<Option<Value>>>> = Vec::with_capacity(selected.len());
    for field in &selected {
        parts.push(match asked(CONNECTION, &type_name, field) {
            Ok(Asked::Typename) => {
                let name = Value::String(type_name.clone());
                Box::pin(async move { vec![Some(name); pages.len()] })
            }
            Ok(Asked::Field(ConnField::PageInfo)) => Box::pin(async move {
                pages
                    .iter()
                    .zip(at)
                    .map(|(page, at)| page_info(first, at, field, page))
                    .collect()
            }),
            Ok(Asked::Field(ConnField::TotalCount)) => Box::pin(async move {
                let mut counts = Vec::with_capacity(pages.len());
                for (page, at) in pages.iter().zip(at) {
                    counts.push(match page.count.run(env.db, env.counts).await {
                        Ok(n) => Some(Value::Number(n.into())),
                        Err(err) => {
                            let err = async_graphql::Error::from(err)
                                .into_server_error(field.first().pos);
                            report(&field.on(at), err);
                            None
                        }
                    });
                }
                counts
            }),
            Ok(Asked::Field(ConnField::Edges)) => Box::pin(edges(env, at, pages, field, preloaded)),
            Ok(Asked::Field(ConnField::Nodes)) => Box::pin(nodes(env, at, pages, field, preloaded)),
            Err(error) => {
                let none = refused(at, field, &error);
                Box::pin(async move { none })
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

/// A page's `pageInfo` (`at`: where the page's connection answers), from [`PAGE_INFO`]; `None`
/// (the field left out, the error reported) where the selection asks a field `PageInfo` does
/// not have.
fn page_info<T>(ctx: &At<'_>, at: &At<'_>, field: &Selected<'_>, page: &Page<T>) -> Option<Value> {
    let cursor =
        |row: Option<&(Cursor, T)>| row.map_or(Value::Null, |(c, _)| Value::String(c.to_string()));
    let mut object = IndexMap::new();
    for info in collect(ctx, "PageInfo", &field.sets()) {
        let value = match asked(PAGE_INFO, "PageInfo", &info) {
            Ok(Asked::Typename) => Value::String("PageInfo".to_owned()),
            Ok(Asked::Field(PageInfoField::HasPreviousPage)) => Value::Boolean(page.has_previous),
            Ok(Asked::Field(PageInfoField::HasNextPage)) => Value::Boolean(page.has_next),
            Ok(Asked::Field(PageInfoField::StartCursor)) => cursor(page.rows.first()),
            Ok(Asked::Field(PageInfoField::EndCursor)) => cursor(page.rows.last()),
            Err(error) => {
                report(&field.on(at), error);
                return None;
            }
        };
        object.insert(info.key.clone(), value);
    }
    Some(Value::Object(object))
}

/// The edges of every page, their nodes answered as one level per selection of `node`.
async fn edges<'a, T: Catalogued>(
    env: &'a Env<'a>,
    at: &'a [At<'a>],
    pages: &'a [&'a Page<T>],
    field: &'a Selected<'a>,
    preloaded: Option<&'a Preloaded>,
) -> Vec<Option<Value>> {
    let lists: Vec<At<'_>> = at.iter().map(|a| field.inside(a)).collect();
    let edge_at = lists_at(&lists, pages.iter().map(|p| p.rows.len()));
    let rows: Vec<&(Cursor, T)> = pages.iter().flat_map(|p| p.rows.iter()).collect();
    let type_name = edge_name::<T>();
    let selected = collect(&at[0], &type_name, &field.sets());
    let mut columns = Vec::with_capacity(selected.len());
    for edge_field in &selected {
        columns.push(match asked(EDGE, &type_name, edge_field) {
            Ok(Asked::Typename) => vec![Some(Value::String(type_name.clone())); rows.len()],
            Ok(Asked::Field(EdgeField::Node)) => {
                let node_at = edge_at.iter().map(|e| edge_field.inside(e)).collect();
                let items = rows.iter().map(|(_, node)| node).collect();
                nodes_of(env, &at[0], node_at, items, edge_field, preloaded).await
            }
            Ok(Asked::Field(EdgeField::Cursor)) => rows
                .iter()
                .map(|(c, _)| Some(Value::String(c.to_string())))
                .collect(),
            Err(error) => refused(&edge_at, edge_field, &error),
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
    at: &'a [At<'a>],
    pages: &'a [&'a Page<T>],
    field: &'a Selected<'a>,
    preloaded: Option<&'a Preloaded>,
) -> Vec<Option<Value>> {
    let lists: Vec<At<'_>> = at.iter().map(|a| field.inside(a)).collect();
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
    ctx: &At<'a>,
    at: Vec<At<'a>>,
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
fn nodes_shown<T: Catalogued>(ctx: &At<'_>, field: &Selected<'_>) -> Shown {
    let mut shown = Shown::default();
    for part in collect(ctx, &connection_name::<T>(), &field.sets()) {
        let nodes = match lookup(CONNECTION, part.name()) {
            Some(ConnField::Nodes) => vec![part],
            Some(ConnField::Edges) => collect(ctx, &edge_name::<T>(), &part.sets())
                .into_iter()
                .filter(|f| lookup(EDGE, f.name()) == Some(EdgeField::Node))
                .collect(),
            Some(ConnField::PageInfo | ConnField::TotalCount) | None => Vec::new(),
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
            let at: Vec<At<'_>> = level.at.iter().map(|a| selected.inside(a)).collect();
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
        at: &'a At<'a>,
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
        first: argument(field, "first")?,
        after: argument(field, "after")?,
        last: argument(field, "last")?,
        before: argument(field, "before")?,
    })
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

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::{DocumentOperations, Field as FieldNode, Selection};

    use super::*;

    /// The fields of the document `{ ... }`'s one operation.
    fn fields(document: &str) -> Vec<Positioned<FieldNode>> {
        let document = parse_query(document).expect("the test's document parses");
        let DocumentOperations::Single(operation) = document.operations else {
            panic!("the test's document has one operation");
        };
        operation
            .node
            .selection_set
            .node
            .items
            .into_iter()
            .filter_map(|selection| match selection.node {
                Selection::Field(field) => Some(field),
                _ => None,
            })
            .collect()
    }

    fn selected(field: &Positioned<FieldNode>) -> Selected<'_> {
        Selected {
            key: &field.node.name.node,
            nodes: vec![field],
        }
    }

    /// Each table names each of its fields once, and finds each by that name.
    fn distinct_names<F: Copy + PartialEq + std::fmt::Debug>(table: &Table<F>) {
        for (i, (field, name, doc)) in table.iter().enumerate() {
            assert!(!doc.is_empty(), "{name} is described");
            assert_eq!(lookup(table, name), Some(*field));
            assert!(table[i + 1..].iter().all(|(_, other, _)| other != name));
        }
    }

    #[test]
    fn every_field_of_the_tables_is_found_by_its_name_once() {
        distinct_names(CONNECTION);
        distinct_names(EDGE);
        distinct_names(PAGE_INFO);
        let names = |table: &Table<ConnField>| table.iter().map(|(_, n, _)| *n).collect::<Vec<_>>();
        assert_eq!(
            names(CONNECTION),
            ["pageInfo", "edges", "nodes", "totalCount"]
        );
    }

    #[test]
    fn a_field_a_table_does_not_have_is_refused_not_answered_with_the_type_name() {
        let asked_for = fields("{ edges __typename bogus }");
        assert!(matches!(
            asked(CONNECTION, "FindingConnection", &selected(&asked_for[0])),
            Ok(Asked::Field(ConnField::Edges))
        ));
        assert!(matches!(
            asked(CONNECTION, "FindingConnection", &selected(&asked_for[1])),
            Ok(Asked::Typename)
        ));
        let refused = asked(EDGE, "FindingEdge", &selected(&asked_for[2]));
        let Err(error) = refused else {
            panic!("an unknown field is refused");
        };
        assert_eq!(
            error.message,
            r#"Cannot query field "bogus" on type "FindingEdge"."#
        );
        assert_eq!(error.locations, [asked_for[2].pos]);
        assert!(lookup(PAGE_INFO, "bogus").is_none());
    }
}
