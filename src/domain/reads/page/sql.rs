//! The text of the statements pages run: page sizes written into it on PostgreSQL
//! ([`query_limited`]) and `IN` lists padded to a few lengths ([`padded`]), so that the
//! databases keep a handful of prepared statements and plans for every list.

use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Value, sea_query::SelectStatement};

use crate::error::AppResult;

/// A batch's ids, deduplicated and padded to the next power of two with the last one repeated.
/// `IN (...)` with a list of each length is a statement text of its own, and the drivers
/// prepare a text once per connection and keep a hundred: lists of every length from 1 to 100
/// for each relation would evict each other and prepare again on every request. Padded, a
/// relation has at most eight texts (1 to 128 ids), and the answer is the same.
pub fn padded(ids: impl IntoIterator<Item = i32>) -> Vec<i32> {
    let mut ids: Vec<i32> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if let Some(&last) = ids.last() {
        ids.resize(ids.len().next_power_of_two(), last);
    }
    ids
}

/// Runs a page's statement, with its `LIMIT`s written into its text on PostgreSQL.
///
/// PostgreSQL plans a prepared statement again on every execution when its generic plan (made
/// without the parameters' values) looks worse than the custom ones, and without the page size
/// a generic plan assumes a tenth of the table: a scoped page planned 0.2 ms for 0.1 ms of
/// work, every time. With the size in the text the generic plan is the custom one, kept after
/// five executions. Page sizes are few in practice (each is one text in the drivers'
/// statement cache). SQLite plans once when it prepares, whatever the parameters.
pub(super) async fn query_limited(
    db: &impl ConnectionTrait,
    query: SelectStatement,
) -> AppResult<Vec<QueryResult>> {
    let backend = db.get_database_backend();
    let mut statement = backend.build(&query);
    if backend == DbBackend::Postgres {
        write_limits(&mut statement);
    }
    Ok(db.query_all_raw(statement).await?)
}

/// Writes each parameter that is a `LIMIT` (a whole number right after ` LIMIT `) into the
/// statement's text, numbering the other parameters anew (`$1`, `$2`, ... as PostgreSQL
/// reads them). Leaves the statement as it is if its parameters are not numbered in order.
fn write_limits(statement: &mut sea_orm::Statement) {
    let Some(values) = statement.values.as_mut() else {
        return;
    };
    let sql = &statement.sql;
    let bytes = sql.as_bytes();
    let mut text = String::with_capacity(sql.len());
    let mut kept = Vec::with_capacity(values.0.len());
    let (mut copied, mut next) = (0, 0);
    let (mut quoted, mut string) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' if !string => quoted = !quoted,
            b'\'' if !quoted => string = !string,
            b'$' if !quoted && !string => {
                let end = i
                    + 1
                    + bytes[i + 1..]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                if end > i + 1 {
                    // sea-query numbers its parameters in the order they appear.
                    next += 1;
                    if sql[i + 1..end].parse::<usize>().ok() != Some(next) {
                        return;
                    }
                    let Some(value) = values.0.get(next - 1) else {
                        return;
                    };
                    text.push_str(&sql[copied..i]);
                    match value {
                        Value::BigUnsigned(Some(limit)) if sql[..i].ends_with(" LIMIT ") => {
                            text.push_str(&limit.to_string());
                        }
                        _ => {
                            kept.push(value.clone());
                            text.push_str(&format!("${}", kept.len()));
                        }
                    }
                    copied = end;
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if next != values.0.len() {
        return;
    }
    text.push_str(&sql[copied..]);
    statement.sql = text;
    values.0 = kept;
}

#[cfg(test)]
mod tests {
    use sea_orm::DbBackend;
    use sea_orm::Value;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

    use super::write_limits;
    fn page(limit: u64, more: usize) -> sea_orm::Statement {
        let mut query = Query::select();
        query.column(Alias::new("id")).from(Alias::new("finding"));
        for i in 0..more {
            query.and_where(Expr::col(Alias::new("id")).ne(i as i32));
        }
        DbBackend::Postgres.build(query.limit(limit))
    }

    /// The page size goes into the text and out of the parameters, whatever their number.
    #[test]
    fn a_page_statement_carries_its_size_in_its_text() {
        for more in [0, 1, 11] {
            let mut statement = page(51, more);
            write_limits(&mut statement);
            assert!(statement.sql.ends_with(" LIMIT 51"), "{}", statement.sql);
            assert!(
                !statement.sql.contains(&format!("${}", more + 1)),
                "{}",
                statement.sql
            );
            assert_eq!(statement.values.unwrap().0.len(), more);
        }
    }

    /// A page of parents with each parent's page: both sizes go into the text, and the
    /// parameters after the first limit are numbered anew.
    #[test]
    fn every_limit_of_a_statement_goes_into_its_text() {
        let mut inner = Query::select();
        inner
            .column(Alias::new("id"))
            .from(Alias::new("finding"))
            .and_where(Expr::col(Alias::new("status")).eq("OPEN"))
            .limit(6);
        let mut outer = Query::select();
        outer
            .column(Alias::new("id"))
            .from(Alias::new("regulation"))
            .and_where(Expr::col(Alias::new("title")).ne("it's $2"))
            .limit(21);
        let mut query = Query::select();
        query
            .column(Alias::new("id"))
            .from_subquery(outer.to_owned(), Alias::new("a"))
            .and_where(Expr::col(Alias::new("id")).in_subquery(inner.to_owned()));
        let mut statement = DbBackend::Postgres.build(&query);
        assert_eq!(statement.values.as_ref().unwrap().0.len(), 4);
        write_limits(&mut statement);
        assert!(statement.sql.contains(" LIMIT 21)"), "{}", statement.sql);
        assert!(statement.sql.contains(" LIMIT 6)"), "{}", statement.sql);
        assert!(
            statement.sql.contains(r#""status" = $2"#),
            "{}",
            statement.sql
        );
        assert!(!statement.sql.contains("$3"), "{}", statement.sql);
        assert_eq!(
            statement.values.unwrap().0,
            vec![
                Value::String(Some("it's $2".to_owned())),
                Value::String(Some("OPEN".to_owned()))
            ]
        );
    }

    /// A parameter that follows ` LIMIT ` but is not a whole number stays bound.
    #[test]
    fn a_limit_that_is_not_a_size_stays_bound() {
        let mut statement = page(51, 2);
        statement.values.as_mut().unwrap().0[2] = Value::BigInt(Some(51));
        write_limits(&mut statement);
        assert!(statement.sql.ends_with(" LIMIT $3"), "{}", statement.sql);
        assert_eq!(statement.values.unwrap().0.len(), 3);
    }
}
