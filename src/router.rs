//! Out-of-dialog dispatch of SIP (edge, but clock-free: `now` is passed in). Datagrams come in
//! from the transport, go through the transaction table, and new requests are answered by
//! method in one plain `match`: REGISTER -> [`Registration`], OPTIONS -> capabilities,
//! everything else -> 405/501/481. Responses to our own requests (qualify pings) come back
//! through the table. What must be sent is drained with [`Router::poll_transmit`].

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::location::{Location, Reachability};
use crate::registration::{random_tag, Registration};
use crate::sip::message::{reason_phrase, MessageWriter, SipMessage};
use crate::sip::method::Method;
use crate::sip::transaction::table::{RequestMatch, TableEvent, TransactionTable};
use crate::sip::transaction::{Reliability, ResponseDisposition, Timers, TransactionKey};
use crate::transport::TransportStats;

/// Methods this PBX handles, for Allow headers.
pub const ALLOW: &str = "REGISTER, OPTIONS";

/// An OPTIONS ping in flight to a registered contact.
#[derive(Debug, Clone)]
struct QualifyPing {
    aor: String,
    contact: String,
    sent: Instant,
}

/// SIP dispatch state for one transport.
#[derive(Debug)]
pub struct Router {
    transactions: TransactionTable,
    registration: Registration,
    location: Location,
    stats: Arc<TransportStats>,
    /// Address written into our Via and Contact headers.
    advertised: SocketAddr,
    user_agent: String,
    max_message_size: usize,
    pings: HashMap<TransactionKey, QualifyPing>,
    pinging: HashSet<(String, String)>,
}

/// Settings the router needs besides its collaborators.
#[derive(Debug, Clone)]
pub struct RouterSettings {
    /// Address written into our Via and Contact headers.
    pub advertised: SocketAddr,
    /// User-Agent / Server header value.
    pub user_agent: String,
    /// Largest datagram accepted.
    pub max_message_size: usize,
}

impl Router {
    /// A router answering REGISTER with `registration` and pinging contacts of `location`.
    pub fn new(
        settings: RouterSettings,
        registration: Registration,
        location: Location,
        stats: Arc<TransportStats>,
    ) -> Router {
        Router {
            transactions: TransactionTable::new(Reliability::Unreliable, Timers::default()),
            registration,
            location,
            stats,
            advertised: settings.advertised,
            user_agent: settings.user_agent,
            max_message_size: settings.max_message_size,
            pings: HashMap::new(),
            pinging: HashSet::new(),
        }
    }

    /// Handles one received datagram.
    pub fn handle_datagram(&mut self, data: Bytes, source: SocketAddr, now: Instant) {
        if data.len() > self.max_message_size {
            TransportStats::bump(&self.stats.dropped_oversized);
            tracing::debug!(%source, len = data.len(), "oversized SIP datagram dropped");
            return;
        }
        if data.iter().all(u8::is_ascii_whitespace) {
            TransportStats::bump(&self.stats.keepalives);
            return;
        }
        let message = match SipMessage::parse(data) {
            Ok(message) => message,
            Err(error) => {
                TransportStats::bump(&self.stats.dropped_unparsable);
                tracing::debug!(%source, %error, "unparsable datagram dropped");
                return;
            }
        };
        if message.status().is_some() {
            self.handle_response(&message, now);
        } else {
            self.handle_request(&message, source, now);
        }
    }

    fn handle_request(&mut self, request: &SipMessage, source: SocketAddr, now: Instant) {
        let Ok(via) = request.top_via() else {
            TransportStats::bump(&self.stats.dropped_unparsable);
            tracing::debug!(%source, "request without a usable Via dropped");
            return;
        };
        let method = request.method().unwrap_or(Method::Unknown);
        let branch = match via.branch() {
            Some(b) if b.starts_with("z9hG4bK") => b.to_string(),
            // RFC 2543 peers: key on what identifies their transaction instead (§17.2.3).
            _ => format!(
                "rfc2543:{}:{}:{}",
                request.call_id().unwrap_or_default(),
                request.cseq().map(|c| c.seq).unwrap_or_default(),
                request
                    .from_header()
                    .ok()
                    .and_then(|f| f.tag())
                    .unwrap_or_default()
            ),
        };
        let sent_by = match via.port {
            Some(port) => format!("{}:{port}", via.host.to_ascii_lowercase()),
            None => via.host.to_ascii_lowercase(),
        };
        let key = TransactionKey::for_request(&branch, method).with_sent_by(&sent_by);
        match self.transactions.on_request(&key, method, source, now) {
            RequestMatch::New => {}
            RequestMatch::Retransmission | RequestMatch::AckMatched => return,
            RequestMatch::AckUnmatched => {
                tracing::debug!(%source, "ACK outside any transaction or dialog ignored");
                return;
            }
        }
        if let Some(defect) = request.defect() {
            TransportStats::bump(&self.stats.bad_requests);
            tracing::info!(%source, %defect, "bad request answered 400");
            let reason = format!("Bad Request ({defect})");
            let response = self.response(request, 400, &reason, source).finish();
            self.respond(&key, 400, response, now);
            return;
        }
        let (status, response) = match method {
            Method::Register => {
                let response = self.registration.handle_register(request, source, now);
                let status = SipMessage::parse(response.clone())
                    .ok()
                    .and_then(|r| r.status())
                    .unwrap_or(500);
                (status, response)
            }
            Method::Options => (
                200,
                self.response(request, 200, "OK", source)
                    .header("Allow", ALLOW)
                    .header("Accept", "application/sdp")
                    .header("Accept-Language", "en")
                    .header("Supported", "")
                    .finish(),
            ),
            Method::Bye | Method::Cancel => (
                481,
                self.response(request, 481, reason_phrase(481), source)
                    .finish(),
            ),
            Method::Unknown => (
                501,
                self.response(request, 501, reason_phrase(501), source)
                    .header("Allow", ALLOW)
                    .finish(),
            ),
            _ => (
                405,
                self.response(request, 405, reason_phrase(405), source)
                    .header("Allow", ALLOW)
                    .finish(),
            ),
        };
        self.respond(&key, status, response, now);
    }

    fn response(
        &self,
        request: &SipMessage,
        status: u16,
        reason: &str,
        source: SocketAddr,
    ) -> MessageWriter {
        MessageWriter::response(request, status, reason, Some(&random_tag()), source)
            .header("Server", &self.user_agent)
    }

    fn respond(&mut self, key: &TransactionKey, status: u16, response: Bytes, now: Instant) {
        if let Err(error) = self.transactions.respond(key, status, response, now) {
            tracing::warn!(?key, %error, "response not accepted by its transaction");
        }
    }

    fn handle_response(&mut self, response: &SipMessage, now: Instant) {
        let (Ok(via), Ok(cseq), Some(status)) =
            (response.top_via(), response.cseq(), response.status())
        else {
            TransportStats::bump(&self.stats.dropped_unparsable);
            return;
        };
        let Some(branch) = via.branch() else {
            return;
        };
        let key = TransactionKey::for_request(branch, cseq.method);
        match self.transactions.on_response(&key, status, now) {
            ResponseDisposition::Deliver | ResponseDisposition::DeliverAndAck => {}
            ResponseDisposition::Absorb | ResponseDisposition::NoTransaction => return,
        }
        if status >= 200 {
            if let Some(ping) = self.pings.remove(&key) {
                self.pinging
                    .remove(&(ping.aor.clone(), ping.contact.clone()));
                let rtt_ms = now.saturating_duration_since(ping.sent).as_millis() as u64;
                self.location.set_reachability(
                    &ping.aor,
                    &ping.contact,
                    Reachability::Reachable { rtt_ms },
                );
            }
        }
    }

    /// Sends an OPTIONS ping to every registered contact that has none in flight (NAT
    /// keep-alive and reachability, Asterisk's `qualify_frequency`).
    pub fn qualify(&mut self, now: Instant) {
        for (aor, binding) in self.location.all_bindings(now) {
            let id = (aor.clone(), binding.contact.clone());
            if self.pinging.contains(&id) {
                continue;
            }
            let branch = format!("z9hG4bK{}", random_tag());
            let local = self.advertised;
            let request = MessageWriter::request(Method::Options, &binding.contact)
                .header("Via", format!("SIP/2.0/UDP {local};branch={branch};rport"))
                .header("Max-Forwards", 70)
                .header("From", format!("<sip:pbx@{local}>;tag={}", random_tag()))
                .header("To", format!("<{}>", binding.contact))
                .header("Call-ID", format!("{}@{}", random_tag(), local.ip()))
                .header("CSeq", "1 OPTIONS")
                .header("Contact", format!("<sip:pbx@{local}>"))
                .header("User-Agent", &self.user_agent)
                .finish();
            let key = TransactionKey::for_request(&branch, Method::Options);
            if self
                .transactions
                .send_request(&key, binding.source, request, now)
                .is_ok()
            {
                self.pinging.insert(id);
                self.pings.insert(
                    key,
                    QualifyPing {
                        aor,
                        contact: binding.contact,
                        sent: now,
                    },
                );
            }
        }
    }

    /// The next instant [`Router::handle_timeout`] must run.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.transactions.poll_timeout()
    }

    /// Runs transaction timers due at `now` and reacts to their events.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.transactions.handle_timeout(now);
        while let Some(event) = self.transactions.poll_event() {
            match event {
                TableEvent::ClientTimeout(key) => {
                    if let Some(ping) = self.pings.remove(&key) {
                        self.pinging
                            .remove(&(ping.aor.clone(), ping.contact.clone()));
                        tracing::warn!(aor = %ping.aor, contact = %ping.contact, "contact did not answer OPTIONS: unreachable");
                        self.location.set_reachability(
                            &ping.aor,
                            &ping.contact,
                            Reachability::Unreachable,
                        );
                    }
                }
                TableEvent::ServerNoAck(key) => {
                    tracing::debug!(?key, "no ACK for a final response");
                }
            }
        }
    }

    /// The next message to send and where.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Bytes)> {
        self.transactions.poll_transmit()
    }

    /// Live transactions (for leak checks).
    pub fn transaction_count(&self) -> usize {
        self.transactions.len()
    }
}
