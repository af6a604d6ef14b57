//! The department tree.

use chrono::{DateTime, Utc};
use entity::department;
use entity::enums::DepartmentKind;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

use crate::auth::{Caller, Permission};
use crate::domain::records::change::{self, Kind, Record, Versioned, audited, versioned_update};
use crate::domain::{Acting, records::text};
use crate::error::{AppError, AppResult};

/// What a new department starts with, whoever makes it (the command, the seed, the generator).
pub fn new_row(now: DateTime<Utc>) -> department::ActiveModel {
    department::ActiveModel {
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        ..Default::default()
    }
}

/// Inserts a department under `parent` (or a root) and sets its materialised path. Unaudited:
/// for the demo data and the generator; callers go through [`create_by`].
pub async fn insert(
    db: &impl ConnectionTrait,
    code: &str,
    name: &str,
    kind: DepartmentKind,
    parent: Option<&department::Model>,
) -> AppResult<department::Model> {
    let code = text::required("code", code, 64)?;
    let name = text::required("name", name, 200)?;
    let now = Utc::now();
    let created = department::ActiveModel {
        code: Set(code),
        name: Set(name),
        kind: Set(kind),
        parent_id: Set(parent.map(|p| p.id)),
        // The path needs the id; it is set right below, in the same transaction.
        path: Set(String::new()),
        ..new_row(now)
    }
    .insert(db)
    .await?;
    let path = format!("{}{}/", parent.map_or("/", |p| p.path.as_str()), created.id);
    let mut active: department::ActiveModel = created.into();
    active.path = Set(path);
    Ok(active.update(db).await?)
}

/// The department in use with this external code, or `BAD_USER_INPUT` naming `field`.
pub async fn active_by_code(
    db: &impl ConnectionTrait,
    field: &str,
    code: &str,
) -> AppResult<department::Model> {
    find_by_code(db, code.trim())
        .await?
        .filter(|d| d.archived_at.is_none())
        .ok_or_else(|| AppError::bad_input(field, t!("no-department-code", code = code.trim())))
}

/// The id of a department in use that the caller may assign work to: handing work to a
/// department outside one's own would lose it from view.
pub async fn assignable(
    db: &impl ConnectionTrait,
    caller: &Caller,
    field: &str,
    code: &str,
) -> AppResult<i32> {
    let dept = active_by_code(db, field, code).await?;
    crate::domain::reads::scope::require_writable(db, caller, dept.id).await?;
    Ok(dept.id)
}

/// The department with this external code, if any (archived ones included).
pub async fn find_by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> AppResult<Option<department::Model>> {
    Ok(department::Entity::find()
        .filter(department::Column::Code.eq(code))
        .one(db)
        .await?)
}

impl Kind for department::Entity {
    const NAME: &'static str = "department";
    const COLUMNS: Versioned<department::Column> = Versioned {
        id: department::Column::Id,
        version: department::Column::Version,
        updated_at: department::Column::UpdatedAt,
        archived_at: department::Column::ArchivedAt,
    };
    const MANAGE: Permission = Permission::ManageDepartments;
    /// Departments are the admins', by role alone.
    const SCOPED: bool = false;

    async fn readable(
        db: &impl ConnectionTrait,
        _: &Acting,
        id: i32,
    ) -> AppResult<department::Model> {
        department::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("department", id))
    }

    async fn governing(
        _: &impl ConnectionTrait,
        models: &[department::Model],
    ) -> AppResult<Vec<Option<i32>>> {
        Ok(models.iter().map(|d| Some(d.id)).collect())
    }

    fn archived(model: &department::Model) -> bool {
        model.archived_at.is_some()
    }
}

#[derive(Default)]
pub struct DepartmentPatch {
    pub code: Option<String>,
    pub name: Option<String>,
    pub principal_leader: Option<Option<String>>,
}

#[derive(Debug, Default, Clone)]
pub struct DepartmentFilter {
    pub parent_id: Option<i32>,
    pub kind: Option<DepartmentKind>,
    pub search: Option<String>,
    pub include_archived: bool,
}

/// Adds a department under `parent_code` (admins).
pub async fn create_by(
    db: &impl ConnectionTrait,
    who: &Acting,
    code: &str,
    name: &str,
    kind: DepartmentKind,
    parent_code: Option<&str>,
) -> AppResult<department::Model> {
    who.require(Permission::ManageDepartments)?;
    let code = text::required("code", code, 64)?;
    let name = text::required("name", name, 200)?;
    let parent = match parent_code {
        Some(p) => Some(active_by_code(db, "parentCode", p).await?),
        None => None,
    };
    if find_by_code(db, &code).await?.is_some() {
        return Err(AppError::Conflict(t!(
            "department-code-taken",
            code = &code
        )));
    }
    let created = insert(db, &code, &name, kind, parent.as_ref()).await?;
    let record = Record {
        kind: "department",
        id: created.id,
        department_id: Some(created.id),
    };
    audited(db, who, "department.create", record, None, Some(&created)).await?;
    Ok(created)
}

/// Renames or recodes a department (admins).
pub async fn update(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    version: i32,
    patch: DepartmentPatch,
) -> AppResult<department::Model> {
    who.require(Permission::ManageDepartments)?;
    let (current, _) = change::writable::<department::Entity>(db, who, id).await?;
    let mut update = department::Entity::update_many();
    if let Some(code) = &patch.code {
        let code = text::required("code", code, 64)?;
        if find_by_code(db, &code).await?.is_some_and(|d| d.id != id) {
            return Err(AppError::Conflict(t!(
                "department-code-taken",
                code = &code
            )));
        }
        update = update.col_expr(department::Column::Code, Expr::value(code));
    }
    if let Some(name) = &patch.name {
        update = update.col_expr(
            department::Column::Name,
            Expr::value(text::required("name", name, 200)?),
        );
    }
    if let Some(leader) = patch.principal_leader {
        let leader = text::maybe("principalLeader", leader.as_deref(), 100)?;
        update = update.col_expr(department::Column::PrincipalLeader, Expr::value(leader));
    }
    let updated = versioned_update::<department::Entity>(db, update, id, version).await?;
    let record = Record {
        kind: "department",
        id,
        department_id: Some(id),
    };
    audited(
        db,
        who,
        "department.update",
        record,
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}

/// Archives a department (admins); refused while it has departments below it still active.
pub async fn archive(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    version: i32,
) -> AppResult<department::Model> {
    who.require(Permission::ManageDepartments)?;
    let active_children = department::Entity::find()
        .filter(department::Column::ParentId.eq(id))
        .filter(department::Column::ArchivedAt.is_null())
        .count(db)
        .await?;
    if active_children > 0 {
        return Err(AppError::Conflict(t!(
            "department-has-children",
            id = id,
            children = active_children
        )));
    }
    change::archive::<department::Entity>(db, who, id, version).await
}

pub fn order(descending: bool) -> crate::domain::reads::page::Order<department::Model> {
    crate::domain::reads::page::Order {
        name: "department.id",
        exprs: vec![Expr::col(department::Column::Id)],
        keys: |d| vec![crate::domain::reads::page::Key::I(d.id.into())],
        descending,
    }
}

/// One page of the departments the caller may read.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &DepartmentFilter,
    descending: bool,
    args: &crate::domain::reads::page::PageArgs,
) -> AppResult<crate::domain::reads::page::Page<department::Model>> {
    caller.require_identity()?;
    let mut select = crate::domain::reads::scope::departments(caller);
    if !filter.include_archived {
        select = select.filter(department::Column::ArchivedAt.is_null());
    }
    if let Some(parent) = filter.parent_id {
        select = select.filter(department::Column::ParentId.eq(parent));
    }
    if let Some(kind) = filter.kind {
        select = select.filter(department::Column::Kind.eq(kind));
    }
    if let Some(text) = crate::domain::reads::listing::search_text(filter.search.as_deref())? {
        select = select.filter(
            sea_orm::Condition::any()
                .add(crate::domain::reads::listing::contains(
                    department::Column::Name,
                    &text,
                ))
                .add(crate::domain::reads::listing::contains(
                    department::Column::Code,
                    &text,
                )),
        );
    }
    crate::domain::reads::page::fetch(db, select, &order(descending), args).await
}

/// One department the caller may read.
pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: i32,
) -> AppResult<department::Model> {
    caller.require_identity()?;
    crate::domain::reads::scope::departments(caller)
        .filter(department::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("department", id))
}
