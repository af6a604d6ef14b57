//! Small builders shared by the migration files, so each file reads as the table it creates.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// `CHECK (col IN (...))`: the portable stand-in for an enum type.
pub fn one_of<C: IntoIden + Copy + 'static>(column: C, values: &[&str]) -> ColumnDef {
    // Literals, not bound parameters: SQLite refuses parameters in CHECK constraints.
    let list: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
    let name = column.into_iden().to_string();
    let mut def = string(column);
    def.check(Expr::cust(format!("{name} IN ({})", list.join(", "))));
    def
}

/// A CHECK condition written as SQL (literals inline; SQLite refuses bound parameters there).
pub fn sql(condition: &'static str) -> Expr {
    Expr::cust(condition)
}

/// A NOT NULL text column that must hold more than white space.
pub fn required_text<C: IntoIden + Copy + 'static>(column: C) -> ColumnDef {
    let name = column.into_iden().to_string();
    let mut def = text(column);
    def.check(Expr::cust(format!("length(trim({name})) > 0")));
    def
}

/// UTC timestamp, set by the application (not a database default, so both databases agree).
pub fn utc<C: IntoIden>(column: C) -> ColumnDef {
    timestamp_with_time_zone(column)
}

pub fn utc_null<C: IntoIden>(column: C) -> ColumnDef {
    timestamp_with_time_zone_null(column)
}

/// A foreign key `table.column -> to.id` that refuses to delete a referenced row: rectrack
/// never deletes rows that others point at (deletions are soft).
pub fn fk<T, C, R>(table: T, column: C, to: R) -> ForeignKeyCreateStatement
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
    R: IntoIden + Copy + 'static,
{
    ForeignKey::create()
        .from(table, column)
        .to(to, Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

/// A plain index named `<table>_<columns>_idx`.
pub fn index<T: IntoIden + Copy + 'static>(
    table: T,
    name: &str,
    columns: Vec<DynIden>,
) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for column in columns {
        stmt.col(column);
    }
    stmt.to_owned()
}

/// Creates a list of indexes in order.
pub async fn create_indexes(
    manager: &SchemaManager<'_>,
    indexes: Vec<IndexCreateStatement>,
) -> Result<(), DbErr> {
    for index in indexes {
        manager.create_index(index).await?;
    }
    Ok(())
}

/// Drops tables in the given order (children first).
pub async fn drop_tables(manager: &SchemaManager<'_>, tables: Vec<DynIden>) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(table).to_owned())
            .await?;
    }
    Ok(())
}

/// `later IS NULL OR later >= earlier`: a date that, when known, does not precede another.
pub fn on_or_after<A, B>(later: A, earlier: B) -> Expr
where
    A: IntoIden + Copy + 'static,
    B: IntoIden + Copy + 'static,
{
    Expr::col(later)
        .is_null()
        .or(Expr::col(later).gte(Expr::col(earlier)))
}
