//! `[ami]`: the Asterisk Manager Interface listener and its users (`[[ami.user]]`), the TOML
//! form of Asterisk's `manager.conf`. Off unless `enabled = true`: like Asterisk, a fresh
//! install exposes no manager port, and nothing in a first run needs one.

use std::net::SocketAddr;

use serde::Deserialize;
use toml::Spanned;

use super::parse_network;
use crate::ami::class::ClassSet;

/// `[ami]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmiConfig {
    /// Whether the AMI listener runs.
    #[serde(default)]
    pub enabled: bool,
    /// TCP address AMI listens on.
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    /// Seconds a connection may take to log in before it is closed.
    #[serde(default = "default_auth_timeout")]
    pub auth_timeout_secs: u64,
    /// Which Asterisk's event names clients get: `asterisk22` (the default) or `asterisk11`.
    #[serde(default)]
    pub dialect: crate::ami::dialect::Dialect,
    /// The manager users.
    #[serde(default, rename = "user")]
    pub users: Vec<AmiUserConfig>,
}

impl Default for AmiConfig {
    fn default() -> Self {
        AmiConfig {
            enabled: false,
            bind: default_bind(),
            auth_timeout_secs: default_auth_timeout(),
            dialect: crate::ami::dialect::Dialect::default(),
            users: Vec::new(),
        }
    }
}

/// `[[ami.user]]`: one manager account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmiUserConfig {
    /// The `Username` of Login.
    pub username: Spanned<String>,
    /// The secret (plain `Secret`, or the MD5 `Key`'s); empty disables the account.
    pub secret: String,
    /// Classes of the events the user receives (`["call", "dtmf"]`, `["all"]`).
    #[serde(default)]
    pub read: Vec<Spanned<String>>,
    /// Classes of the actions the user may run.
    #[serde(default)]
    pub write: Vec<Spanned<String>>,
    /// Networks (CIDR) the user may connect from; loopback only unless set.
    #[serde(default = "default_permit")]
    pub permit: Vec<Spanned<String>>,
}

impl AmiUserConfig {
    /// The read classes (validated at load).
    pub fn read_classes(&self) -> ClassSet {
        classes(&self.read)
    }

    /// The write classes (validated at load).
    pub fn write_classes(&self) -> ClassSet {
        classes(&self.write)
    }

    /// The permitted networks (validated at load).
    pub fn permitted_networks(&self) -> Vec<ipnet::IpNet> {
        self.permit
            .iter()
            .filter_map(|n| parse_network(n.get_ref()))
            .collect()
    }
}

fn classes(names: &[Spanned<String>]) -> ClassSet {
    names
        .iter()
        .filter_map(|n| ClassSet::parse_names(n.get_ref()).ok())
        .fold(ClassSet::EMPTY, ClassSet::union)
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 5038))
}

fn default_auth_timeout() -> u64 {
    30
}

fn default_permit() -> Vec<Spanned<String>> {
    ["127.0.0.0/8", "::1/128"]
        .into_iter()
        .map(|n| Spanned::new(0..0, n.to_string()))
        .collect()
}

/// Checks `[ami]`: user names unique and non-empty, class names known, networks parsable.
/// `invalid` makes the error for a span of the file.
pub(super) fn validate<E>(
    ami: &AmiConfig,
    invalid: impl Fn(std::ops::Range<usize>, String) -> E,
) -> Result<(), E> {
    let mut seen = std::collections::HashSet::new();
    for user in &ami.users {
        let name = user.username.get_ref();
        if name.trim().is_empty() || name.contains(char::is_whitespace) {
            return Err(invalid(
                user.username.span(),
                format!("ami user name `{name}` is not usable; expected a non-empty name without spaces"),
            ));
        }
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(invalid(
                user.username.span(),
                format!(
                    "duplicate ami user `{name}`; user names must be unique (case does not count)"
                ),
            ));
        }
        for class in user.read.iter().chain(&user.write) {
            if let Err(error) = ClassSet::parse_names(class.get_ref()) {
                return Err(invalid(class.span(), format!("ami user `{name}`: {error}")));
            }
        }
        for network in &user.permit {
            if parse_network(network.get_ref()).is_none() {
                return Err(invalid(
                    network.span(),
                    format!(
                        "ami user `{name}`: `{}` is not an address or network; expected e.g. 192.0.2.0/24",
                        network.get_ref()
                    ),
                ));
            }
        }
    }
    Ok(())
}
