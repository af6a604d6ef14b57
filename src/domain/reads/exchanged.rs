//! What a unit's figures stand on when its records come from its own instance (报送 across
//! networks, issue 43): at the office, the rows merged from a unit's bundles are the unit's
//! records as of its last merged bundle, so every surface that counts them (the status
//! summaries, GraphQL and REST, and the reports and ledger exports) says which bundle that is,
//! when it arrived and how old it is. The rule lives here, once:
//!
//! - A unit is **fed by bundles** when a registered (not archived) peer names it and that peer
//!   is an origin here: records were merged from it (`exchange_origin`), or nothing has been
//!   written to it yet (`sent_sequence = 0`: a peer that only receives from this instance, such
//!   as the office registered at a unit, is not an origin of that unit's records). A peer
//!   registered but not heard from yet stands as "nothing received".
//! - The bundle a figure stands on **as of a moment** is the last one merged from that peer on
//!   or before the moment: the `exchange_log` line of direction `import` and result `merged`
//!   with the highest id not after it (ids grow with time and with the sequence). A summary's
//!   moment is now; a report's is its period's end (or when it was made, if earlier).
//! - A line is shown to a caller whose reach meets the unit: the unit is within the reach, or
//!   the reach lies inside the unit (a section of the unit counts the unit's bundles too).
//!   Another unit's callers do not see it.
//! - Of a summary over an inspection, the line of the unit fed by bundles that the inspection's
//!   unit belongs to; over a department, the units in its subtree and the unit it lies in.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use entity::{department, exchange_log, exchange_origin, exchange_peer, inspection};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::auth::Reach;
use crate::domain::reads::relations;
use crate::domain::reads::summary::Over;
use crate::error::AppResult;
use crate::i18n::{self, Arg, Language};

/// A merged bundle: its number and when it was merged here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bundle {
    pub sequence: i32,
    pub received_at: DateTime<Utc>,
}

/// One unit fed by bundles, as of a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub peer_id: i32,
    /// The peer's name as registered (市委统战部).
    pub peer: String,
    /// The unit the peer's bundles feed.
    pub unit: department::Model,
    /// The last bundle merged on or before the moment; none yet.
    pub bundle: Option<Bundle>,
    /// The moment the figures are counted at.
    pub at: DateTime<Utc>,
}

impl Standing {
    /// How old the bundle is at the moment (never negative); none while nothing arrived.
    pub fn age(&self) -> Option<chrono::TimeDelta> {
        self.bundle
            .map(|b| (self.at - b.received_at).max(chrono::TimeDelta::zero()))
    }

    /// Whole hours of [`Self::age`].
    pub fn age_hours(&self) -> Option<i64> {
        self.age().map(|a| a.num_hours())
    }

    /// Whole days of [`Self::age`].
    pub fn age_days(&self) -> Option<i64> {
        self.age().map(|a| a.num_days())
    }

    /// The sentence people read, in `language`, times on `offset`'s clock:
    /// 市委统战部的数据截至其第 3 次报送（2026-12-07 09:30 收到，距今 2 天）, or
    /// 市委统战部：尚未收到报送. `report` says 距报告截止 instead of 距今 (a report reads the same
    /// forever, so its age is the age at its own moment).
    pub fn sentence(&self, language: Language, offset: FixedOffset, report: bool) -> String {
        let unit: Arg = self.unit.name.as_str().into();
        let (Some(bundle), Some(age)) = (self.bundle, self.age()) else {
            return i18n::message_in(language, "exchange-standing-none", &[("unit", unit)]);
        };
        let age = if age.num_hours() < 24 {
            i18n::message_in(
                language,
                "exchange-standing-hours",
                &[("hours", age.num_hours().to_string().into())],
            )
        } else {
            i18n::message_in(
                language,
                "exchange-standing-days",
                &[("days", age.num_days().to_string().into())],
            )
        };
        let id = if report {
            "exchange-standing-report"
        } else {
            "exchange-standing"
        };
        i18n::message_in(
            language,
            id,
            &[
                ("unit", unit),
                ("sequence", bundle.sequence.to_string().into()),
                (
                    "received",
                    bundle
                        .received_at
                        .with_timezone(&offset)
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                        .into(),
                ),
                ("age", age.into()),
            ],
        )
    }
}

/// Whether a department with path `unit` meets `reach` (within it, or holding it).
fn meets(reach: &Reach, unit: &str) -> bool {
    match reach {
        Reach::All => true,
        Reach::Subtree(prefix) => unit.starts_with(prefix.as_str()) || prefix.starts_with(unit),
        Reach::Nothing => false,
    }
}

/// The units fed by bundles that a summary `over` within `reach` counts, each with the bundle
/// its figures stand on as of `at`, in the order of the department tree. Four statements at
/// most, whatever the number of units (peers are few: one per unit).
pub async fn standings(
    db: &impl ConnectionTrait,
    reach: &Reach,
    over: Over,
    at: DateTime<Utc>,
) -> AppResult<Vec<Standing>> {
    if *reach == Reach::Nothing {
        return Ok(Vec::new());
    }
    // The peers that are origins here (see the module's rule).
    let merged_from = Query::select()
        .expr(Expr::val(1))
        .from(exchange_origin::Entity)
        .and_where(
            Expr::col((exchange_origin::Entity, exchange_origin::Column::PeerId))
                .equals((exchange_peer::Entity, exchange_peer::Column::Id)),
        )
        .to_owned();
    let peers = exchange_peer::Entity::find()
        .filter(exchange_peer::Column::ArchivedAt.is_null())
        .filter(
            Condition::any()
                .add(exchange_peer::Column::SentSequence.eq(0))
                .add(Expr::exists(merged_from)),
        )
        .all(db)
        .await?;
    if peers.is_empty() {
        return Ok(Vec::new());
    }
    // The summary's own department (or its inspection's unit) comes with the units, in one read.
    let anchor = match over {
        Over::Everything => None,
        Over::Department(id) => Some(id),
        Over::Inspection(id) => {
            inspection::Entity::find_by_id(id)
                .select_only()
                .column(inspection::Column::UnitId)
                .into_tuple::<i32>()
                .one(db)
                .await?
        }
    };
    let departments =
        relations::departments(db, peers.iter().map(|p| p.department_id).chain(anchor)).await?;
    let anchor = anchor.and_then(|id| departments.get(&id)).map(|d| &d.path);
    let mut out: Vec<Standing> = peers
        .into_iter()
        .filter_map(|peer| {
            let unit = departments.get(&peer.department_id)?;
            if !meets(reach, &unit.path) {
                return None;
            }
            let counted = match (over, anchor) {
                (Over::Everything, _) => true,
                // Units in the department's subtree, and the unit the department lies in.
                (Over::Department(_), Some(path)) => {
                    unit.path.starts_with(path.as_str()) || path.starts_with(unit.path.as_str())
                }
                // The unit the inspection's unit lies in (or is).
                (Over::Inspection(_), Some(path)) => path.starts_with(unit.path.as_str()),
                (_, None) => false,
            };
            counted.then(|| Standing {
                peer_id: peer.id,
                peer: peer.name,
                unit: unit.clone(),
                bundle: None,
                at,
            })
        })
        .collect();
    if out.is_empty() {
        return Ok(out);
    }
    let bundles = last_merged(db, out.iter().map(|s| s.peer_id), at).await?;
    for standing in &mut out {
        standing.bundle = bundles.get(&standing.peer_id).copied();
    }
    out.sort_by(|a, b| (&a.unit.path, a.peer_id).cmp(&(&b.unit.path, b.peer_id)));
    Ok(out)
}

/// The last bundle merged from each of `peers` on or before `at` (peers with none left out):
/// two statements.
pub async fn last_merged(
    db: &impl ConnectionTrait,
    peers: impl IntoIterator<Item = i32>,
    at: DateTime<Utc>,
) -> AppResult<HashMap<i32, Bundle>> {
    let merged = || {
        exchange_log::Entity::find()
            .filter(exchange_log::Column::Direction.eq("import"))
            .filter(exchange_log::Column::Result.eq("merged"))
            .filter(exchange_log::Column::Sequence.is_not_null())
    };
    let last: Vec<Option<i32>> = merged()
        .select_only()
        .column_as(exchange_log::Column::Id.max(), "id")
        .filter(exchange_log::Column::PeerId.is_in(relations::padded(peers)))
        .filter(exchange_log::Column::CreatedAt.lte(at))
        .group_by(exchange_log::Column::PeerId)
        .into_tuple()
        .all(db)
        .await?;
    let ids: Vec<i32> = last.into_iter().flatten().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let lines = merged()
        .filter(exchange_log::Column::Id.is_in(relations::padded(ids)))
        .all(db)
        .await?;
    Ok(lines
        .into_iter()
        .filter_map(|line| {
            Some((
                line.peer_id?,
                Bundle {
                    sequence: line.sequence?,
                    received_at: line.created_at,
                },
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(bundle: Option<Bundle>, at: DateTime<Utc>) -> Standing {
        Standing {
            peer_id: 1,
            peer: "市委统战部".to_owned(),
            unit: department::Model {
                id: 2,
                code: "ZJTZB".to_owned(),
                name: "市委统战部".to_owned(),
                kind: entity::enums::DepartmentKind::Unit,
                parent_id: Some(1),
                path: "/1/2/".to_owned(),
                principal_leader: None,
                version: 1,
                archived_at: None,
                created_at: at,
                updated_at: at,
            },
            bundle,
            at,
        }
    }

    #[test]
    fn the_sentence_names_the_bundle_its_time_and_its_age() {
        let received = DateTime::parse_from_rfc3339("2026-12-07T01:30:00Z")
            .unwrap()
            .to_utc();
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let bundle = Some(Bundle {
            sequence: 3,
            received_at: received,
        });
        let later = received + chrono::TimeDelta::hours(50);
        assert_eq!(
            standing(bundle, later).sentence(Language::Chinese, offset, false),
            "市委统战部的数据截至其第 3 次报送（2026-12-07 09:30 收到，距今 2 天）"
        );
        assert_eq!(
            standing(bundle, received + chrono::TimeDelta::minutes(90)).sentence(
                Language::Chinese,
                offset,
                true
            ),
            "市委统战部的数据截至其第 3 次报送（2026-12-07 09:30 收到，距报告截止 1 小时）"
        );
        assert_eq!(
            standing(None, later).sentence(Language::Chinese, offset, false),
            "市委统战部：尚未收到报送"
        );
        // A moment before the bundle (a clock set back) is age zero, never negative.
        assert_eq!(
            standing(bundle, received - chrono::TimeDelta::hours(1)).age_hours(),
            Some(0)
        );
    }

    #[test]
    fn a_line_is_seen_from_within_the_unit_and_above_it_only() {
        assert!(meets(&Reach::All, "/1/2/"));
        assert!(meets(&Reach::Subtree("/1/".to_owned()), "/1/2/"));
        assert!(meets(&Reach::Subtree("/1/2/5/".to_owned()), "/1/2/"));
        assert!(!meets(&Reach::Subtree("/1/3/".to_owned()), "/1/2/"));
        assert!(!meets(&Reach::Subtree("/1/20/".to_owned()), "/1/2/"));
        assert!(!meets(&Reach::Nothing, "/1/2/"));
    }
}
