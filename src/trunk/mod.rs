//! SIP trunks (edge): provider accounts from `[[trunk]]`, resolved at start-up, used to place
//! outgoing calls (`Dial(trunk/NAME/NUMBER)`) and to recognise incoming ones. A call from a
//! trunk is identified by its source: the provider's own address and port, or a network listed
//! in `allow_from`; anything else must authenticate as an endpoint (no open relay).

pub mod limits;
pub mod registration;

use std::net::SocketAddr;

use crate::config::{DidSource, TrunkConfig};
use crate::media::codec::CodecKind;

/// One trunk as the running PBX uses it.
#[derive(Debug, Clone)]
pub struct Trunk {
    /// Its name in the dialplan and in `pbx ctl trunks`.
    pub name: String,
    /// Where its SIP traffic goes (the outbound proxy, else the provider); `None` when the
    /// trunk is disabled or its host did not resolve.
    pub send_to: Option<SocketAddr>,
    /// The provider's address, for recognising its requests.
    pub provider: Option<SocketAddr>,
    /// Provider host (and port) as configured, for Request-URIs.
    pub host_port: String,
    /// Account user (our registered Contact's user).
    pub username: String,
    /// Digest user name.
    pub auth_user: String,
    /// Digest password.
    pub password: String,
    /// From user (caller ID presented).
    pub from_user: String,
    /// From/To domain.
    pub from_domain: String,
    /// Whether to register.
    pub register: bool,
    /// Registration lifetime asked for, in seconds.
    pub expiry_secs: u64,
    /// Context of inbound calls.
    pub context: String,
    /// Extra networks allowed to send calls as this trunk.
    pub allow_from: Vec<ipnet::IpNet>,
    /// Where the DID of inbound calls is read.
    pub did_from: DidSource,
    /// Codecs offered, by preference.
    pub codecs: Vec<CodecKind>,
    /// Toll-fraud limits of calls out through it.
    pub limits: limits::TrunkLimits,
}

/// Every configured trunk.
#[derive(Debug, Clone, Default)]
pub struct Trunks {
    list: Vec<Trunk>,
    usage: limits::TrunkUsage,
}

impl Trunks {
    /// Resolves each enabled trunk's host (the only name lookups the PBX makes, and only for
    /// hosts the operator configured). A disabled or unresolvable trunk stays listed, unusable,
    /// and the log says so once.
    pub async fn resolve(configs: &[TrunkConfig]) -> Trunks {
        let mut list = Vec::with_capacity(configs.len());
        for config in configs {
            let name = config.name.get_ref().clone();
            let host = config.host.trim();
            let provider = if config.enabled() {
                match tokio::net::lookup_host((host, config.port)).await {
                    Ok(mut addrs) => addrs.next(),
                    Err(error) => {
                        tracing::error!(trunk = %name, %host, %error, "trunk host does not resolve: trunk unusable");
                        None
                    }
                }
            } else {
                tracing::info!(trunk = %name, "trunk disabled: no host configured (set TRUNK_HOST)");
                None
            };
            let proxy = config.outbound_proxy.trim();
            let send_to = if proxy.is_empty() || provider.is_none() {
                provider
            } else {
                match tokio::net::lookup_host(proxy).await {
                    Ok(mut addrs) => addrs.next(),
                    Err(error) => {
                        tracing::error!(trunk = %name, %proxy, %error, "outbound proxy does not resolve: trunk unusable");
                        None
                    }
                }
            };
            list.push(Trunk {
                name,
                send_to,
                provider,
                host_port: if config.port == 5060 {
                    host.to_string()
                } else {
                    format!("{host}:{}", config.port)
                },
                username: config.username.clone(),
                auth_user: config.auth_user().to_string(),
                password: config.password.clone(),
                from_user: config.from_user().to_string(),
                from_domain: config.from_domain().to_string(),
                register: config.register,
                expiry_secs: config.expiry_secs,
                context: config.context.clone(),
                allow_from: config.allowed_networks(),
                did_from: config.did_from,
                codecs: config.codecs.clone(),
                limits: limits::TrunkLimits {
                    allowed_prefixes: config.allowed_prefixes.clone(),
                    denied_prefixes: config.denied_prefixes.clone(),
                    max_concurrent_calls: config.max_concurrent_calls,
                    max_calls_per_minute: config.max_calls_per_minute,
                },
            });
        }
        Trunks {
            list,
            usage: limits::TrunkUsage::default(),
        }
    }

    /// The trunk called `name`.
    pub fn get(&self, name: &str) -> Option<&Trunk> {
        self.list.iter().find(|t| t.name == name)
    }

    /// Admits a call to `number` out through trunk `name` under its toll-fraud limits; an
    /// unknown trunk admits nothing to refuse (its Dial fails as unavailable).
    pub fn admit(
        &self,
        name: &str,
        number: &str,
        now: std::time::Instant,
    ) -> Option<Result<limits::TrunkCall, limits::Refusal>> {
        let trunk = self.get(name)?;
        Some(self.usage.admit(name, number, &trunk.limits, now))
    }

    /// The trunk a request from `source` comes from: the provider's exact address and port,
    /// or an `allow_from` network.
    pub fn identify(&self, source: SocketAddr) -> Option<&Trunk> {
        self.list.iter().find(|t| {
            t.provider == Some(source) || t.allow_from.iter().any(|n| n.contains(&source.ip()))
        })
    }

    /// Every trunk.
    pub fn iter(&self) -> impl Iterator<Item = &Trunk> {
        self.list.iter()
    }

    /// The live and total call counts of every trunk.
    pub fn usage(&self) -> &limits::TrunkUsage {
        &self.usage
    }
}

/// One trunk as `pbx ctl trunks` shows it (Asterisk's `pjsip show registrations`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct TrunkView {
    /// Trunk name.
    pub name: String,
    /// `disabled`, `no registration`, or the registration state (`registered`, `rejected`...).
    pub state: String,
    /// Seconds since the state began.
    pub since_secs: Option<u64>,
    /// Seconds until the next REGISTER (refresh or retry).
    pub next_in_secs: Option<u64>,
    /// The provider's last final response, e.g. `200 OK` or `403 Forbidden`.
    pub last_response: Option<String>,
    /// Consecutive failed attempts (sets the backoff).
    pub failures: u32,
}

#[derive(Debug, Clone)]
struct BoardEntry {
    name: String,
    status: Option<crate::sip::outbound_registration::RegistrationStatus>,
    note: &'static str,
}

/// Clonable handle to the trunks' registration status, written by the SIP task and read by
/// the admin API.
#[derive(Debug, Clone, Default)]
pub struct TrunkBoard {
    entries: std::sync::Arc<std::sync::Mutex<Vec<BoardEntry>>>,
    events: crate::events::EventBus,
}

impl TrunkBoard {
    /// A board listing `trunks`, none registered yet, publishing state changes on `events`.
    pub fn new(trunks: &Trunks, events: crate::events::EventBus) -> TrunkBoard {
        let entries = trunks
            .iter()
            .map(|t| BoardEntry {
                name: t.name.clone(),
                status: None,
                note: match (t.send_to.is_some(), t.register) {
                    (false, _) => "disabled",
                    (true, false) => "no registration",
                    (true, true) => "idle",
                },
            })
            .collect();
        TrunkBoard {
            entries: std::sync::Arc::new(std::sync::Mutex::new(entries)),
            events,
        }
    }

    /// Records the registration status of trunk `name`; publishes `TrunkStateChange` when
    /// its state changed.
    pub fn update(
        &self,
        name: &str,
        status: crate::sip::outbound_registration::RegistrationStatus,
    ) {
        let state = status.state.name();
        let changed = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            match entries.iter_mut().find(|e| e.name == name) {
                Some(entry) => {
                    let was = entry.status.as_ref().map(|s| s.state.name());
                    entry.status = Some(status);
                    was != Some(state)
                }
                None => false,
            }
        };
        if changed {
            self.events
                .publish(crate::events::PbxEvent::TrunkStateChange {
                    trunk: crate::events::TrunkState {
                        name: name.to_string(),
                        state: state.to_string(),
                    },
                });
        }
    }

    /// Every trunk's view at `now`.
    pub fn views(&self, now: std::time::Instant) -> Vec<TrunkView> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .map(|e| match &e.status {
                None => TrunkView {
                    name: e.name.clone(),
                    state: e.note.to_string(),
                    since_secs: None,
                    next_in_secs: None,
                    last_response: None,
                    failures: 0,
                },
                Some(status) => TrunkView {
                    name: e.name.clone(),
                    state: status.state.name().to_string(),
                    since_secs: Some(now.saturating_duration_since(status.since).as_secs()),
                    next_in_secs: status
                        .next_action
                        .map(|at| at.saturating_duration_since(now).as_secs()),
                    last_response: status
                        .last_response
                        .as_ref()
                        .map(|(code, reason)| format!("{code} {reason}")),
                    failures: status.failures,
                },
            })
            .collect()
    }
}
