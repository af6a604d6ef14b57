//! Early warning (逾期预警), as inspection offices run it: GREEN when a deadline is within
//! `green_days`, YELLOW within `yellow_days`, RED once it has passed; finished work and work
//! without a deadline raise none. The level also says who must be alerted: the responsible
//! person; from YELLOW also the responsible leader; at RED also the unit's principal leader.

use chrono::{Days, NaiveDate};
use sea_orm::{ColumnTrait, Condition};

use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    None,
    Green,
    Yellow,
    Red,
}

impl Level {
    /// Its name in storage and payloads: `green`, `yellow`, `red` (`none` for no level).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Green => "green",
            Level::Yellow => "yellow",
            Level::Red => "red",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Level::None, Level::Green, Level::Yellow, Level::Red]
            .into_iter()
            .find(|l| l.as_str() == name)
    }
}

/// Who is alerted (提醒对象).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The responsible person (责任人).
    ResponsiblePerson,
    /// The responsible leader (责任领导).
    ResponsibleLeader,
    /// The inspected unit's principal leader (主要负责同志).
    PrincipalLeader,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::ResponsiblePerson => "responsible_person",
            Audience::ResponsibleLeader => "responsible_leader",
            Audience::PrincipalLeader => "principal_leader",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        audience(Level::Red)
            .iter()
            .copied()
            .find(|a| a.as_str() == name)
    }
}

/// Who is alerted at `level`, in order of escalation: the responsible person from GREEN, also
/// the responsible leader from YELLOW, also the unit's principal leader at RED.
pub fn audience(level: Level) -> &'static [Audience] {
    use Audience::*;
    match level {
        Level::None => &[],
        Level::Green => &[ResponsiblePerson],
        Level::Yellow => &[ResponsiblePerson, ResponsibleLeader],
        Level::Red => &[ResponsiblePerson, ResponsibleLeader, PrincipalLeader],
    }
}

/// The thresholds in force, and today.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub today: NaiveDate,
    pub green_days: u32,
    pub yellow_days: u32,
}

impl Thresholds {
    pub fn from_config(config: &Config) -> Self {
        Self {
            today: config.timezone.today(),
            green_days: config.warning_green_days,
            yellow_days: config.warning_yellow_days,
        }
    }

    fn plus(&self, days: u32) -> NaiveDate {
        self.today
            .checked_add_days(Days::new(days.into()))
            .unwrap_or(NaiveDate::MAX)
    }

    /// The level of work due on `deadline`.
    pub fn level(&self, deadline: Option<NaiveDate>, finished: bool) -> Level {
        match deadline {
            _ if finished => Level::None,
            None => Level::None,
            Some(d) if d < self.today => Level::Red,
            Some(d) if d <= self.plus(self.yellow_days) => Level::Yellow,
            Some(d) if d <= self.plus(self.green_days) => Level::Green,
            Some(_) => Level::None,
        }
    }

    /// A condition selecting rows at any of `levels`, given their deadline column and the
    /// condition that says the work is finished.
    pub fn condition(
        &self,
        levels: &[Level],
        deadline: impl ColumnTrait,
        finished: Condition,
    ) -> Condition {
        let open = finished.clone().not();
        let mut any = Condition::any();
        for level in levels {
            any = any.add(match level {
                Level::Red => Condition::all()
                    .add(open.clone())
                    .add(deadline.lt(self.today)),
                Level::Yellow => Condition::all()
                    .add(open.clone())
                    .add(deadline.gte(self.today))
                    .add(deadline.lte(self.plus(self.yellow_days))),
                Level::Green => Condition::all()
                    .add(open.clone())
                    .add(deadline.gt(self.plus(self.yellow_days)))
                    .add(deadline.lte(self.plus(self.green_days))),
                Level::None => Condition::any()
                    .add(finished.clone())
                    .add(deadline.is_null())
                    .add(deadline.gt(self.plus(self.green_days))),
            });
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_thresholds() {
        let t = Thresholds {
            today: NaiveDate::from_ymd_opt(2021, 4, 13).unwrap(),
            green_days: 20,
            yellow_days: 10,
        };
        let day = |d: u32| NaiveDate::from_ymd_opt(2021, 4, d);
        assert_eq!(t.level(day(12), false), Level::Red);
        assert_eq!(t.level(day(12), true), Level::None);
        assert_eq!(t.level(day(13), false), Level::Yellow);
        assert_eq!(t.level(day(23), false), Level::Yellow);
        assert_eq!(t.level(day(24), false), Level::Green);
        assert_eq!(
            t.level(NaiveDate::from_ymd_opt(2021, 5, 3), false),
            Level::Green
        );
        assert_eq!(
            t.level(NaiveDate::from_ymd_opt(2021, 5, 4), false),
            Level::None
        );
        assert_eq!(t.level(None, false), Level::None);
    }
}
