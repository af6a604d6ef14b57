//! Departments (部门): the tree every permission is scoped by.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Result};
use entity::department;

use super::catalogue::{self, Fields, Loads, times};

use super::catalogue::Conn;
use super::enums::DepartmentKind;
use super::enums::OrderDirection;
use super::loaders::{ChildrenOfDepartment, DepartmentById};
use super::write;
use super::{ContextExt, id, parse_id, parse_opt_id, patch};
use crate::domain::reads::page::PageArgs;
use crate::domain::reads::summary::Over;
use crate::domain::records::department::{DepartmentFilter, DepartmentPatch};
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

    /// Every field but `id` and `name` goes through [`Department::whole`]: a department
    /// outside the caller's reach is named, nothing more (`domain::reads::scope::Seen`).
    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |d, _| id(d.0.id));
        f.value(
            "code",
            "External identifier used by other government systems (e.g. an organisation code).\nNull for a department outside the caller's reach.",
            |d, env| d.whole(env.caller).map(|d| d.code.clone()),
        );
        f.value("name", "Name (名称).", |d, _| d.0.name.clone());
        f.value(
            "kind",
            "Unit or section. Null for a department outside the caller's reach.",
            |d, env| d.whole(env.caller).map(|d| DepartmentKind::from(d.kind)),
        );
        f.value(
            "principalLeader",
            "The unit's principal leader (主要负责同志), alerted when a finding is overdue.\nNull for a department outside the caller's reach.",
            |d, env| d.whole(env.caller).and_then(|d| d.principal_leader.clone()),
        );
        f.value(
            "archived",
            "Whether the department is archived (no longer in use; left out of lists by default).\nNull for a department outside the caller's reach.",
            |d, env| d.whole(env.caller).map(|d| d.archived_at.is_some()),
        );
        f.value(
            "version",
            "Version for optimistic locking: pass it back with an update or archive; a stale version fails with CONFLICT.\nNull for a department outside the caller's reach.",
            |d, env| d.whole(env.caller).map(|d| d.version),
        );
        f.each(
            "viewerCan",
            "What the caller may do with this record now. Null for a department outside the\ncaller's reach.",
            |d, ctx| {
                Box::pin(async move {
                    match d.whole(ctx.caller()) {
                        Some(d) => Ok(Some(
                            super::viewer::record(ctx, super::viewer::DepartmentKey(d.id)).await?,
                        )),
                        None => Ok(None),
                    }
                })
            },
        );
        // A department outside the caller's reach is named, nothing more: its relations
        // give no key, so they answer null or empty without a read.
        f.one(
            "parent",
            "The department above this one (上级), if any. Null for a department outside the\ncaller's reach.",
            |d, _, env| d.whole(env.caller).and_then(|d| d.parent_id).map(DepartmentById),
        );
        f.many(
            "children",
            "The departments directly below this one (下级), not archived. Empty for a department\noutside the caller's reach.",
            |d, _, env| d.whole(env.caller).map(|d| ChildrenOfDepartment(d.id)),
        )
        .cost(times::<10>);
        f.each(
            "statusSummary",
            "Progress in numbers over the findings of this department and those below it that the\ncaller may read. Null for a department outside the caller's reach.",
            |d, ctx| {
                Box::pin(async move {
                    match d.whole(ctx.caller()) {
                        Some(d) => Ok(Some(
                            super::summary::StatusSummary::over(ctx, Over::Department(d.id))
                                .await?,
                        )),
                        None => Ok(None),
                    }
                })
            },
        );
        f.each_of(
            "ancestors",
            "The departments above this one, from the root down. Empty for a department outside\nthe caller's reach.",
            |d, env| {
                d.whole(env.caller).map_or_else(Vec::new, |d| {
                    d.path
                        .split('/')
                        .filter_map(|part| part.parse::<i32>().ok())
                        .filter(|id| *id != d.id)
                        .map(DepartmentById)
                        .collect()
                })
            },
        )
        .cost(times::<5>);
    }
}

impl Department {
    /// The whole record when the caller may see it; `None` for a department outside its
    /// reach, which is named only (the rule is `domain::reads::scope::department`'s).
    fn whole(&self, caller: &crate::auth::Caller) -> Option<&department::Model> {
        domain::reads::scope::department(caller, &self.0).whole()
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

impl catalogue::Root for DepartmentQuery {
    const NAME: &'static str = "DepartmentQuery";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "department",
            "A department within the caller's reach, or null.",
            param::<ID>("id"),
            |ctx, id| Box::pin(Self::department(ctx, id)),
        );
        f.field(
            "departments",
            "The departments within the caller's reach, by id.",
            (
                param::<Option<DepartmentFilterInput>>("filter"),
                param::<OrderDirection>("direction").or(Default::default),
                catalogue::Pages,
            ),
            |ctx, (filter, direction, pages)| {
                Box::pin(Self::departments(ctx, filter, direction, pages))
            },
        )
        .cost(catalogue::page_cost);
    }
}

crate::root!(DepartmentQuery);

impl DepartmentQuery {
    async fn department(ctx: &Context<'_>, id: ID) -> Result<Option<Department>> {
        let id = parse_id("id", &id)?;
        super::found(domain::records::department::get(ctx.db(), ctx.caller(), id).await)
    }

    #[allow(clippy::too_many_arguments)]
    async fn departments(
        ctx: &Context<'_>,
        filter: Option<DepartmentFilterInput>,
        direction: OrderDirection,
        pages: PageArgs,
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
            &pages,
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

impl catalogue::Root for DepartmentMutation {
    const NAME: &'static str = "DepartmentMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "createDepartment",
            "Creates a department (admins).",
            param::<CreateDepartmentInput>("input"),
            |ctx, input| Box::pin(Self::create_department(ctx, input)),
        );
        f.field(
            "updateDepartment",
            "Renames or recodes a department (admins).",
            param::<UpdateDepartmentInput>("input"),
            |ctx, input| Box::pin(Self::update_department(ctx, input)),
        );
        f.field(
            "archiveDepartment",
            "Archives a department with no active departments below it (admins).",
            (param::<ID>("id"), param::<i32>("version")),
            |ctx, (id, version)| Box::pin(Self::archive_department(ctx, id, version)),
        );
    }
}

crate::root!(DepartmentMutation);

impl DepartmentMutation {
    async fn create_department(
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

    async fn update_department(
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

    async fn archive_department(ctx: &Context<'_>, id: ID, version: i32) -> Result<Department> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::records::department::archive(txn, who, id, version).await
        })
        .await?
        .into())
    }
}
