//! Keyset pagination for every list: opaque cursors that encode the sort keys of a row, so a
//! page boundary stays put when rows are inserted (an offset would shift).
//!
//! An order is a list of sort expressions, always ending with the row id so that keys are
//! unique; `after` becomes `(k1, k2, id) > (v1, v2, vid)` (row values, supported by SQLite and
//! PostgreSQL alike), `before` the opposite, and `last` reads the order backwards.
//!
//! A list nested under a page of parents (each inspection's findings, each finding's ledger)
//! is read for all the parents at once ([`EachRead`]): one statement reads each parent's page
//! (a lateral join on PostgreSQL, a correlated subquery of each parent's page keys on SQLite),
//! and their `totalCount`s come from one grouped count, however many parents. Under a page not
//! yet read, on PostgreSQL, the same lateral join reads it with the page ([`fetch_under`]).
//!
//! The rooms: [`keyset`] (arguments, orders, cursors, one page), [`nested`] (the pages of many
//! parents in one statement), [`count`] (`totalCount`s and the kept ones), [`sql`] (the
//! statement texts). Arrows go one way, keyset and nested down to count and sql; nothing here
//! knows the lists that use it (findings, the ledger, ...), so any list can be paged.

mod count;
mod keyset;
mod nested;
mod sql;

pub use count::{CountQuery, Counts};
pub use keyset::{
    Cursor, DEFAULT_SIZE, Key, MAX_SIZE, Order, Page, PageArgs, fetch, fetch_decoded,
};
pub use nested::{Decode, EachRead, Lateral, NESTED, fetch_under, fetch_with};
pub use sql::padded;
