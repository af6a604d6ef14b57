//! The roots' parts (the queries and the commands of one domain), declared as tables of their
//! fields like every other object type: name, description, type, typed arguments, cost, and
//! what the field runs. async-graphql merges the parts into `Query` and `Mutation` and asks
//! each part for a field by name ([`super::engine`]'s `root!`); a part answers from its table,
//! running the field with its arguments read as declared, and answers the value the field
//! returns through its type: a catalogued record or page through the catalogue's executor.
//! The arguments are read by the declaration that registers them, so the two cannot differ.

use std::collections::HashMap;

use async_graphql::{Context, InputType, OutputType, ServerResult, Value};
use futures_util::future::BoxFuture;

use super::engine::{self, Cost, Decl, TypeRef};
use super::{Arg, page_args, page_of};
use crate::domain::reads::page::PageArgs;

/// A part of a root type, whose fields are declared in its table.
pub trait Root: Default + Send + Sync + 'static {
    /// Its name in the registry (never printed: the merged root takes its fields).
    const NAME: &'static str;
    /// Declares its fields, in the schema's order (once, for [`Rooted::table`]).
    fn fields(fields: &mut Roots);
}

/// A root part with its table built (by [`root!`](crate::root)): what the merged roots ask.
pub trait Rooted: Root + async_graphql::ObjectType {
    fn table() -> &'static Roots;
}

/// What a root field runs: its arguments read, its value answered through its type.
type Run = Box<dyn for<'c> Fn(&'c Context<'c>) -> BoxFuture<'c, ServerResult<Value>> + Send + Sync>;

/// One field of a root part.
pub struct RootField {
    name: &'static str,
    doc: &'static str,
    ty: TypeRef,
    args: Vec<Arg>,
    cost: Option<Cost>,
    run: Run,
}

impl RootField {
    /// The field's cost for the complexity limit (lists: their size times their content).
    pub fn cost(&mut self, cost: Cost) -> &mut Self {
        self.cost = Some(cost);
        self
    }
}

/// A root part's fields, with an index by name.
#[derive(Default)]
pub struct Roots {
    fields: Vec<RootField>,
    by_name: HashMap<&'static str, usize>,
}

impl Roots {
    /// Builds `R`'s table.
    pub fn build<R: Root>() -> Self {
        let mut roots = Self::default();
        R::fields(&mut roots);
        roots.by_name = roots
            .fields
            .iter()
            .enumerate()
            .map(|(i, field)| (field.name, i))
            .collect();
        roots
    }

    /// The fields as the registry takes them.
    pub fn decls(&self) -> Vec<Decl<'_>> {
        self.fields
            .iter()
            .map(|field| Decl {
                name: field.name,
                doc: field.doc,
                ty: field.ty,
                args: &field.args,
                cost: field.cost,
            })
            .collect()
    }

    fn named(&self, name: &str) -> Option<&RootField> {
        self.by_name.get(name).map(|i| &self.fields[*i])
    }

    /// A field taking the arguments `params` declares (read for it, typed, before `run`) and
    /// answering `V`.
    pub fn field<P: Params, V: OutputType + 'static>(
        &mut self,
        name: &'static str,
        doc: &'static str,
        params: P,
        run: for<'c> fn(&'c Context<'c>, P::Values) -> BoxFuture<'c, async_graphql::Result<V>>,
    ) -> &mut RootField {
        let args = params.args();
        let run: Run = Box::new(move |ctx| {
            let values = params.read(ctx);
            Box::pin(engine::answer_root(ctx, async move {
                run(ctx, values?).await.map_err(|err| engine::at(ctx, err))
            }))
        });
        self.fields.push(RootField {
            name,
            doc,
            ty: TypeRef::output::<V>(),
            args,
            cost: None,
            run,
        });
        self.fields.last_mut().expect("a field was just added")
    }
}

/// The arguments of a root field: what they are declared as, and how they are read.
pub trait Params: Send + Sync + 'static {
    /// What the field is given.
    type Values: Send;
    /// The arguments, in the schema's order.
    fn args(&self) -> Vec<Arg>;
    /// Reads them off the field (variables resolved, defaults applied), or the refusal.
    fn read(&self, field: &Context<'_>) -> ServerResult<Self::Values>;
}

/// One argument: its name, type, description and default.
pub struct Param<T> {
    name: &'static str,
    doc: &'static str,
    default: Option<fn() -> T>,
}

/// The argument `name` of type `T`.
pub fn param<T: InputType>(name: &'static str) -> Param<T> {
    Param {
        name,
        doc: "",
        default: None,
    }
}

impl<T: InputType> Param<T> {
    /// The value taken when the argument is left out (printed as its default).
    pub fn or(mut self, default: fn() -> T) -> Self {
        self.default = Some(default);
        self
    }

    /// What the argument means.
    pub fn doc(mut self, doc: &'static str) -> Self {
        self.doc = doc;
        self
    }
}

impl<T: InputType + Send + 'static> Params for Param<T> {
    type Values = T;

    fn args(&self) -> Vec<Arg> {
        let mut arg = Arg::new::<T>(self.name, self.doc);
        arg.default = self.default.map(|default| default().to_value().to_string());
        vec![arg]
    }

    fn read(&self, field: &Context<'_>) -> ServerResult<T> {
        engine::argument_or(field, self.name, self.default)
    }
}

/// No arguments.
impl Params for () {
    type Values = ();

    fn args(&self) -> Vec<Arg> {
        Vec::new()
    }

    fn read(&self, _: &Context<'_>) -> ServerResult<()> {
        Ok(())
    }
}

/// A connection's Relay arguments (`first`, `after`, `last`, `before`), as given.
pub struct Pages;

impl Params for Pages {
    type Values = PageArgs;

    fn args(&self) -> Vec<Arg> {
        page_args()
    }

    fn read(&self, field: &Context<'_>) -> ServerResult<PageArgs> {
        page_of(field)
    }
}

/// Arguments in order, each part read in turn (a part may be a group: [`Pages`]).
macro_rules! tuple_params {
    ($($p:ident),+) => {
        impl<$($p: Params),+> Params for ($($p,)+) {
            type Values = ($($p::Values,)+);

            fn args(&self) -> Vec<Arg> {
                #[allow(non_snake_case)]
                let ($($p,)+) = self;
                let mut args = Vec::new();
                $(args.extend($p.args());)+
                args
            }

            fn read(&self, field: &Context<'_>) -> ServerResult<Self::Values> {
                #[allow(non_snake_case)]
                let ($($p,)+) = self;
                Ok(($($p.read(field)?,)+))
            }
        }
    };
}

tuple_params!(A);
tuple_params!(A, B);
tuple_params!(A, B, C);
tuple_params!(A, B, C, D);
tuple_params!(A, B, C, D, E);
tuple_params!(A, B, C, D, E, F);
tuple_params!(A, B, C, D, E, F, G);
tuple_params!(A, B, C, D, E, F, G, H);

/// Answers the field of `field` from `R`'s table; none when the table has no such field (the
/// merged root asks its next part).
pub async fn resolve<R: Rooted>(field: &Context<'_>) -> ServerResult<Option<Value>> {
    match R::table().named(engine::field_name(field)) {
        Some(declared) => (declared.run)(field).await.map(Some),
        None => Ok(None),
    }
}
