//! The values a request gives (the document's literal arguments and the variables), checked
//! against the input types the schema declares before the library validates the document.
//! Every value the library would refuse in English is refused here first, with its own message
//! in the caller's language and the code clients have always seen: `BAD_USER_INPUT` for a
//! variable (the caller's data), `GRAPHQL_VALIDATION_FAILED` for a literal in the document.
//!
//! The schema is read through its public description only: the SDL the server exports, parsed
//! with the parser's `parse_schema`. A custom scalar's value is judged by the scalar's own
//! `parse` (the one rule of what a `Date` is); only the sentence around it is said here.
//! Selections are followed to know each argument's field, and a field the type lacks is
//! refused too; the other rules of a document (fragments, variables' positions, directives)
//! stay with the library's validation.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationType, Selection, SelectionSet, Type, TypeKind,
    TypeSystemDefinition,
};
use async_graphql::{Number, Pos, ScalarType, ServerError, Value as ConstValue, Variables};
use async_graphql_value::Value as DocValue;

use super::scalars::{Date, Time};
use crate::error::coded;
use crate::error::codes;
use crate::i18n::{Language, current};

/// An argument or an input field: its name, declared type and whether it has a default.
struct Declared {
    name: String,
    ty: Type,
    defaulted: bool,
}

/// A field of an object or interface type: its arguments and the type it answers with.
struct FieldDecl {
    arguments: Vec<Declared>,
    answers: String,
}

/// What the schema declares, as far as input values need it.
#[derive(Default)]
struct Model {
    outputs: HashMap<String, HashMap<String, FieldDecl>>,
    inputs: HashMap<String, Vec<Declared>>,
    enums: HashMap<String, Vec<String>>,
    /// The scalars the schema declares (the built-in ones are known by name).
    scalars: HashSet<String>,
    roots: [String; 3],
}

impl Model {
    /// Whether a field answering `ty` ends the selection (a scalar or an enum).
    fn is_leaf(&self, ty: &str) -> bool {
        matches!(ty, "Int" | "Float" | "String" | "Boolean" | "ID")
            || self.scalars.contains(ty)
            || self.enums.contains_key(ty)
    }
}

fn declared(value: &async_graphql::parser::types::InputValueDefinition) -> Declared {
    Declared {
        name: value.name.node.to_string(),
        ty: value.ty.node.clone(),
        defaulted: value.default_value.is_some(),
    }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let mut model = Model {
            roots: ["Query".into(), "Mutation".into(), "Subscription".into()],
            ..Model::default()
        };
        let document = match async_graphql::parser::parse_schema(super::sdl()) {
            Ok(document) => document,
            Err(error) => {
                // The server's own SDL always parses; were it not to, the library still checks.
                tracing::error!(%error, "the schema's SDL does not parse");
                return model;
            }
        };
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    for (i, root) in [schema.query, schema.mutation, schema.subscription]
                        .into_iter()
                        .enumerate()
                    {
                        if let Some(root) = root {
                            model.roots[i] = root.node.to_string();
                        }
                    }
                }
                TypeSystemDefinition::Type(ty) => {
                    let name = ty.node.name.node.to_string();
                    let fields = match ty.node.kind {
                        TypeKind::Object(object) => object.fields,
                        TypeKind::Interface(interface) => interface.fields,
                        TypeKind::InputObject(input) => {
                            let fields = input.fields.iter().map(|f| declared(&f.node));
                            model.inputs.insert(name, fields.collect());
                            continue;
                        }
                        TypeKind::Scalar => {
                            model.scalars.insert(name);
                            continue;
                        }
                        TypeKind::Enum(values) => {
                            let values = values.values.iter().map(|v| v.node.value.to_string());
                            model.enums.insert(name, values.collect());
                            continue;
                        }
                        _ => continue,
                    };
                    let fields = fields.into_iter().map(|field| {
                        let field = field.node;
                        (
                            field.name.node.to_string(),
                            FieldDecl {
                                arguments: field
                                    .arguments
                                    .iter()
                                    .map(|a| declared(&a.node))
                                    .collect(),
                                answers: named(&field.ty.node).to_owned(),
                            },
                        )
                    });
                    model.outputs.insert(name, fields.collect());
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        model
    })
}

/// The refusals of a request's values (none when they all fit their declared types).
pub fn check(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    suggest: bool,
) -> Vec<ServerError> {
    let model = model();
    let mut walk = Walk {
        model,
        document,
        suggest,
        declared: HashMap::new(),
        fragments: HashSet::new(),
        errors: Vec::new(),
    };
    let operations: Vec<_> = document.operations.iter().collect();
    for (name, operation) in &operations {
        let root = match operation.node.ty {
            OperationType::Query => &model.roots[0],
            OperationType::Mutation => &model.roots[1],
            OperationType::Subscription => &model.roots[2],
        };
        walk.declared = operation
            .node
            .variable_definitions
            .iter()
            .map(|d| {
                let d = &d.node;
                (
                    d.name.node.as_str(),
                    (&d.var_type.node, d.default_value.is_some()),
                )
            })
            .collect();
        walk.selections(&operation.node.selection_set.node, root);
        // The variables are the chosen operation's (the only one, or the one named).
        let chosen = match operation_name {
            Some(wanted) => name.is_some_and(|n| n.as_str() == wanted),
            None => operations.len() == 1,
        };
        if !chosen {
            continue;
        }
        for definition in &operation.node.variable_definitions {
            let definition = &definition.node;
            let var = definition.name.node.as_str();
            let site = Site {
                variable: true,
                pos: definition.name.pos,
                path: var.to_owned(),
            };
            match variables.get(&definition.name.node) {
                Some(value) => {
                    walk.value(Shown::Const(value), &definition.var_type.node, false, &site)
                }
                None if !definition.var_type.node.nullable
                    && definition.default_value.is_none() =>
                {
                    walk.refuse(&site, t!("input-missing-variable", name = var));
                }
                None => {}
            }
        }
    }
    walk.errors
}

/// Where a value is: in a variable or a literal argument, at a path (`input.measures[0].title`).
struct Site {
    variable: bool,
    pos: Pos,
    path: String,
}

impl Site {
    fn at(&self, step: &str) -> Site {
        Site {
            variable: self.variable,
            pos: self.pos,
            path: format!("{}.{step}", self.path),
        }
    }

    fn item(&self, index: usize) -> Site {
        Site {
            variable: self.variable,
            pos: self.pos,
            path: format!("{}[{index}]", self.path),
        }
    }

    /// The input field as domain refusals name it (`deadline`, not `input.deadline`); the
    /// argument or variable itself when the value is the whole of it.
    fn field(&self) -> &str {
        self.path
            .split_once('.')
            .map_or(self.path.as_str(), |(_, rest)| rest)
    }

    fn said(&self) -> String {
        if self.variable {
            t!("input-where-variable", path = &self.path)
        } else {
            t!("input-where-argument", path = &self.path)
        }
    }
}

/// A value as the checks see it, from the document or from the variables.
enum Given<'a> {
    /// A variable inside a literal: its value is checked against its own declaration, its
    /// declaration against the place it is used.
    Variable(&'a str),
    Null,
    Number(&'a Number),
    String(&'a str),
    Boolean,
    Enum(&'a str),
    List(Vec<Shown<'a>>),
    Object(Vec<(&'a str, Shown<'a>)>),
    Other,
}

/// A value with what the checks need of it.
#[derive(Clone, Copy)]
enum Shown<'a> {
    Doc(&'a DocValue),
    Const(&'a ConstValue),
}

impl<'a> Shown<'a> {
    fn given(self) -> Given<'a> {
        match self {
            Shown::Doc(value) => match value {
                DocValue::Variable(name) => Given::Variable(name.as_str()),
                DocValue::Null => Given::Null,
                DocValue::Number(n) => Given::Number(n),
                DocValue::String(s) => Given::String(s),
                DocValue::Boolean(_) => Given::Boolean,
                DocValue::Enum(e) => Given::Enum(e.as_str()),
                DocValue::List(items) => Given::List(items.iter().map(Shown::Doc).collect()),
                DocValue::Object(map) => Given::Object(
                    map.iter()
                        .map(|(k, v)| (k.as_str(), Shown::Doc(v)))
                        .collect(),
                ),
                DocValue::Binary(_) => Given::Other,
            },
            Shown::Const(value) => match value {
                ConstValue::Null => Given::Null,
                ConstValue::Number(n) => Given::Number(n),
                ConstValue::String(s) => Given::String(s),
                ConstValue::Boolean(_) => Given::Boolean,
                ConstValue::Enum(e) => Given::Enum(e.as_str()),
                ConstValue::List(items) => Given::List(items.iter().map(Shown::Const).collect()),
                ConstValue::Object(map) => Given::Object(
                    map.iter()
                        .map(|(k, v)| (k.as_str(), Shown::Const(v)))
                        .collect(),
                ),
                ConstValue::Binary(_) => Given::Other,
            },
        }
    }

    /// The value as the message quotes it (a text without its GraphQL quotes), kept short.
    fn quoted(self) -> String {
        let text = match (self, self.given()) {
            (_, Given::String(s)) => s.to_owned(),
            (Shown::Doc(v), _) => v.to_string(),
            (Shown::Const(v), _) => v.to_string(),
        };
        let short: String = text.chars().take(60).collect();
        let short = if short.len() < text.len() {
            format!("{short}…")
        } else {
            short
        };
        t!("quoted", text = short)
    }

    /// The value as a custom scalar's `parse` takes it.
    fn constant(self) -> Option<ConstValue> {
        match self {
            Shown::Doc(v) => v.clone().into_const(),
            Shown::Const(v) => Some(v.clone()),
        }
    }
}

struct Walk<'a> {
    model: &'a Model,
    document: &'a ExecutableDocument,
    /// Whether a misspelt name is answered with the names it may have meant (not in
    /// production, where it would map a schema that may not be introspected).
    suggest: bool,
    /// The variables the operation being walked declares: type, and whether it has a default.
    declared: HashMap<&'a str, (&'a Type, bool)>,
    fragments: HashSet<&'a str>,
    errors: Vec<ServerError>,
}

impl<'a> Walk<'a> {
    /// `message`, followed by the declared names close to `given` when suggestions are on.
    fn suggesting<'n>(
        &self,
        message: String,
        given: &str,
        names: impl Iterator<Item = &'n str>,
    ) -> String {
        if !self.suggest {
            return message;
        }
        // The closest first, then by name, so that the answer does not hang on the order
        // the schema happens to list its fields in.
        let limit = (given.chars().count() / 3).max(1);
        let mut near: Vec<(usize, &str)> = names
            .map(|name| (distance(given, name), name))
            .filter(|(d, _)| *d <= limit)
            .collect();
        near.sort_unstable();
        let close: Vec<String> = near
            .into_iter()
            .take(3)
            .map(|(_, name)| t!("quoted", text = name))
            .collect();
        if close.is_empty() {
            return message;
        }
        let separator = if current() == Language::English {
            " or "
        } else {
            "或"
        };
        t!(
            "did-you-mean",
            message = message,
            names = close.join(separator)
        )
    }

    fn refuse(&mut self, site: &Site, message: String) {
        let code = if site.variable {
            codes::BAD_USER_INPUT
        } else {
            codes::GRAPHQL_VALIDATION_FAILED
        };
        let mut error = coded(ServerError::new(message, Some(site.pos)), code);
        if let Some(extensions) = error.extensions.as_mut() {
            extensions.set("field", site.field());
        }
        self.errors.push(error);
    }

    fn selections(&mut self, set: &'a SelectionSet, parent: &str) {
        let document = self.document;
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    // Introspection's fields are the library's; a union has only __typename.
                    if name.starts_with("__") {
                        continue;
                    }
                    let model = self.model;
                    let Some(fields) = model.outputs.get(parent) else {
                        continue;
                    };
                    let Some(declared) = fields.get(name) else {
                        let message = self.suggesting(
                            t!("selection-unknown-field", typename = parent, field = name),
                            name,
                            fields.keys().map(String::as_str),
                        );
                        let site = Site {
                            variable: false,
                            pos: field.name.pos,
                            path: name.to_owned(),
                        };
                        self.refuse(&site, message);
                        continue;
                    };
                    self.arguments(name, &field.arguments, &declared.arguments, selection.pos);
                    // A value ends the selection; an object needs one (other kinds, were the
                    // schema to have them, are left to the library).
                    let answers = declared.answers.as_str();
                    let chosen = !field.selection_set.node.items.is_empty();
                    let wrong = if model.is_leaf(answers) && chosen {
                        Some(t!("selection-on-leaf", field = name, typename = answers))
                    } else if model.outputs.contains_key(answers) && !chosen {
                        Some(t!("selection-missing", field = name, typename = answers))
                    } else {
                        None
                    };
                    if let Some(message) = wrong {
                        let site = Site {
                            variable: false,
                            pos: field.name.pos,
                            path: name.to_owned(),
                        };
                        self.refuse(&site, message);
                        continue;
                    }
                    self.selections(&field.selection_set.node, answers);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    // Each fragment once: its arguments are the same wherever it is spread.
                    if self.fragments.insert(name)
                        && let Some(fragment) =
                            document.fragments.get(&spread.node.fragment_name.node)
                    {
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        self.selections(&fragment.node.selection_set.node, on);
                    }
                }
                Selection::InlineFragment(inline) => {
                    let on = inline
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent, |c| c.node.on.node.as_str());
                    self.selections(&inline.node.selection_set.node, on);
                }
            }
        }
    }

    fn arguments(
        &mut self,
        field: &str,
        given: &'a [(
            async_graphql::Positioned<async_graphql::Name>,
            async_graphql::Positioned<DocValue>,
        )],
        declared: &[Declared],
        pos: Pos,
    ) {
        for (name, value) in given {
            let site = Site {
                variable: false,
                pos: name.pos,
                path: name.node.to_string(),
            };
            match declared.iter().find(|d| d.name == name.node.as_str()) {
                Some(argument) => self.value(
                    Shown::Doc(&value.node),
                    &argument.ty,
                    argument.defaulted,
                    &site,
                ),
                None => {
                    let message = self.suggesting(
                        t!(
                            "input-unknown-argument",
                            field = field,
                            argument = name.node.as_str()
                        ),
                        name.node.as_str(),
                        declared.iter().map(|d| d.name.as_str()),
                    );
                    self.refuse(&site, message);
                }
            }
        }
        for argument in declared {
            let missing = !argument.ty.nullable
                && !argument.defaulted
                && !given.iter().any(|(n, _)| n.node.as_str() == argument.name);
            if missing {
                let site = Site {
                    variable: false,
                    pos,
                    path: argument.name.clone(),
                };
                let message = t!(
                    "input-missing-argument",
                    field = field,
                    argument = argument.name.as_str()
                );
                self.refuse(&site, message);
            }
        }
    }

    /// `defaulted`: the argument or input field the value stands at has a default of its own,
    /// so a nullable variable may stand there (the specification's rule for variable positions).
    fn value(&mut self, shown: Shown<'a>, ty: &Type, defaulted: bool, site: &Site) {
        match shown.given() {
            Given::Variable(name) => match self.declared.get(name).copied() {
                Some((declared, has_default)) if fits(declared, has_default || defaulted, ty) => {}
                Some((declared, _)) => {
                    let message = t!(
                        "input-variable-type",
                        name = name,
                        declared = declared.to_string(),
                        at = site.said(),
                        expected = ty.to_string()
                    );
                    self.refuse(site, message);
                }
                None => self.refuse(site, t!("input-variable-undeclared", name = name)),
            },
            Given::Null if ty.nullable => {}
            Given::Null => self.refuse(site, t!("input-null", at = site.said())),
            Given::List(items) if matches!(ty.base, BaseType::List(_)) => {
                if let BaseType::List(inner) = &ty.base {
                    for (i, item) in items.into_iter().enumerate() {
                        self.value(item, inner, false, &site.item(i));
                    }
                }
            }
            // A single value where a list is declared is a list of one.
            _ => match &ty.base {
                BaseType::List(inner) => self.value(shown, inner, false, site),
                BaseType::Named(name) => self.named(shown, name.as_str(), site),
            },
        }
    }

    fn named(&mut self, shown: Shown<'a>, name: &str, site: &Site) {
        let given = shown.given();
        let value = || shown.quoted();
        let said = site.said();
        let model = self.model;
        if let Some(fields) = model.inputs.get(name) {
            let Given::Object(entries) = given else {
                let message = t!(
                    "input-not-object",
                    at = said,
                    typename = name,
                    value = value()
                );
                return self.refuse(site, message);
            };
            for (key, item) in &entries {
                match fields.iter().find(|f| f.name == *key) {
                    Some(field) => self.value(*item, &field.ty, field.defaulted, &site.at(key)),
                    None => {
                        let message = self.suggesting(
                            t!(
                                "input-unknown-field",
                                at = said.clone(),
                                typename = name,
                                field = *key
                            ),
                            key,
                            fields.iter().map(|f| f.name.as_str()),
                        );
                        self.refuse(&site.at(key), message);
                    }
                }
            }
            for field in fields {
                let missing = !field.ty.nullable
                    && !field.defaulted
                    && !entries.iter().any(|(key, _)| *key == field.name);
                if missing {
                    let message = t!(
                        "input-missing-field",
                        at = said.clone(),
                        field = field.name.as_str()
                    );
                    self.refuse(site, message);
                }
            }
            return;
        }
        if let Some(values) = model.enums.get(name) {
            // A variable names an enum value as a string; a literal as a bare name.
            let chosen = match given {
                Given::Enum(e) => Some(e),
                Given::String(s) if site.variable => Some(s),
                _ => None,
            };
            if !chosen.is_some_and(|c| values.iter().any(|v| v == c)) {
                let separator = if current() == Language::English {
                    ", "
                } else {
                    "、"
                };
                let message = t!(
                    "input-unknown-enum",
                    at = said,
                    value = value(),
                    known = values
                        .iter()
                        .map(|v| t!("quoted", text = v))
                        .collect::<Vec<_>>()
                        .join(separator)
                );
                self.refuse(site, message);
            }
            return;
        }
        let message = match (name, given) {
            ("Int", Given::Number(n)) => match n.as_i64() {
                Some(i) if i32::try_from(i).is_ok() => return,
                _ if n.is_f64() => t!("input-not-int", at = said, value = value()),
                _ => t!(
                    "input-int-range",
                    at = said,
                    value = value(),
                    min = i32::MIN,
                    max = i32::MAX
                ),
            },
            ("Int", _) => t!("input-not-int", at = said, value = value()),
            ("Float", Given::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => return,
            ("Float", Given::Number(_)) => t!("input-not-finite", at = said, value = value()),
            ("Float", _) => t!("input-not-number", at = said, value = value()),
            ("String", Given::String(_)) => return,
            ("String", _) => t!("input-not-text", at = said, value = value()),
            ("Boolean", Given::Boolean) => return,
            ("Boolean", _) => t!("input-not-boolean", at = said, value = value()),
            ("ID", Given::String(_)) => return,
            ("ID", Given::Number(n)) if n.is_i64() || n.is_u64() => return,
            ("ID", _) => t!("input-not-id", at = said, value = value()),
            // Custom scalars: the scalar's own parse decides.
            ("Date", _) => {
                match shown.constant() {
                    Some(v) if Date::parse(v.clone()).is_ok() => return,
                    // A text that is not a date: the scalar's own sentence, at its place.
                    Some(ConstValue::String(text)) => {
                        let reason = t!("date-scalar", value = text.as_str());
                        return self
                            .refuse(site, t!("input-scalar-refused", at = said, reason = reason));
                    }
                    _ => {}
                }
                t!(
                    "input-scalar",
                    at = said,
                    value = value(),
                    typename = t!("scalar-Date")
                )
            }
            ("DateTime", _) => {
                if shown.constant().is_some_and(|v| Time::parse(v).is_ok()) {
                    return;
                }
                t!(
                    "input-scalar",
                    at = said,
                    value = value(),
                    typename = t!("scalar-DateTime")
                )
            }
            // JSON and Upload take any value.
            _ => return,
        };
        self.refuse(site, message);
    }
}

/// The edit distance between two names (insertions, deletions and substitutions).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substituted = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substituted.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// Whether a variable declared `variable` (with a default or not) may stand where `location`
/// is expected: the same named type and list depth, and no nullable variable without a default
/// where a value is required.
fn fits(variable: &Type, defaulted: bool, location: &Type) -> bool {
    if !location.nullable && variable.nullable && !defaulted {
        return false;
    }
    match (&variable.base, &location.base) {
        (BaseType::Named(v), BaseType::Named(l)) => v == l,
        (BaseType::List(v), BaseType::List(l)) => fits(v, false, l),
        _ => false,
    }
}
