//! SIP trunks (edge): provider accounts from `[[trunk]]`, resolved at start-up, used to place
//! outgoing calls (`Dial(trunk/NAME/NUMBER)`) and to recognise incoming ones. A call from a
//! trunk is identified by its source: the provider's own address and port, or a network listed
//! in `allow_from`; anything else must authenticate as an endpoint (no open relay).

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
}

/// Every configured trunk.
#[derive(Debug, Clone, Default)]
pub struct Trunks {
    list: Vec<Trunk>,
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
            });
        }
        Trunks { list }
    }

    /// The trunk called `name`.
    pub fn get(&self, name: &str) -> Option<&Trunk> {
        self.list.iter().find(|t| t.name == name)
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
}
