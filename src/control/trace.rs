//! SIP trace (`pbx ctl sip trace on|off [--filter user|ip]`): while on, every SIP message the
//! PBX receives or sends is written whole to the log, optionally only those naming a user or
//! exchanged with an address. Off costs one atomic load per message.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

/// What `POST /api/sip/trace` takes and `GET` returns.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TraceSettings {
    /// Whether tracing is on.
    pub on: bool,
    /// Only messages naming `sip:FILTER@` (a user) or exchanged with FILTER (an IP address).
    pub filter: Option<String>,
}

/// Clonable handle to the trace switch, shared by the SIP task and the admin API.
#[derive(Debug, Clone, Default)]
pub struct SipTrace {
    on: Arc<AtomicBool>,
    settings: Arc<RwLock<TraceSettings>>,
}

impl SipTrace {
    /// Applies new settings.
    pub fn set(&self, settings: TraceSettings) {
        self.on.store(settings.on, Ordering::Relaxed);
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
    }

    /// The current settings.
    pub fn settings(&self) -> TraceSettings {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Logs `message` received from (`incoming`) or sent to `peer`, when tracing covers it.
    pub fn record(&self, incoming: bool, peer: SocketAddr, message: &[u8]) {
        if !self.on.load(Ordering::Relaxed) {
            return;
        }
        let text = String::from_utf8_lossy(message);
        let settings = self.settings();
        let wanted = match settings.filter.as_deref() {
            None | Some("") => true,
            Some(filter) => match filter.parse::<IpAddr>() {
                Ok(ip) => peer.ip() == ip,
                Err(_) => text.contains(&format!("sip:{filter}@")),
            },
        };
        if wanted {
            let direction = if incoming { "received from" } else { "sent to" };
            tracing::info!(target: "sip_trace", "{direction} {peer}:\n{text}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_filters_parse() {
        let trace = SipTrace::default();
        assert!(!trace.settings().on);
        trace.set(TraceSettings {
            on: true,
            filter: Some("6001".into()),
        });
        assert_eq!(trace.settings().filter.as_deref(), Some("6001"));
        // Recording with any filter must not panic on binary input.
        trace.record(true, "127.0.0.1:5060".parse().unwrap(), &[0xff, 0xfe, 0x00]);
    }
}
