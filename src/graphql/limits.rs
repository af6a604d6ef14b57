//! The limits on GraphQL operations, and the stable code of every error async-graphql raises
//! without one. One extension, [`Limits`], does both, by the phase an error comes from rather
//! than by its text. It runs on the checking copy of the schema only (see
//! [`super::Served`]), which stops before execution; [`code_errors`] gives the running copy's
//! errors their codes by the same rule.
//! - parsing: a document that does not parse is `GRAPHQL_PARSE_FAILED`; one with too many
//!   field selections (fragments counted each time they are spread, so 500 aliases are
//!   refused) or too many directives on a field is `QUERY_TOO_COMPLEX`; a NUL character in any
//!   string, in the document or the variables, is `BAD_USER_INPUT` naming where it is;
//! - validation: an invalid value given through a variable is `BAD_USER_INPUT` (the caller's
//!   data is wrong); any other rule broken is `GRAPHQL_VALIDATION_FAILED`; then depth and
//!   complexity, each by its own rule for data and for introspection (the introspection query
//!   every client tool sends nests its type references deeper than data queries need), are
//!   `QUERY_TOO_COMPLEX`;
//! - execution: an argument that fails to coerce is `BAD_USER_INPUT`; an error without a path
//!   (no such operation in the document) is `GRAPHQL_VALIDATION_FAILED`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
    NextValidation,
};
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{
    Name, Pos, Positioned, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
};

use async_graphql_value::Value as DocValue;

use crate::error::codes;

/// The limits in force.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_fields: usize,
    pub max_directives: usize,
    /// Introspection's own depth limit (graphql-js 16's full query nests 13 deep, graphql-core
    /// 3.2's likewise; data queries keep `max_depth`).
    pub max_introspection_depth: usize,
    /// Whether introspection is served at all.
    pub introspection: bool,
}

pub struct Limits {
    rules: Rules,
    arguments: Arc<OnceLock<Arguments>>,
}

impl Limits {
    pub fn new(rules: Rules) -> Self {
        Self {
            rules,
            arguments: Arc::default(),
        }
    }
}

/// The (field, argument) names the schema declares on any type: an argument the schema does
/// not know is a mistake in the document even when its value is a variable.
type Arguments = HashSet<(String, String)>;

fn arguments_of(registry: &async_graphql::registry::Registry) -> Arguments {
    registry
        .types
        .values()
        .filter_map(|t| t.fields())
        .flat_map(|fields| fields.values())
        .flat_map(|field| {
            field
                .args
                .keys()
                .map(|arg| (field.name.clone(), arg.clone()))
        })
        .collect()
}

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension {
            rules: self.rules,
            arguments: self.arguments.clone(),
            shape: Mutex::default(),
        })
    }
}

/// What parsing learnt of the document, for the later phases of the same request.
#[derive(Default)]
struct Shape {
    /// Where arguments whose value holds a variable are.
    variable_arguments: HashSet<Pos>,
    data_depth: usize,
    introspection_depth: usize,
}

struct LimitsExtension {
    rules: Rules,
    arguments: Arc<OnceLock<Arguments>>,
    shape: Mutex<Shape>,
}

fn coded(mut error: ServerError, code: &str) -> ServerError {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
}

fn too_complex(message: String) -> ServerError {
    coded(ServerError::new(message, None), codes::QUERY_TOO_COMPLEX)
}

fn bad_input(message: String, field: &str) -> ServerError {
    let mut error = coded(ServerError::new(message, None), codes::BAD_USER_INPUT);
    if let Some(ext) = error.extensions.as_mut() {
        ext.set("field", field);
    }
    error
}

#[async_graphql::async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        code_errors(&mut response);
        response
    }

    /// The checking copy never executes: an operation that passed every check runs on the
    /// copy without extensions.
    async fn execute(
        &self,
        _ctx: &ExtensionContext<'_>,
        _operation_name: Option<&str>,
        _next: NextExecute<'_>,
    ) -> Response {
        Response::new(Value::Null)
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await.map_err(|error| {
            if has_code(&error) {
                error
            } else {
                coded(error, codes::GRAPHQL_PARSE_FAILED)
            }
        })?;
        if let Some(path) = nul_in_variables(variables) {
            return Err(bad_input(t!("variable-nul", path = &path), &path));
        }
        let known = self
            .arguments
            .get_or_init(|| arguments_of(&ctx.schema_env.registry));
        let mut walk = Walk {
            document: &document,
            known,
            fields: 0,
            worst_directives: 0,
            nul_argument: None,
            variable_arguments: HashSet::new(),
            data_depth: 0,
            introspection_depth: 0,
        };
        for (_, operation) in document.operations.iter() {
            walk.set(&operation.node.selection_set.node, 0, false, 0);
        }
        for fragment in document.fragments.values() {
            walk.fragment_literals(fragment);
        }
        if let Some(argument) = walk.nul_argument {
            return Err(bad_input(
                t!("argument-nul", argument = &argument),
                &argument,
            ));
        }
        if walk.fields > self.rules.max_fields {
            return Err(too_complex(t!(
                "query-too-many-fields",
                fields = walk.fields,
                max = self.rules.max_fields
            )));
        }
        if walk.worst_directives > self.rules.max_directives {
            return Err(too_complex(t!(
                "query-too-many-directives",
                directives = walk.worst_directives,
                max = self.rules.max_directives
            )));
        }
        if let Ok(mut shape) = self.shape.lock() {
            *shape = Shape {
                variable_arguments: walk.variable_arguments,
                data_depth: walk.data_depth,
                introspection_depth: walk.introspection_depth,
            };
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let shape = std::mem::take(&mut *self.shape.lock().unwrap_or_else(|e| e.into_inner()));
        let result = next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| {
                    if has_code(&error) {
                        return error;
                    }
                    // An invalid value that came in through a variable is the caller's data.
                    let through_variable = error
                        .locations
                        .iter()
                        .any(|pos| shape.variable_arguments.contains(pos));
                    let code = if through_variable {
                        codes::BAD_USER_INPUT
                    } else {
                        codes::GRAPHQL_VALIDATION_FAILED
                    };
                    coded(error, code)
                })
                .collect::<Vec<_>>()
        })?;
        if shape.introspection_depth > 0 && !self.rules.introspection {
            return Err(vec![coded(
                ServerError::new(t!("introspection-off"), None),
                codes::GRAPHQL_VALIDATION_FAILED,
            )]);
        }
        if shape.data_depth > self.rules.max_depth
            || shape.introspection_depth > self.rules.max_introspection_depth
        {
            return Err(vec![too_complex(t!(
                "query-too-deep",
                depth = shape.data_depth.max(shape.introspection_depth),
                max = self.rules.max_depth,
                introspection = self.rules.max_introspection_depth
            ))]);
        }
        if result.complexity > self.rules.max_complexity {
            return Err(vec![too_complex(t!(
                "query-too-complex",
                complexity = result.complexity,
                max = self.rules.max_complexity
            ))]);
        }
        Ok(result)
    }
}

/// Gives every error async-graphql raised without a code its code: one with a path came from
/// an argument that failed to coerce (the caller's data); one without from the document.
pub fn code_errors(response: &mut Response) {
    for error in response.errors.iter_mut() {
        if !has_code(error) {
            let code = if error.path.is_empty() {
                codes::GRAPHQL_VALIDATION_FAILED
            } else {
                codes::BAD_USER_INPUT
            };
            *error = coded(std::mem::replace(error, ServerError::new("", None)), code);
        }
    }
}

/// A document that does not parse.
pub fn parse_failed(error: async_graphql::parser::Error) -> Response {
    Response::from_errors(vec![coded(error.into(), codes::GRAPHQL_PARSE_FAILED)])
}

/// The path of the first variable value holding a NUL character (`input.code`).
fn nul_in_variables(variables: &Variables) -> Option<String> {
    fn walk(value: &Value, path: &mut Vec<String>) -> Option<String> {
        match value {
            Value::String(s) if s.contains('\0') => Some(path.join(".")),
            Value::List(items) => items.iter().enumerate().find_map(|(i, v)| {
                path.push(i.to_string());
                let found = walk(v, path);
                path.pop();
                found
            }),
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                path.push(k.to_string());
                let found = walk(v, path);
                path.pop();
                found
            }),
            _ => None,
        }
    }
    variables.iter().find_map(|(name, value)| {
        let mut path = vec![name.to_string()];
        walk(value, &mut path)
    })
}

/// One pass over a document: field count (fragments counted per spread), directives per field,
/// NUL characters in string literals, arguments that carry variables, and the depth of data
/// and of introspection selections.
struct Walk<'a> {
    document: &'a ExecutableDocument,
    known: &'a Arguments,
    fields: usize,
    worst_directives: usize,
    nul_argument: Option<String>,
    variable_arguments: HashSet<Pos>,
    data_depth: usize,
    introspection_depth: usize,
}

impl Walk<'_> {
    /// `depth` is the field depth of `set`'s fields; `guard` stops fragment cycles, which
    /// validation refuses later but counting must survive.
    fn set(&mut self, set: &SelectionSet, depth: usize, introspection: bool, guard: usize) {
        if guard > 64 || self.fields > 100_000 {
            self.fields = usize::MAX / 2;
            return;
        }
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    self.fields += 1;
                    self.worst_directives = self.worst_directives.max(field.directives.len());
                    let name = field.name.node.as_str();
                    for (argument, value) in &field.arguments {
                        self.argument(name, argument, value);
                    }
                    let inside = introspection || name == "__schema" || name == "__type";
                    let level = depth + 1;
                    if inside {
                        self.introspection_depth = self.introspection_depth.max(level);
                    } else {
                        self.data_depth = self.data_depth.max(level);
                    }
                    self.set(&field.selection_set.node, level, inside, guard + 1);
                }
                Selection::InlineFragment(fragment) => {
                    self.set(
                        &fragment.node.selection_set.node,
                        depth,
                        introspection,
                        guard + 1,
                    );
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) =
                        self.document.fragments.get(&spread.node.fragment_name.node)
                    {
                        self.set(
                            &fragment.node.selection_set.node,
                            depth,
                            introspection,
                            guard + 1,
                        );
                    }
                }
            }
        }
    }

    fn argument(&mut self, field: &str, name: &Positioned<Name>, value: &Positioned<DocValue>) {
        fn has_variable(value: &DocValue) -> bool {
            match value {
                DocValue::Variable(_) => true,
                DocValue::List(items) => items.iter().any(has_variable),
                DocValue::Object(map) => map.values().any(has_variable),
                _ => false,
            }
        }
        fn has_nul(value: &DocValue) -> bool {
            match value {
                DocValue::String(s) => s.contains('\0'),
                DocValue::List(items) => items.iter().any(has_nul),
                DocValue::Object(map) => map.values().any(has_nul),
                _ => false,
            }
        }
        if has_variable(&value.node)
            && self
                .known
                .contains(&(field.to_owned(), name.node.to_string()))
        {
            self.variable_arguments.insert(name.pos);
        }
        if self.nul_argument.is_none() && has_nul(&value.node) {
            self.nul_argument = Some(name.node.to_string());
        }
    }

    /// String literals of fragments nobody spreads are checked too.
    fn fragment_literals(&mut self, fragment: &Positioned<FragmentDefinition>) {
        let saved = (self.fields, self.data_depth, self.introspection_depth);
        self.set(&fragment.node.selection_set.node, 0, false, 0);
        (self.fields, self.data_depth, self.introspection_depth) = saved;
    }
}
