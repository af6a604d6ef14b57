//! What is filed and exchanged as documents: report snapshots (`report`), the bulletin's
//! prose (`bulletin`), the ledger import (`ledger_import`), bulk changes (`bulk`).

pub mod bulk;
pub mod bulletin;
pub mod ledger_import;
pub mod report;
