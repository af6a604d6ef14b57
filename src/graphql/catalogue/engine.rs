//! The door: every use rectrack makes of async-graphql's API that is not its documented,
//! semver-bound surface sits in this file, each with what it relies on.
//!
//! async-graphql 7.2.1 marks these items `#[doc(hidden)]` (or, for `ContextBase`, "not stable
//! and should not be used directly"): the `registry` module, `ContextSelectionSet`, the
//! `item`, `query_env` and `schema_env` fields of a context, `with_field`,
//! `with_selection_set`, `with_index`, `param_value`, `VisitorContext`. They are what the
//! library's own derives expand to, so a type that registers itself and answers its own
//! selections (the catalogue: one level of rows at a time instead of a future per field) can
//! only be written with them. None carries a semver promise: a patch release may rename or
//! change one. Hence:
//! - async-graphql is pinned to `=7.2.1` (Cargo.toml), and an upgrade is a reviewed step gated
//!   on `tests/api/{shapes,reads,introspection,schema}.rs` (docs/ARCHITECTURE.md, Reads);
//! - nothing outside this file names them: the test at the end of this file scans `src/` and
//!   fails when another file does, so a later change cannot go round the door silently.
//!
//! Where a documented API does the job it is used instead, outside the door: a context's
//! error path is built from the public `path_node` ([`super::run::located`]); finding reads
//! look ahead with `Context::look_ahead` / `Context::field`; data is read through
//! `DataContext`; the futures and map crates are depended on directly, not through the
//! library's hidden re-exports.

use std::borrow::Cow;
use std::collections::HashSet;

use async_graphql::extensions::ExtensionContext;
use async_graphql::parser::types::{
    Field as FieldNode, FragmentDefinition, SelectionSet, VariableDefinition,
};
use async_graphql::registry::{
    Deprecation, MetaField, MetaInputValue, MetaType, MetaTypeId, Registry,
};
use async_graphql::{
    Context, ContextSelectionSet, DataContext, InputType, OutputType, Pos, Positioned, ServerError,
    ServerResult, Value, VisitorContext,
};

use super::conn::{self, Conn, Edge};
use super::run::{self, Env, located};
use super::{Arg, Catalogued};

// ---------------------------------------------------------------------------------------------
// Registering types: the registry's `MetaType`/`MetaField` literals.
// ---------------------------------------------------------------------------------------------

/// A type reference as the registry makes it: registers the type (and what it refers to) and
/// answers its name as a field's type (`Finding!`, `[Finding!]!`).
///
/// Relies on: `OutputType::create_type_info` / `InputType::create_type_info` take
/// `&mut registry::Registry` (a hidden type in a public signature). Would break if the
/// registry type moved; the compiler says so.
#[derive(Clone, Copy)]
pub struct TypeRef(fn(&mut Registry) -> String);

impl TypeRef {
    /// A field's type.
    pub fn output<V: OutputType + ?Sized>() -> Self {
        Self(V::create_type_info)
    }

    /// An argument's type.
    pub fn input<V: InputType>() -> Self {
        Self(V::create_type_info)
    }
}

/// The cost of a field for the complexity limit, from its arguments and its selection's cost.
///
/// Relies on: `MetaField::compute_complexity` holds this very function type, and the
/// validation's complexity visitor calls it with the field, the operation's variable
/// definitions and the cost of the field's selection. Would break (to the compiler) if the
/// signature changed; would silently change the limit if the visitor stopped calling it, which
/// `tests/api/shapes.rs` and the complexity tests see.
pub type Cost = fn(
    &VisitorContext<'_>,
    &[Positioned<VariableDefinition>],
    &FieldNode,
    usize,
) -> ServerResult<usize>;

/// A list field's cost: `times` its content, plus one.
pub fn times<const N: usize>(
    _: &VisitorContext<'_>,
    _: &[Positioned<VariableDefinition>],
    _: &FieldNode,
    child: usize,
) -> ServerResult<usize> {
    Ok(N * child + 1)
}

/// A connection's cost: its page size times its content ([`crate::graphql::cost::page_cost`]).
///
/// Relies on: `VisitorContext::param_value` resolves the argument (variables included) as the
/// derives' `#[graphql(complexity = ...)]` expansion does. No public way reads an argument
/// during validation.
pub fn page_cost(
    ctx: &VisitorContext<'_>,
    variables: &[Positioned<VariableDefinition>],
    field: &FieldNode,
    child: usize,
) -> ServerResult<usize> {
    let first: Option<i32> = ctx.param_value(variables, field, "first", None)?;
    let last: Option<i32> = ctx.param_value(variables, field, "last", None)?;
    Ok(crate::graphql::cost::page_cost(first, last, child))
}

/// A field of an object type as rectrack declares it, for the registry.
pub struct Decl<'d> {
    pub name: &'d str,
    pub doc: &'d str,
    pub ty: TypeRef,
    pub args: &'d [Arg],
    pub cost: Option<Cost>,
}

impl Decl<'_> {
    /// Relies on: the registry's `MetaField` has these fields, and introspection and the SDL
    /// print what they hold. Each literal is written as the library's object derive writes
    /// a plain field (no deprecation, cache control, federation or visibility), so the printed
    /// schema is the one the derives printed before the types moved here:
    /// `tests/api/schema.rs` compares it byte for byte. A new
    /// field of `MetaField` in a release breaks the build here, and nowhere else.
    fn meta(&self, registry: &mut Registry) -> MetaField {
        let args = self
            .args
            .iter()
            .map(|arg| {
                let value = MetaInputValue {
                    name: arg.name.to_owned(),
                    description: described(arg.doc),
                    ty: (arg.ty.0)(registry),
                    deprecation: Deprecation::NoDeprecated,
                    default_value: arg.default.clone(),
                    visible: None,
                    inaccessible: false,
                    tags: Vec::new(),
                    is_secret: false,
                    directive_invocations: Vec::new(),
                };
                (arg.name.to_owned(), value)
            })
            .collect();
        MetaField {
            name: self.name.to_owned(),
            description: described(self.doc),
            args,
            ty: (self.ty.0)(registry),
            deprecation: Deprecation::NoDeprecated,
            cache_control: Default::default(),
            external: false,
            requires: None,
            provides: None,
            visible: None,
            shareable: false,
            inaccessible: false,
            tags: Vec::new(),
            override_from: None,
            compute_complexity: self.cost,
            directive_invocations: Vec::new(),
            requires_scopes: Vec::new(),
        }
    }
}

fn described(doc: &str) -> Option<String> {
    (!doc.is_empty()).then(|| doc.to_owned())
}

/// Registers the object type `O` (named `O::type_name()`) with `fields`, in their order;
/// returns its type reference.
///
/// Relies on: `Registry::create_output_type` registers a type once by name (a placeholder first,
/// so recursive types terminate) and panics when two Rust types claim one name; the
/// `MetaType::Object` literal is written as the derives write it (see [`Decl::meta`]).
fn register_object<O: OutputType + ?Sized>(
    registry: &mut Registry,
    description: Option<&str>,
    shareable: bool,
    fields: &[Decl<'_>],
) -> String {
    registry.create_output_type::<O, _>(MetaTypeId::Object, |registry| {
        let fields = fields
            .iter()
            .map(|field| (field.name.to_owned(), field.meta(registry)))
            .collect();
        MetaType::Object {
            name: O::type_name().into_owned(),
            description: description.map(str::to_owned),
            fields,
            cache_control: Default::default(),
            extends: false,
            shareable,
            resolvable: true,
            inaccessible: false,
            interface_object: false,
            tags: Vec::new(),
            keys: None,
            visible: None,
            is_subscription: false,
            rust_typename: Some(std::any::type_name::<O>()),
            directive_invocations: Vec::new(),
            requires_scopes: Vec::new(),
        }
    })
}

/// The fields the registry holds for the object type `name` (registered by `ty`), in order,
/// each with its description; none when it is not an object.
///
/// Relies on: `Registry::types` maps a type's name to its `MetaType`, whose `fields()` are the
/// fields introspection shows.
fn registered_fields(
    registry: &mut Registry,
    ty: TypeRef,
    name: &str,
) -> Vec<(String, Option<String>)> {
    (ty.0)(registry);
    registry
        .types
        .get(name)
        .and_then(MetaType::fields)
        .map(|fields| {
            fields
                .values()
                .map(|f| (f.name.clone(), f.description.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Registers a record type from its catalogue; returns its type reference (`Finding!`).
pub fn register<T: Catalogued>(registry: &mut Registry) -> String {
    let fields: Vec<Decl<'_>> = T::catalogue()
        .fields()
        .iter()
        .map(|field| Decl {
            name: field.name,
            doc: field.doc,
            ty: field.ty,
            args: &field.args,
            cost: field.cost,
        })
        .collect();
    register_object::<T>(registry, described(T::DOC).as_deref(), false, &fields)
}

/// Makes a record type of the schema out of its [`Object`](super::Object) declaration: its
/// catalogue, built once, and async-graphql's `OutputType`, which registers the type from the
/// catalogue ([`register`]) and answers it through [`resolve_record`].
#[macro_export]
macro_rules! object {
    // A record over a table's checked projection (`entity::projected!` in module `$table`):
    // the wrapper's only way to its row is the projection's accessors (`Deref`), and its
    // fields' columns are derived ([`Projection`](crate::graphql::catalogue::Projection)).
    ($ty:ident over $($table:ident)::+) => {
        $crate::object!($ty);

        impl $crate::graphql::catalogue::Projection for $ty {
            type Row = $($table)::+::Projected;

            fn over(row: $($table)::+::Projected) -> Self {
                Self(row)
            }
        }

        impl From<$($table)::+::Model> for $ty {
            fn from(model: $($table)::+::Model) -> Self {
                Self(model.into())
            }
        }

        /// Only the checked accessors: the record has no other way to its row.
        impl std::ops::Deref for $ty {
            type Target = $($table)::+::Projected;

            fn deref(&self) -> &$($table)::+::Projected {
                &self.0
            }
        }
    };
    ($ty:ty) => {
        impl $crate::graphql::catalogue::Catalogued for $ty {
            fn catalogue() -> &'static $crate::graphql::catalogue::Catalogue<Self> {
                static CATALOGUE: std::sync::OnceLock<$crate::graphql::catalogue::Catalogue<$ty>> =
                    std::sync::OnceLock::new();
                CATALOGUE.get_or_init($crate::graphql::catalogue::Catalogue::build)
            }
        }

        impl async_graphql::OutputType for $ty {
            fn type_name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(<$ty as $crate::graphql::catalogue::Object>::NAME)
            }

            fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
                $crate::graphql::catalogue::register::<$ty>(registry)
            }

            async fn resolve(
                &self,
                ctx: &async_graphql::ContextSelectionSet<'_>,
                _field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> async_graphql::ServerResult<async_graphql::Value> {
                $crate::graphql::catalogue::resolve_one(ctx, self).await
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Answering selections: contexts the executor moves through.
// ---------------------------------------------------------------------------------------------

/// Where a selection answers: async-graphql's context of a selection set (its path in the
/// response, the document's fragments, the request's data and error list).
///
/// Relies on: `ContextSelectionSet` (a hidden re-export) is what `OutputType::resolve` is handed;
/// the executor keeps one per row so that errors carry the row's path. Only this file reaches
/// inside it.
#[derive(Clone)]
pub struct At<'a>(ContextSelectionSet<'a>);

impl<'a> At<'a> {
    /// The selection this context answers.
    ///
    /// Relies on: the hidden `item` field of a selection set's context is the selection set
    /// `OutputType::resolve` is asked to answer (as the derives read it).
    pub fn set(&self) -> &'a Positioned<SelectionSet> {
        self.0.item
    }

    /// The context of `field` selected here (its path one name longer).
    ///
    /// Relies on: `with_field` extends the path by the field's response key and makes the
    /// context a resolver receives (arguments read from `field`). Would break paths in errors,
    /// and arguments, if it changed: `tests/api/shapes.rs` compares answers and error paths.
    pub fn field<'b>(&'b self, field: &'b Positioned<FieldNode>) -> Context<'b> {
        self.0.with_field(field)
    }

    /// The context of what `field` answers (its own selection set), one name deeper.
    ///
    /// Relies on: `with_field` as [`At::field`], then `with_selection_set`, which keeps the path
    /// and swaps the selection: what the derives do for an object-valued field.
    pub fn inside<'b>(&'b self, field: &'b Positioned<FieldNode>) -> At<'b> {
        At(self
            .0
            .with_field(field)
            .with_selection_set(&field.node.selection_set))
    }

    /// The context of the `i`-th element of the list answered here.
    ///
    /// Relies on: `with_index` extends the path by an index, as the library's list resolver
    /// does.
    pub fn index(&self, i: usize) -> At<'_> {
        At(self.0.with_index(i))
    }

    /// The fragment the document defines under `name`.
    ///
    /// Relies on: `query_env.fragments` holds the operation's document's fragments by name
    /// (validation has checked each spread names one). The public look-ahead reads the same
    /// map, but drops positions and type conditions, which the executor needs.
    pub fn fragment(&self, name: &str) -> Option<&'a Positioned<FragmentDefinition>> {
        self.0.query_env.fragments.get(name)
    }

    /// Whether the type `type_name` implements the interface `interface`.
    ///
    /// Relies on: `schema_env.registry.implements` maps a type to the interfaces it
    /// implements, as the library's own fragment matching reads it.
    pub fn implements(&self, type_name: &str, interface: &str) -> bool {
        self.0
            .schema_env
            .registry
            .implements
            .get(type_name)
            .is_some_and(|interfaces| interfaces.contains(interface))
    }

    /// Reports `error` at this place (its path), leaving the value out.
    pub fn report(&self, error: ServerError) {
        self.0.add_error(located(self.0.path_node.as_ref(), error));
    }

    /// Reports `error` as it is (its path already set, or none).
    pub fn add_error(&self, error: ServerError) {
        self.0.add_error(error);
    }
}

impl<'a> DataContext<'a> for At<'a> {
    fn data<D: std::any::Any + Send + Sync>(&self) -> async_graphql::Result<&'a D> {
        self.0.data::<D>()
    }

    fn data_unchecked<D: std::any::Any + Send + Sync>(&self) -> &'a D {
        self.0.data_unchecked::<D>()
    }

    fn data_opt<D: std::any::Any + Send + Sync>(&self) -> Option<&'a D> {
        self.0.data_opt::<D>()
    }
}

/// The selection a field's context answers under (the field's own selection set), with the
/// field's node.
///
/// Relies on: a field's context holds its node in the hidden `item` field, and
/// `with_selection_set` makes the context of its selection, path unchanged.
pub fn under<'b>(field: &'b Context<'_>) -> (At<'b>, &'b Positioned<FieldNode>) {
    let node: &'b Positioned<FieldNode> = field.item;
    (At(field.with_selection_set(&node.node.selection_set)), node)
}

/// Where the field of `field` stands in the document (for errors about its arguments).
///
/// Relies on: the hidden `item` of a field's context is the field's node. The public
/// `SelectionField` does not tell positions.
pub fn pos(field: &Context<'_>) -> Pos {
    field.item.pos
}

/// The argument `name` of the field of `field`, as given (variables resolved), or `T`'s
/// reading of its absence.
///
/// Relies on: `param_value` resolves variables and parses the value as the derives' argument
/// reading does, with the argument's position in the error. The public
/// `SelectionField::arguments` resolves the values but not their positions, which a refusal's
/// `locations` carries.
pub fn argument<T: InputType>(field: &Context<'_>, name: &str) -> ServerResult<T> {
    Ok(field.param_value::<T>(name, None)?.1)
}

/// An argument of the field of `field` (variables resolved), `default` when it is left out.
///
/// Relies on: `param_value`, as [`argument`]; the default is what the derives pass for an
/// argument declared with one.
pub fn argument_or<T: InputType>(
    field: &Context<'_>,
    name: &str,
    default: Option<fn() -> T>,
) -> ServerResult<T> {
    Ok(field.param_value::<T>(name, default)?.1)
}

/// `error` of a root field's run, at the field's position.
///
/// Relies on: a field context's `item` is the field's node (its position), as the derives
/// read it.
pub fn at(field: &Context<'_>, error: async_graphql::Error) -> ServerError {
    error.into_server_error(field.item.pos)
}

/// A root field's answer: what its run returns, answered through its type where the derives
/// answer a field of an `#[Object]` (errors at the field's path; a non-null field's error
/// voids its parent, as theirs).
///
/// Relies on: `with_selection_set` makes the context of the field's selection, and
/// `OutputType::resolve` takes it with the field's node (what the object derive expands to).
pub async fn answer_root<V: OutputType>(
    field: &Context<'_>,
    value: impl std::future::Future<Output = ServerResult<V>>,
) -> ServerResult<Value> {
    let value = value
        .await
        .map_err(|err| located(field.path_node.as_ref(), err))?;
    let inside = field.with_selection_set(&field.item.node.selection_set);
    value.resolve(&inside, field.item).await
}

/// Registers a root part `O` with `fields`; the merged root takes them.
pub fn register_part<O: OutputType>(registry: &mut Registry, fields: &[Decl<'_>]) -> String {
    register_object::<O>(registry, None, false, fields)
}

/// The name of the field of `field` (what a root part is asked for).
///
/// Relies on: a field context's `item` is the field's node.
pub fn field_name<'a>(field: &Context<'a>) -> &'a str {
    field.item.node.name.node.as_str()
}

/// Makes a root part out of its [`Root`](super::Root) declaration: its table, built once, and
/// what async-graphql's merged roots ask of a part (`ObjectType`): its fields registered
/// ([`register_part`]) and each field answered from the table ([`super::roots::resolve`]).
///
/// Relies on: a part of `#[derive(MergedObject)]` is asked `ContainerType::resolve_field` with
/// the field's context, and an answer of none passes the field to the next part; the merged
/// type takes the fields each part registers (`create_fake_output_type`), so the part's own
/// name is never printed.
#[macro_export]
macro_rules! root {
    ($ty:ty) => {
        impl $crate::graphql::catalogue::Rooted for $ty {
            fn table() -> &'static $crate::graphql::catalogue::Roots {
                static TABLE: std::sync::OnceLock<$crate::graphql::catalogue::Roots> =
                    std::sync::OnceLock::new();
                TABLE.get_or_init($crate::graphql::catalogue::Roots::build::<$ty>)
            }
        }

        impl async_graphql::OutputType for $ty {
            fn type_name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(<$ty as $crate::graphql::catalogue::Root>::NAME)
            }

            fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
                $crate::graphql::catalogue::register_part::<$ty>(
                    registry,
                    &<$ty as $crate::graphql::catalogue::Rooted>::table().decls(),
                )
            }

            async fn resolve(
                &self,
                _ctx: &async_graphql::ContextSelectionSet<'_>,
                field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> async_graphql::ServerResult<async_graphql::Value> {
                // A root is answered field by field, never as a value.
                Err(async_graphql::ServerError::new(
                    "a root part is not a value",
                    Some(field.pos),
                ))
            }
        }

        impl async_graphql::ContainerType for $ty {
            async fn resolve_field(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> async_graphql::ServerResult<Option<async_graphql::Value>> {
                $crate::graphql::catalogue::resolve_part::<$ty>(ctx).await
            }
        }

        impl async_graphql::ObjectType for $ty {}
    };
}

/// Answers `value` (any output type) for every occurrence of the field of `field`, merging their
/// answers as the library merges repeated fields.
///
/// Relies on: `OutputType::resolve` takes the selection's context and the field's node, and
/// `with_selection_set` makes that context for each occurrence (path unchanged).
pub async fn resolve_output<V: OutputType>(
    field: &Context<'_>,
    value: &V,
    nodes: &[&Positioned<FieldNode>],
) -> ServerResult<Option<Value>> {
    let mut answer: Option<Value> = None;
    for node in nodes {
        let inside = field.with_selection_set(&node.node.selection_set);
        run::merge(&mut answer, value.resolve(&inside, node).await?);
    }
    Ok(answer)
}

/// Answers one record where async-graphql asks for it (a root field, a mutation's answer, a
/// subscription's event, a value a catalogued field awaited): [`object!`](crate::object)'s
/// `resolve`.
pub async fn resolve_record<T: Catalogued>(
    ctx: &ContextSelectionSet<'_>,
    item: &T,
) -> ServerResult<Value> {
    run::resolve_one(At(ctx.clone()), item).await
}

/// The (field, argument) names the schema declares on any type, introspection's own fields
/// included.
///
/// Relies on: `ExtensionContext::schema_env` (public) holds the hidden `registry`, whose
/// `types` are every type the schema serves, introspection's included. The SDL
/// (`Schema::sdl`, public) leaves out introspection's fields and their arguments.
pub fn declared_arguments(ctx: &ExtensionContext<'_>) -> HashSet<(String, String)> {
    ctx.schema_env
        .registry
        .types
        .values()
        .filter_map(MetaType::fields)
        .flat_map(|fields| fields.values())
        .flat_map(|field| {
            field
                .args
                .keys()
                .map(|arg| (field.name.clone(), arg.clone()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Output types the catalogue answers itself: lists of records, connections, edges.
// ---------------------------------------------------------------------------------------------

impl<T: Catalogued> OutputType for run::Many<T> {
    fn type_name() -> Cow<'static, str> {
        <Vec<T>>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<T>>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<T>>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<FieldNode>,
    ) -> ServerResult<Value> {
        run::many(At(ctx.clone()), &field.node.selection_set, &self.0).await
    }
}

impl<T: Catalogued> OutputType for Conn<T> {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(conn::connection_name::<T>())
    }

    /// Registers `{T}Connection` from its table ([`conn::CONNECTION`]), and checks that
    /// `PageInfo` (registered by async-graphql's own type, which the library's connections
    /// share) has exactly the fields [`conn::PAGE_INFO`] answers.
    fn create_type_info(registry: &mut Registry) -> String {
        let page_info = TypeRef::output::<async_graphql::connection::PageInfo>();
        let registered = registered_fields(registry, page_info, "PageInfo");
        let answered: Vec<(String, Option<String>)> = conn::PAGE_INFO
            .iter()
            .map(|(_, name, doc)| ((*name).to_owned(), described(doc)))
            .collect();
        // Schema construction (start-up, `rectrack schema`, every test) stops here rather
        // than serving a PageInfo field nothing answers.
        assert_eq!(
            registered, answered,
            "PageInfo's registered fields and the fields the catalogue answers differ"
        );
        let fields = conn::connection_fields::<T>();
        let decls: Vec<Decl<'_>> = fields.iter().map(conn::Part::decl).collect();
        register_object::<Self>(registry, None, true, &decls)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<FieldNode>,
    ) -> ServerResult<Value> {
        let at = At(ctx.clone());
        let env = Env::of(&at);
        Ok(conn::answer_one(&env, at, self).await)
    }
}

impl<T: Catalogued> OutputType for Edge<T> {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(conn::edge_name::<T>())
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let fields = conn::edge_fields::<T>();
        let decls: Vec<Decl<'_>> = fields.iter().map(conn::Part::decl).collect();
        register_object::<Self>(registry, Some(conn::EDGE_DOC), true, &decls)
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

#[cfg(test)]
mod tests {
    //! The door stays the only one: no other file of `src/` names an item async-graphql keeps
    //! out of its documented API.

    use std::path::{Path, PathBuf};

    /// The hidden (or "not stable") items of async-graphql 7.2.1 rectrack could reach, by the
    /// identifier a use of them must write. `item` and `execute_data` are context fields read
    /// as `.item` / `.execute_data`.
    const PRIVATE: &[&str] = &[
        "registry::",
        "Registry",
        "MetaField",
        "MetaType",
        "MetaInputValue",
        "MetaTypeId",
        "MetaEnumValue",
        "Deprecation",
        "ContextSelectionSet",
        "ContextBase",
        "QueryEnv",
        "SchemaEnv",
        "VisitorContext",
        "with_field",
        "with_selection_set",
        "with_index",
        "set_error_path",
        "param_value",
        "oneof_param_value",
        "query_env",
        "schema_env",
        "execute_data",
        "create_type_info",
        "ctx.item",
        "field.item",
        "async_graphql::indexmap",
        "async_graphql::futures_util",
        "async_graphql::async_trait",
        "async_graphql::static_assertions_next",
        "async_graphql::validators",
    ];

    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Whether `word` occurs in `line` as a whole identifier (or path).
    fn names(line: &str, word: &str) -> bool {
        let ident = |c: char| c.is_alphanumeric() || c == '_';
        line.match_indices(word).any(|(at, _)| {
            let before = line[..at].chars().next_back();
            let after = line[at + word.len()..].chars().next();
            let starts = word.starts_with(|c: char| !ident(c))
                || before.is_none_or(|c| !ident(c))
                || word.starts_with("ctx.")
                || word.starts_with("field.");
            let ends = word.ends_with(|c: char| !ident(c)) || after.is_none_or(|c| !ident(c));
            starts && ends
        })
    }

    /// Lines of `text` that name a private item (comments left out: they may name what they
    /// explain).
    fn offences(text: &str) -> Vec<(usize, &'static str)> {
        let mut found = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for word in PRIVATE {
                if names(code, word) {
                    found.push((n + 1, *word));
                }
            }
        }
        found
    }

    #[test]
    fn no_file_outside_the_door_names_a_private_item_of_async_graphql() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let door = root.join("src/graphql/catalogue/engine.rs").canonicalize();
        assert!(door.is_ok(), "the door is where this test says");
        let mut all = Vec::new();
        files(&root.join("src"), &mut all);
        assert!(all.len() > 50, "the scan found the sources ({})", all.len());
        let mut outside = Vec::new();
        for path in all {
            if path.canonicalize().ok() == door.as_ref().ok().cloned() {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (line, word) in offences(&text) {
                outside.push(format!("{}:{line}: {word}", path.display()));
            }
        }
        assert!(
            outside.is_empty(),
            "async-graphql's hidden API used outside src/graphql/catalogue/engine.rs (add a \
             function to the door, with what it relies on):\n{}",
            outside.join("\n")
        );
    }

    #[test]
    fn the_scan_sees_each_kind_of_use() {
        let sample = "let x = ctx.with_field(f);\n\
                      use async_graphql::registry::Registry;\n\
                      // a comment naming with_index is fine\n\
                      let p = field.item.pos;\n\
                      use async_graphql::futures_util::future::BoxFuture;\n\
                      fn create_type_info(r: &mut R) {}\n";
        let found: Vec<&str> = offences(sample).into_iter().map(|(_, w)| w).collect();
        assert_eq!(
            found,
            [
                "with_field",
                "registry::",
                "Registry",
                "field.item",
                "async_graphql::futures_util",
                "create_type_info"
            ]
        );
        // Names that merely contain a private one are not uses of it.
        assert!(
            offences("let registry_size = 1; fn with_fields() {} struct MetaTypes;").is_empty()
        );
        assert!(offences("let x = ctx.items; let y = field.item_count;").is_empty());
    }
}
