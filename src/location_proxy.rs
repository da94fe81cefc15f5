//! `[location] mode = "proxy"` (edge): on a node behind Kamailio the phones register with
//! Kamailio, not with pbx, so `Dial(endpoint/USER)` cannot look them up locally. Instead the
//! INVITE goes to the proxy with Request-URI `sip:USER@HOST:PORT` and the proxy in a
//! pre-loaded Route (RFC 3261 §8.1.2), and the proxy finds the phone in its own location
//! table. The proxy's host is resolved once at start-up.

use std::net::SocketAddr;

use crate::config::LocationConfig;

/// Why the proxy of `[location]` is unusable.
#[derive(Debug, thiserror::Error)]
pub enum LocationProxyError {
    /// Its host name does not resolve.
    #[error("[location] proxy {host}:{port} does not resolve: {source}")]
    Resolve {
        /// The host name.
        host: String,
        /// The port.
        port: u16,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// It resolved to no address.
    #[error("[location] proxy {host}:{port} resolves to no address")]
    NoAddress {
        /// The host name.
        host: String,
        /// The port.
        port: u16,
    },
}

/// The proxy endpoints are reached through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationProxy {
    /// Where the INVITEs go.
    pub send_to: SocketAddr,
    /// `HOST:PORT` as configured: the domain of Request-URIs and To.
    pub host_port: String,
}

impl LocationProxy {
    /// The proxy of `config` in proxy mode, resolved; `None` in local mode.
    pub async fn resolve(
        config: &LocationConfig,
    ) -> Result<Option<LocationProxy>, LocationProxyError> {
        let Some((host, port)) = config.proxy_host_port() else {
            return Ok(None);
        };
        let mut addrs = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|source| LocationProxyError::Resolve {
                host: host.clone(),
                port,
                source,
            })?;
        let send_to = addrs.next().ok_or_else(|| LocationProxyError::NoAddress {
            host: host.clone(),
            port,
        })?;
        Ok(Some(LocationProxy {
            send_to,
            host_port: format!("{host}:{port}"),
        }))
    }

    /// The Request-URI for `user`.
    pub fn uri(&self, user: &str) -> String {
        format!("sip:{user}@{}", self.host_port)
    }

    /// The Route header value that pre-loads the proxy (loose routing, RFC 3261 §16.12).
    pub fn route(&self) -> String {
        format!("<sip:{};lr>", self.host_port)
    }
}
