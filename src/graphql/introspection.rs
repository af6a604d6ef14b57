//! Who introspection is served to (`RECTRACK_GRAPHQL_INTROSPECTION`): everyone, identified
//! callers only (production's default: the schema is a map of the API for an attacker), or
//! nobody.
//!
//! "Nobody" is the schema's own switch (both copies are built without introspection).
//! "Identified only" depends on the caller, so it is decided per request, after the document
//! is found and parsed and before any check or cached pass ([`super::Served`]): a document
//! that passed for an identified caller is still refused to an anonymous one.

use std::any::TypeId;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Data, Response, ServerError};

use crate::auth::Caller;
use crate::config::Introspection;
use crate::error::codes;

/// Whether the caller in a request's (or a socket's) data has a token.
pub fn identified(data: &Data) -> bool {
    data.get(&TypeId::of::<Caller>())
        .and_then(|caller| caller.downcast_ref::<Caller>())
        .is_some_and(|caller| caller.identity().is_some())
}

/// The refusal of an introspection query to a caller it is not served to: the same as when
/// introspection is off.
pub fn refused(
    policy: Introspection,
    identified: bool,
    document: &ExecutableDocument,
) -> Option<Response> {
    let allowed = match policy {
        Introspection::Everyone => true,
        Introspection::Identified => identified,
        // The schema itself refuses it (and says so the same way).
        Introspection::Off => true,
    };
    if allowed || !introspects(document) {
        return None;
    }
    let mut error = ServerError::new(t!("introspection-off"), None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", codes::GRAPHQL_VALIDATION_FAILED);
    Some(Response::from_errors(vec![error]))
}

/// Whether any operation or fragment of the document selects `__schema` or `__type`. Each
/// definition is looked at once (spreads are not followed), with a stack rather than
/// recursion, so the cost is the document's size whatever its shape.
fn introspects(document: &ExecutableDocument) -> bool {
    let mut stack: Vec<&SelectionSet> = document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set.node)
        .chain(
            document
                .fragments
                .values()
                .map(|fragment| &fragment.node.selection_set.node),
        )
        .collect();
    while let Some(set) = stack.pop() {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if name == "__schema" || name == "__type" {
                        return true;
                    }
                    stack.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    stack.push(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    false
}
