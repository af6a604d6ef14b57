//! The records a unit keeps (inspections, their findings and measures, departments,
//! regulations, targets, the progress ledger and its rows, accounts): each kind's commands, the rule of its
//! fields (`text`), the versioned update, archive and audit every kind shares (`change`).

pub mod account;
pub mod category;
pub mod change;
pub mod department;
pub mod finding;
pub mod inspection;
pub mod ledger;
pub mod measure;
pub mod ordinal;
pub mod progress;
pub mod regulation;
pub mod stage;
pub mod target;
pub mod text;
