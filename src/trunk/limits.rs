//! Toll-fraud limits of a trunk: which dialled numbers may leave through it
//! (`allowed_prefixes`, `denied_prefixes`), how many of its calls may be up at once
//! (`max_concurrent_calls`) and how many may start per minute (`max_calls_per_minute`). A
//! call that breaks a limit is refused before anything is sent to the provider; the caller
//! gets 403 with the [`Refusal`] as its reason. The counters are shared by every call task
//! behind one small mutex, held for a counter update only; an admitted call holds a
//! [`TrunkCall`] that gives its place back when dropped.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The limits of one trunk; empty lists and zeros mean no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrunkLimits {
    /// When not empty, only numbers starting with one of these may be dialled.
    pub allowed_prefixes: Vec<String>,
    /// Numbers starting with one of these may not be dialled (checked first).
    pub denied_prefixes: Vec<String>,
    /// Calls up at once through the trunk; 0 is unlimited.
    pub max_concurrent_calls: u32,
    /// Calls started through the trunk within any minute; 0 is unlimited.
    pub max_calls_per_minute: u32,
}

/// Why a call may not leave through a trunk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The number starts with a denied prefix.
    #[error("number {number} matches denied prefix {prefix} on trunk {trunk}")]
    DeniedPrefix {
        /// The trunk.
        trunk: String,
        /// The dialled number.
        number: String,
        /// The prefix it matched.
        prefix: String,
    },
    /// The number starts with none of the allowed prefixes.
    #[error("number {number} is not in the allowed prefixes of trunk {trunk}")]
    NotAllowed {
        /// The trunk.
        trunk: String,
        /// The dialled number.
        number: String,
    },
    /// The trunk has `max` calls up already.
    #[error("trunk {trunk} already carries its {max} concurrent calls")]
    Concurrent {
        /// The trunk.
        trunk: String,
        /// Its limit.
        max: u32,
    },
    /// The calling endpoint's `allowed_trunks` does not list the trunk.
    #[error("endpoint {endpoint} may not call out through trunk {trunk}")]
    TrunkNotAllowed {
        /// The trunk.
        trunk: String,
        /// The calling endpoint.
        endpoint: String,
    },
    /// `max` calls started through the trunk within the last minute.
    #[error("trunk {trunk} started its {max} calls of the last minute")]
    Rate {
        /// The trunk.
        trunk: String,
        /// Its limit.
        max: u32,
    },
}

impl TrunkLimits {
    /// Whether `number` may be dialled through trunk `trunk` (prefix rules only).
    pub fn check_number(&self, trunk: &str, number: &str) -> Result<(), Refusal> {
        if let Some(prefix) = self
            .denied_prefixes
            .iter()
            .find(|p| number.starts_with(p.as_str()))
        {
            return Err(Refusal::DeniedPrefix {
                trunk: trunk.to_string(),
                number: number.to_string(),
                prefix: prefix.clone(),
            });
        }
        if !self.allowed_prefixes.is_empty()
            && !self
                .allowed_prefixes
                .iter()
                .any(|p| number.starts_with(p.as_str()))
        {
            return Err(Refusal::NotAllowed {
                trunk: trunk.to_string(),
                number: number.to_string(),
            });
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Usage {
    active: u32,
    started: VecDeque<Instant>,
    /// Calls admitted out through the trunk since start.
    admitted: u64,
    /// Calls that came in from the trunk since start.
    received: u64,
}

/// The live call counts of every trunk, shared by the call tasks.
#[derive(Debug, Clone, Default)]
pub struct TrunkUsage {
    usage: Arc<Mutex<HashMap<String, Usage>>>,
}

/// An admitted call's place on its trunk, given back when dropped.
#[derive(Debug)]
pub struct TrunkCall {
    usage: TrunkUsage,
    trunk: String,
}

impl Drop for TrunkCall {
    fn drop(&mut self) {
        if let Some(usage) = self.usage.lock().get_mut(&self.trunk) {
            usage.active = usage.active.saturating_sub(1);
        }
    }
}

impl TrunkUsage {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Usage>> {
        self.usage.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a call to `number` through `trunk` at `now`, or says which limit it breaks.
    pub fn admit(
        &self,
        trunk: &str,
        number: &str,
        limits: &TrunkLimits,
        now: Instant,
    ) -> Result<TrunkCall, Refusal> {
        limits.check_number(trunk, number)?;
        let mut all = self.lock();
        let usage = all.entry(trunk.to_string()).or_default();
        if limits.max_concurrent_calls > 0 && usage.active >= limits.max_concurrent_calls {
            return Err(Refusal::Concurrent {
                trunk: trunk.to_string(),
                max: limits.max_concurrent_calls,
            });
        }
        let minute = Duration::from_secs(60);
        while usage
            .started
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= minute)
        {
            usage.started.pop_front();
        }
        if limits.max_calls_per_minute > 0
            && usage.started.len() >= limits.max_calls_per_minute as usize
        {
            return Err(Refusal::Rate {
                trunk: trunk.to_string(),
                max: limits.max_calls_per_minute,
            });
        }
        if limits.max_calls_per_minute > 0 {
            usage.started.push_back(now);
        }
        usage.active += 1;
        usage.admitted += 1;
        drop(all);
        Ok(TrunkCall {
            usage: self.clone(),
            trunk: trunk.to_string(),
        })
    }

    /// Calls up through `trunk`.
    pub fn active(&self, trunk: &str) -> u32 {
        self.lock().get(trunk).map_or(0, |u| u.active)
    }

    /// Calls admitted out through `trunk` since start.
    pub fn admitted(&self, trunk: &str) -> u64 {
        self.lock().get(trunk).map_or(0, |u| u.admitted)
    }

    /// Counts a call that came in from `trunk`.
    pub fn receive(&self, trunk: &str) {
        self.lock().entry(trunk.to_string()).or_default().received += 1;
    }

    /// Calls that came in from `trunk` since start.
    pub fn received(&self, trunk: &str) -> u64 {
        self.lock().get(trunk).map_or(0, |u| u.received)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> TrunkLimits {
        TrunkLimits {
            allowed_prefixes: vec!["0".into(), "1".into()],
            denied_prefixes: vec!["00".into(), "0900".into()],
            max_concurrent_calls: 2,
            max_calls_per_minute: 3,
        }
    }

    #[test]
    fn prefixes_deny_first_then_allow() {
        let l = limits();
        assert!(l.check_number("p", "0612345678").is_ok());
        assert!(l.check_number("p", "15551234").is_ok());
        assert!(matches!(
            l.check_number("p", "0044123"),
            Err(Refusal::DeniedPrefix { prefix, .. }) if prefix == "00"
        ));
        assert!(matches!(
            l.check_number("p", "0900123"),
            Err(Refusal::DeniedPrefix { .. })
        ));
        assert!(matches!(
            l.check_number("p", "912"),
            Err(Refusal::NotAllowed { .. })
        ));
        assert!(TrunkLimits::default().check_number("p", "0044").is_ok());
    }

    #[test]
    fn concurrent_calls_are_counted_and_given_back() {
        let usage = TrunkUsage::default();
        let l = TrunkLimits {
            max_concurrent_calls: 2,
            ..TrunkLimits::default()
        };
        let now = Instant::now();
        let first = usage.admit("p", "1", &l, now).unwrap();
        let _second = usage.admit("p", "1", &l, now).unwrap();
        assert!(matches!(
            usage.admit("p", "1", &l, now),
            Err(Refusal::Concurrent { max: 2, .. })
        ));
        assert!(usage.admit("other", "1", &l, now).is_ok());
        drop(first);
        assert_eq!(usage.active("p"), 1);
        assert!(usage.admit("p", "1", &l, now).is_ok());
        assert_eq!(usage.admitted("p"), 3, "refused calls are not admitted");
        assert_eq!(usage.admitted("other"), 1);
        let active = usage.active("p");
        usage.receive("p");
        assert_eq!((usage.received("p"), usage.received("other")), (1, 0));
        assert_eq!(usage.active("p"), active, "incoming calls are not limited");
    }

    #[test]
    fn calls_per_minute_slide_with_the_clock() {
        let usage = TrunkUsage::default();
        let l = TrunkLimits {
            max_calls_per_minute: 3,
            ..TrunkLimits::default()
        };
        let t0 = Instant::now();
        for s in 0..3 {
            drop(
                usage
                    .admit("p", "1", &l, t0 + Duration::from_secs(s))
                    .unwrap(),
            );
        }
        assert!(matches!(
            usage.admit("p", "1", &l, t0 + Duration::from_secs(59)),
            Err(Refusal::Rate { max: 3, .. })
        ));
        assert!(usage
            .admit("p", "1", &l, t0 + Duration::from_secs(60))
            .is_ok());
    }
}
