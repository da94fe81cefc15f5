//! `[security]`: the brute-force and scanner defences ([`crate::sip::bans`]). A source that
//! fails digest authentication `max_auth_failures` times within `failure_window_secs` is
//! banned for `ban_secs` (doubled per repeat offence up to `max_ban_secs`); an account that
//! fails `account_max_failures` times is locked for `account_lockout_secs` (it is still
//! challenged like any other); `allow` lists networks never banned; requests whose
//! User-Agent contains one of `scanner_user_agents` (case-insensitively) are dropped unanswered.

use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use crate::sip::bans::BanPolicy;

/// `[security]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// Failed authentications from one address that ban it; 0 turns bans off.
    #[serde(default = "default_max_auth_failures")]
    pub max_auth_failures: u32,
    /// Seconds the failures are counted over.
    #[serde(default = "default_failure_window")]
    pub failure_window_secs: u64,
    /// Seconds of a first ban.
    #[serde(default = "default_ban")]
    pub ban_secs: u64,
    /// Longest ban, in seconds.
    #[serde(default = "default_max_ban")]
    pub max_ban_secs: u64,
    /// Failed authentications of one account that lock it; 0 turns lock-outs off.
    #[serde(default = "default_account_max_failures")]
    pub account_max_failures: u32,
    /// Seconds a locked account stays locked.
    #[serde(default = "default_account_lockout")]
    pub account_lockout_secs: u64,
    /// Networks never banned, e.g. `["192.168.0.0/16", "203.0.113.10/32"]`.
    #[serde(default)]
    pub allow: Vec<IpNet>,
    /// User-Agent fragments of known scanners.
    #[serde(default = "default_scanners")]
    pub scanner_user_agents: Vec<String>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            max_auth_failures: default_max_auth_failures(),
            failure_window_secs: default_failure_window(),
            ban_secs: default_ban(),
            max_ban_secs: default_max_ban(),
            account_max_failures: default_account_max_failures(),
            account_lockout_secs: default_account_lockout(),
            allow: Vec::new(),
            scanner_user_agents: default_scanners(),
        }
    }
}

impl SecurityConfig {
    /// The ban policy these settings describe.
    pub fn policy(&self) -> BanPolicy {
        BanPolicy {
            max_failures: self.max_auth_failures,
            window: Duration::from_secs(self.failure_window_secs.max(1)),
            ban_time: Duration::from_secs(self.ban_secs.max(1)),
            max_ban_time: Duration::from_secs(self.max_ban_secs.max(self.ban_secs).max(1)),
            account_max_failures: self.account_max_failures,
            account_lockout: Duration::from_secs(self.account_lockout_secs.max(1)),
            allow: self.allow.clone(),
        }
    }
}

fn default_max_auth_failures() -> u32 {
    10
}

fn default_failure_window() -> u64 {
    60
}

fn default_ban() -> u64 {
    300
}

fn default_max_ban() -> u64 {
    86_400
}

fn default_account_max_failures() -> u32 {
    30
}

fn default_account_lockout() -> u64 {
    300
}

fn default_scanners() -> Vec<String> {
    [
        "friendly-scanner",
        "sipvicious",
        "sipcli",
        "VaxSIPUserAgent",
        "sundayddr",
        "iWar",
        "sip-scan",
        "SIPScan",
        "smap",
    ]
    .map(String::from)
    .to_vec()
}
