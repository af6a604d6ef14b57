//! Writing a plan's answer as the JSON async-graphql would give: the same keys in the same
//! order, scalars through the same `to_value` conversions, strings through serde_json.

use std::collections::HashMap;

use async_graphql::{InputType, Value};
use chrono::NaiveDate;

use super::plan::{
    ConnField, DepartmentField, EdgeField, Field, FindingField, MeasureField, PageInfoField, Plan,
    Root,
};
use crate::graphql::department::Department;
use crate::graphql::finding::Finding;
use crate::graphql::measure::Measure;

/// One root list's page, as read.
pub struct RootPage {
    pub findings: Vec<(String, Finding)>,
    pub has_previous: bool,
    pub has_next: bool,
    pub total: Option<i64>,
}

/// Everything a plan read, ready to write.
pub struct Answer {
    /// Per root field, in the plan's order (`None` for `__typename`).
    pub pages: Vec<Option<RootPage>>,
    pub departments: HashMap<i32, Department>,
    pub measures: HashMap<i32, Vec<Measure>>,
    pub today: NaiveDate,
}

/// The response body `{"data": ...}`.
pub fn response(plan: &Plan, answer: &Answer, capacity: usize) -> Vec<u8> {
    let mut out = Json(Vec::with_capacity(capacity));
    out.raw(b"{\"data\":");
    out.object(&plan.roots, |out, i, root| match root {
        Root::Typename(name) => out.str(name),
        Root::Findings { select, .. } => match &answer.pages[i] {
            Some(page) => connection(out, answer, select, page),
            None => out.raw(b"null"),
        },
    });
    out.raw(b"}");
    out.0
}

fn connection(out: &mut Json, answer: &Answer, select: &[Field<ConnField>], page: &RootPage) {
    out.object(select, |out, _, field| match field {
        ConnField::Typename(name) => out.str(name),
        ConnField::TotalCount => out.value(&page.total.unwrap_or_default().to_value()),
        ConnField::PageInfo(fields) => out.object(fields, |out, _, field| match field {
            PageInfoField::Typename(name) => out.str(name),
            PageInfoField::HasPreviousPage => out.value(&page.has_previous.to_value()),
            PageInfoField::HasNextPage => out.value(&page.has_next.to_value()),
            PageInfoField::StartCursor => out.opt_str(page.findings.first().map(|f| &f.0)),
            PageInfoField::EndCursor => out.opt_str(page.findings.last().map(|f| &f.0)),
        }),
        ConnField::Edges(fields) => out.list(&page.findings, |out, (cursor, node)| {
            out.object(fields, |out, _, field| match field {
                EdgeField::Typename(name) => out.str(name),
                EdgeField::Cursor => out.str(cursor),
                EdgeField::Node(fields) => finding(out, answer, fields, node),
            })
        }),
        ConnField::Nodes(fields) => out.list(&page.findings, |out, (_, node)| {
            finding(out, answer, fields, node)
        }),
    })
}

fn finding(out: &mut Json, answer: &Answer, fields: &[Field<FindingField>], f: &Finding) {
    out.object(fields, |out, _, field| match field {
        FindingField::Typename(name) => out.str(name),
        FindingField::Id => out.str(&f.id),
        FindingField::Ordinal => out.value(&f.ordinal.to_value()),
        FindingField::Title => out.str(&f.title),
        FindingField::Description => out.str(&f.description),
        FindingField::RectificationType => out.value(&f.rectification_type.to_value()),
        FindingField::Status => out.value(&f.status.to_value()),
        FindingField::Deadline => out.value(&f.deadline.to_value()),
        FindingField::ResponsibleLeader => out.opt_str(f.responsible_leader.as_ref()),
        FindingField::ResponsiblePerson => out.opt_str(f.responsible_person.as_ref()),
        FindingField::CreatedAt => out.value(&f.created_at.to_value()),
        FindingField::UpdatedAt => out.value(&f.updated_at.to_value()),
        FindingField::ClosedAt => out.value(&f.closed_at.to_value()),
        FindingField::Archived => out.value(&f.archived.to_value()),
        FindingField::Version => out.value(&f.version.to_value()),
        FindingField::IsOverdue => out.value(&f.overdue_days(answer.today).is_some().to_value()),
        FindingField::DaysOverdue => out.value(&f.overdue_days(answer.today).to_value()),
        FindingField::Department(fields) => match answer.departments.get(&f.department_id) {
            Some(d) => department(out, fields, d),
            None => out.raw(b"null"),
        },
        FindingField::Measures(fields) => {
            let measures = answer
                .measures
                .get(&f.row_id)
                .map_or(&[][..], Vec::as_slice);
            out.list(measures, |out, m| measure(out, answer, fields, m))
        }
    })
}

fn department(out: &mut Json, fields: &[Field<DepartmentField>], d: &Department) {
    out.object(fields, |out, _, field| match field {
        DepartmentField::Typename(name) => out.str(name),
        DepartmentField::Id => out.str(&d.id),
        DepartmentField::Code => out.str(&d.code),
        DepartmentField::Name => out.str(&d.name),
        DepartmentField::Kind => out.value(&d.kind.to_value()),
        DepartmentField::PrincipalLeader => out.opt_str(d.principal_leader.as_ref()),
        DepartmentField::Archived => out.value(&d.archived.to_value()),
        DepartmentField::Version => out.value(&d.version.to_value()),
    })
}

fn measure(out: &mut Json, answer: &Answer, fields: &[Field<MeasureField>], m: &Measure) {
    out.object(fields, |out, _, field| match field {
        MeasureField::Typename(name) => out.str(name),
        MeasureField::Id => out.str(&m.id),
        MeasureField::Ordinal => out.value(&m.ordinal.to_value()),
        MeasureField::Content => out.str(&m.content),
        MeasureField::Status => out.value(&m.status.to_value()),
        MeasureField::Deadline => out.value(&m.deadline.to_value()),
        MeasureField::CompletedOn => out.value(&m.completed_on.to_value()),
        MeasureField::ResponsiblePerson => out.opt_str(m.responsible_person.as_ref()),
        MeasureField::Archived => out.value(&m.archived.to_value()),
        MeasureField::UpdatedAt => out.value(&m.updated_at.to_value()),
        MeasureField::Version => out.value(&m.version.to_value()),
        MeasureField::IsOverdue => out.value(&m.overdue_days(answer.today).is_some().to_value()),
        MeasureField::DaysOverdue => out.value(&m.overdue_days(answer.today).to_value()),
    })
}

/// A JSON writer over a byte buffer. Writing to a `Vec` cannot fail, so serde_json's
/// `Result`s are dropped.
struct Json(Vec<u8>);

impl Json {
    fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn str(&mut self, s: &str) {
        let _ = serde_json::to_writer(&mut self.0, s);
    }

    fn opt_str(&mut self, s: Option<&String>) {
        match s {
            Some(s) => self.str(s),
            None => self.raw(b"null"),
        }
    }

    fn value(&mut self, value: &Value) {
        let _ = serde_json::to_writer(&mut self.0, value);
    }

    /// `{"key": ..., ...}` over the selected fields, each written by `each` (given its index).
    fn object<K>(&mut self, fields: &[Field<K>], mut each: impl FnMut(&mut Self, usize, &K)) {
        self.raw(b"{");
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                self.raw(b",");
            }
            self.str(&field.key);
            self.raw(b":");
            each(self, i, &field.kind);
        }
        self.raw(b"}");
    }

    fn list<'a, T>(&mut self, items: &'a [T], mut each: impl FnMut(&mut Self, &'a T)) {
        self.raw(b"[");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.raw(b",");
            }
            each(self, item);
        }
        self.raw(b"]");
    }
}
