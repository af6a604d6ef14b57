//! Filters shared by the lists: text search and department subtrees.

use entity::{department, finding, measure};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, IntoColumnRef, LikeExpr, Query, SelectStatement,
};
use sea_orm::{Condition, ConnectionTrait, EntityTrait};

use crate::error::{AppError, AppResult};

/// `LOWER(column) LIKE '%text%'` with the text's own `%`, `_` and `\` taken literally. Works
/// for Chinese (no word splitting needed) and ignores ASCII case on both databases.
pub fn contains(column: impl IntoColumnRef, text: &str) -> Condition {
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

/// Most words a search may hold: each is one more condition on every candidate row.
pub const MAX_WORDS: usize = 10;

/// A search's words: the text split at white space (the full-width space U+3000 included, as
/// Chinese input methods type it), each word required. `None` when there is no word.
pub fn search_words(text: Option<&str>) -> AppResult<Option<Vec<String>>> {
    let Some(text) = search_text(text)? else {
        return Ok(None);
    };
    let mut words: Vec<String> = Vec::new();
    for word in text.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !words.iter().any(|w| w == word) {
            words.push(word.to_owned());
        }
    }
    if words.len() > MAX_WORDS {
        return Err(AppError::bad_input(
            "search",
            t!("search-too-many-words", max = MAX_WORDS),
        ));
    }
    Ok(Some(words))
}

/// The one rule of a finding's search: every word is in its title, its description or the
/// content of one of its measures. Each word is a LIKE over the rows the other filters leave
/// (scope, inspection, status, ...); a finding's measures are looked up through the measure's
/// `finding_id` index, never by reading every measure.
pub fn finding_search(words: &[String]) -> Condition {
    let id = (finding::Entity, finding::Column::Id);
    words.iter().fold(Condition::all(), |all, word| {
        all.add(
            Condition::any()
                .add(contains((finding::Entity, finding::Column::Title), word))
                .add(contains(
                    (finding::Entity, finding::Column::Description),
                    word,
                ))
                .add(in_measures_of(id, word)),
        )
    })
}

/// The same rule for a measure: every word is in its own content or its finding's title or
/// description (the finding looked up by its primary key).
pub fn measure_search(words: &[String]) -> Condition {
    words.iter().fold(Condition::all(), |all, word| {
        let finding = Alias::new("searched_finding");
        let in_finding = Query::select()
            .expr(Expr::val(1))
            .from_as(finding::Entity, finding.clone())
            .and_where(
                Expr::col((finding.clone(), finding::Column::Id))
                    .equals((measure::Entity, measure::Column::FindingId)),
            )
            .cond_where(
                Condition::any()
                    .add(contains((finding.clone(), finding::Column::Title), word))
                    .add(contains((finding, finding::Column::Description), word)),
            )
            .to_owned();
        all.add(
            Condition::any()
                .add(contains((measure::Entity, measure::Column::Content), word))
                .add(Expr::exists(in_finding)),
        )
    })
}

/// Some measure of the finding `finding_id` holds `word`.
fn in_measures_of(finding_id: impl IntoColumnRef, word: &str) -> Expr {
    let searched = Alias::new("searched_measure");
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from_as(measure::Entity, searched.clone())
            .and_where(Expr::col((searched.clone(), measure::Column::FindingId)).equals(finding_id))
            .cond_where(contains((searched, measure::Column::Content), word))
            .to_owned(),
    )
}

/// The ids of a department and everything below it ([`crate::domain::reads::scope::subtree_ids`]).
/// `NOT_FOUND`-free: an unknown id yields an empty subtree.
pub async fn subtree_of(db: &impl ConnectionTrait, id: i32) -> AppResult<SelectStatement> {
    let path = department::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|d| d.path)
        .unwrap_or_else(|| "/none/".to_owned());
    Ok(crate::domain::reads::scope::subtree_ids(&path))
}
