//! Relations of records read together. The records of a page (or of one level of nested
//! pages, or the children loaded for one) share a [`Siblings`]: the first of them to resolve a
//! relation asks the shared DataLoader for the keys of all of them at once, and the rest find
//! the answer there. A relation is so asked for once per page rather than once per record:
//! one DataLoader call, not a channel, a key-set entry and a copy of the value per record, and
//! each record gets a shared reference to its value. The call still goes through the shared
//! DataLoader, so that the pages of concurrent requests are read in one statement (without
//! that, reading each request's keys on its own cost a quarter of the throughput of H1).
//!
//! The resolver that owns a field says, in that one place, which key it loads and how a
//! sibling's key is found: nothing beside the resolvers knows which fields exist. A record
//! read on its own (`finding(id)`, a mutation's answer, an event) has no siblings and asks for
//! its own key.
//!
//! What is read lives as long as the page's records: nothing outlives the request, and
//! nothing read for one caller reaches another (the parents were read within the caller's
//! scope, and a relation of a visible record is visible).

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use async_graphql::Context;
use async_graphql::dataloader::Loader as LoaderTrait;
use tokio::sync::OnceCell;

use super::ContextExt;
use super::loaders::{LoadError, Loader};

/// What a batch key reads besides its id: the columns of a finding, say. Keys of one relation
/// that read different things are kept apart.
pub trait Variant {
    fn variant(&self) -> u8 {
        0
    }
}

/// One relation's answer for every sibling, by key.
type Cell = Arc<OnceCell<Arc<dyn Any + Send + Sync>>>;

/// Which relation a cell holds: its key's type and variant, and the type of its values.
type Relation = (TypeId, TypeId, u8);

/// The keys of records read together, and the relations read for them so far.
pub struct Siblings<T> {
    rows: Vec<T>,
    read: Mutex<Vec<(Relation, Cell)>>,
}

impl<T> Siblings<T> {
    /// The siblings of these rows (their keys, in any order).
    pub fn of(rows: Vec<T>) -> Arc<Self> {
        Arc::new(Self {
            rows,
            read: Mutex::new(Vec::new()),
        })
    }

    fn cell<K: 'static + Variant, V: 'static>(&self, key: &K) -> Cell {
        let id: Relation = (TypeId::of::<K>(), TypeId::of::<V>(), key.variant());
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, cell)) = read.iter().find(|(k, _)| *k == id) {
            return cell.clone();
        }
        let cell = Cell::default();
        read.push((id, cell.clone()));
        cell
    }
}

/// Rows read together, made into API records that share one [`Siblings`] of their keys.
pub fn share<M, T, N>(
    rows: impl IntoIterator<Item = M>,
    key_of: impl Fn(&M) -> T,
    node: impl Fn(M, Arc<Siblings<T>>) -> N,
) -> Vec<N> {
    let rows: Vec<M> = rows.into_iter().collect();
    let siblings = Siblings::of(rows.iter().map(key_of).collect());
    rows.into_iter()
        .map(|row| node(row, siblings.clone()))
        .collect()
}

/// A relation's value for `key`, from the siblings when the record has them (asked for all of
/// them the first time), else for the record alone. `key_of` gives a
/// sibling's key (none when it has no such relation); `convert` turns the loaded values into
/// the API's, all at once, so that records loaded together are siblings in turn.
pub async fn related<T, K, V>(
    ctx: &Context<'_>,
    siblings: Option<&Arc<Siblings<T>>>,
    key: K,
    key_of: impl Fn(&T) -> Option<K>,
    convert: impl FnOnce(HashMap<K, <Loader as LoaderTrait<K>>::Value>) -> HashMap<K, V>,
) -> async_graphql::Result<Option<V>>
where
    T: Send + Sync,
    K: Copy + Eq + Hash + Send + Sync + Variant + 'static,
    Loader: LoaderTrait<K, Error = LoadError>,
    V: Clone + Send + Sync + 'static,
{
    let Some(siblings) = siblings else {
        let value = ctx.loader().load_one(key).await?;
        return Ok(value
            .map(|v| convert(HashMap::from([(key, v)])))
            .and_then(|mut m| m.remove(&key)));
    };
    let cell = siblings.cell::<K, V>(&key);
    let read = cell
        .get_or_try_init(|| async move {
            let keys: Vec<K> = siblings
                .rows
                .iter()
                .filter_map(&key_of)
                .chain([key])
                .collect::<HashSet<K>>()
                .into_iter()
                .collect();
            let loaded = ctx.loader().load_many(keys).await?;
            Ok::<_, LoadError>(Arc::new(convert(loaded)) as Arc<dyn Any + Send + Sync>)
        })
        .await?;
    let values = read
        .downcast_ref::<HashMap<K, V>>()
        .ok_or_else(|| crate::error::AppError::internal("a relation read as another type"))?;
    Ok(values.get(&key).cloned())
}

/// Each list of values behind a shared reference (what to-many relations convert with).
pub fn each<K: Eq + Hash, M, V: From<M>>(loaded: HashMap<K, Vec<M>>) -> HashMap<K, Arc<Vec<V>>> {
    loaded
        .into_iter()
        .map(|(k, ms)| (k, Arc::new(ms.into_iter().map(V::from).collect())))
        .collect()
}

/// Each value behind a shared reference (what to-one relations convert with).
pub fn shared<K: Eq + Hash, M, V: From<M>>(loaded: HashMap<K, M>) -> HashMap<K, Arc<V>> {
    loaded
        .into_iter()
        .map(|(k, m)| (k, Arc::new(V::from(m))))
        .collect()
}
