//! The department tree.

use chrono::Utc;
use entity::department;
use entity::enums::DepartmentKind;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::error::{AppError, AppResult};

/// Creates a department under `parent` (or a root) and sets its materialised path.
pub async fn create(
    db: &impl ConnectionTrait,
    code: &str,
    name: &str,
    kind: DepartmentKind,
    parent: Option<&department::Model>,
) -> AppResult<department::Model> {
    let code = code.trim();
    let name = name.trim();
    if code.is_empty() {
        return Err(AppError::bad_input(
            "code",
            "a department code may not be empty",
        ));
    }
    if name.is_empty() {
        return Err(AppError::bad_input(
            "name",
            "a department name may not be empty",
        ));
    }
    let now = Utc::now();
    let created = department::ActiveModel {
        code: Set(code.to_owned()),
        name: Set(name.to_owned()),
        kind: Set(kind),
        parent_id: Set(parent.map(|p| p.id)),
        // The path needs the id; it is set right below, in the same transaction.
        path: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let path = format!("{}{}/", parent.map_or("/", |p| p.path.as_str()), created.id);
    let mut active: department::ActiveModel = created.into();
    active.path = Set(path);
    Ok(active.update(db).await?)
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
