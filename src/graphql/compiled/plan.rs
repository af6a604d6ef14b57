//! Compiling a query text into a [`Plan`]: what to read and which fields to write, in the
//! order the response gives them. Only an exact subset compiles (see the module above); for
//! anything else [`compile`] answers `None` and the operation runs through async-graphql.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field as AstField, OperationType, Selection,
    SelectionSet,
};
use async_graphql::parser::{Positioned, parse_query};
use async_graphql::{Name, OutputType, Value};
use entity::{finding, measure};

use crate::graphql::connection::Conn;
use crate::graphql::department::Department;
use crate::graphql::finding::Finding;
use crate::graphql::measure::Measure;

/// A compiled operation.
pub struct Plan {
    pub variables: Vec<Variable>,
    /// The operation's root fields.
    pub roots: Vec<Field<Root>>,
    /// What running the plan reads, worked out once when it is compiled.
    pub reads: Reads,
}

/// The reads of a plan beyond the pages of findings.
#[derive(Default)]
pub struct Reads {
    /// The finding columns to read (see [`Plan::finding_columns`]).
    pub findings: Vec<finding::Column>,
    /// Whether the findings' departments are shown.
    pub departments: bool,
    /// The measure columns to read, when the findings' measures are shown.
    pub measures: Option<Vec<measure::Column>>,
}

/// A declared variable.
pub struct Variable {
    pub name: Name,
    pub default: Option<Value>,
    /// Non-null without a default: a request without it is an error, which async-graphql
    /// reports, so the plan does not run.
    pub required: bool,
}

/// A selected field: its response key (the alias, or the name) and what it is.
pub struct Field<K> {
    pub key: String,
    pub kind: K,
}

pub enum Root {
    Typename(String),
    /// `findings(...)`, with its arguments as written (they may name variables).
    Findings {
        args: Vec<(Name, async_graphql_value::Value)>,
        select: Vec<Field<ConnField>>,
    },
}

pub enum ConnField {
    Typename(String),
    TotalCount,
    PageInfo(Vec<Field<PageInfoField>>),
    Edges(Vec<Field<EdgeField>>),
    Nodes(Vec<Field<FindingField>>),
}

pub enum PageInfoField {
    Typename(String),
    HasPreviousPage,
    HasNextPage,
    StartCursor,
    EndCursor,
}

pub enum EdgeField {
    Typename(String),
    Cursor,
    Node(Vec<Field<FindingField>>),
}

pub enum FindingField {
    Typename(String),
    Id,
    Ordinal,
    Title,
    Description,
    RectificationType,
    Status,
    Deadline,
    ResponsibleLeader,
    ResponsiblePerson,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
    Archived,
    Version,
    IsOverdue,
    DaysOverdue,
    Department(Vec<Field<DepartmentField>>),
    Measures(Vec<Field<MeasureField>>),
}

pub enum DepartmentField {
    Typename(String),
    Id,
    Code,
    Name,
    Kind,
    PrincipalLeader,
    Archived,
    Version,
}

pub enum MeasureField {
    Typename(String),
    Id,
    Ordinal,
    Content,
    Status,
    Deadline,
    CompletedOn,
    ResponsiblePerson,
    Archived,
    UpdatedAt,
    Version,
    IsOverdue,
    DaysOverdue,
}

impl Plan {
    /// The fields selected on findings, anywhere in the plan.
    fn finding_fields(&self) -> impl Iterator<Item = &FindingField> {
        let lists = self.roots.iter().flat_map(|root| match &root.kind {
            Root::Findings { select, .. } => select.iter().collect(),
            Root::Typename(_) => Vec::new(),
        });
        let nodes = lists.flat_map(|field| match &field.kind {
            ConnField::Nodes(node) => vec![node],
            ConnField::Edges(edge) => edge
                .iter()
                .filter_map(|e| match &e.kind {
                    EdgeField::Node(node) => Some(node),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        });
        nodes.flat_map(|node| node.iter().map(|f| &f.kind))
    }

    /// What running the plan reads.
    fn reads(&self) -> Reads {
        let wants = |pick: fn(&FindingField) -> bool| self.finding_fields().any(pick);
        Reads {
            findings: self.finding_columns(),
            departments: wants(|f| matches!(f, FindingField::Department(_))),
            measures: wants(|f| matches!(f, FindingField::Measures(_)))
                .then(|| self.measure_columns()),
        }
    }

    /// The finding columns the selected fields show, with every order's keys (for cursors),
    /// in the table's order.
    fn finding_columns(&self) -> Vec<finding::Column> {
        use finding::Column as C;
        let mut wanted = vec![
            C::Id,
            C::InspectionId,
            C::Ordinal,
            C::Deadline,
            C::UpdatedAt,
        ];
        for field in self.finding_fields() {
            wanted.extend_from_slice(match field {
                FindingField::Typename(_) | FindingField::Id | FindingField::Measures(_) => &[],
                FindingField::Ordinal => &[C::Ordinal],
                FindingField::Title => &[C::Title],
                FindingField::Description => &[C::Description],
                FindingField::RectificationType => &[C::RectificationType],
                FindingField::Status => &[C::Status],
                FindingField::Deadline => &[C::Deadline],
                FindingField::ResponsibleLeader => &[C::ResponsibleLeader],
                FindingField::ResponsiblePerson => &[C::ResponsiblePerson],
                FindingField::CreatedAt => &[C::CreatedAt],
                FindingField::UpdatedAt => &[C::UpdatedAt],
                FindingField::ClosedAt => &[C::ClosedAt],
                FindingField::Archived => &[C::ArchivedAt],
                FindingField::Version => &[C::Version],
                FindingField::IsOverdue | FindingField::DaysOverdue => &[C::Deadline, C::Status],
                FindingField::Department(_) => &[C::DepartmentId],
            });
        }
        in_table_order(finding::COLUMNS, &wanted)
    }

    /// The measure columns the selected fields show, with the finding and the order.
    fn measure_columns(&self) -> Vec<measure::Column> {
        use measure::Column as C;
        let mut wanted = vec![C::Id, C::FindingId, C::Ordinal];
        for field in self.finding_fields() {
            let FindingField::Measures(fields) = field else {
                continue;
            };
            for field in fields {
                wanted.extend_from_slice(match field.kind {
                    MeasureField::Typename(_) | MeasureField::Id | MeasureField::Ordinal => &[],
                    MeasureField::Content => &[C::Content],
                    MeasureField::Status => &[C::Status],
                    MeasureField::Deadline => &[C::Deadline],
                    MeasureField::CompletedOn => &[C::CompletedOn],
                    MeasureField::ResponsiblePerson => &[C::ResponsiblePerson],
                    MeasureField::Archived => &[C::ArchivedAt],
                    MeasureField::UpdatedAt => &[C::UpdatedAt],
                    MeasureField::Version => &[C::Version],
                    MeasureField::IsOverdue | MeasureField::DaysOverdue => {
                        &[C::Deadline, C::Status]
                    }
                });
            }
        }
        in_table_order(measure::COLUMNS, &wanted)
    }
}

/// The columns of `all` that are `wanted`, once each, in the table's order. (sea-orm's
/// columns do not implement `PartialEq`; their variants are compared.)
fn in_table_order<C>(all: impl IntoIterator<Item = C>, wanted: &[C]) -> Vec<C> {
    let same = |a: &C, b: &C| std::mem::discriminant(a) == std::mem::discriminant(b);
    all.into_iter()
        .filter(|c| wanted.iter().any(|w| same(w, c)))
        .collect()
}

/// The plan for `query` (and `operation_name`), when the operation lies within the subset.
pub fn compile(query: &str, operation_name: Option<&str>) -> Option<Plan> {
    let document = parse_query(query).ok()?;
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), None) => op,
        (DocumentOperations::Single(_), Some(_)) => return None,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next()?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    let operation = &operation.node;
    if operation.ty != OperationType::Query || !operation.directives.is_empty() {
        return None;
    }
    let mut variables = Vec::new();
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        if !definition.directives.is_empty() {
            return None;
        }
        let default = definition.default_value.as_ref().map(|v| v.node.clone());
        variables.push(Variable {
            name: definition.name.node.clone(),
            required: !definition.var_type.node.nullable && default.is_none(),
            default,
        });
    }
    let scope = Scope {
        document: &document,
    };
    let roots = scope.fields(&operation.selection_set.node, "Query", |field| match field
        .name
        .node
        .as_str()
    {
        "__typename" => leaf(field, Root::Typename("Query".to_owned())),
        "findings" => {
            const ARGS: [&str; 6] = ["filter", "orderBy", "first", "after", "last", "before"];
            let mut args = Vec::new();
            for (name, value) in &field.arguments {
                if !ARGS.contains(&name.node.as_str()) {
                    return None;
                }
                args.push((name.node.clone(), value.node.clone()));
            }
            let select = scope.connection(&field.selection_set.node)?;
            Some(Root::Findings { args, select })
        }
        _ => None,
    })?;
    let mut plan = Plan {
        variables,
        roots,
        reads: Reads::default(),
    };
    plan.reads = plan.reads();
    Some(plan)
}

/// A field without arguments or a selection (validation already refused such fields; this
/// keeps the plan honest should the schema change).
fn leaf<K>(field: &AstField, kind: K) -> Option<K> {
    (field.arguments.is_empty() && field.selection_set.node.items.is_empty()).then_some(kind)
}

/// A plain field: no arguments, a selection compiled by `select`.
fn nested<'a, S>(
    field: &'a AstField,
    select: impl FnOnce(&'a SelectionSet) -> Option<S>,
) -> Option<S> {
    if !field.arguments.is_empty() {
        return None;
    }
    select(&field.selection_set.node)
}

struct Scope<'a> {
    document: &'a ExecutableDocument,
}

impl<'a> Scope<'a> {
    /// The fields of `set` on `type_name`, with fragments spread in place, each compiled by
    /// `compile`. Directives, fragments on other types and repeated response keys (which
    /// GraphQL merges) are outside the subset.
    fn fields<K>(
        &self,
        set: &'a SelectionSet,
        type_name: &str,
        mut compile: impl FnMut(&'a AstField) -> Option<K>,
    ) -> Option<Vec<Field<K>>> {
        let mut flat = Vec::new();
        self.flatten(set, type_name, &mut flat, 0)?;
        let mut out: Vec<Field<K>> = Vec::with_capacity(flat.len());
        for field in flat {
            let key = field.response_key().node.to_string();
            if out.iter().any(|f| f.key == key) || !field.directives.is_empty() {
                return None;
            }
            let kind = compile(field)?;
            out.push(Field { key, kind });
        }
        Some(out)
    }

    fn flatten(
        &self,
        set: &'a SelectionSet,
        type_name: &str,
        out: &mut Vec<&'a AstField>,
        depth: usize,
    ) -> Option<()> {
        if depth > 8 {
            return None;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(Positioned { node, .. }) => out.push(node),
                Selection::FragmentSpread(spread) => {
                    let spread = &spread.node;
                    if !spread.directives.is_empty() {
                        return None;
                    }
                    let fragment = &self
                        .document
                        .fragments
                        .get(&spread.fragment_name.node)?
                        .node;
                    if !fragment.directives.is_empty()
                        || fragment.type_condition.node.on.node.as_str() != type_name
                    {
                        return None;
                    }
                    self.flatten(&fragment.selection_set.node, type_name, out, depth + 1)?;
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    let on_this_type = inline
                        .type_condition
                        .as_ref()
                        .is_none_or(|c| c.node.on.node.as_str() == type_name);
                    if !inline.directives.is_empty() || !on_this_type {
                        return None;
                    }
                    self.flatten(&inline.selection_set.node, type_name, out, depth + 1)?;
                }
            }
        }
        Some(())
    }

    fn connection(&self, set: &'a SelectionSet) -> Option<Vec<Field<ConnField>>> {
        let name = <Conn<Finding> as OutputType>::type_name();
        self.fields(set, &name, |field| match field.name.node.as_str() {
            "__typename" => leaf(field, ConnField::Typename(name.to_string())),
            "totalCount" => leaf(field, ConnField::TotalCount),
            "pageInfo" => nested(field, |set| self.page_info(set)).map(ConnField::PageInfo),
            "edges" => nested(field, |set| self.edge(set)).map(ConnField::Edges),
            "nodes" => nested(field, |set| self.finding(set)).map(ConnField::Nodes),
            _ => None,
        })
    }

    fn page_info(&self, set: &'a SelectionSet) -> Option<Vec<Field<PageInfoField>>> {
        let name = <async_graphql::connection::PageInfo as OutputType>::type_name();
        self.fields(set, &name, |field| {
            let kind = match field.name.node.as_str() {
                "__typename" => PageInfoField::Typename(name.to_string()),
                "hasPreviousPage" => PageInfoField::HasPreviousPage,
                "hasNextPage" => PageInfoField::HasNextPage,
                "startCursor" => PageInfoField::StartCursor,
                "endCursor" => PageInfoField::EndCursor,
                _ => return None,
            };
            leaf(field, kind)
        })
    }

    fn edge(&self, set: &'a SelectionSet) -> Option<Vec<Field<EdgeField>>> {
        type FindingEdge = async_graphql::connection::Edge<
            String,
            Finding,
            async_graphql::connection::EmptyFields,
        >;
        let name = <FindingEdge as OutputType>::type_name();
        self.fields(set, &name, |field| match field.name.node.as_str() {
            "__typename" => leaf(field, EdgeField::Typename(name.to_string())),
            "cursor" => leaf(field, EdgeField::Cursor),
            "node" => nested(field, |set| self.finding(set)).map(EdgeField::Node),
            _ => None,
        })
    }

    fn finding(&self, set: &'a SelectionSet) -> Option<Vec<Field<FindingField>>> {
        let name = <Finding as OutputType>::type_name();
        self.fields(set, &name, |field| {
            use FindingField as F;
            let kind = match field.name.node.as_str() {
                "department" => {
                    return nested(field, |set| self.department(set)).map(F::Department);
                }
                "measures" => {
                    return nested(field, |set| self.measure(set)).map(F::Measures);
                }
                "__typename" => F::Typename(name.to_string()),
                "id" => F::Id,
                "ordinal" => F::Ordinal,
                "title" => F::Title,
                "description" => F::Description,
                "rectificationType" => F::RectificationType,
                "status" => F::Status,
                "deadline" => F::Deadline,
                "responsibleLeader" => F::ResponsibleLeader,
                "responsiblePerson" => F::ResponsiblePerson,
                "createdAt" => F::CreatedAt,
                "updatedAt" => F::UpdatedAt,
                "closedAt" => F::ClosedAt,
                "archived" => F::Archived,
                "version" => F::Version,
                "isOverdue" => F::IsOverdue,
                "daysOverdue" => F::DaysOverdue,
                _ => return None,
            };
            leaf(field, kind)
        })
    }

    fn department(&self, set: &'a SelectionSet) -> Option<Vec<Field<DepartmentField>>> {
        let name = <Department as OutputType>::type_name();
        self.fields(set, &name, |field| {
            use DepartmentField as D;
            let kind = match field.name.node.as_str() {
                "__typename" => D::Typename(name.to_string()),
                "id" => D::Id,
                "code" => D::Code,
                "name" => D::Name,
                "kind" => D::Kind,
                "principalLeader" => D::PrincipalLeader,
                "archived" => D::Archived,
                "version" => D::Version,
                _ => return None,
            };
            leaf(field, kind)
        })
    }

    fn measure(&self, set: &'a SelectionSet) -> Option<Vec<Field<MeasureField>>> {
        let name = <Measure as OutputType>::type_name();
        self.fields(set, &name, |field| {
            use MeasureField as M;
            let kind = match field.name.node.as_str() {
                "__typename" => M::Typename(name.to_string()),
                "id" => M::Id,
                "ordinal" => M::Ordinal,
                "content" => M::Content,
                "status" => M::Status,
                "deadline" => M::Deadline,
                "completedOn" => M::CompletedOn,
                "responsiblePerson" => M::ResponsiblePerson,
                "archived" => M::Archived,
                "updatedAt" => M::UpdatedAt,
                "version" => M::Version,
                "isOverdue" => M::IsOverdue,
                "daysOverdue" => M::DaysOverdue,
                _ => return None,
            };
            leaf(field, kind)
        })
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{IdenStatic, Iterable};

    use super::{finding, measure};

    /// The resolvers read whole models through these lists: a column left out would show
    /// its placeholder.
    #[test]
    fn the_column_lists_name_every_column() {
        let listed: Vec<_> = finding::COLUMNS.iter().map(|c| c.as_str()).collect();
        let all: Vec<_> = finding::Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(listed, all);
        let listed: Vec<_> = measure::COLUMNS.iter().map(|c| c.as_str()).collect();
        let all: Vec<_> = measure::Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(listed, all);
    }
}
