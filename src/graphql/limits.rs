//! Limits on operations beyond async-graphql's own depth and complexity checks, and the
//! stable error codes of errors that async-graphql raises without one.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

/// Refuses documents with more field selections than the limit, counting a fragment each time
/// it is spread: a flood of aliases (`a1: me a2: me ...`) costs little complexity per field
/// but must still be refused.
pub struct FieldCount(pub usize);

impl ExtensionFactory for FieldCount {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FieldCountExtension(self.0))
    }
}

struct FieldCountExtension(usize);

#[async_graphql::async_trait::async_trait]
impl Extension for FieldCountExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut count = 0;
        for (_, operation) in document.operations.iter() {
            count_fields(&document, &operation.node.selection_set.node, &mut count, 0);
        }
        if count > self.0 {
            let mut error = ServerError::new(
                format!(
                    "Query is too complex: {count} fields selected, at most {} allowed.",
                    self.0
                ),
                None,
            );
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", TOO_COMPLEX);
            error.extensions = Some(extensions);
            return Err(error);
        }
        Ok(document)
    }
}

/// Adds the fields of `set` to `count`, following fragments (with a depth guard: fragment
/// cycles are refused by validation later, but counting must not loop before that).
fn count_fields(
    document: &ExecutableDocument,
    set: &SelectionSet,
    count: &mut usize,
    depth: usize,
) {
    if depth > 64 || *count > 100_000 {
        *count = usize::MAX / 2;
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                *count += 1;
                count_fields(document, &field.node.selection_set.node, count, depth + 1);
            }
            Selection::InlineFragment(fragment) => {
                count_fields(
                    document,
                    &fragment.node.selection_set.node,
                    count,
                    depth + 1,
                );
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    count_fields(
                        document,
                        &fragment.node.selection_set.node,
                        count,
                        depth + 1,
                    );
                }
            }
        }
    }
}

pub const TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";

/// Gives a stable code to errors async-graphql raises without one: parse errors, validation
/// errors (unknown fields, wrong argument types, depth and complexity limits).
pub fn classify(error: &mut ServerError) {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if has_code {
        return;
    }
    let message = error.message.as_str();
    let code = if message.starts_with("Query is too complex")
        || message.starts_with("Query is nested too deep")
        || message.contains("too many directives")
    {
        TOO_COMPLEX
    } else if message.starts_with("Invalid value for argument")
        || message.contains("Failed to parse")
    {
        "BAD_USER_INPUT"
    } else if error.locations.is_empty() && message.contains("-->") {
        "GRAPHQL_PARSE_FAILED"
    } else {
        "GRAPHQL_VALIDATION_FAILED"
    };
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
}
