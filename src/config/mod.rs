//! Configuration: the typed form of `pbx.toml`.
//!
//! Loading runs in three steps: `${VAR}` substitution from the environment ([`env`]), TOML
//! parsing into these structs with unknown keys refused, then validation of values that parse
//! but make no sense. Every error names the file, line and column ([`error`]). The default file
//! `config/pbx.toml` is embedded in the binary so a bare `pbx` runs with no files at all.

pub mod agi;
pub mod ami;
pub mod ari;
pub mod cluster;
pub mod env;
pub mod error;
pub mod event_socket;
pub mod security;
pub mod tts;

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::media::codec::CodecKind;
pub use agi::AgiConfig;
pub use ami::{AmiConfig, AmiUserConfig};
pub use ari::{AriConfig, AriUserConfig};
pub use cluster::{LocationConfig, LocationMode, NodeConfig, TrustedProxyConfig};
pub use error::{ConfigError, Position};
pub use event_socket::EventSocketConfig;
pub use security::SecurityConfig;
pub use tts::TtsConfig;

/// The embedded default configuration (`config/pbx.toml`).
pub const DEFAULT_CONFIG: &str = include_str!("../../config/pbx.toml");

/// Name shown in errors for the embedded default configuration.
pub const EMBEDDED_NAME: &str = "<embedded config/pbx.toml>";

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// SIP listener and identity.
    pub sip: SipConfig,
    /// RTP media ports.
    #[serde(default)]
    pub rtp: RtpConfig,
    /// Registrar rules and persistence.
    #[serde(default)]
    pub registrar: RegistrarConfig,
    /// Admin HTTP API.
    #[serde(default)]
    pub api: ApiConfig,
    /// Dialplan file and prompts.
    #[serde(default)]
    pub dialplan: DialplanConfig,
    /// The event stream.
    #[serde(default)]
    pub events: EventsConfig,
    /// The Asterisk Manager Interface.
    #[serde(default)]
    pub ami: AmiConfig,
    /// The Asterisk Gateway Interface (`AGI(...)`).
    #[serde(default)]
    pub agi: AgiConfig,
    /// The Asterisk REST Interface.
    #[serde(default)]
    pub ari: AriConfig,
    /// Brute-force and scanner defences.
    #[serde(default)]
    pub security: SecurityConfig,
    /// Text to speech.
    #[serde(default)]
    pub tts: TtsConfig,
    /// The FreeSWITCH inbound event socket.
    #[serde(default)]
    pub event_socket: EventSocketConfig,
    /// This pbx as a node of a scaled-out deployment.
    #[serde(default)]
    pub node: NodeConfig,
    /// Where `Dial(endpoint/USER)` finds users: here, or at a proxy.
    #[serde(default)]
    pub location: LocationConfig,
    /// Proxies whose requests are not challenged (they authenticated the user).
    #[serde(default, rename = "trusted_proxy")]
    pub trusted_proxies: Vec<TrustedProxyConfig>,
    /// Local SIP accounts (phones).
    #[serde(default, rename = "endpoint")]
    pub endpoints: Vec<EndpointConfig>,
    /// SIP trunks to providers.
    #[serde(default, rename = "trunk")]
    pub trunks: Vec<TrunkConfig>,
}

/// Where an inbound trunk call's dialled number (DID) is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DidSource {
    /// The user part of the Request-URI (most providers).
    #[default]
    RequestUri,
    /// The user part of the To header.
    To,
}

/// `[[trunk]]`: a SIP provider account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// Name used in `Dial(trunk/NAME/NUMBER)` and `pbx ctl trunks`.
    pub name: Spanned<String>,
    /// Provider host name or address; empty disables the trunk.
    #[serde(default)]
    pub host: String,
    /// Provider SIP port.
    #[serde(default = "default_sip_port")]
    pub port: u16,
    /// Transport; only `udp` for now.
    #[serde(default = "default_transport")]
    pub transport: Spanned<String>,
    /// Account user name (also the user of our registered Contact).
    #[serde(default)]
    pub username: String,
    /// Digest user name when it differs from `username`; empty uses `username`.
    #[serde(default)]
    pub auth_username: String,
    /// Digest password.
    #[serde(default)]
    pub password: String,
    /// User part of From (caller ID presented); empty uses `username`.
    #[serde(default)]
    pub from_user: String,
    /// Domain of From and To; empty uses `host`.
    #[serde(default)]
    pub from_domain: String,
    /// Register to the provider (false for IP-authenticated gateways).
    #[serde(default = "default_true")]
    pub register: bool,
    /// Registration lifetime asked for, in seconds.
    #[serde(default = "default_trunk_expiry")]
    pub expiry_secs: u64,
    /// Send everything for this trunk to this `host:port` instead; empty sends to the host.
    #[serde(default)]
    pub outbound_proxy: String,
    /// Toll-fraud limit: when not empty, only dialled numbers starting with one of these
    /// leave through this trunk.
    #[serde(default)]
    pub allowed_prefixes: Vec<String>,
    /// Toll-fraud limit: dialled numbers starting with one of these are refused (403).
    #[serde(default)]
    pub denied_prefixes: Vec<String>,
    /// Toll-fraud limit: calls up at once through this trunk; 0 is unlimited.
    #[serde(default)]
    pub max_concurrent_calls: u32,
    /// Toll-fraud limit: calls started through this trunk per minute; 0 is unlimited.
    #[serde(default)]
    pub max_calls_per_minute: u32,
    /// Dialplan context inbound calls from this trunk start in.
    #[serde(default = "default_trunk_context")]
    pub context: String,
    /// Extra source networks (CIDR, e.g. `203.0.113.0/24`) whose INVITEs are accepted as this
    /// trunk's without authentication; the provider's own address and port always are.
    #[serde(default)]
    pub allow_from: Vec<Spanned<String>>,
    /// Where an inbound call's DID is read: `request_uri` or `to`.
    #[serde(default)]
    pub did_from: DidSource,
    /// Codecs offered to the provider, by preference.
    #[serde(default = "default_codecs")]
    pub codecs: Vec<CodecKind>,
}

impl TrunkConfig {
    /// Whether the trunk is configured (a host is set).
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }

    /// The digest user name.
    pub fn auth_user(&self) -> &str {
        if self.auth_username.is_empty() {
            &self.username
        } else {
            &self.auth_username
        }
    }

    /// The user presented in From.
    pub fn from_user(&self) -> &str {
        if self.from_user.is_empty() {
            &self.username
        } else {
            &self.from_user
        }
    }

    /// The domain of From and To.
    pub fn from_domain(&self) -> &str {
        if self.from_domain.is_empty() {
            self.host.trim()
        } else {
            &self.from_domain
        }
    }

    /// The extra allowed source networks, parsed (validated at load).
    pub fn allowed_networks(&self) -> Vec<ipnet::IpNet> {
        self.allow_from
            .iter()
            .filter_map(|n| parse_network(n.get_ref()))
            .collect()
    }
}

pub(crate) fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    text.parse::<ipnet::IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
}

/// `[sip]`: where SIP listens and how the PBX presents itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// UDP address SIP listens on.
    pub bind: SocketAddr,
    /// The address put in Contact, Via and SDP when the PBX is behind NAT or in docker; empty
    /// means "use the bind address, or the local interface address when bound to 0.0.0.0".
    #[serde(default, deserialize_with = "optional_ip")]
    pub external_address: Option<Spanned<IpAddr>>,
    /// The SIP domain and digest realm.
    #[serde(default = "default_realm")]
    pub realm: String,
    /// Value of the User-Agent and Server headers.
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// Largest SIP datagram accepted, in bytes; larger ones are dropped and counted.
    #[serde(default = "default_max_message_size")]
    pub max_message_size: usize,
}

/// `[rtp]`: the media port range.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RtpConfig {
    /// Lowest RTP port (inclusive).
    pub port_min: Spanned<u16>,
    /// Highest RTP port (inclusive).
    pub port_max: Spanned<u16>,
    /// Seconds without any received RTP before a call is considered dead; 0 disables.
    #[serde(default = "default_rtp_timeout")]
    pub inactivity_timeout_secs: u64,
}

/// `[registrar]`: binding lifetimes, NAT keep-alive and persistence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrarConfig {
    /// Shortest registration accepted (shorter gets 423 Interval Too Brief).
    pub min_expires: Spanned<u32>,
    /// Longest registration granted (longer is shortened).
    pub max_expires: Spanned<u32>,
    /// Granted when the REGISTER names no expiry.
    pub default_expires: Spanned<u32>,
    /// Where bindings are saved so they survive a restart; empty disables persistence.
    #[serde(default)]
    pub persist_file: Option<PathBuf>,
    /// Seconds between OPTIONS pings to registered contacts (NAT keep-alive); 0 disables.
    #[serde(default = "default_qualify_interval")]
    pub qualify_interval_secs: u64,
    /// Seconds a digest nonce stays valid.
    #[serde(default = "default_nonce_lifetime")]
    pub nonce_lifetime_secs: u64,
}

/// `[api]`: the admin HTTP API used by `pbx ctl`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Address of the admin API (and ARI). On a non-loopback address a `token` is required.
    #[serde(default = "default_api_bind")]
    pub bind: Spanned<SocketAddr>,
    /// The bearer token every `/api` request must carry (`Authorization: Bearer TOKEN`, or
    /// `?token=` for WebSocket clients that cannot send headers); empty: no token, allowed
    /// only on loopback.
    #[serde(default)]
    pub token: String,
}

/// `[events]`: the event stream (`pbx ctl events`, `GET /api/events`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// Events kept in memory for readers that fall behind or reconnect with `since`.
    #[serde(default = "default_event_window")]
    pub window: usize,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            window: default_event_window(),
        }
    }
}

fn default_event_window() -> usize {
    crate::events::DEFAULT_WINDOW
}

/// `[dialplan]`: where the dialplan and the prompts come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialplanConfig {
    /// Dialplan TOML file; empty uses the embedded demo dialplan.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Directory whose `<name>.wav` files override the built-in prompts; empty uses only the
    /// built-in ones.
    #[serde(default)]
    pub sounds_dir: Option<PathBuf>,
    /// Directory `Record` and applications write recordings to (`<name>.wav`), created on
    /// the first recording; relative to the working directory.
    #[serde(default = "default_recordings_dir")]
    pub recordings_dir: PathBuf,
}

fn default_recordings_dir() -> PathBuf {
    PathBuf::from("recordings")
}

impl Default for DialplanConfig {
    fn default() -> Self {
        DialplanConfig {
            file: None,
            sounds_dir: None,
            recordings_dir: default_recordings_dir(),
        }
    }
}

impl DialplanConfig {
    /// The dialplan file, `None` when unset or empty.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref().filter(|p| !p.as_os_str().is_empty())
    }

    /// The prompt override directory, `None` when unset or empty.
    pub fn sounds_dir(&self) -> Option<&Path> {
        self.sounds_dir
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
    }
}

/// `[[endpoint]]`: one local SIP account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    /// The user part of the account's address of record, also its digest username.
    pub user: Spanned<String>,
    /// The digest password.
    pub password: Spanned<String>,
    /// Dialplan context the endpoint's calls start in.
    #[serde(default = "default_context")]
    pub context: String,
    /// Allowed codecs in preference order.
    #[serde(default = "default_codecs")]
    pub codecs: Vec<CodecKind>,
    /// How many contacts (devices) may register at once for this account.
    #[serde(default = "default_max_contacts")]
    pub max_contacts: usize,
    /// Toll-fraud limit: calls this endpoint may have up at once; 0 is unlimited.
    #[serde(default)]
    pub max_concurrent_calls: u32,
    /// Toll-fraud limit: the trunks this endpoint's calls may leave through; unset allows all.
    #[serde(default)]
    pub allowed_trunks: Option<Vec<String>>,
}

fn optional_ip<'de, D>(deserializer: D) -> Result<Option<Spanned<IpAddr>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let raw = Spanned::<String>::deserialize(deserializer)?;
    let span = raw.span();
    let text = raw.into_inner();
    if text.trim().is_empty() {
        return Ok(None);
    }
    text.trim()
        .parse::<IpAddr>()
        .map(|ip| Some(Spanned::new(span, ip)))
        .map_err(|_| {
            serde::de::Error::custom(format!(
                "invalid IP address `{text}`: expected an IPv4 or IPv6 address such as 203.0.113.7, or \"\""
            ))
        })
}

fn default_realm() -> String {
    "pbx".into()
}
fn default_user_agent() -> String {
    concat!("pbx/", env!("CARGO_PKG_VERSION")).into()
}
fn default_max_message_size() -> usize {
    8192
}
fn default_rtp_timeout() -> u64 {
    30
}
fn default_qualify_interval() -> u64 {
    30
}
fn default_nonce_lifetime() -> u64 {
    300
}
fn default_api_bind() -> Spanned<SocketAddr> {
    Spanned::new(0..0, SocketAddr::from(([127, 0, 0, 1], 8088)))
}
fn default_context() -> String {
    "internal".into()
}
pub(crate) fn default_codecs() -> Vec<CodecKind> {
    vec![CodecKind::Pcmu, CodecKind::Pcma]
}
fn default_max_contacts() -> usize {
    3
}
fn default_sip_port() -> u16 {
    5060
}
fn default_transport() -> Spanned<String> {
    Spanned::new(0..0, "udp".to_string())
}
fn default_true() -> bool {
    true
}
fn default_trunk_expiry() -> u64 {
    600
}
fn default_trunk_context() -> String {
    "from-trunk".into()
}

impl Default for RtpConfig {
    fn default() -> Self {
        RtpConfig {
            port_min: Spanned::new(0..0, 10000),
            port_max: Spanned::new(0..0, 20000),
            inactivity_timeout_secs: default_rtp_timeout(),
        }
    }
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            min_expires: Spanned::new(0..0, 60),
            max_expires: Spanned::new(0..0, 3600),
            default_expires: Spanned::new(0..0, 600),
            persist_file: None,
            qualify_interval_secs: default_qualify_interval(),
            nonce_lifetime_secs: default_nonce_lifetime(),
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            bind: default_api_bind(),
            token: String::new(),
        }
    }
}

impl Config {
    /// Loads `path`, or the embedded default when `path` is `None`, using the process
    /// environment for `${VAR}` substitution.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                Config::parse(path, &text, |name| std::env::var(name).ok())
            }
            None => Config::parse(Path::new(EMBEDDED_NAME), DEFAULT_CONFIG, |name| {
                std::env::var(name).ok()
            }),
        }
    }

    /// Parses and validates config `text` (named `path` in errors), with `lookup` providing
    /// environment values.
    pub fn parse(
        path: &Path,
        text: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let path_buf = path.to_path_buf();
        let text = env::substitute(text, lookup).map_err(|e| match e {
            env::SubstError::Unset { name, at } => ConfigError::UnsetVariable {
                path: path_buf.clone(),
                at,
                name,
            },
            env::SubstError::Malformed { at } => ConfigError::MalformedVariable {
                path: path_buf.clone(),
                at,
            },
            env::SubstError::Multiline { name, at } => ConfigError::MultilineVariable {
                path: path_buf.clone(),
                at,
                name,
            },
        })?;
        let config: Config = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            path: path_buf.clone(),
            at: Position::of_offset(&text, e.span().map_or(0, |s| s.start)),
            message: e.message().trim_end().to_string(),
        })?;
        config.validate(path, &text)?;
        Ok(config)
    }

    fn validate(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let invalid = |span: std::ops::Range<usize>, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            at: Position::of_offset(text, span.start),
            message,
        };
        let rtp = &self.rtp;
        if rtp.port_min.get_ref() > rtp.port_max.get_ref() {
            return Err(invalid(
                rtp.port_max.span(),
                format!(
                    "rtp port range is inverted: port_max {} is below port_min {}; expected port_min <= port_max",
                    rtp.port_max.get_ref(),
                    rtp.port_min.get_ref()
                ),
            ));
        }
        if *rtp.port_min.get_ref() < 1024 {
            return Err(invalid(
                rtp.port_min.span(),
                format!(
                    "rtp port_min {} is a privileged port; expected 1024 or above",
                    rtp.port_min.get_ref()
                ),
            ));
        }
        if rtp.port_max.get_ref() - rtp.port_min.get_ref() < 1 {
            return Err(invalid(
                rtp.port_max.span(),
                "rtp port range holds no even/odd port pair; expected at least two ports".into(),
            ));
        }
        let api = &self.api;
        if !api.bind.get_ref().ip().is_loopback() && api.token.is_empty() {
            return Err(invalid(
                api.bind.span(),
                format!(
                    "api bind {} is not a loopback address, and the admin API has no [api] token: set token (PBX_API_TOKEN) so it is never open, or bind to 127.0.0.1",
                    api.bind.get_ref()
                ),
            ));
        }
        let reg = &self.registrar;
        if reg.min_expires.get_ref() > reg.max_expires.get_ref() {
            return Err(invalid(
                reg.max_expires.span(),
                "registrar max_expires is below min_expires; expected min_expires <= max_expires"
                    .into(),
            ));
        }
        let default = *reg.default_expires.get_ref();
        if default < *reg.min_expires.get_ref() || default > *reg.max_expires.get_ref() {
            return Err(invalid(
                reg.default_expires.span(),
                format!("registrar default_expires {default} is outside min_expires..=max_expires"),
            ));
        }
        let mut seen = HashSet::new();
        for endpoint in &self.endpoints {
            let user = endpoint.user.get_ref();
            if user.is_empty() || !user.chars().all(is_user_char) {
                return Err(invalid(
                    endpoint.user.span(),
                    format!("endpoint user `{user}` is not a valid SIP user part; expected letters, digits and -_.!~*'()&=+$,;?/"),
                ));
            }
            if !seen.insert(user.clone()) {
                return Err(invalid(
                    endpoint.user.span(),
                    format!("duplicate endpoint `{user}`; each endpoint user must be unique"),
                ));
            }
            if endpoint.password.get_ref().is_empty() {
                return Err(invalid(
                    endpoint.password.span(),
                    format!("endpoint `{user}` has an empty password; expected a non-empty secret"),
                ));
            }
            if endpoint.codecs.is_empty() {
                return Err(invalid(
                    endpoint.user.span(),
                    format!(
                        "endpoint `{user}` allows no codecs; expected at least one of PCMU, PCMA"
                    ),
                ));
            }
            if endpoint.max_contacts == 0 {
                return Err(invalid(
                    endpoint.user.span(),
                    format!("endpoint `{user}` has max_contacts = 0; expected 1 or more"),
                ));
            }
        }
        let mut trunk_names = HashSet::new();
        for trunk in &self.trunks {
            let name = trunk.name.get_ref();
            if name.is_empty() || name.contains('/') {
                return Err(invalid(
                    trunk.name.span(),
                    format!("trunk name `{name}` is not usable in Dial(trunk/NAME/NUMBER); expected a non-empty name without '/'"),
                ));
            }
            if !trunk_names.insert(name.clone()) {
                return Err(invalid(
                    trunk.name.span(),
                    format!("duplicate trunk `{name}`; each trunk name must be unique"),
                ));
            }
            if !trunk.transport.get_ref().eq_ignore_ascii_case("udp") {
                return Err(invalid(
                    trunk.transport.span(),
                    format!(
                        "trunk transport `{}` is not supported; expected \"udp\"",
                        trunk.transport.get_ref()
                    ),
                ));
            }
            for network in &trunk.allow_from {
                if parse_network(network.get_ref()).is_none() {
                    return Err(invalid(
                        network.span(),
                        format!(
                            "`{}` is not an address or network; expected e.g. 203.0.113.0/24",
                            network.get_ref()
                        ),
                    ));
                }
            }
        }
        cluster::validate(&self.node, &self.trusted_proxies, &self.location, invalid)?;
        ami::validate(&self.ami, invalid)?;
        ari::validate(&self.ari, invalid)
    }

    /// Looks an endpoint up by its user name.
    pub fn endpoint(&self, user: &str) -> Option<&EndpointConfig> {
        self.endpoints.iter().find(|e| e.user.get_ref() == user)
    }

    /// How long a digest nonce stays valid.
    pub fn nonce_lifetime(&self) -> Duration {
        Duration::from_secs(self.registrar.nonce_lifetime_secs)
    }
}

fn is_user_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,;?/".contains(c)
}

#[cfg(test)]
mod tests;
