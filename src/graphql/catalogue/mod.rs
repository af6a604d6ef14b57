//! The object types of the API declared once, as the catalogue of their fields, and resolved a
//! level of rows at a time: the records (findings, measures, inspections, ...) and the value
//! objects (summaries, lists, events, payloads, ...) alike, and the roots' parts merged into
//! `Query` and `Mutation` ([`Roots`]: their fields in tables, each run once with its typed
//! arguments). Every object type but `Subscription` is declared here; there is no second
//! object system.
//!
//! A type's catalogue lists each field once: its name, description, type, arguments, cost, and
//! how its value is found (read off the row, or read for a whole level of rows at once). That
//! one declaration is both what the schema registers (what `schema.graphql` prints and
//! introspection shows) and what resolves the type wherever it appears: in a page, under a
//! relation, as a mutation's answer or an event's subject. Nothing else knows the fields.
//!
//! async-graphql resolves an object field by field: a boxed future per field and per list
//! item, a `FuturesUnordered` per object, and the answer grown one insert at a time; on a page
//! of fifty findings that machinery was half of the server's time (docs/BENCHMARKS.md). Here
//! the records read together (a page, every page of a nested level, the children of a
//! relation) form a [`Level`]: the selection is planned once for the level, values are read
//! off the rows in one loop, and each relation is read once for all the rows, its children
//! forming the next level. A relation's key, and the columns its reads need, come from the
//! field's own entry.

mod conn;
mod engine;
mod leaf;
mod roots;
mod run;

use std::collections::HashMap;
use std::marker::PhantomData;

use async_graphql::dataloader::Loader as LoaderTrait;
use async_graphql::{Context, InputType, OutputType, Value};
use futures_util::future::BoxFuture;

pub use conn::{
    Conn, Nested, PageSource, Preload, Preloaded, Under, distinct, in_order, page_args, page_of,
};
pub use engine::{
    At, Cost, TypeRef, argument, declared_arguments, page_cost, pos, register, register_part,
    resolve_record as resolve_one, times,
};
pub use leaf::{Leaf, enum_leaf};
pub use roots::{
    Pages, Param, Params, Root, RootField, Rooted, Roots, param, resolve as resolve_part,
};
pub use run::{Env, Holds, Level, Many, Selected, Shown};

use super::loaders::{LoadError, Loader};

/// A record type whose fields are declared in its catalogue.
pub trait Object: Sized + Send + Sync + 'static {
    /// Its name in the schema.
    const NAME: &'static str;
    /// Its description in the schema.
    const DOC: &'static str;
    /// Declares its fields, in the schema's order (once, for [`Catalogued::catalogue`]).
    fn fields(fields: &mut Fields<Self>);
}

/// A record type with its catalogue built (by [`object!`](crate::object)): the type the
/// executor and the schema work with.
pub trait Catalogued: Object + OutputType {
    fn catalogue() -> &'static Catalogue<Self>;
}

/// A record type read through a checked projection (`entity::projected!`): its accessors
/// refuse a column the read did not select, so the columns any function of the record reads
/// are found by running the function once, as the catalogue is built, on a row that selected
/// none ([`touched`]). Its fields are declared by those functions ([`Fields::projected`] and
/// the others of that block): no list of columns to keep in step with the code, and a column
/// read only on a path the placeholders do not take is refused at the read, never served as
/// its placeholder (tests/api/reads.rs asks every field alone against all of them).
pub trait Projection: Catalogued {
    /// The projection the record wraps.
    type Row: entity::Recording;
    /// The record over a row.
    fn over(row: Self::Row) -> Self;
}

/// The columns `read` touches of a `T`, a bit each by the column's place, with the id (every
/// read selects it): what [`Field::reads`] takes.
pub fn touched<T: Projection>(read: impl FnOnce(&T)) -> u64 {
    let row = T::over(<T::Row as entity::Recording>::recording());
    entity::recorded(|| read(&row)) | 1 << <T::Row as entity::Recording>::ID
}

/// A type's fields, with an index by name for planning.
pub struct Catalogue<T> {
    fields: Vec<Field<T>>,
    by_name: HashMap<&'static str, usize>,
}

impl<T: Catalogued> Catalogue<T> {
    pub fn build() -> Self {
        let mut declared = Fields(Vec::new());
        T::fields(&mut declared);
        let fields = declared.0;
        let by_name = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name, i))
            .collect();
        Self { fields, by_name }
    }

    pub fn field(&self, name: &str) -> Option<&Field<T>> {
        self.by_name.get(name).map(|i| &self.fields[*i])
    }

    /// The columns fields `names` read ([`Field::reads`]); `None`: every column. Names not
    /// in the catalogue (`__typename`) read none.
    pub fn reads<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> Option<u64> {
        names
            .into_iter()
            .filter_map(|name| self.field(name))
            .try_fold(0, |set, field| field.reads.map(|reads| set | reads))
    }

    /// Every field, in the schema's order.
    pub fn fields(&self) -> &[Field<T>] {
        &self.fields
    }
}

/// The columns of `T`'s rows the nodes of a connection field (`edges { node }` and `nodes`)
/// read ([`Catalogue::reads`]; `None`: every one), by async-graphql's look-ahead (aliases and
/// fragments seen through): what a root list selects before its level is planned.
pub fn shown_in_page<T: Catalogued>(ctx: &Context<'_>) -> Option<u64> {
    let page = ctx.look_ahead();
    let mut nodes = page.field("edges").field("node").selection_fields();
    nodes.extend(page.field("nodes").selection_fields());
    let names = nodes
        .iter()
        .flat_map(|node| node.selection_set().map(|field| field.name()));
    T::catalogue().reads(names)
}

/// An argument of a field.
pub struct Arg {
    name: &'static str,
    doc: &'static str,
    ty: TypeRef,
    /// The value taken when the argument is left out, as a GraphQL literal (`ASC`).
    default: Option<String>,
}

impl Arg {
    pub fn new<V: InputType>(name: &'static str, doc: &'static str) -> Self {
        Self {
            name,
            doc,
            ty: TypeRef::input::<V>(),
            default: None,
        }
    }
}

/// One field of a type: its place in the schema and how its value is found.
pub struct Field<T> {
    pub name: &'static str,
    doc: &'static str,
    ty: TypeRef,
    args: Vec<Arg>,
    cost: Option<Cost>,
    /// The columns of the row the field reads, a bit each as the row type numbers them
    /// ([`Field::reads`]); none declared: every column.
    reads: Option<u64>,
    pub(crate) how: How<T>,
}

/// How a field's value is found.
pub(crate) enum How<T> {
    /// Read off the row (and the request: today's date, the caller).
    Value(Box<ReadOff<T>>),
    /// Read for every row of a level at once.
    Level(Box<dyn LevelField<T>>),
}

/// How a field is read off a row.
type ReadOff<T> = dyn Fn(&T, &Env<'_>) -> Value + Send + Sync;

/// A field read for every row of a level at once: a relation, a nested page, or a field that
/// must be awaited row by row.
pub trait LevelField<T>: Send + Sync {
    /// The field's value for each row of the level, in order; `None` where it failed (the
    /// error is reported at that row's path).
    fn resolve<'a>(
        &'a self,
        level: &'a Level<'a, T>,
        field: &'a Selected<'a>,
    ) -> BoxFuture<'a, Vec<Option<Value>>>;

    /// The field's values read with the level's rows, when the rows are a page not yet read
    /// ([`Nested`]): only a nested connection can be, and only from some sources.
    fn preload<'a>(
        &'a self,
        env: &'a Env<'a>,
        at: &'a At<'a>,
        field: &'a Selected<'a>,
    ) -> BoxFuture<'a, Option<Box<dyn Preload<T>>>> {
        let _ = (env, at, field);
        Box::pin(async { None })
    }
}

/// What a relation is read by: a key of the shared loader.
pub trait Key: Copy + Eq + std::hash::Hash + Send + Sync + 'static {}
impl<K: Copy + Eq + std::hash::Hash + Send + Sync + 'static> Key for K {}

/// A key that reads records of the schema: what a relation read by it answers.
pub trait Loads: Key {
    type Record: Catalogued;
}

/// The row type the shared loader answers a key with.
pub type Row<K> = <Loader as LoaderTrait<K>>::Value;

/// The fields of a type, as its [`Object::fields`] declares them.
pub struct Fields<T>(Vec<Field<T>>);

impl<T: Catalogued> Fields<T> {
    fn add(
        &mut self,
        name: &'static str,
        doc: &'static str,
        ty: TypeRef,
        how: How<T>,
    ) -> &mut Field<T> {
        self.0.push(Field {
            name,
            doc,
            ty,
            args: Vec::new(),
            cost: None,
            reads: None,
            how,
        });
        self.0.last_mut().expect("a field was just added")
    }

    /// A field read off the row.
    pub fn value<V: Leaf>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        get: impl Fn(&T, &Env<'_>) -> V + Send + Sync + 'static,
    ) -> &mut Field<T> {
        self.add(
            name,
            doc,
            TypeRef::output::<V>(),
            How::Value(Box::new(move |row, env| get(row, env).leaf())),
        )
    }

    /// A record the row refers to (none where `key` gives none, or the record is not found).
    /// `key` sees which fields the selection shows of it, for the columns it reads, and the
    /// request (the caller: a relation may be closed to some).
    pub fn one<K>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        key: impl Fn(&T, &Shown, &Env<'_>) -> Option<K> + Send + Sync + 'static,
    ) -> &mut Field<T>
    where
        K: Loads,
        Loader: LoaderTrait<K, Error = LoadError>,
        K::Record: From<Row<K>>,
    {
        let how = run::One {
            key,
            via: |row| Some(K::Record::from(row)),
            child: PhantomData::<fn() -> K::Record>,
        };
        self.add(
            name,
            doc,
            TypeRef::output::<Option<K::Record>>(),
            How::Level(Box::new(how)),
        )
    }

    /// A record held in what the loader answers for the row's key (a part of a row that
    /// several fields read), none where `via` finds none.
    pub fn one_via<K, C>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
        via: impl Fn(Row<K>) -> Option<C> + Send + Sync + 'static,
    ) -> &mut Field<T>
    where
        K: Key,
        Loader: LoaderTrait<K, Error = LoadError>,
        C: Catalogued,
    {
        let how = run::One {
            key: move |row: &T, _: &Shown, _: &Env<'_>| Some(key(row)),
            via,
            child: PhantomData::<fn() -> C>,
        };
        self.add(
            name,
            doc,
            TypeRef::output::<Option<C>>(),
            How::Level(Box::new(how)),
        )
    }

    /// The records of a to-many relation, in the loader's order; none where `key` gives no
    /// key (a relation closed to the caller). `key` sees which fields the selection shows of
    /// them, for the columns it reads, and the request.
    pub fn many<K, R>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        key: impl Fn(&T, &Shown, &Env<'_>) -> Option<K> + Send + Sync + 'static,
    ) -> &mut Field<T>
    where
        K: Loads,
        Loader: LoaderTrait<K, Value = Vec<R>, Error = LoadError>,
        R: Send + Sync + Clone + 'static,
        K::Record: From<R>,
    {
        let how = run::ManyOf {
            key,
            child: PhantomData::<fn() -> (K::Record, R)>,
        };
        self.add(
            name,
            doc,
            TypeRef::output::<Vec<K::Record>>(),
            How::Level(Box::new(how)),
        )
    }

    /// The records of a list of keys the row holds, in that order (keys not found left out).
    pub fn each_of<K>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        keys: impl Fn(&T, &Env<'_>) -> Vec<K> + Send + Sync + 'static,
    ) -> &mut Field<T>
    where
        K: Loads,
        Loader: LoaderTrait<K, Error = LoadError>,
        K::Record: From<Row<K>>,
    {
        let how = run::EachOf {
            keys,
            child: PhantomData::<fn() -> K::Record>,
        };
        self.add(
            name,
            doc,
            TypeRef::output::<Vec<K::Record>>(),
            How::Level(Box::new(how)),
        )
    }

    /// A value computed from what the loader answers for the row's key (read for the whole
    /// level at once).
    pub fn loaded<K, V>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        key: impl Fn(&T) -> Option<K> + Send + Sync + 'static,
        value: impl Fn(&T, Option<&Row<K>>, &Env<'_>) -> V + Send + Sync + 'static,
    ) -> &mut Field<T>
    where
        K: Key,
        Loader: LoaderTrait<K, Error = LoadError>,
        V: Leaf,
    {
        let how = run::Loaded { key, value };
        self.add(name, doc, TypeRef::output::<V>(), How::Level(Box::new(how)))
    }

    /// Catalogued values the row holds (`C`, `Option<C>` or `Vec<C>`: a summary's counts, a
    /// list's rows, an event's record), answered for every row of the level as the next level,
    /// as a relation's children are. Value objects are thus declared and answered like
    /// records, by one executor; nothing is awaited for them, and a list of rows is planned
    /// once, not resolved a future per object as [`Fields::each`] would.
    pub fn nested<V: Holds>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        get: impl Fn(&T) -> &V + Send + Sync + 'static,
    ) -> &mut Field<T> {
        let how = run::Held {
            get,
            held: PhantomData::<fn() -> V>,
        };
        self.add(name, doc, TypeRef::output::<V>(), How::Level(Box::new(how)))
    }

    /// A field awaited row by row, answering any type of the schema (what the caller may do,
    /// a warning with its people, ...). Rows of a level are awaited together, so loads they
    /// make through a DataLoader are batched.
    pub fn each<V: OutputType + 'static>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        get: impl for<'c> Fn(&'c T, &'c Context<'c>) -> BoxFuture<'c, async_graphql::Result<V>>
        + Send
        + Sync
        + 'static,
    ) -> &mut Field<T> {
        let how = run::Each { get };
        self.add(name, doc, TypeRef::output::<V>(), How::Level(Box::new(how)))
    }

    /// A connection nested under each row, read for every row of a level in one statement
    /// ([`PageSource`]).
    pub fn page<S: PageSource<T>>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        source: S,
    ) -> &mut Field<T> {
        let field = self.add(
            name,
            doc,
            TypeRef::output::<Conn<S::Node>>(),
            How::Level(Box::new(conn::Paged(source))),
        );
        field.args = S::args();
        field.args.extend(page_args());
        field.cost = Some(engine::page_cost);
        field
    }
}

/// Fields of a [`Projection`], each declared by the functions that read its row: the columns
/// it reads are derived from them ([`touched`]).
impl<T: Projection> Fields<T> {
    /// A field read off the row.
    pub fn projected<V: Leaf>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        get: fn(&T) -> V,
    ) -> &mut Field<T> {
        let reads = touched(|row: &T| {
            get(row);
        });
        self.value(name, doc, move |row, _| get(row)).reads(reads)
    }

    /// A field read off the row as of today (in the configured time zone).
    pub fn dated<V: Leaf>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        get: fn(&T, chrono::NaiveDate) -> V,
    ) -> &mut Field<T> {
        let reads = touched(|row: &T| {
            get(row, chrono::NaiveDate::MIN);
        });
        self.value(name, doc, move |row, env| get(row, env.today()))
            .reads(reads)
    }

    /// A record the row refers to by the key `key` reads off it ([`Fields::one`]).
    pub fn refers<K>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        key: fn(&T) -> Option<K>,
    ) -> &mut Field<T>
    where
        K: Loads,
        Loader: LoaderTrait<K, Error = LoadError>,
        K::Record: From<Row<K>>,
    {
        self.refers_showing(name, doc, move |row, _| key(row))
    }

    /// A record the row refers to by the key `key` reads off it, a key that also carries
    /// what the selection shows of the record (the columns to read it with).
    pub fn refers_showing<K>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        key: impl Fn(&T, &Shown) -> Option<K> + Send + Sync + 'static,
    ) -> &mut Field<T>
    where
        K: Loads,
        Loader: LoaderTrait<K, Error = LoadError>,
        K::Record: From<Row<K>>,
    {
        let reads = touched(|row: &T| {
            key(row, &Shown::default());
        });
        self.one(name, doc, move |row, shown, _| key(row, shown))
            .reads(reads)
    }

    /// The records of a to-many relation, by the key `key` reads off the row
    /// ([`Fields::many`]).
    pub fn holds<K, R>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        key: fn(&T) -> K,
    ) -> &mut Field<T>
    where
        K: Loads,
        Loader: LoaderTrait<K, Value = Vec<R>, Error = LoadError>,
        R: Send + Sync + Clone + 'static,
        K::Record: From<R>,
    {
        let reads = touched(|row: &T| {
            key(row);
        });
        self.many(name, doc, move |row, _, _| Some(key(row)))
            .reads(reads)
    }

    /// A value of what the loader answers for the key `key` reads off the row (`value` sees
    /// only that answer, not the row).
    pub fn loaded_by<K, V>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        key: fn(&T) -> K,
        value: fn(Option<&Row<K>>) -> V,
    ) -> &mut Field<T>
    where
        K: Key,
        Loader: LoaderTrait<K, Error = LoadError>,
        V: Leaf,
    {
        let reads = touched(|row: &T| {
            key(row);
        });
        self.loaded(
            name,
            doc,
            move |row| Some(key(row)),
            move |_, found, _| value(found),
        )
        .reads(reads)
    }

    /// A field awaited row by row ([`Fields::each`]): `take` reads the row, `then` answers
    /// from what it took.
    pub fn awaited<X, V>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        take: fn(&T) -> X,
        then: for<'c> fn(X, &'c Context<'c>) -> BoxFuture<'c, async_graphql::Result<V>>,
    ) -> &mut Field<T>
    where
        X: Send + 'static,
        V: OutputType + 'static,
    {
        let reads = touched(|row: &T| {
            take(row);
        });
        self.each(name, doc, move |row, ctx| then(take(row), ctx))
            .reads(reads)
    }
}

impl<T: Projection> Field<T> {
    /// The field reads the row's id only (a nested page or a relation keyed by it, declared
    /// otherwise than through the row's accessors).
    pub fn reads_id(&mut self) -> &mut Self {
        self.reads(touched::<T>(|_| ()))
    }
}

impl<T: Catalogued> Field<T> {
    /// The field's arguments (read by its resolver from its context).
    pub fn args(&mut self, args: Vec<Arg>) -> &mut Self {
        self.args = args;
        self
    }

    /// The field's cost for the complexity limit (lists: their size times their content).
    pub fn cost(&mut self, cost: Cost) -> &mut Self {
        self.cost = Some(cost);
        self
    }

    /// The columns of the row the field reads, a bit each as the row type numbers them: a
    /// read of rows for a selection decodes those its fields read, and no more. A field that
    /// declares none reads every column.
    pub fn reads(&mut self, columns: u64) -> &mut Self {
        self.reads = Some(columns);
        self
    }
}
