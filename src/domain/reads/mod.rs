//! Reading within reach: the caller's scope (`scope`), batched relations, keyset pages with
//! nested and lateral reads and their kept counts (`page`, `kept`), the lists of findings and
//! measures, search (`listing`), summaries, records as of a moment, the audit log, incremental
//! pull (`sync`), and what an exchanged unit's figures stand on (`exchanged`).

pub mod as_of;
pub mod audit_log;
pub mod columns;
pub mod exchanged;
pub mod finding_list;
pub mod kept;
pub mod listing;
pub mod lists;
pub mod measure_list;
pub mod page;
pub mod relations;
pub mod scope;
pub mod summary;
pub mod supervision_counts;
pub mod supervision_relations;
pub mod sync;
