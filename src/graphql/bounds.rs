//! Bounds on a GraphQL document, enforced by rectrack itself before any walk of async-graphql
//! can be quadratic, exponential or deep. A document reaches the library only after two
//! passes, each linear and each bounded:
//! - [`scan`], before parsing: a small lexer (strings, block strings and comments skipped as
//!   the grammar says) counts the tokens and the nesting of `{ [ (`. The parser recurses on
//!   nested values and selection sets, so a text nested thousands deep could overflow the stack;
//!   the body limit alone bounds the bytes, not what they make the parser do.
//! - [`measure`], after parsing: one pass over every selection set of the document, each
//!   fragment's cost computed once (memoised) however often it is spread, with saturating
//!   arithmetic. It yields the expanded selection count (fields, fragment spreads and inline
//!   fragments, each counted every time it is reached, since the library's walks visit each),
//!   aliases, the directives on one selection, the depth of data and of introspection, and the
//!   nesting the library's recursion check counts; fragment cycles are refused as validation
//!   would refuse them, unknown fragments are left to validation.
//!
//! Once a document passed both, every later walk is small: the library's recursion check
//! visits at most the expanded selections (its limit is [`Bounds::nesting`], so rectrack, not
//! the library, decides), validation and the complexity and depth visitors expand fragments
//! within the same bound, and execution resolves at most that many fields. So the checks are
//! milliseconds of CPU on the async runtime, and the request timeout, which can only fire at
//! an await, fires soon after; long texts are scanned and parsed on the blocking pool.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Pos, ServerError};
use async_graphql_value::Value as DocValue;

use crate::config::GraphqlConfig;
use crate::error::{coded, codes};

/// The limits a document must keep, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub max_tokens: usize,
    pub max_fields: usize,
    pub max_aliases: usize,
    pub max_directives: usize,
    pub max_depth: usize,
    pub max_introspection_depth: usize,
}

impl Bounds {
    pub fn new(config: &GraphqlConfig) -> Self {
        Self {
            max_tokens: config.graphql_max_tokens,
            max_fields: config.graphql_max_fields,
            max_aliases: config.graphql_max_aliases,
            max_directives: config.graphql_max_directives,
            max_depth: config.graphql_max_depth,
            max_introspection_depth: config.graphql_max_introspection_depth,
        }
    }

    /// The deepest nesting allowed, of brackets in the text and of selection sets, fragment
    /// spreads and inline fragments in the document: twice the deepest field depth allowed,
    /// room for a fragment or an argument's brackets at every level. The library's own
    /// recursion limit is set to it, and [`measure`] refuses anything deeper first.
    pub fn nesting(&self) -> usize {
        2 * self.max_depth.max(self.max_introspection_depth)
    }
}

/// A text scanned against the bounds, then parsed (a document that does not parse is refused
/// in the request's language).
pub fn scan_and_parse(text: &str, bounds: &Bounds) -> Result<ExecutableDocument, ServerError> {
    scan(text, bounds)?;
    async_graphql::parser::parse_query(text).map_err(parse_refused)
}

/// A document that does not parse, said in the request's language from the parser's kind of
/// error and its position (the parser's own English text is not shown).
fn parse_refused(error: async_graphql::parser::Error) -> ServerError {
    use async_graphql::parser::Error as E;
    let message = match &error {
        E::Syntax { start, .. } => t!("parse-syntax", line = start.line, column = start.column),
        E::MultipleOperations { .. } => t!("parse-anonymous-among-others"),
        E::OperationDuplicated { operation, .. } => {
            t!("parse-operation-twice", name = operation.as_str())
        }
        E::FragmentDuplicated { fragment, .. } => {
            t!("parse-fragment-twice", name = fragment.as_str())
        }
        E::MissingOperation => t!("parse-no-operation"),
        _ => t!("parse-other"),
    };
    let mut refused: ServerError = error.into();
    refused.message = message;
    coded(refused, codes::GRAPHQL_PARSE_FAILED)
}

/// Counts the tokens of a text and the nesting of its brackets, in one linear pass that
/// allocates nothing; refuses a text over either limit before the parser sees it. A text the
/// lexer cannot make sense of (an unterminated string) is left to the parser to refuse.
pub fn scan(text: &str, bounds: &Bounds) -> Result<(), ServerError> {
    let bytes = text.as_bytes();
    let (mut tokens, mut open, mut deepest) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // Ignored tokens: white space, line terminators, commas, comments, the BOM's bytes.
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                tokens += 1;
                i += 3;
                // A block string ends at the first `"""` not escaped as `\"""`.
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
            }
            b'"' => {
                tokens += 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'{' | b'[' | b'(' => {
                tokens += 1;
                open += 1;
                deepest = deepest.max(open);
                i += 1;
            }
            b'}' | b']' | b')' => {
                tokens += 1;
                open = open.saturating_sub(1);
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                tokens += 1;
                i += 3;
            }
            // A name: one token for the whole run.
            c if c.is_ascii_alphabetic() || c == b'_' => {
                tokens += 1;
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
            }
            // A number (`-1.5e+3`): one token; a sign only leads or follows the exponent.
            c if c.is_ascii_digit() || c == b'-' => {
                tokens += 1;
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'.' && !bytes[i..].starts_with(b"...")
                        || matches!(bytes[i], b'+' | b'-') && matches!(bytes[i - 1], b'e' | b'E'))
                {
                    i += 1;
                }
            }
            // Any other punctuator (`! $ & : = @ |`), or a byte the parser will refuse.
            _ => {
                tokens += 1;
                i += 1;
            }
        }
    }
    if tokens > bounds.max_tokens {
        return Err(too_complex(t!(
            "query-too-many-tokens",
            tokens = tokens,
            max = bounds.max_tokens
        )));
    }
    if deepest > bounds.nesting() {
        return Err(too_complex(t!(
            "query-too-nested",
            nesting = deepest,
            max = bounds.nesting()
        )));
    }
    Ok(())
}

/// What [`measure`] learnt of a document, for the checks that follow on the checking copy.
#[derive(Debug, Default)]
pub struct Shape {
    /// The first argument whose string literal holds a NUL character.
    pub nul_argument: Option<String>,
    /// Arguments whose value holds a variable: field name, argument name and position.
    pub variable_arguments: Vec<(String, String, Pos)>,
    pub data_depth: usize,
    pub introspection_depth: usize,
}

/// The cost of a selection set with its fragments expanded, relative to the set: counts with
/// multiplicity, depths counted from the set's own fields (level 1).
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    /// Fields, fragment spreads and inline fragments, each time it is reached.
    selections: u64,
    aliases: u64,
    /// The library's recursion depth: fields with a selection set, spreads, inline fragments.
    nesting: usize,
    /// The deepest level of a data field.
    depth: usize,
    /// The deepest level of a field inside `__schema` or `__type`.
    introspection: usize,
}

impl Cost {
    /// Adds a selection's cost to that of its set.
    fn add(&mut self, other: Cost) {
        self.selections = self.selections.saturating_add(other.selections);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.nesting = self.nesting.max(other.nesting);
        self.depth = self.depth.max(other.depth);
        self.introspection = self.introspection.max(other.introspection);
    }
}

enum Memo {
    /// Being computed: a spread of it now is a cycle.
    Open,
    Done(Cost),
}

struct Measure<'a> {
    document: &'a ExecutableDocument,
    bounds: &'a Bounds,
    fragments: HashMap<&'a str, Memo>,
    cycle: Option<String>,
    /// Set when the pass itself went deeper than [`Bounds::nesting`] and stopped.
    cut: bool,
    worst_directives: usize,
    shape: Shape,
}

/// Measures a parsed document and refuses it when it is over a limit: a fragment cycle is
/// `GRAPHQL_VALIDATION_FAILED`, anything too big or too deep `QUERY_TOO_COMPLEX` naming the
/// limit and the figure. The selection count is that of all operations together; a fragment
/// no operation spreads must keep the limits alone (validation refuses it, but only after its
/// rules have walked it).
pub fn measure(document: &ExecutableDocument, bounds: &Bounds) -> Result<Shape, ServerError> {
    let mut pass = Measure {
        document,
        bounds,
        fragments: HashMap::new(),
        cycle: None,
        cut: false,
        worst_directives: 0,
        shape: Shape::default(),
    };
    let mut total = Cost::default();
    for (_, operation) in document.operations.iter() {
        let operation = &operation.node;
        pass.directives(operation.directives.len());
        let cost = pass.set(&operation.selection_set.node, 0);
        total.add(cost);
    }
    let mut worst = total;
    for (name, fragment) in document.fragments.iter() {
        pass.directives(fragment.node.directives.len());
        let cost = pass.fragment(name.as_str(), 0);
        worst.selections = worst.selections.max(cost.selections);
        worst.aliases = worst.aliases.max(cost.aliases);
        worst.nesting = worst.nesting.max(cost.nesting);
    }
    pass.verdict(total, worst)
}

impl<'a> Measure<'a> {
    fn directives(&mut self, count: usize) {
        self.worst_directives = self.worst_directives.max(count);
    }

    /// The cost of a fragment, computed on its first spread; `stack` is the nesting of the
    /// pass at that point, which stops the pass (and so its own recursion) past the limit.
    fn fragment(&mut self, name: &'a str, stack: usize) -> Cost {
        match self.fragments.get(name) {
            Some(Memo::Done(cost)) => return *cost,
            Some(Memo::Open) => {
                self.cycle.get_or_insert_with(|| name.to_owned());
                return Cost::default();
            }
            None => {}
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            // Unknown: validation refuses it by name.
            return Cost::default();
        };
        self.fragments.insert(name, Memo::Open);
        let cost = self.set(&fragment.node.selection_set.node, stack);
        self.fragments.insert(name, Memo::Done(cost));
        cost
    }

    fn set(&mut self, set: &'a SelectionSet, stack: usize) -> Cost {
        let mut cost = Cost::default();
        if stack > self.bounds.nesting() {
            self.cut = true;
            return cost;
        }
        for selection in &set.items {
            let one = match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    self.directives(field.directives.len());
                    let name = field.name.node.as_str();
                    for (argument, value) in &field.arguments {
                        self.argument(name, argument.node.as_str(), argument.pos, &value.node);
                    }
                    let inner = if field.selection_set.node.items.is_empty() {
                        Cost::default()
                    } else {
                        let inner = self.set(&field.selection_set.node, stack + 1);
                        Cost {
                            nesting: inner.nesting.saturating_add(1),
                            ..inner
                        }
                    };
                    let (depth, introspection) = if name == "__schema" || name == "__type" {
                        (0, 1 + inner.depth.max(inner.introspection))
                    } else {
                        let below = if inner.introspection > 0 {
                            1 + inner.introspection
                        } else {
                            0
                        };
                        (1 + inner.depth, below)
                    };
                    Cost {
                        selections: inner.selections.saturating_add(1),
                        aliases: inner
                            .aliases
                            .saturating_add(u64::from(field.alias.is_some())),
                        nesting: inner.nesting,
                        depth,
                        introspection,
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.directives(fragment.node.directives.len());
                    let inner = self.set(&fragment.node.selection_set.node, stack + 1);
                    Cost {
                        selections: inner.selections.saturating_add(1),
                        nesting: inner.nesting.saturating_add(1),
                        ..inner
                    }
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(spread.node.directives.len());
                    let name = spread.node.fragment_name.node.as_str();
                    let known = self.document.fragments.contains_key(name);
                    let inner = self.fragment(name, stack + 1);
                    Cost {
                        selections: inner.selections.saturating_add(1),
                        nesting: inner.nesting.saturating_add(usize::from(known)),
                        ..inner
                    }
                }
            };
            cost.add(one);
        }
        cost
    }

    /// Notes what an argument's value holds: a variable (validation's errors at its position
    /// are the caller's data), a NUL character in a string. Walked with a stack of its own, so
    /// a deeply nested value cannot deepen this pass's recursion.
    fn argument(&mut self, field: &str, name: &str, pos: Pos, value: &DocValue) {
        let (mut variable, mut nul) = (false, false);
        let mut pending = vec![value];
        while let Some(value) = pending.pop() {
            match value {
                DocValue::Variable(_) => variable = true,
                DocValue::String(s) => nul |= s.contains('\0'),
                DocValue::List(items) => pending.extend(items),
                DocValue::Object(map) => pending.extend(map.values()),
                _ => {}
            }
        }
        if variable {
            self.shape
                .variable_arguments
                .push((field.to_owned(), name.to_owned(), pos));
        }
        if nul && self.shape.nul_argument.is_none() {
            self.shape.nul_argument = Some(name.to_owned());
        }
    }

    /// The refusal, in the order a caller can act on: the document is wrong, then too big,
    /// then too deep.
    fn verdict(mut self, total: Cost, worst: Cost) -> Result<Shape, ServerError> {
        let bounds = self.bounds;
        if let Some(name) = self.cycle {
            return Err(coded(
                ServerError::new(t!("fragment-cycle", name = &name), None),
                codes::GRAPHQL_VALIDATION_FAILED,
            ));
        }
        if worst.selections > bounds.max_fields as u64 {
            return Err(too_complex(t!(
                "query-too-many-fields",
                fields = worst.selections,
                max = bounds.max_fields
            )));
        }
        if worst.aliases > bounds.max_aliases as u64 {
            return Err(too_complex(t!(
                "query-too-many-aliases",
                aliases = worst.aliases,
                max = bounds.max_aliases
            )));
        }
        if self.worst_directives > bounds.max_directives {
            return Err(too_complex(t!(
                "query-too-many-directives",
                directives = self.worst_directives,
                max = bounds.max_directives
            )));
        }
        if total.depth > bounds.max_depth || total.introspection > bounds.max_introspection_depth {
            return Err(too_complex(t!(
                "query-too-deep",
                depth = total.depth.max(total.introspection),
                max = bounds.max_depth,
                introspection = bounds.max_introspection_depth
            )));
        }
        if self.cut || worst.nesting > bounds.nesting() {
            return Err(too_complex(t!(
                "query-too-nested",
                nesting = worst.nesting.max(bounds.nesting() + 1),
                max = bounds.nesting()
            )));
        }
        self.shape.data_depth = total.depth;
        self.shape.introspection_depth = total.introspection;
        Ok(self.shape)
    }
}

pub(super) fn too_complex(message: String) -> ServerError {
    coded(ServerError::new(message, None), codes::QUERY_TOO_COMPLEX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(max_tokens: usize) -> Bounds {
        Bounds {
            max_tokens,
            max_fields: 300,
            max_aliases: 50,
            max_directives: 4,
            max_depth: 12,
            max_introspection_depth: 16,
        }
    }

    /// The tokens `scan` counts, read from its refusal with a limit of zero.
    fn tokens(text: &str) -> usize {
        match scan(text, &bounds(0)) {
            Ok(()) => 0,
            Err(error) => error
                .message
                .split_whitespace()
                .find_map(|word| word.parse().ok())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn strings_comments_and_white_space_are_not_tokens_of_their_own() {
        assert_eq!(tokens("{ me { role } }"), 6);
        assert_eq!(tokens("# { [ ( \n{ me }"), 3);
        assert_eq!(tokens(r#"{ f(a: "{ [ \" (", b: """ { \""" [ """) }"#), 11);
        assert_eq!(tokens("{ role...L1...L1 }"), 7);
        assert_eq!(tokens("{ f(a: -1.5e+3, b: [1, 2]) }"), 14);
        assert_eq!(tokens(&format!("{}{{ a }}", " ".repeat(100_000))), 3);
    }

    #[test]
    fn brackets_inside_strings_do_not_nest() {
        let inside = format!("{{ f(a: \"{}\") }}", "[".repeat(1000));
        assert!(scan(&inside, &bounds(100)).is_ok());
        let outside = format!("{{ f(a: {}1{}) }}", "[".repeat(40), "]".repeat(40));
        assert!(scan(&outside, &bounds(1000)).is_err());
    }

    #[test]
    fn each_fragment_is_measured_once_and_its_spreads_counted_each_time() {
        let text = "query { me { ...A ...A } } fragment A on Me { role ...B ...B } \
                    fragment B on Me { x: role }";
        let document = async_graphql::parser::parse_query(text).unwrap();
        let shape = measure(&document, &bounds(1000)).unwrap();
        assert_eq!(shape.data_depth, 2);
        // me, 2 × (spread A, role, 2 × (spread B, role)) = 1 + 2 × 6 = 13 selections.
        let tight = Bounds {
            max_fields: 12,
            ..bounds(1000)
        };
        let refused = measure(&document, &tight).unwrap_err();
        assert!(refused.message.contains("13"), "{}", refused.message);
        let few_aliases = Bounds {
            max_aliases: 3,
            ..bounds(1000)
        };
        let refused = measure(&document, &few_aliases).unwrap_err();
        assert!(refused.message.contains(" 4 "), "{}", refused.message);
    }
}
