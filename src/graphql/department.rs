//! Departments (部门): the tree every permission is scoped by.

use async_graphql::{ComplexObject, Context, ID, Object, Result, SimpleObject};
use entity::department;
use sea_orm::{ColumnTrait, QueryFilter};

use super::enums::DepartmentKind;
use super::loaders::DepartmentById;
use super::{ContextExt, parse_id};
use crate::domain::scope;

/// A unit (单位) or one of its sections (科室).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Department {
    pub id: ID,
    /// External identifier used by other government systems (e.g. an organisation code).
    pub code: String,
    /// Name (名称).
    pub name: String,
    /// Unit or section.
    pub kind: DepartmentKind,
    #[graphql(skip)]
    pub parent_id: Option<i32>,
}

impl From<department::Model> for Department {
    fn from(d: department::Model) -> Self {
        Self {
            id: ID(d.id.to_string()),
            code: d.code,
            name: d.name,
            kind: d.kind.into(),
            parent_id: d.parent_id,
        }
    }
}

#[ComplexObject]
impl Department {
    /// The department above this one (上级), if any.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        match self.parent_id {
            Some(parent_id) => load(ctx, parent_id).await,
            None => Ok(None),
        }
    }
}

#[derive(Default)]
pub struct DepartmentQuery;

#[Object]
impl DepartmentQuery {
    /// A department within the caller's reach, or null.
    async fn department(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Department>> {
        let id = parse_id("id", &id)?;
        ctx.caller().require_identity()?;
        let found = scope::departments(ctx.caller())
            .filter(department::Column::Id.eq(id))
            .one(ctx.db())
            .await
            .map_err(crate::error::AppError::from)?;
        Ok(found.map(Into::into))
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
