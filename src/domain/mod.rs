//! Rules both APIs share. GraphQL resolvers and REST handlers are thin adapters over these
//! functions; each takes `&impl ConnectionTrait` so it works inside or outside a transaction.

pub mod department;
