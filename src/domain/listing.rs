//! Filters shared by the lists: text search and department subtrees.

use entity::department;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait};

use crate::error::{AppError, AppResult};

/// `LOWER(column) LIKE '%text%'` with the text's own `%`, `_` and `\` taken literally. Works
/// for Chinese (no word splitting needed) and ignores ASCII case on both databases.
pub fn contains(column: impl ColumnTrait, text: &str) -> Condition {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Condition::all().add(
        Expr::expr(Func::lower(Expr::col(column)))
            .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
    )
}

/// A search text: trimmed, at most 200 characters, `None` when empty.
pub fn search_text(text: Option<&str>) -> AppResult<Option<String>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > 200 => Err(AppError::bad_input(
            "search",
            t!("search-too-long", max = 200),
        )),
        Some(t) => Ok(Some(t.to_owned())),
    }
}

/// The ids of a department and everything below it ([`crate::domain::scope::subtree_ids`]).
/// `NOT_FOUND`-free: an unknown id yields an empty subtree.
pub async fn subtree_of(db: &impl ConnectionTrait, id: i32) -> AppResult<SelectStatement> {
    let path = department::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|d| d.path)
        .unwrap_or_else(|| "/none/".to_owned());
    Ok(crate::domain::scope::subtree_ids(&path))
}
