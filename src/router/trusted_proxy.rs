//! Requests from trusted proxies (`[[trusted_proxy]]`): a proxy such as Kamailio in front of
//! several nodes has authenticated its users already, so its INVITEs are not challenged and
//! start in the proxy's context. Only for them does the caller's identity come from the
//! request: `P-Asserted-Identity` (RFC 3325 §9.1, the identity a trusted network asserts),
//! else the From user. From anyone else, those headers are the caller's own claim and ignored.

use std::net::SocketAddr;

use crate::config::TrustedProxyConfig;
use crate::media::codec::CodecKind;
use crate::sip::header::NameAddr;
use crate::sip::message::{HeaderName, SipMessage};

/// One trusted proxy as the router uses it.
#[derive(Debug, Clone)]
pub struct TrustedProxy {
    networks: Vec<ipnet::IpNet>,
    /// The context its calls start in.
    pub context: String,
    /// Codecs its calls may use.
    pub codecs: Vec<CodecKind>,
}

/// Every configured trusted proxy.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    list: Vec<TrustedProxy>,
}

impl TrustedProxies {
    /// The proxies of `[[trusted_proxy]]`.
    pub fn from_config(configs: &[TrustedProxyConfig]) -> TrustedProxies {
        TrustedProxies {
            list: configs
                .iter()
                .map(|c| TrustedProxy {
                    networks: c.parsed_networks(),
                    context: c.context.clone(),
                    codecs: c.codecs.clone(),
                })
                .collect(),
        }
    }

    /// The proxy `source` belongs to.
    pub fn identify(&self, source: SocketAddr) -> Option<&TrustedProxy> {
        self.list
            .iter()
            .find(|p| p.networks.iter().any(|n| n.contains(&source.ip())))
    }
}

/// The caller a trusted proxy asserts: the user of the first `P-Asserted-Identity` with a
/// SIP URI user, else the From user; `anonymous` when neither has one.
pub fn asserted_caller(request: &SipMessage) -> String {
    let asserted = request
        .header_values(HeaderName::PAssertedIdentity)
        .find_map(|value| {
            let address = NameAddr::parse(value).ok()?;
            address.sip_uri().ok()?.user.map(str::to_string)
        });
    asserted
        .or_else(|| {
            request
                .header(HeaderName::From)
                .and_then(|from| NameAddr::parse(from).ok())
                .and_then(|from| from.sip_uri().ok()?.user.map(str::to_string))
        })
        .unwrap_or_else(|| "anonymous".into())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn invite(extra: &str) -> SipMessage {
        let text = format!(
            "INVITE sip:8000@pbx SIP/2.0\r\n\
             Via: SIP/2.0/UDP 10.0.0.10;branch=z9hG4bK1\r\n\
             From: \"Alice\" <sip:6001@pbx>;tag=a\r\n\
             To: <sip:8000@pbx>\r\n\
             Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n{extra}\
             Content-Length: 0\r\n\r\n"
        );
        SipMessage::parse(Bytes::from(text)).unwrap()
    }

    #[test]
    fn the_asserted_identity_wins_over_from() {
        let request = invite("P-Asserted-Identity: \"Alice\" <sip:+15550001@pbx>\r\n");
        assert_eq!(asserted_caller(&request), "+15550001");
    }

    #[test]
    fn without_an_asserted_identity_the_from_user_is_the_caller() {
        assert_eq!(asserted_caller(&invite("")), "6001");
    }

    #[test]
    fn a_tel_identity_without_sip_user_falls_back_to_the_next_one() {
        let request = invite("P-Asserted-Identity: <tel:+15550001>, <sip:6001@pbx>\r\n");
        assert_eq!(asserted_caller(&request), "6001");
    }

    #[test]
    fn only_sources_in_a_proxy_network_are_trusted() {
        let config: crate::config::Config = crate::config::Config::parse(
            std::path::Path::new("t.toml"),
            "[sip]\nbind = \"127.0.0.1:5060\"\n[[trusted_proxy]]\nnetworks = [\"10.0.0.10/32\"]\ncontext = \"from-proxy\"\n",
            |_| None,
        )
        .unwrap();
        let proxies = TrustedProxies::from_config(&config.trusted_proxies);
        let trusted = proxies.identify("10.0.0.10:5060".parse().unwrap());
        assert_eq!(trusted.map(|p| p.context.as_str()), Some("from-proxy"));
        assert!(proxies
            .identify("10.0.0.11:5060".parse().unwrap())
            .is_none());
    }
}
