//! Departments (部门): the tree every permission is scoped by.

use async_graphql::{
    ComplexObject, Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};
use entity::department;

use super::connection::{Conn, OrderDirection, args, connection};
use super::enums::DepartmentKind;
use super::loaders::{ChildrenOfDepartment, DepartmentById};
use super::write;
use super::{ContextExt, parse_id, parse_opt_id, patch};
use crate::domain::department::{DepartmentFilter, DepartmentPatch};
use crate::domain::{self};

/// A unit (单位) or one of its sections (科室).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Department {
    /// Opaque identifier.
    pub id: ID,
    /// External identifier used by other government systems (e.g. an organisation code).
    pub code: String,
    /// Name (名称).
    pub name: String,
    /// Unit or section.
    pub kind: DepartmentKind,
    /// The unit's principal leader (主要负责同志), alerted when a finding is overdue.
    pub principal_leader: Option<String>,
    /// Whether the department is archived (no longer in use; left out of lists by default).
    pub archived: bool,
    /// Version for optimistic locking: pass it back with an update or archive; a stale version fails with CONFLICT.
    pub version: i32,
    #[graphql(skip)]
    pub parent_id: Option<i32>,
    #[graphql(skip)]
    pub path: String,
}

impl From<department::Model> for Department {
    fn from(d: department::Model) -> Self {
        Self {
            id: ID(d.id.to_string()),
            code: d.code,
            name: d.name,
            kind: d.kind.into(),
            principal_leader: d.principal_leader,
            archived: d.archived_at.is_some(),
            version: d.version,
            parent_id: d.parent_id,
            path: d.path,
        }
    }
}

/// Loads a department for a nested field.
pub async fn load(ctx: &Context<'_>, id: i32) -> Result<Option<Department>> {
    Ok(ctx
        .loader()
        .load_one(DepartmentById(id))
        .await?
        .map(Into::into))
}

/// Loads an optional department for a nested field.
pub async fn load_opt(ctx: &Context<'_>, id: Option<i32>) -> Result<Option<Department>> {
    match id {
        Some(id) => load(ctx, id).await,
        None => Ok(None),
    }
}

#[ComplexObject]
impl Department {
    /// What the caller may do with this record now.
    async fn viewer_can(&self, ctx: &Context<'_>) -> Result<super::viewer::ViewerCan> {
        super::viewer::record(ctx, super::viewer::DepartmentKey(super::row(&self.id))).await
    }

    /// The department above this one (上级), if any.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        load_opt(ctx, self.parent_id).await
    }

    /// The departments directly below this one (下级), not archived.
    #[graphql(complexity = "10 * child_complexity + 1")]
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Department>> {
        let id = parse_id("id", &self.id)?;
        let children = ctx.loader().load_one(ChildrenOfDepartment(id)).await?;
        Ok(children
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Progress in numbers over the findings of this department and those below it that the
    /// caller may read.
    async fn status_summary(&self, ctx: &Context<'_>) -> Result<super::summary::StatusSummary> {
        let id = parse_id("id", &self.id)?;
        Ok(
            super::summary::StatusSummary::over(ctx, crate::domain::summary::Over::Department(id))
                .await?,
        )
    }

    /// The departments above this one, from the root down.
    #[graphql(complexity = "5 * child_complexity + 1")]
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<Department>> {
        let ids: Vec<DepartmentById> = self
            .path
            .split('/')
            .filter_map(|part| part.parse::<i32>().ok())
            .filter(|id| Some(*id) != self.id.parse().ok())
            .map(DepartmentById)
            .collect();
        let found = ctx.loader().load_many(ids.iter().copied()).await?;
        Ok(ids
            .iter()
            .filter_map(|id| found.get(id).cloned().map(Into::into))
            .collect())
    }
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
        super::found(domain::department::get(ctx.db(), ctx.caller(), id).await)
    }

    /// The departments within the caller's reach, by id.
    #[graphql(complexity = "super::connection::page_cost(first, last, child_complexity)")]
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
        let page = domain::department::list(
            ctx.db(),
            ctx.caller(),
            &filter,
            direction.descending(),
            &args(first, after, last, before),
        )
        .await?;
        Ok(connection(page, Department::from))
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
            domain::department::create_by(
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
            domain::department::update(txn, who, id, input.version, changes).await
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
            domain::department::archive(txn, who, id, version).await
        })
        .await?
        .into())
    }
}
