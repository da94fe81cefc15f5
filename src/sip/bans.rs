//! Brute-force defence (sans-IO): counts failed digest authentications per source address and
//! per account, bans a source that fails `max_failures` times within `window` for `ban_time`
//! (doubled for each repeat offence, up to `max_ban_time`), and locks an account that fails
//! `account_max_failures` times within `window` for `account_lockout`. A locked account is
//! still answered with the same challenge as any other (no user enumeration, RFC 3261 §22.1
//! leaves the policy to the server); a banned source is dropped before its datagrams are
//! parsed. Addresses in the allow-list are never banned. Lookups are one hash probe; the
//! tables are bounded, and entries whose window and ban have passed are purged.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ipnet::IpNet;

/// Most sources tracked at once: beyond it new sources are not counted until a purge frees
/// room (a flood of spoofed addresses cannot grow the table without bound).
pub const MAX_TRACKED: usize = 65_536;

/// The thresholds and times of the policy.
#[derive(Debug, Clone)]
pub struct BanPolicy {
    /// Failures from one source within `window` that ban it; 0 disables source bans.
    pub max_failures: u32,
    /// The window failures are counted in.
    pub window: Duration,
    /// The first ban's length.
    pub ban_time: Duration,
    /// The longest ban (repeat offences double the length up to this).
    pub max_ban_time: Duration,
    /// Failures of one account within `window` that lock it; 0 disables lock-outs.
    pub account_max_failures: u32,
    /// How long a locked account stays locked.
    pub account_lockout: Duration,
    /// Networks never banned (the LAN, the trunk providers).
    pub allow: Vec<IpNet>,
}

/// A ban in force, as listings and events show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    /// The banned address.
    pub address: IpAddr,
    /// Failures counted when it was banned.
    pub failures: u32,
    /// How many times it has been banned (1 for the first ban).
    pub offences: u32,
    /// When the ban ends.
    pub until: Instant,
    /// The ban's full length.
    pub length: Duration,
}

#[derive(Debug, Clone)]
struct Counter {
    failures: u32,
    window_start: Instant,
}

impl Counter {
    /// Counts one failure at `now`, restarting the window when it has passed; the new count.
    fn bump(&mut self, now: Instant, window: Duration) -> u32 {
        if now.saturating_duration_since(self.window_start) >= window {
            self.failures = 0;
            self.window_start = now;
        }
        self.failures += 1;
        self.failures
    }
}

#[derive(Debug, Clone)]
struct Source {
    counter: Counter,
    offences: u32,
    ban: Option<Ban>,
    last_seen: Instant,
}

#[derive(Debug, Clone)]
struct Account {
    counter: Counter,
    locked_until: Option<Instant>,
}

/// What a failure led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Counted; no threshold reached.
    Counted,
    /// The source is now banned.
    Banned(Ban),
}

/// The per-source and per-account failure tables.
#[derive(Debug)]
pub struct BanList {
    policy: BanPolicy,
    sources: HashMap<IpAddr, Source>,
    accounts: HashMap<String, Account>,
}

impl BanList {
    /// An empty list enforcing `policy`.
    pub fn new(policy: BanPolicy) -> BanList {
        BanList {
            policy,
            sources: HashMap::new(),
            accounts: HashMap::new(),
        }
    }

    /// Whether datagrams from `address` are to be dropped at `now` (one hash probe).
    pub fn is_banned(&self, address: IpAddr, now: Instant) -> bool {
        self.sources
            .get(&address)
            .and_then(|s| s.ban.as_ref())
            .is_some_and(|ban| now < ban.until)
    }

    /// Whether `account` is locked out at `now`: its credentials are not checked, and it gets
    /// the same challenge as a wrong password.
    pub fn is_locked(&self, account: &str, now: Instant) -> bool {
        self.accounts
            .get(account)
            .and_then(|a| a.locked_until)
            .is_some_and(|until| now < until)
    }

    fn allowed(&self, address: IpAddr) -> bool {
        self.policy.allow.iter().any(|net| net.contains(&address))
    }

    /// Counts a failed authentication of `account` from `address`.
    pub fn record_failure(
        &mut self,
        address: IpAddr,
        account: &str,
        now: Instant,
    ) -> FailureOutcome {
        self.count_account(account, now);
        if self.policy.max_failures == 0 || self.allowed(address) {
            return FailureOutcome::Counted;
        }
        if !self.sources.contains_key(&address) && self.sources.len() >= MAX_TRACKED {
            self.purge(now);
            if self.sources.len() >= MAX_TRACKED {
                return FailureOutcome::Counted;
            }
        }
        let source = self.sources.entry(address).or_insert(Source {
            counter: Counter {
                failures: 0,
                window_start: now,
            },
            offences: 0,
            ban: None,
            last_seen: now,
        });
        source.last_seen = now;
        let failures = source.counter.bump(now, self.policy.window);
        if failures < self.policy.max_failures {
            return FailureOutcome::Counted;
        }
        source.offences += 1;
        let doublings = (source.offences - 1).min(16);
        let length = self
            .policy
            .ban_time
            .saturating_mul(1 << doublings)
            .min(self.policy.max_ban_time.max(self.policy.ban_time));
        let ban = Ban {
            address,
            failures,
            offences: source.offences,
            until: now + length,
            length,
        };
        source.ban = Some(ban.clone());
        source.counter.failures = 0;
        source.counter.window_start = now;
        FailureOutcome::Banned(ban)
    }

    fn count_account(&mut self, account: &str, now: Instant) {
        if self.policy.account_max_failures == 0 {
            return;
        }
        if !self.accounts.contains_key(account) && self.accounts.len() >= MAX_TRACKED {
            return;
        }
        let entry = self.accounts.entry(account.to_string()).or_insert(Account {
            counter: Counter {
                failures: 0,
                window_start: now,
            },
            locked_until: None,
        });
        if entry.counter.bump(now, self.policy.window) >= self.policy.account_max_failures {
            entry.locked_until = Some(now + self.policy.account_lockout);
            entry.counter.failures = 0;
        }
    }

    /// A successful authentication from `address`: its failure count starts again (its
    /// offence count, which lengthens later bans, stays).
    pub fn record_success(&mut self, address: IpAddr) {
        if let Some(source) = self.sources.get_mut(&address) {
            source.counter.failures = 0;
        }
    }

    /// Lifts the ban of `address`; false when it was not banned.
    pub fn unban(&mut self, address: IpAddr, now: Instant) -> bool {
        match self.sources.get_mut(&address) {
            Some(source) if source.ban.as_ref().is_some_and(|ban| now < ban.until) => {
                source.ban = None;
                source.counter.failures = 0;
                true
            }
            _ => false,
        }
    }

    /// The bans in force at `now`, soonest to end first.
    pub fn bans(&self, now: Instant) -> Vec<Ban> {
        let mut bans: Vec<Ban> = self
            .sources
            .values()
            .filter_map(|s| s.ban.clone().filter(|ban| now < ban.until))
            .collect();
        bans.sort_by_key(|b| (b.until, b.address));
        bans
    }

    /// Forgets sources and accounts with no ban in force and no failure within the window;
    /// a source keeps its offence count for `max_ban_time` after it was last seen.
    pub fn purge(&mut self, now: Instant) {
        let policy = &self.policy;
        self.sources.retain(|_, s| {
            let banned = s.ban.as_ref().is_some_and(|ban| now < ban.until);
            let counting = now.saturating_duration_since(s.counter.window_start) < policy.window;
            let remembered =
                s.offences > 0 && now.saturating_duration_since(s.last_seen) < policy.max_ban_time;
            banned || counting || remembered
        });
        self.accounts.retain(|_, a| {
            a.locked_until.is_some_and(|until| now < until)
                || now.saturating_duration_since(a.counter.window_start) < policy.window
        });
    }
}

#[cfg(test)]
mod tests;
