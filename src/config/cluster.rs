//! The sections that make pbx a node behind a SIP proxy (Kamailio) in a scaled-out
//! deployment: `[node]` (its name and how long a drain may last), `[[trusted_proxy]]` (the
//! proxies whose requests are not challenged) and `[location]` (whether endpoints are found
//! in the local registrar or at the proxy).

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{default_codecs, parse_network, ConfigError};
use crate::media::codec::CodecKind;
use crate::sip::header::SipUri;

/// `[node]`: this pbx as one node of several.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The node's name: in events (`node`), in every log line (the `node` span), and as the
    /// prefix of channel ids (`NAME-<epoch>.<n>`, as Asterisk's `systemname`), so ids are
    /// unique across nodes. Empty: a single box, ids without prefix.
    #[serde(default = "empty")]
    pub name: Spanned<String>,
    /// Seconds a SIGTERM drain waits for calls in progress before hanging them up; 0 hangs
    /// them up at once (a single box). Keep it below the supervisor's stop timeout (docker
    /// compose `stop_grace_period`).
    #[serde(default)]
    pub drain_grace_secs: u64,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            name: empty(),
            drain_grace_secs: 0,
        }
    }
}

impl Default for LocationConfig {
    fn default() -> Self {
        LocationConfig {
            mode: LocationMode::Local,
            proxy: empty(),
        }
    }
}

impl NodeConfig {
    /// The node name, `None` when unset.
    pub fn name(&self) -> Option<&str> {
        Some(self.name.get_ref().as_str()).filter(|n| !n.is_empty())
    }
}

/// `[[trusted_proxy]]`: a proxy that authenticated its users itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedProxyConfig {
    /// Source networks (CIDR or single addresses) of the proxy.
    pub networks: Vec<Spanned<String>>,
    /// The dialplan context its calls start in.
    #[serde(default = "default_proxy_context")]
    pub context: String,
    /// Codecs its calls may use, by preference.
    #[serde(default = "default_codecs")]
    pub codecs: Vec<CodecKind>,
}

impl TrustedProxyConfig {
    /// The networks, parsed (validated at load).
    pub fn parsed_networks(&self) -> Vec<ipnet::IpNet> {
        self.networks
            .iter()
            .filter_map(|n| parse_network(n.get_ref()))
            .collect()
    }
}

fn empty() -> Spanned<String> {
    Spanned::new(0..0, String::new())
}

fn default_proxy_context() -> String {
    "internal".into()
}

/// Where `Dial(endpoint/USER)` finds the user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationMode {
    /// The contacts registered with this pbx (a single box).
    #[default]
    Local,
    /// The proxy: the INVITE goes to `[location] proxy` for it to find the phone.
    Proxy,
}

/// `[location]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationConfig {
    /// `local` or `proxy`.
    #[serde(default)]
    pub mode: LocationMode,
    /// The proxy's URI, `sip:HOST[:PORT]`, in `proxy` mode.
    #[serde(default = "empty")]
    pub proxy: Spanned<String>,
}

impl LocationConfig {
    /// The proxy's host and port (5060 when the URI names none), in `proxy` mode.
    pub fn proxy_host_port(&self) -> Option<(String, u16)> {
        if self.mode != LocationMode::Proxy {
            return None;
        }
        let uri = SipUri::parse(self.proxy.get_ref().trim()).ok()?;
        Some((uri.host.to_string(), uri.port.unwrap_or(5060)))
    }
}

/// Checks the three sections: a node name usable in ids, parsable networks, a proxy URI in
/// proxy mode.
pub(super) fn validate(
    node: &NodeConfig,
    proxies: &[TrustedProxyConfig],
    location: &LocationConfig,
    invalid: impl Fn(Range<usize>, String) -> ConfigError,
) -> Result<(), ConfigError> {
    let name = node.name.get_ref();
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(
            node.name.span(),
            format!(
                "node name `{name}` must be letters, digits, '-' or '_' (it prefixes channel ids)"
            ),
        ));
    }
    for proxy in proxies {
        if proxy.networks.is_empty() {
            return Err(invalid(
                0..0,
                "a [[trusted_proxy]] has no networks; expected e.g. networks = [\"10.0.0.10/32\"]"
                    .into(),
            ));
        }
        for network in &proxy.networks {
            if parse_network(network.get_ref()).is_none() {
                return Err(invalid(
                    network.span(),
                    format!(
                        "`{}` is not an address or network; expected e.g. 10.0.0.10/32",
                        network.get_ref()
                    ),
                ));
            }
        }
    }
    if location.mode == LocationMode::Proxy && location.proxy_host_port().is_none() {
        return Err(invalid(
            location.proxy.span(),
            format!(
                "[location] proxy `{}` is not a SIP URI; expected e.g. \"sip:10.0.0.10:5060\" with mode = \"proxy\"",
                location.proxy.get_ref()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("node.toml"), text, |_| None)
    }

    #[test]
    fn the_shipped_node_config_is_a_proxied_node_with_a_trusted_proxy() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/pbx-node.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let env = |name: &str| (name == "NODE_NAME").then(|| "pbx-a".to_string());
        let config = Config::parse(&path, &text, env).unwrap();
        assert_eq!(config.node.name(), Some("pbx-a"));
        assert_eq!(config.node.drain_grace_secs, 110);
        assert_eq!(
            config.location.proxy_host_port(),
            Some(("kamailio".to_string(), 5060))
        );
        let networks = config.trusted_proxies[0].parsed_networks();
        assert_eq!(
            networks,
            ["172.28.0.10/32".parse::<ipnet::IpNet>().unwrap()]
        );
    }

    #[test]
    fn the_sections_default_to_a_single_box() {
        let config = parse("[sip]\nbind = \"127.0.0.1:5060\"\n").unwrap();
        assert_eq!(config.node.name(), None);
        assert_eq!(config.location.mode, LocationMode::Local);
        assert_eq!(config.location.proxy_host_port(), None);
        assert!(config.trusted_proxies.is_empty());
    }

    #[test]
    fn proxy_mode_without_a_sip_uri_names_the_line() {
        let err = parse("[sip]\nbind = \"127.0.0.1:5060\"\n[location]\nmode = \"proxy\"\nproxy = \"kamailio\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("node.toml:5:9: "), "{err}");
        assert!(err.contains("not a SIP URI"), "{err}");
    }

    #[test]
    fn a_bad_trusted_network_and_a_bad_node_name_are_named() {
        let err = parse(
            "[sip]\nbind = \"127.0.0.1:5060\"\n[[trusted_proxy]]\nnetworks = [\"10.0.0.300\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("node.toml:4:13: "), "{err}");
        let err = parse("[sip]\nbind = \"127.0.0.1:5060\"\n[node]\nname = \"a b\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("node.toml:4:8: "), "{err}");
    }
}
