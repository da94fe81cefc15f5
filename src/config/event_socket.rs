//! `[event_socket]`: FreeSWITCH's inbound event socket (`mod_event_socket`'s listener):
//! where it listens, the password clients send with `auth`, and the networks they may come
//! from. On loopback, an empty password means FreeSWITCH's default `ClueCon`; on any other
//! address there is no default: the PBX refuses to start until one is set.

use std::net::SocketAddr;

use ipnet::IpNet;
use serde::Deserialize;

/// FreeSWITCH's default password, used only on a loopback address.
pub const LOOPBACK_DEFAULT_PASSWORD: &str = "ClueCon";

/// `[event_socket]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EventSocketConfig {
    /// Whether the listener runs.
    #[serde(default)]
    pub enabled: bool,
    /// TCP address it listens on.
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    /// The password `auth` must give; empty on loopback means `ClueCon`.
    #[serde(default)]
    pub password: String,
    /// Networks clients may connect from (CIDR); others get `text/rude-rejection`.
    #[serde(default = "default_networks")]
    pub networks: Vec<String>,
}

impl Default for EventSocketConfig {
    fn default() -> Self {
        EventSocketConfig {
            enabled: false,
            bind: default_bind(),
            password: String::new(),
            networks: default_networks(),
        }
    }
}

/// Why the listener cannot run as configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventSocketError {
    /// A `networks` entry that is not CIDR.
    #[error("[event_socket] networks: {0:?} is not a network like 127.0.0.0/8")]
    BadNetwork(String),
    /// Bound beyond loopback with no password.
    #[error("[event_socket] binds {0}, which is not a loopback address, and has no password: set password (there is no default beyond loopback)")]
    NoPassword(SocketAddr),
}

impl EventSocketConfig {
    /// The password clients must give.
    pub fn password(&self) -> Result<String, EventSocketError> {
        match (self.password.is_empty(), self.bind.ip().is_loopback()) {
            (false, _) => Ok(self.password.clone()),
            (true, true) => Ok(LOOPBACK_DEFAULT_PASSWORD.to_owned()),
            (true, false) => Err(EventSocketError::NoPassword(self.bind)),
        }
    }

    /// The networks clients may connect from.
    pub fn networks(&self) -> Result<Vec<IpNet>, EventSocketError> {
        self.networks
            .iter()
            .map(|n| {
                n.parse()
                    .map_err(|_| EventSocketError::BadNetwork(n.clone()))
            })
            .collect()
    }
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8021))
}

fn default_networks() -> Vec<String> {
    vec!["127.0.0.0/8".to_owned(), "::1/128".to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_freeswitchs_default_and_elsewhere_needs_a_password() {
        let loopback = EventSocketConfig::default();
        assert_eq!(loopback.password().unwrap(), "ClueCon");
        let open = EventSocketConfig {
            bind: "0.0.0.0:8021".parse().unwrap(),
            ..EventSocketConfig::default()
        };
        assert!(open
            .password()
            .unwrap_err()
            .to_string()
            .contains("no password"));
        let set = EventSocketConfig {
            password: "s3cret".into(),
            ..open
        };
        assert_eq!(set.password().unwrap(), "s3cret");
        let nets = loopback.networks().unwrap();
        assert!(nets
            .iter()
            .any(|n| n.contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap())));
        let bad = EventSocketConfig {
            networks: vec!["somewhere".into()],
            ..EventSocketConfig::default()
        };
        assert!(bad.networks().is_err());
    }
}
