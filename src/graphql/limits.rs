//! The limits on GraphQL operations, and the stable code of every error async-graphql raises
//! without one. One extension, [`Limits`], does both, by the phase an error comes from rather
//! than by its text. It runs on the checking copy of the schema only (see
//! [`super::Served`]), which stops before execution; [`code_errors`] gives the running copy's
//! errors their codes by the same rule.
//! - before: the text's tokens and brackets, and the document's size (selections with
//!   fragments counted each time they are spread, so 500 aliases are refused), aliases,
//!   directives, depth and nesting are bounded by [`super::bounds`] before the checking copy
//!   runs; a NUL character in any string, in the document or the variables, is
//!   `BAD_USER_INPUT` naming where it is;
//! - parsing: a document that does not parse is `GRAPHQL_PARSE_FAILED`;
//! - validation: an invalid value given through a variable is `BAD_USER_INPUT` (the caller's
//!   data is wrong); any other rule broken is `GRAPHQL_VALIDATION_FAILED`; then complexity is
//!   `QUERY_TOO_COMPLEX`;
//! - execution: an argument that fails to coerce is `BAD_USER_INPUT`; an error without a path
//!   (no such operation in the document) is `GRAPHQL_VALIDATION_FAILED`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
    NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Pos, Response, ServerError, ServerResult, ValidationResult, Value, Variables};

use super::bounds::{self, Bounds, too_complex};
use crate::error::{coded, codes};

/// The limits in force.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Size, depth and nesting, enforced before the library walks the document.
    pub bounds: Bounds,
    pub max_complexity: usize,
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
    /// Whether it selects `__schema` or `__type`.
    introspection: bool,
}

struct LimitsExtension {
    rules: Rules,
    arguments: Arc<OnceLock<Arguments>>,
    shape: Mutex<Shape>,
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
}

fn bad_input(message: String, field: &str) -> ServerError {
    let mut error = coded(ServerError::new(message, None), codes::BAD_USER_INPUT);
    if let Some(ext) = error.extensions.as_mut() {
        ext.set("field", field);
    }
    error
}

#[async_trait::async_trait]
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
        // The document's shape was measured before the checking copy ran (`Served::checked`,
        // [`super::bounds::measure`]); measured here only for a request that came another way.
        let shape = match ctx.data_opt::<Arc<bounds::Shape>>() {
            Some(shape) => shape.clone(),
            None => Arc::new(bounds::measure(&document, &self.rules.bounds)?),
        };
        if let Some(argument) = &shape.nul_argument {
            return Err(bad_input(t!("argument-nul", argument = argument), argument));
        }
        let known = self
            .arguments
            .get_or_init(|| super::catalogue::declared_arguments(ctx));
        if let Ok(mut kept) = self.shape.lock() {
            *kept = Shape {
                variable_arguments: shape
                    .variable_arguments
                    .iter()
                    .filter(|(field, argument, _)| {
                        known.contains(&(field.clone(), argument.clone()))
                    })
                    .map(|(_, _, pos)| *pos)
                    .collect(),
                introspection: shape.introspection_depth > 0,
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
        if shape.introspection && !self.rules.introspection {
            return Err(vec![coded(
                ServerError::new(t!("introspection-off"), None),
                codes::GRAPHQL_VALIDATION_FAILED,
            )]);
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
