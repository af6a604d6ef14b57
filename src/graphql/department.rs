//! Departments (部门): the tree every permission is scoped by.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use entity::department;

use super::catalogue::{self, Fields, Loads, times};

use super::catalogue::Conn;
use super::enums::DepartmentKind;
use super::enums::OrderDirection;
use super::loaders::{ChildrenOfDepartment, DepartmentById};
use super::write;
use super::{ContextExt, VERSION, id, parse_id, parse_opt_id, patch};
use crate::domain::records::department::{DepartmentFilter, DepartmentPatch};
use crate::domain::reads::page::PageArgs;
use crate::domain::reads::summary::Over;
use crate::domain::{self};

/// A unit (单位) or one of its sections (科室).
#[derive(Clone)]
pub struct Department(pub department::Model);

impl From<department::Model> for Department {
    fn from(d: department::Model) -> Self {
        Self(d)
    }
}

impl catalogue::Object for Department {
    const NAME: &'static str = "Department";
    const DOC: &'static str = "A unit (单位) or one of its sections (科室).";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |d, _| id(d.0.id));
        f.value(
            "code",
            "External identifier used by other government systems (e.g. an organisation code).",
            |d, _| d.0.code.clone(),
        );
        f.value("name", "Name (名称).", |d, _| d.0.name.clone());
        f.value("kind", "Unit or section.", |d, _| {
            DepartmentKind::from(d.0.kind)
        });
        f.value(
            "principalLeader",
            "The unit's principal leader (主要负责同志), alerted when a finding is overdue.",
            |d, _| d.0.principal_leader.clone(),
        );
        f.value(
            "archived",
            "Whether the department is archived (no longer in use; left out of lists by default).",
            |d, _| d.0.archived_at.is_some(),
        );
        f.value("version", VERSION, |d, _| d.0.version);
        f.each(
            "viewerCan",
            "What the caller may do with this record now.",
            |d, ctx| {
                Box::pin(super::viewer::record(
                    ctx,
                    super::viewer::DepartmentKey(d.0.id),
                ))
            },
        );
        f.one(
            "parent",
            "The department above this one (上级), if any.",
            |d, _| d.0.parent_id.map(DepartmentById),
        );
        f.many(
            "children",
            "The departments directly below this one (下级), not archived.",
            |d| ChildrenOfDepartment(d.0.id),
        )
        .cost(times::<10>);
        f.each(
            "statusSummary",
            "Progress in numbers over the findings of this department and those below it that the\ncaller may read.",
            |d, ctx| {
                Box::pin(async move {
                    Ok(super::summary::StatusSummary::over(ctx, Over::Department(d.0.id)).await?)
                })
            },
        );
        f.each_of(
            "ancestors",
            "The departments above this one, from the root down.",
            |d| {
                d.0.path
                    .split('/')
                    .filter_map(|part| part.parse::<i32>().ok())
                    .filter(|id| *id != d.0.id)
                    .map(DepartmentById)
                    .collect()
            },
        )
        .cost(times::<5>);
    }
}

crate::object!(Department);

impl Loads for DepartmentById {
    type Record = Department;
}

impl Loads for ChildrenOfDepartment {
    type Record = Department;
}

/// Loads a department for a nested field.
pub async fn load(ctx: &Context<'_>, id: i32) -> Result<Option<Department>> {
    Ok(ctx
        .loader()
        .load_one(DepartmentById(id))
        .await?
        .map(Department))
}

/// Which departments to list.
#[derive(InputObject, Default)]
pub struct DepartmentFilterInput {
    /// Only the departments directly below this one.
    pub parent_id: Option<ID>,
    /// Only units or only sections.
    pub kind: Option<DepartmentKind>,
    /// Text in the name or the code.
    pub search: Option<String>,
    /// Also list archived departments (default false: archived ones are left out).
    #[graphql(default)]
    pub include_archived: bool,
}

#[derive(Default)]
pub struct DepartmentQuery;

#[Object]
impl DepartmentQuery {
    /// A department within the caller's reach, or null.
    async fn department(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Department>> {
        let id = parse_id("id", &id)?;
        super::found(domain::records::department::get(ctx.db(), ctx.caller(), id).await)
    }

    /// The departments within the caller's reach, by id.
    #[graphql(complexity = "super::cost::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn departments(
        &self,
        ctx: &Context<'_>,
        filter: Option<DepartmentFilterInput>,
        #[graphql(default)] direction: OrderDirection,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Department>> {
        let filter = filter.unwrap_or_default();
        let filter = DepartmentFilter {
            parent_id: parse_opt_id("filter.parentId", filter.parent_id.as_ref())?,
            kind: filter.kind.map(Into::into),
            search: filter.search,
            include_archived: filter.include_archived,
        };
        let page = domain::records::department::list(
            ctx.db(),
            ctx.caller(),
            &filter,
            direction.descending(),
            &PageArgs {
                first,
                after,
                last,
                before,
            },
        )
        .await?;
        Ok(Conn::of(page))
    }
}

/// A new department (部门).
#[derive(InputObject)]
pub struct CreateDepartmentInput {
    /// External identifier, unique.
    pub code: String,
    /// Name (名称).
    pub name: String,
    /// Unit (单位) or section (科室).
    pub kind: DepartmentKind,
    /// Code of the department above; none for a root.
    pub parent_code: Option<String>,
}

/// Changes to a department. Omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateDepartmentInput {
    /// The department to change.
    pub id: ID,
    /// The version the department was read at; if the department has changed since, the update fails with CONFLICT.
    pub version: i32,
    /// New external identifier, unique; omit to keep.
    pub code: Option<String>,
    /// New name (名称); omit to keep.
    pub name: Option<String>,
    /// Principal leader (主要负责同志); omit to keep, null to clear.
    pub principal_leader: MaybeUndefined<String>,
}

#[derive(Default)]
pub struct DepartmentMutation;

#[Object]
impl DepartmentMutation {
    /// Creates a department (admins).
    async fn create_department(
        &self,
        ctx: &Context<'_>,
        input: CreateDepartmentInput,
    ) -> Result<Department> {
        let created = write(ctx, async |txn, who| {
            domain::records::department::create_by(
                txn,
                who,
                &input.code,
                &input.name,
                input.kind.into(),
                input.parent_code.as_deref(),
            )
            .await
        })
        .await?;
        Ok(created.into())
    }

    /// Renames or recodes a department (admins).
    async fn update_department(
        &self,
        ctx: &Context<'_>,
        input: UpdateDepartmentInput,
    ) -> Result<Department> {
        let id = parse_id("id", &input.id)?;
        let changes = DepartmentPatch {
            code: input.code,
            name: input.name,
            principal_leader: patch(input.principal_leader),
        };
        let updated = write(ctx, async |txn, who| {
            domain::records::department::update(txn, who, id, input.version, changes).await
        })
        .await?;
        Ok(updated.into())
    }

    /// Archives a department with no active departments below it (admins).
    async fn archive_department(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> Result<Department> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::records::department::archive(txn, who, id, version).await
        })
        .await?
        .into())
    }
}
