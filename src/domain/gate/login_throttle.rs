//! How often a password may be guessed: login throttling as the OWASP Authentication Cheat
//! Sheet advises it (slow the guesser down where they guess; never a hard lock any stranger
//! can put on someone else's account).
//!
//! Every attempt is counted as a failure *before* its password is checked, so that attempts
//! running side by side (aliases, batches, parallel requests, sockets) cannot all slip under
//! a budget; a correct password gives its count back. Three budgets hold at once:
//! - one account name from one client address (`RECTRACK_LOGIN_MAX_FAILURES`, 5): a guesser
//!   at one account is slowed at once, and only from where they guess, so its owner logging
//!   in from elsewhere is not held back;
//! - one client address, whatever the names (`RECTRACK_LOGIN_ADDRESS_MAX_FAILURES`, 20):
//!   spraying a password across many names;
//! - one account name from every address (`RECTRACK_LOGIN_ACCOUNT_MAX_FAILURES`, 50): the
//!   ceiling against guessing from many addresses at once.
//!
//! The name-wide ceiling does not hold an owner back at an address they have logged in from
//! before (a known address, kept for [`KNOWN_FOR`]): strangers guessing from many addresses
//! cannot shut the owner out of the places they use. An admin's password reset or re-enabling
//! forgets the name's failures ([`Throttle::forget`]).
//!
//! A key whose budget is spent is refused for a minute (or `RECTRACK_LOGIN_LOCKOUT`, if
//! shorter) after its last failure, doubling with each further failure up to
//! `RECTRACK_LOGIN_LOCKOUT`; its failures are forgotten once it has had none for twice that.
//! Names count whether or not an account has them, so no answer says which names exist.
//!
//! The counts live in memory, per instance (as the per-address rate limits do), bounded in
//! size; IPv6 addresses count by their /64 (one subscriber's network).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::JwtConfig;

/// The first refusal after a budget is spent lasts this long (or the cap, if shorter).
const FIRST_WAIT: Duration = Duration::from_secs(60);

/// Keys kept per budget before the forgotten (then the unthrottled) are dropped.
const MAX_KEYS: usize = 100_000;

/// How long an address an account logged in from stays known to that account.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// The longest account name kept as a key: no account name is longer.
const MAX_NAME: usize = 64;

/// Which budget an attempt spent or was refused by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One account name from one client address.
    NameFromAddress,
    /// One client address, whatever the names.
    Address,
    /// One account name from every address.
    Name,
}

impl Scope {
    /// As the audit trail and the log name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::NameFromAddress => "name_from_address",
            Scope::Address => "address",
            Scope::Name => "name",
        }
    }
}

/// The budgets, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Budgets {
    pub per_name_and_address: u32,
    pub per_address: u32,
    pub per_name: u32,
    /// The longest a refusal lasts.
    pub longest: Duration,
}

impl Budgets {
    pub fn from_config(config: &JwtConfig) -> Self {
        Self {
            per_name_and_address: config.login_max_failures.max(1),
            per_address: config.login_address_max_failures.max(1),
            per_name: config.login_account_max_failures.max(1),
            longest: config.login_lockout.max(Duration::from_secs(1)),
        }
    }

    /// How long a key that has failed `over` times beyond its budget is refused.
    fn wait(&self, over: u32) -> Duration {
        let first = FIRST_WAIT.min(self.longest);
        first
            .checked_mul(1u32 << over.min(16))
            .unwrap_or(self.longest)
            .min(self.longest)
    }
}

/// The failures counted against one key.
#[derive(Debug, Clone, Copy)]
struct Tally {
    failures: u32,
    last: Instant,
}

impl Tally {
    /// How much longer the key is refused, if it is.
    fn refused_for(&self, budget: u32, budgets: &Budgets, now: Instant) -> Option<Duration> {
        let over = self.failures.checked_sub(budget)?;
        let until = self.last + budgets.wait(over);
        until
            .checked_duration_since(now)
            .filter(|left| !left.is_zero())
    }

    fn forgotten(&self, budgets: &Budgets, now: Instant) -> bool {
        now.duration_since(self.last) > budgets.longest * 2
    }
}

/// The tallies of one budget.
struct Tallies<K> {
    budget: u32,
    map: HashMap<K, Tally>,
}

impl<K: Eq + Hash + Clone> Tallies<K> {
    fn new(budget: u32) -> Self {
        Self {
            budget,
            map: HashMap::new(),
        }
    }

    /// The key's tally, a forgotten one counting as none.
    fn current(&self, key: &K, budgets: &Budgets, now: Instant) -> Option<Tally> {
        self.map
            .get(key)
            .copied()
            .filter(|tally| !tally.forgotten(budgets, now))
    }

    fn refused_for(&self, key: &K, budgets: &Budgets, now: Instant) -> Option<Duration> {
        self.current(key, budgets, now)?
            .refused_for(self.budget, budgets, now)
    }

    /// Counts a failure; true when it spends the budget (the key is refused from now on).
    fn fail(&mut self, key: &K, budgets: &Budgets, now: Instant) -> bool {
        if self.map.len() >= MAX_KEYS && !self.map.contains_key(key) {
            self.prune(budgets, now);
        }
        let failures = self.current(key, budgets, now).map_or(0, |t| t.failures) + 1;
        self.map.insert(
            key.clone(),
            Tally {
                failures,
                last: now,
            },
        );
        failures >= self.budget
    }

    /// Gives back a failure counted for an attempt that succeeded.
    fn give_back(&mut self, key: &K) {
        if let Some(tally) = self.map.get_mut(key) {
            tally.failures = tally.failures.saturating_sub(1);
        }
    }

    /// Drops the forgotten keys, and when that is not enough, the ones not refused, then the
    /// oldest refused: a flood of new names or addresses cannot grow the map without bound,
    /// and what it drops matters least.
    fn prune(&mut self, budgets: &Budgets, now: Instant) {
        self.map.retain(|_, tally| !tally.forgotten(budgets, now));
        if self.map.len() >= MAX_KEYS {
            let budget = self.budget;
            self.map.retain(|_, tally| tally.failures >= budget);
        }
        if self.map.len() >= MAX_KEYS {
            // Full of refused keys: the half that failed longest ago makes room, so the map
            // stays bounded whatever a flood does.
            let mut times: Vec<Instant> = self.map.values().map(|t| t.last).collect();
            times.sort_unstable();
            let cut = times[times.len() / 2];
            self.map.retain(|_, tally| tally.last > cut);
        }
    }
}

struct Counts {
    pairs: Tallies<(String, IpAddr)>,
    addresses: Tallies<IpAddr>,
    names: Tallies<String>,
    /// Names and the addresses they last logged in from, with when.
    known: HashMap<(String, IpAddr), Instant>,
}

impl Counts {
    fn is_known(&self, pair: &(String, IpAddr), now: Instant) -> bool {
        self.known
            .get(pair)
            .is_some_and(|at| now.duration_since(*at) < KNOWN_FOR)
    }

    fn know(&mut self, pair: (String, IpAddr), now: Instant) {
        if self.known.len() >= MAX_KEYS && !self.known.contains_key(&pair) {
            self.known
                .retain(|_, at| now.duration_since(*at) < KNOWN_FOR);
            if self.known.len() >= MAX_KEYS {
                // Full of recent logins: the oldest half makes room.
                let mut times: Vec<Instant> = self.known.values().copied().collect();
                times.sort_unstable();
                let cut = times[times.len() / 2];
                self.known.retain(|_, at| *at > cut);
            }
        }
        self.known.insert(pair, now);
    }
}

/// The login throttle of this instance.
pub struct Throttle {
    budgets: Budgets,
    counts: Mutex<Counts>,
}

/// An attempt let through: its failure is counted until [`Throttle::succeeded`] gives it back.
#[derive(Debug)]
pub struct Attempt {
    name: String,
    address: IpAddr,
    /// The budgets this attempt spent, should its password be wrong.
    pub spent: Vec<Scope>,
}

/// An attempt refused unchecked: which budget is spent, and for how much longer.
#[derive(Debug)]
pub struct Refused {
    pub scope: Scope,
    pub retry_after: Duration,
}

/// The key of a client address: IPv6 by its /64, an IPv4-mapped address as the IPv4 one.
fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// The key of an account name, as the lookup sees it (trimmed), no longer than any name; also
/// the name as the audit trail and the log record it.
pub fn name_key(name: &str) -> String {
    name.trim().chars().take(MAX_NAME).collect()
}

impl Throttle {
    pub fn new(budgets: Budgets) -> Self {
        Self {
            counts: Mutex::new(Counts {
                pairs: Tallies::new(budgets.per_name_and_address),
                addresses: Tallies::new(budgets.per_address),
                names: Tallies::new(budgets.per_name),
                known: HashMap::new(),
            }),
            budgets,
        }
    }

    /// Lets an attempt at `name` from `address` through, counting it as a failure, or refuses
    /// it while one of its budgets is spent.
    pub fn begin(&self, name: &str, address: IpAddr) -> Result<Attempt, Refused> {
        let name = name_key(name);
        let address = address_key(address);
        let pair = (name.clone(), address);
        let now = Instant::now();
        let budgets = &self.budgets;
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let refusals = [
            (
                Scope::NameFromAddress,
                counts.pairs.refused_for(&pair, budgets, now),
            ),
            (
                Scope::Address,
                counts.addresses.refused_for(&address, budgets, now),
            ),
            (
                Scope::Name,
                // The owner at an address they have logged in from is not held back by
                // failures elsewhere.
                if counts.is_known(&pair, now) {
                    None
                } else {
                    counts.names.refused_for(&name, budgets, now)
                },
            ),
        ];
        if let Some((scope, retry_after)) = refusals
            .into_iter()
            .filter_map(|(scope, wait)| wait.map(|w| (scope, w)))
            .max_by_key(|(_, wait)| *wait)
        {
            return Err(Refused { scope, retry_after });
        }
        let mut spent = Vec::new();
        if counts.pairs.fail(&pair, budgets, now) {
            spent.push(Scope::NameFromAddress);
        }
        if counts.addresses.fail(&address, budgets, now) {
            spent.push(Scope::Address);
        }
        if counts.names.fail(&name, budgets, now) {
            spent.push(Scope::Name);
        }
        Ok(Attempt {
            name,
            address,
            spent,
        })
    }

    /// The attempt's password was right: its name starts afresh from its address, and the
    /// failure it was counted as is given back to the address and the name.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let pair = (attempt.name, attempt.address);
        counts.pairs.map.remove(&pair);
        counts.addresses.give_back(&pair.1);
        counts.names.give_back(&pair.0);
        counts.know(pair, Instant::now());
    }

    /// Forgets the failures counted against `name`, from every address (an admin reset the
    /// account's password or enabled it).
    pub fn forget(&self, name: &str) {
        let name = name_key(name);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.names.map.remove(&name);
        counts.pairs.map.retain(|(n, _), _| *n != name);
    }

    /// How much longer logins to `name` are refused from every address, if they are.
    pub fn name_refused_for(&self, name: &str) -> Option<Duration> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts
            .names
            .refused_for(&name_key(name), &self.budgets, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets() -> Budgets {
        Budgets {
            per_name_and_address: 3,
            per_address: 5,
            per_name: 7,
            longest: Duration::from_secs(900),
        }
    }

    #[test]
    fn waits_double_from_a_minute_up_to_the_cap() {
        let b = budgets();
        let waits: Vec<u64> = (0..6).map(|over| b.wait(over).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 900, 900]);
        assert_eq!(b.wait(u32::MAX).as_secs(), 900);
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_spent_pair_is_refused_while_the_name_from_elsewhere_and_the_address_for_others_are_not() {
        let throttle = Throttle::new(budgets());
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        let there: IpAddr = "192.0.2.2".parse().unwrap();
        for n in 1..=3 {
            let attempt = throttle.begin("alice", here).unwrap();
            assert_eq!(attempt.spent.is_empty(), n < 3);
        }
        let refused = throttle.begin("alice", here).unwrap_err();
        assert_eq!(refused.scope, Scope::NameFromAddress);
        assert!(refused.retry_after <= Duration::from_secs(60));
        let elsewhere = throttle.begin("alice", there).unwrap();
        throttle.succeeded(elsewhere);
        assert!(throttle.begin("bob", here).is_ok());
        // Two more names from here spend the address's budget of five.
        assert!(throttle.begin("carol", here).is_ok());
        assert_eq!(
            throttle.begin("dave", here).unwrap_err().scope,
            Scope::Address
        );
    }

    #[test]
    fn the_owner_at_a_known_address_passes_the_names_ceiling_and_an_admin_clears_it() {
        let throttle = Throttle::new(budgets());
        let home: IpAddr = "192.0.2.1".parse().unwrap();
        let fresh: IpAddr = "192.0.2.99".parse().unwrap();
        throttle.succeeded(throttle.begin("alice", home).unwrap());
        // Seven failures from seven strangers spend the name's budget.
        for n in 10..17 {
            let stranger: IpAddr = format!("198.51.100.{n}").parse().unwrap();
            throttle.begin("alice", stranger).unwrap();
        }
        assert_eq!(
            throttle.begin("alice", fresh).unwrap_err().scope,
            Scope::Name
        );
        assert!(throttle.name_refused_for("alice").is_some());
        throttle.succeeded(throttle.begin("alice", home).unwrap());
        throttle.forget("alice");
        assert!(throttle.name_refused_for("alice").is_none());
        assert!(throttle.begin("alice", fresh).is_ok());
    }

    #[test]
    fn a_success_gives_its_count_back() {
        let throttle = Throttle::new(budgets());
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..20 {
            let attempt = throttle.begin("alice", here).unwrap();
            throttle.succeeded(attempt);
        }
        assert!(throttle.name_refused_for("alice").is_none());
    }
}
