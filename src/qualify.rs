//! Qualify (edge, clock passed in): OPTIONS pings to every registered contact on an interval,
//! which keep NAT bindings open and tell which phones answer (Asterisk's `qualify_frequency`,
//! Kamailio's `nathelper` pings), along the Path of contacts registered through a proxy.
//! Results go to the [`Location`] store.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Instant;

use crate::location::{Location, Reachability};
use crate::registration::random_tag;
use crate::sip::message::MessageWriter;
use crate::sip::method::Method;
use crate::sip::transaction::table::TransactionTable;
use crate::sip::transaction::TransactionKey;

/// An OPTIONS ping in flight to a registered contact.
#[derive(Debug, Clone)]
struct Ping {
    aor: String,
    contact: String,
    sent: Instant,
}

/// The pings in flight, owned by the SIP task.
#[derive(Debug, Default)]
pub struct Qualifier {
    pings: HashMap<TransactionKey, Ping>,
    pinging: HashSet<(String, String)>,
}

impl Qualifier {
    /// Pings every live binding of `location` that has no ping in flight, from `local`.
    pub fn ping_all(
        &mut self,
        location: &Location,
        transactions: &mut TransactionTable,
        local: SocketAddr,
        user_agent: &str,
        now: Instant,
    ) {
        for (aor, binding) in location.all_bindings(now) {
            let id = (aor.clone(), binding.contact.clone());
            if self.pinging.contains(&id) {
                continue;
            }
            let branch = format!("z9hG4bK{}", random_tag());
            let request = MessageWriter::request(Method::Options, &binding.contact)
                .header("Via", format!("SIP/2.0/UDP {local};branch={branch};rport"))
                .header("Max-Forwards", 70)
                .header("From", format!("<sip:pbx@{local}>;tag={}", random_tag()))
                .header("To", format!("<{}>", binding.contact))
                .header("Call-ID", format!("{}@{}", random_tag(), local.ip()))
                .header("CSeq", "1 OPTIONS")
                .header("Contact", format!("<sip:pbx@{local}>"))
                .header("User-Agent", user_agent);
            // A contact registered through proxies is reached along its Path (RFC 3327).
            let request = binding
                .path
                .iter()
                .fold(request, |request, hop| request.header("Route", hop))
                .finish();
            let key = TransactionKey::for_request(&branch, Method::Options);
            if transactions
                .send_request(&key, binding.source, request, now)
                .is_ok()
            {
                self.pinging.insert(id);
                let contact = binding.contact;
                self.pings.insert(
                    key,
                    Ping {
                        aor,
                        contact,
                        sent: now,
                    },
                );
            }
        }
    }

    /// A final response to ping `key`: the contact is reachable. False when `key` is not ours.
    pub fn on_response(&mut self, key: &TransactionKey, location: &Location, now: Instant) -> bool {
        let Some(ping) = self.take(key) else {
            return false;
        };
        let rtt_ms = now.saturating_duration_since(ping.sent).as_millis() as u64;
        location.set_reachability(&ping.aor, &ping.contact, Reachability::Reachable { rtt_ms });
        true
    }

    /// Ping `key` got no answer: the contact is unreachable. False when `key` is not ours.
    pub fn on_timeout(&mut self, key: &TransactionKey, location: &Location) -> bool {
        let Some(ping) = self.take(key) else {
            return false;
        };
        tracing::warn!(aor = %ping.aor, contact = %ping.contact, "contact did not answer OPTIONS: unreachable");
        location.set_reachability(&ping.aor, &ping.contact, Reachability::Unreachable);
        true
    }

    fn take(&mut self, key: &TransactionKey) -> Option<Ping> {
        let ping = self.pings.remove(key)?;
        self.pinging
            .remove(&(ping.aor.clone(), ping.contact.clone()));
        Some(ping)
    }
}
