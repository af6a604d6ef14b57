//! The executor of catalogued types: a [`Level`] of rows read together is answered field by
//! field, each field once for all its rows.
//!
//! Answers follow async-graphql's rules, so that nothing a client sees depends on which
//! executor answered: fields in the document's order, merged by response key (fragments and
//! repeated fields), `__typename`, fragments by type condition; a field that fails is left out
//! of its object and its error reported at its path.

use std::collections::HashMap;
use std::marker::PhantomData;

use async_graphql::dataloader::{DataLoader, Loader as LoaderTrait};
use async_graphql::parser::types::{Field as FieldNode, Selection, SelectionSet};
use async_graphql::{
    Context, DataContext, Name, OutputType, PathSegment, Positioned, QueryPathNode,
    QueryPathSegment, ServerError, ServerResult, Value,
};
use chrono::NaiveDate;
use futures_util::future::{BoxFuture, join_all};
use indexmap::IndexMap;
use sea_orm::DatabaseConnection;

use super::engine::{self, At};
use super::{Catalogued, Field, How, Key, Leaf, LevelField, Row};
use crate::auth::Caller;
use crate::config::Config;
use crate::domain::reads::page::Counts;
use crate::domain::workflow::warning::Thresholds;
use crate::graphql::loaders::{LoadError, Loader};

/// What every field of a request may read besides its row: the database, the shared loader,
/// the caller, today's date and thresholds, the kept counts. Gathered once per resolution.
pub struct Env<'a> {
    pub db: &'a DatabaseConnection,
    pub loader: &'a DataLoader<Loader>,
    pub caller: &'a Caller,
    pub thresholds: Thresholds,
    pub counts: Option<&'a Counts>,
}

impl<'a> Env<'a> {
    pub fn of(ctx: &impl DataContext<'a>) -> Self {
        // Absent only when the schema runs outside HTTP (in-process tools): anonymous.
        static ANONYMOUS: Caller = Caller::Anonymous;
        Self {
            db: ctx.data_unchecked::<DatabaseConnection>(),
            loader: ctx.data_unchecked::<DataLoader<Loader>>(),
            caller: ctx.data_opt::<Caller>().unwrap_or(&ANONYMOUS),
            thresholds: Thresholds::from_config(ctx.data_unchecked::<std::sync::Arc<Config>>()),
            counts: ctx.data_opt::<std::sync::Arc<Counts>>().map(AsRef::as_ref),
        }
    }

    /// Today in the configured time zone.
    pub fn today(&self) -> NaiveDate {
        self.thresholds.today
    }
}

/// Rows read together, each with the place it answers at (a context whose path ends at the
/// row, for errors and for fields resolved by async-graphql).
pub struct Level<'a, T> {
    pub items: Vec<&'a T>,
    pub at: Vec<At<'a>>,
    pub env: &'a Env<'a>,
    /// A nested list's pages read with the rows (the rows of a page read by [`super::Nested`]).
    pub preloaded: Option<&'a super::Preloaded>,
}

/// A field as the document selects it on a type: its response key and every occurrence of
/// it (their selections merge).
pub struct Selected<'a> {
    pub key: &'a Name,
    pub nodes: Vec<&'a Positioned<FieldNode>>,
}

impl<'a> Selected<'a> {
    /// The first occurrence: its position and arguments stand for all.
    pub fn first(&self) -> &'a Positioned<FieldNode> {
        self.nodes[0]
    }

    pub fn name(&self) -> &'a str {
        self.first().node.name.node.as_str()
    }

    /// The selections under the field, over every occurrence.
    pub fn sets(&self) -> Vec<&'a Positioned<SelectionSet>> {
        self.nodes.iter().map(|f| &f.node.selection_set).collect()
    }

    /// The context of the field on one row.
    pub fn on<'b>(&self, at: &'b At<'a>) -> Context<'b>
    where
        'a: 'b,
    {
        at.field(self.first())
    }

    /// The context of what the field answers, on one row.
    pub fn inside<'b>(&self, at: &'b At<'a>) -> At<'b>
    where
        'a: 'b,
    {
        at.inside(self.first())
    }
}

/// The fields a selection selects on the type named `type_name`, merged by response key, in
/// the document's order (`__typename` among them).
pub fn collect<'a>(
    ctx: &At<'a>,
    type_name: &str,
    sets: &[&'a Positioned<SelectionSet>],
) -> Vec<Selected<'a>> {
    fn walk<'a>(ctx: &At<'a>, type_name: &str, set: &'a SelectionSet, out: &mut Vec<Selected<'a>>) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = &field.node.response_key().node;
                    match out.iter_mut().find(|s| s.key == key) {
                        Some(found) => found.nodes.push(field),
                        None => out.push(Selected {
                            key,
                            nodes: vec![field],
                        }),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = ctx.fragment(&spread.node.fragment_name.node)
                        && applies(
                            ctx,
                            type_name,
                            Some(&fragment.node.type_condition.node.on.node),
                        )
                    {
                        walk(ctx, type_name, &fragment.node.selection_set.node, out);
                    }
                }
                Selection::InlineFragment(inline) => {
                    let condition = inline.node.type_condition.as_ref().map(|c| &c.node.on.node);
                    if applies(ctx, type_name, condition) {
                        walk(ctx, type_name, &inline.node.selection_set.node, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for set in sets {
        walk(ctx, type_name, &set.node, &mut out);
    }
    out
}

/// Whether a fragment with this type condition applies to an object of type `type_name`.
fn applies(ctx: &At<'_>, type_name: &str, condition: Option<&Name>) -> bool {
    condition.is_none_or(|on| on.as_str() == type_name || ctx.implements(type_name, on))
}

/// One step of a plan: `__typename`, or a field of the catalogue.
enum Step<'a, T: 'static> {
    Typename(&'a Name),
    Field(Selected<'a>, &'static Field<T>),
}

/// A selection planned against a type's catalogue, once for a whole level.
pub struct Plan<'a, T: 'static> {
    steps: Vec<Step<'a, T>>,
}

impl<'a, T: Catalogued> Plan<'a, T> {
    pub fn of(ctx: &At<'a>, sets: &[&'a Positioned<SelectionSet>]) -> ServerResult<Self> {
        let catalogue = T::catalogue();
        let mut steps = Vec::new();
        for selected in collect(ctx, T::NAME, sets) {
            let name = selected.name();
            if name == "__typename" {
                steps.push(Step::Typename(selected.key));
                continue;
            }
            let Some(field) = catalogue.field(name) else {
                // Validation refuses such documents before they run.
                return Err(ServerError::new(
                    format!(r#"Cannot query field "{name}" on type "{}"."#, T::NAME),
                    Some(selected.first().pos),
                ));
            };
            steps.push(Step::Field(selected, field));
        }
        Ok(Self { steps })
    }

    /// The fields of the plan read for a whole level, with their selections.
    pub fn levels(&self) -> impl Iterator<Item = (&Selected<'a>, &'static dyn LevelField<T>)> {
        self.steps.iter().filter_map(|step| match step {
            Step::Field(selected, field) => match &field.how {
                How::Level(read) => Some((selected, read.as_ref())),
                How::Value(_) => None,
            },
            Step::Typename(_) => None,
        })
    }

    /// The catalogue's names of the fields the plan reads.
    pub fn shown(&self) -> Shown {
        Shown(
            self.steps
                .iter()
                .filter_map(|step| match step {
                    Step::Field(_, field) => Some(field.name),
                    Step::Typename(_) => None,
                })
                .collect(),
        )
    }
}

/// The fields a selection shows of a type: what a read of it must decode.
#[derive(Default)]
pub struct Shown(Vec<&'static str>);

impl Shown {
    /// The columns of `T`'s rows the fields shown read ([`super::Catalogue::reads`]).
    pub fn reads<T: Catalogued>(&self) -> Option<u64> {
        T::catalogue().reads(self.0.iter().copied())
    }

    pub(super) fn extend(&mut self, other: Shown) {
        self.0.extend(other.0);
    }
}

/// Answers a level: one value per row, in order.
pub fn run<'a, T: Catalogued>(
    level: &'a Level<'a, T>,
    plan: &'a Plan<'a, T>,
) -> BoxFuture<'a, Vec<Value>> {
    Box::pin(async move {
        if level.items.is_empty() {
            // Nothing to read (fields read for a level assume a row).
            return Vec::new();
        }
        // Fields read for the whole level first, all at once (their reads run together).
        let reads = plan
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, step)| match step {
                Step::Field(selected, field) => match &field.how {
                    How::Level(read) => {
                        Some(async move { (i, read.resolve(level, selected).await) })
                    }
                    How::Value(_) => None,
                },
                Step::Typename(_) => None,
            });
        let mut read: HashMap<usize, Vec<Option<Value>>> =
            join_all(reads).await.into_iter().collect();
        let typename = Value::String(T::NAME.to_owned());
        let mut out = Vec::with_capacity(level.items.len());
        for (row, item) in level.items.iter().enumerate() {
            let mut object = IndexMap::with_capacity(plan.steps.len());
            for (i, step) in plan.steps.iter().enumerate() {
                match step {
                    Step::Typename(key) => {
                        object.insert((*key).clone(), typename.clone());
                    }
                    Step::Field(selected, field) => {
                        let value = match &field.how {
                            How::Value(get) => Some(get(item, level.env)),
                            How::Level(_) => read
                                .get_mut(&i)
                                .and_then(|values| values.get_mut(row))
                                .and_then(Option::take),
                        };
                        if let Some(value) = value {
                            object.insert(selected.key.clone(), value);
                        }
                    }
                }
            }
            out.push(if object.is_empty() {
                Value::Null
            } else {
                Value::Object(object)
            });
        }
        out
    })
}

/// Answers one row where async-graphql asks for it (a root field, a mutation's answer, a
/// subscription's event, a value a catalogued field awaited): `at` is where it answers.
pub async fn resolve_one<T: Catalogued>(at: At<'_>, item: &T) -> ServerResult<Value> {
    let env = Env::of(&at);
    let plan = Plan::<T>::of(&at, &[at.set()])?;
    let level = Level {
        items: vec![item],
        at: vec![at.clone()],
        env: &env,
        preloaded: None,
    };
    Ok(run(&level, &plan).await.pop().unwrap_or_default())
}

/// A list of catalogued rows resolved as one level (`[T!]!`).
pub struct Many<T>(pub Vec<T>);

/// Answers a list of rows as one level: `at` is where the list answers, `set` the selection of
/// each element.
pub(super) async fn many<'a, T: Catalogued>(
    at: At<'a>,
    set: &'a Positioned<SelectionSet>,
    rows: &'a [T],
) -> ServerResult<Value> {
    let env = Env::of(&at);
    let plan = Plan::<T>::of(&at, &[set])?;
    let level = Level {
        items: rows.iter().collect(),
        at: (0..rows.len()).map(|i| at.index(i)).collect(),
        env: &env,
        preloaded: None,
    };
    Ok(Value::List(run(&level, &plan).await))
}

/// `error` with the path of `node` (where it is reported), as async-graphql's resolvers report
/// theirs; read through the public path of a context.
pub fn located(node: Option<&QueryPathNode<'_>>, error: ServerError) -> ServerError {
    let Some(node) = node else {
        return error;
    };
    let mut path: Vec<PathSegment> = std::iter::once(node)
        .chain(node.parents())
        .map(|node| match node.segment {
            QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
            QueryPathSegment::Index(i) => PathSegment::Index(i),
        })
        .collect();
    path.reverse();
    ServerError { path, ..error }
}

/// Reports `error` at the field `field` (its path), leaving its value out.
pub fn report(field: &Context<'_>, error: ServerError) {
    field.add_error(located(field.path_node.as_ref(), error));
}

/// Reports `error` at the field on every row of the level; the field is left out of each.
pub fn failed<T>(
    level: &Level<'_, T>,
    selected: &Selected<'_>,
    error: ServerError,
) -> Vec<Option<Value>> {
    for at in &level.at {
        report(&selected.on(at), error.clone());
    }
    vec![None; level.items.len()]
}

/// `error` at the field's position.
fn at_field(selected: &Selected<'_>, error: impl Into<async_graphql::Error>) -> ServerError {
    error.into().into_server_error(selected.first().pos)
}

/// What the shared loader answers for `keys` (one batch for the level), or the field failed at
/// every row of the level.
async fn load<'a, T, K>(
    level: &'a Level<'a, T>,
    selected: &'a Selected<'a>,
    keys: impl IntoIterator<Item = K>,
) -> Result<HashMap<K, Row<K>>, Vec<Option<Value>>>
where
    K: Key,
    Loader: LoaderTrait<K, Error = LoadError>,
{
    level
        .env
        .loader
        .load_many(keys)
        .await
        .map_err(|err| failed(level, selected, at_field(selected, err)))
}

/// Where the elements of lists answer: `lists[i]` holds `sizes[i]` of them (`.../measures/3`).
pub fn lists_at<'a>(lists: &'a [At<'a>], sizes: impl IntoIterator<Item = usize>) -> Vec<At<'a>> {
    let mut at = Vec::new();
    for (list, size) in lists.iter().zip(sizes) {
        at.extend((0..size).map(|j| list.index(j)));
    }
    at
}

/// Children read for some rows of a level, as the next level: `parents[i]` is the row the
/// `i`-th child hangs from, `at` where it answers.
pub async fn children<'a, C: Catalogued>(
    level_env: &'a Env<'a>,
    at: Vec<At<'a>>,
    items: Vec<&'a C>,
    plan: &'a Plan<'a, C>,
) -> Vec<Value> {
    let level = Level {
        items,
        at,
        env: level_env,
        preloaded: None,
    };
    run(&level, plan).await
}

/// The plan of a relation's children, or the error reported on every row.
fn plan_of<'a, T, C: Catalogued>(
    level: &Level<'a, T>,
    selected: &Selected<'a>,
) -> Result<Plan<'a, C>, Vec<Option<Value>>> {
    Plan::<C>::of(&level.at[0], &selected.sets()).map_err(|err| {
        level.at[0].add_error(err);
        vec![None; level.items.len()]
    })
}

/// A to-one relation ([`super::Field::one`]).
pub(super) struct One<F, V, C> {
    pub key: F,
    /// The record the loaded row holds (the row itself, or a part of it).
    pub via: V,
    pub child: PhantomData<fn() -> C>,
}

impl<T, F, V, K, C> LevelField<T> for One<F, V, C>
where
    T: Catalogued,
    F: Fn(&T, &Shown, &Env<'_>) -> Option<K> + Send + Sync,
    V: Fn(Row<K>) -> Option<C> + Send + Sync,
    K: Key,
    Loader: LoaderTrait<K, Error = LoadError>,
    C: Catalogued,
{
    fn resolve<'a>(
        &'a self,
        level: &'a Level<'a, T>,
        selected: &'a Selected<'a>,
    ) -> BoxFuture<'a, Vec<Option<Value>>> {
        Box::pin(async move {
            let plan = match plan_of::<T, C>(level, selected) {
                Ok(plan) => plan,
                Err(failed) => return failed,
            };
            let shown = plan.shown();
            let keys: Vec<Option<K>> = level
                .items
                .iter()
                .map(|row| (self.key)(row, &shown, level.env))
                .collect();
            let loaded = match load(level, selected, keys.iter().flatten().copied()).await {
                Ok(loaded) => loaded,
                Err(failed) => return failed,
            };
            let loaded: HashMap<K, C> = loaded
                .into_iter()
                .filter_map(|(k, row)| Some((k, (self.via)(row)?)))
                .collect();
            let mut parents = Vec::new();
            let mut items = Vec::new();
            for (i, key) in keys.iter().enumerate() {
                if let Some(child) = key.as_ref().and_then(|k| loaded.get(k)) {
                    parents.push(i);
                    items.push(child);
                }
            }
            singles(level, selected, &plan, parents, items).await
        })
    }
}

/// Children, at most one per row, answered as one level: `items[j]` hangs from row
/// `parents[j]`; rows without one answer null.
async fn singles<'a, T, C: Catalogued>(
    level: &'a Level<'a, T>,
    selected: &'a Selected<'a>,
    plan: &'a Plan<'a, C>,
    parents: Vec<usize>,
    items: Vec<&'a C>,
) -> Vec<Option<Value>> {
    let at = parents
        .iter()
        .map(|&i| selected.inside(&level.at[i]))
        .collect();
    let values = children(level.env, at, items, plan).await;
    let mut out = vec![Some(Value::Null); level.items.len()];
    for (i, value) in parents.into_iter().zip(values) {
        out[i] = Some(value);
    }
    out
}

/// Lists of children, one per row, answered as one level; `lists[i]` is row `i`'s.
async fn lists<'a, T, C: Catalogued>(
    level: &'a Level<'a, T>,
    selected: &'a Selected<'a>,
    plan: &'a Plan<'a, C>,
    lists: Vec<Vec<&'a C>>,
) -> Vec<Option<Value>> {
    let fields: Vec<At<'a>> = level.at.iter().map(|at| selected.inside(at)).collect();
    let at = lists_at(&fields, lists.iter().map(Vec::len));
    let items = lists.iter().flatten().copied().collect();
    let mut values = children(level.env, at, items, plan).await.into_iter();
    lists
        .iter()
        .map(|list| Some(Value::List(values.by_ref().take(list.len()).collect())))
        .collect()
}

/// A to-many relation ([`super::Field::many`]).
pub(super) struct ManyOf<F, CR> {
    pub key: F,
    pub child: PhantomData<fn() -> CR>,
}

impl<T, F, K, C, R> LevelField<T> for ManyOf<F, (C, R)>
where
    T: Catalogued,
    F: Fn(&T, &Shown, &Env<'_>) -> Option<K> + Send + Sync,
    K: Key,
    Loader: LoaderTrait<K, Value = Vec<R>, Error = LoadError>,
    R: Send + Sync + Clone + 'static,
    C: Catalogued + From<R>,
{
    fn resolve<'a>(
        &'a self,
        level: &'a Level<'a, T>,
        selected: &'a Selected<'a>,
    ) -> BoxFuture<'a, Vec<Option<Value>>> {
        Box::pin(async move {
            let plan = match plan_of::<T, C>(level, selected) {
                Ok(plan) => plan,
                Err(failed) => return failed,
            };
            let shown = plan.shown();
            let keys: Vec<Option<K>> = level
                .items
                .iter()
                .map(|row| (self.key)(row, &shown, level.env))
                .collect();
            let loaded = match load(level, selected, keys.iter().flatten().copied()).await {
                Ok(loaded) => loaded,
                Err(failed) => return failed,
            };
            let loaded: HashMap<K, Vec<C>> = loaded
                .into_iter()
                .map(|(k, rows)| (k, rows.into_iter().map(C::from).collect()))
                .collect();
            let rows = keys
                .iter()
                .map(|k| {
                    k.as_ref()
                        .and_then(|k| loaded.get(k))
                        .map(|list| list.iter().collect())
                        .unwrap_or_default()
                })
                .collect();
            lists(level, selected, &plan, rows).await
        })
    }
}

/// A list of to-one keys ([`super::Field::each_of`]).
pub(super) struct EachOf<F, C> {
    pub keys: F,
    pub child: PhantomData<fn() -> C>,
}

impl<T, F, K, C> LevelField<T> for EachOf<F, C>
where
    T: Catalogued,
    F: Fn(&T, &Env<'_>) -> Vec<K> + Send + Sync,
    K: Key,
    Loader: LoaderTrait<K, Error = LoadError>,
    C: Catalogued + From<Row<K>>,
{
    fn resolve<'a>(
        &'a self,
        level: &'a Level<'a, T>,
        selected: &'a Selected<'a>,
    ) -> BoxFuture<'a, Vec<Option<Value>>> {
        Box::pin(async move {
            let plan = match plan_of::<T, C>(level, selected) {
                Ok(plan) => plan,
                Err(failed) => return failed,
            };
            let keys: Vec<Vec<K>> = level
                .items
                .iter()
                .map(|row| (self.keys)(row, level.env))
                .collect();
            let loaded = match load(level, selected, keys.iter().flatten().copied()).await {
                Ok(loaded) => loaded,
                Err(failed) => return failed,
            };
            let loaded: HashMap<K, C> = loaded
                .into_iter()
                .map(|(k, row)| (k, C::from(row)))
                .collect();
            let rows = keys
                .iter()
                .map(|ks| ks.iter().filter_map(|k| loaded.get(k)).collect())
                .collect();
            lists(level, selected, &plan, rows).await
        })
    }
}

/// A value from what the loader answers for each row ([`super::Field::loaded`]).
pub(super) struct Loaded<F, G> {
    pub key: F,
    pub value: G,
}

impl<T, F, G, K, V> LevelField<T> for Loaded<F, G>
where
    T: Catalogued,
    F: Fn(&T) -> Option<K> + Send + Sync,
    G: Fn(&T, Option<&Row<K>>, &Env<'_>) -> V + Send + Sync,
    K: Key,
    Loader: LoaderTrait<K, Error = LoadError>,
    V: Leaf,
{
    fn resolve<'a>(
        &'a self,
        level: &'a Level<'a, T>,
        selected: &'a Selected<'a>,
    ) -> BoxFuture<'a, Vec<Option<Value>>> {
        Box::pin(async move {
            let keys: Vec<Option<K>> = level.items.iter().map(|row| (self.key)(row)).collect();
            let loaded = match load(level, selected, keys.iter().flatten().copied()).await {
                Ok(loaded) => loaded,
                Err(failed) => return failed,
            };
            level
                .items
                .iter()
                .zip(&keys)
                .map(|(row, key)| {
                    let found = key.as_ref().and_then(|k| loaded.get(k));
                    Some((self.value)(row, found, level.env).leaf())
                })
                .collect()
        })
    }
}

/// What a row holds of a catalogued type, for [`super::Fields::nested`]: the value itself
/// (`C!`), perhaps one (`C`), or a list (`[C!]!`).
pub trait Holds: OutputType + Send + Sync + 'static {
    type Child: Catalogued;
    /// A list, answered as one (the others answer the child or null).
    const LIST: bool;
    /// The children held, in order: one, none or one, or the list.
    fn held(&self) -> &[Self::Child];
}

impl<C: Catalogued> Holds for C {
    type Child = C;
    const LIST: bool = false;
    fn held(&self) -> &[C] {
        std::slice::from_ref(self)
    }
}

impl<C: Catalogued> Holds for Option<C> {
    type Child = C;
    const LIST: bool = false;
    fn held(&self) -> &[C] {
        self.as_slice()
    }
}

impl<C: Catalogued> Holds for Vec<C> {
    type Child = C;
    const LIST: bool = true;
    fn held(&self) -> &[C] {
        self
    }
}

/// Catalogued values the row holds, answered as the next level ([`super::Fields::nested`]).
pub(super) struct Held<F, V> {
    pub get: F,
    pub held: PhantomData<fn() -> V>,
}

impl<T, F, V> LevelField<T> for Held<F, V>
where
    T: Catalogued,
    F: Fn(&T) -> &V + Send + Sync,
    V: Holds,
{
    fn resolve<'a>(
        &'a self,
        level: &'a Level<'a, T>,
        selected: &'a Selected<'a>,
    ) -> BoxFuture<'a, Vec<Option<Value>>> {
        Box::pin(async move {
            let plan = match plan_of::<T, V::Child>(level, selected) {
                Ok(plan) => plan,
                Err(failed) => return failed,
            };
            let held = level.items.iter().map(|row| (self.get)(row).held());
            if V::LIST {
                let rows = held.map(|list| list.iter().collect()).collect();
                return lists(level, selected, &plan, rows).await;
            }
            let mut parents = Vec::new();
            let mut items = Vec::new();
            for (i, child) in held.enumerate() {
                if let Some(child) = child.first() {
                    parents.push(i);
                    items.push(child);
                }
            }
            singles(level, selected, &plan, parents, items).await
        })
    }
}

/// A field awaited row by row ([`super::Field::each`]).
pub(super) struct Each<F> {
    pub get: F,
}

impl<T, F, V> LevelField<T> for Each<F>
where
    T: Catalogued,
    F: for<'c> Fn(&'c T, &'c Context<'c>) -> BoxFuture<'c, async_graphql::Result<V>> + Send + Sync,
    V: OutputType + 'static,
{
    fn resolve<'a>(
        &'a self,
        level: &'a Level<'a, T>,
        selected: &'a Selected<'a>,
    ) -> BoxFuture<'a, Vec<Option<Value>>> {
        Box::pin(async move {
            let rows = level
                .items
                .iter()
                .zip(&level.at)
                .map(|(row, at)| async move {
                    let ctx = selected.on(at);
                    let value = match (self.get)(row, &ctx).await {
                        Ok(value) => value,
                        Err(err) => {
                            report(&ctx, err.into_server_error(selected.first().pos));
                            return None;
                        }
                    };
                    match engine::resolve_output(&ctx, &value, &selected.nodes).await {
                        Ok(answer) => answer,
                        Err(err) => {
                            report(&ctx, err);
                            None
                        }
                    }
                });
            join_all(rows).await
        })
    }
}

/// Merges the answers of two occurrences of one field (their selections differ), as
/// async-graphql does.
pub(super) fn merge(into: &mut Option<Value>, value: Value) {
    match (into.as_mut(), value) {
        (None, value) => *into = Some(value),
        (Some(Value::Object(target)), Value::Object(more)) => {
            for (key, value) in more {
                match target.get_mut(&key) {
                    Some(slot) => {
                        let mut held = Some(std::mem::take(slot));
                        merge(&mut held, value);
                        *slot = held.unwrap_or_default();
                    }
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (Some(Value::List(target)), Value::List(more)) => {
            for (slot, value) in target.iter_mut().zip(more) {
                let mut held = Some(std::mem::take(slot));
                merge(&mut held, value);
                *slot = held.unwrap_or_default();
            }
        }
        (Some(_), _) => {}
    }
}
