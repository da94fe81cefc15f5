//! The shared ban table (edge): the SIP task asks it, before parsing, whether a datagram's
//! source is banned, and reports failed and successful digest authentications to it; the
//! admin API lists and lifts bans. Wraps the sans-IO [`crate::sip::bans::BanList`] with the
//! clock, the event stream (`SourceBanned`) and the log lines fail2ban-style tools parse:
//! each failure as Asterisk's `Registration from '<uri>' failed for '<addr:port>' - Wrong
//! password`, each ban as `Ban <addr>`. The std `Mutex` is held only for a lookup.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::events::{EventBus, PbxEvent, SourceBan};
use crate::sip::bans::{Ban, BanList, BanPolicy, FailureOutcome};

/// A handle on the ban table, cloned into the SIP task and the admin API.
#[derive(Debug, Clone)]
pub struct Bans {
    list: Arc<Mutex<BanList>>,
    events: EventBus,
}

/// What the failed request was, for the log line (Asterisk words both ways).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// A REGISTER.
    Registration,
    /// An INVITE (or another request challenged with 407).
    Call,
}

impl Bans {
    /// An empty table enforcing `policy`, publishing bans on `events`.
    pub fn new(policy: BanPolicy, events: EventBus) -> Bans {
        Bans {
            list: Arc::new(Mutex::new(BanList::new(policy))),
            events,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BanList> {
        self.list
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether datagrams from `address` are dropped now.
    pub fn is_banned(&self, address: IpAddr, now: Instant) -> bool {
        self.lock().is_banned(address, now)
    }

    /// Whether `account` is locked out now (it is challenged whatever it sends).
    pub fn is_locked(&self, account: &str, now: Instant) -> bool {
        self.lock().is_locked(account, now)
    }

    /// Counts a failed authentication of `account` (claimed in `from`) from `source`; bans
    /// the source at the threshold, with an event and a log line.
    pub fn auth_failed(
        &self,
        source: SocketAddr,
        account: &str,
        from: &str,
        kind: AuthKind,
        now: Instant,
    ) {
        match kind {
            AuthKind::Registration => tracing::warn!(
                "Registration from '{from}' failed for '{source}' - Wrong password"
            ),
            AuthKind::Call => tracing::warn!(
                "Call from '{from}' (account {account}) to extension failed for '{source}' - Wrong password"
            ),
        }
        let outcome = self.lock().record_failure(source.ip(), account, now);
        if let FailureOutcome::Banned(ban) = outcome {
            let view = view(&ban, now);
            tracing::warn!(
                failures = view.failures,
                offences = view.offences,
                ban_secs = view.ban_secs,
                "NOTICE [pbx-sip] Ban {}",
                view.address
            );
            self.events.publish(PbxEvent::SourceBanned { ban: view });
        }
    }

    /// A successful authentication from `source`: its failure count restarts.
    pub fn auth_succeeded(&self, source: SocketAddr) {
        self.lock().record_success(source.ip());
    }

    /// The bans in force.
    pub fn list(&self, now: Instant) -> Vec<SourceBan> {
        self.lock()
            .bans(now)
            .iter()
            .map(|ban| view(ban, now))
            .collect()
    }

    /// Lifts the ban of `address`; false when it was not banned.
    pub fn unban(&self, address: IpAddr, now: Instant) -> bool {
        let lifted = self.lock().unban(address, now);
        if lifted {
            tracing::warn!("NOTICE [pbx-sip] Unban {address}");
        }
        lifted
    }
}

fn view(ban: &Ban, now: Instant) -> SourceBan {
    SourceBan {
        address: ban.address.to_string(),
        failures: ban.failures,
        offences: ban.offences,
        ban_secs: ban.length.as_secs(),
        remaining_secs: ban.until.saturating_duration_since(now).as_secs(),
    }
}
