//! The collectors: what `GET /metrics` reports, read at scrape time from the shared handles
//! (location, channels, bridges, SIP counters, trunks, bans, RTP ports, the event stream) and
//! from the [`EventTally`] the events consumer keeps, written as one [`Exposition`]. Nothing
//! here runs per packet: the SIP path bumps atomics, the media path leaves its figures on the
//! channel once a second and when it ends.
//!
//! Names follow Prometheus' conventions: `pbx_` prefix, base units, `_total` on counters,
//! labels from bounded sets only (methods, status classes, states, kinds, causes, configured
//! trunk names), never a call id, channel id or number.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::exposition::{Exposition, Kind};
use super::process;
use super::tally::{EventTally, SharedTally};
use crate::bans::Bans;
use crate::bridge::{BridgeKind, BridgeRegistry};
use crate::channel::{ChannelRegistry, ChannelState};
use crate::events::EventBus;
use crate::location::Location;
use crate::media::ports::PortPool;
use crate::sip::counters::{Direction, SipCounters, COUNTED_METHODS, STATUS_CLASSES};
use crate::transport::TransportStats;
use crate::trunk::{TrunkBoard, Trunks};

/// Every channel state, for `pbx_channels{state}` (zeros included, so a series never just
/// vanishes when its last channel goes).
const CHANNEL_STATES: [ChannelState; 11] = [
    ChannelState::Down,
    ChannelState::Rsrvd,
    ChannelState::OffHook,
    ChannelState::Dialing,
    ChannelState::Ring,
    ChannelState::Ringing,
    ChannelState::Up,
    ChannelState::Busy,
    ChannelState::DialingOffhook,
    ChannelState::PreRing,
    ChannelState::Unknown,
];

/// What the collectors read; clones of the server's shared handles.
#[derive(Debug, Clone)]
pub struct Sources {
    /// Registered contacts.
    pub location: Location,
    /// SIP transport counters, with the message counters.
    pub transport: Arc<TransportStats>,
    /// Live channels and their RTP figures.
    pub channels: ChannelRegistry,
    /// Live bridges.
    pub bridges: BridgeRegistry,
    /// The event stream (subscribers, losses).
    pub events: EventBus,
    /// Trunk registration states.
    pub trunk_board: TrunkBoard,
    /// Trunks and their call counts.
    pub trunks: Trunks,
    /// Banned sources.
    pub bans: Bans,
    /// RTP ports.
    pub ports: PortPool,
    /// What the events consumer counted.
    pub tally: SharedTally,
    /// When the process started (wall clock).
    pub started: SystemTime,
}

impl Sources {
    /// The metrics page at `now`.
    pub fn render(&self, now: Instant) -> String {
        let mut page = Exposition::new();
        self.registrations(&mut page, now);
        self.channels_and_bridges(&mut page, now);
        calls(&mut page, &self.tally.lock());
        sip(&mut page, &self.transport.messages);
        self.transport_drops(&mut page);
        self.rtp(&mut page);
        self.trunks(&mut page, now);
        self.security(&mut page, now);
        self.event_stream(&mut page);
        self.process(&mut page);
        page.finish()
    }

    fn registrations(&self, page: &mut Exposition, now: Instant) {
        let census = self.location.census(now);
        page.gauge(
            "pbx_registered_aors",
            "Addresses of record with at least one registered contact.",
            census.aors,
        );
        let name = "pbx_registered_contacts";
        page.family(
            name,
            Kind::Gauge,
            "Registered contacts by the result of their last qualify ping.",
        );
        for (state, count) in [
            ("unknown", census.unknown),
            ("reachable", census.reachable),
            ("unreachable", census.unreachable),
        ] {
            page.sample(name, &[("reachability", state)], count);
        }
    }

    fn channels_and_bridges(&self, page: &mut Exposition, now: Instant) {
        let snapshots = self.channels.snapshots(now);
        let name = "pbx_channels";
        page.family(name, Kind::Gauge, "Live channels (legs) by state.");
        for state in CHANNEL_STATES {
            let count = snapshots.iter().filter(|c| c.state == state).count();
            page.sample(name, &[("state", state.as_str())], count);
        }
        page.gauge(
            "pbx_calls_active",
            "Calls in progress (a caller's leg with its Dial branches).",
            self.channels.calls_active(),
        );
        let bridges = self.bridges.snapshots();
        let name = "pbx_bridges";
        page.family(name, Kind::Gauge, "Live bridges by kind.");
        for kind in BridgeKind::ALL {
            let count = bridges
                .iter()
                .filter(|b| BridgeKind::parse(&b.bridge_type) == Some(kind))
                .count();
            page.sample(name, &[("kind", kind.as_str())], count);
        }
    }

    fn transport_drops(&self, page: &mut Exposition) {
        let view = self.transport.view();
        let name = "pbx_sip_datagrams_dropped_total";
        page.family(
            name,
            Kind::Counter,
            "SIP datagrams dropped before processing, by reason.",
        );
        for (reason, count) in [
            ("oversized", view.dropped_oversized),
            ("unparsable", view.dropped_unparsable),
            ("banned", view.dropped_banned),
            ("scanner", view.dropped_scanners),
        ] {
            page.sample(name, &[("reason", reason)], count);
        }
        page.counter(
            "pbx_sip_requests_rejected_total",
            "Requests refused by validation before processing (400, 415, 416, 420, 483, 505).",
            view.bad_requests,
        );
        page.counter(
            "pbx_sip_send_errors_total",
            "SIP sends that failed at the socket.",
            view.send_errors,
        );
    }

    fn rtp(&self, page: &mut Exposition) {
        let media = self.channels.media_totals();
        let tally = self.tally.lock();
        let name = "pbx_rtp_packets_total";
        page.family(name, Kind::Counter, "RTP packets of every channel.");
        page.sample(name, &[("direction", "received")], media.packets_in);
        page.sample(name, &[("direction", "sent")], media.packets_out);
        let name = "pbx_rtp_bytes_total";
        page.family(name, Kind::Counter, "RTP payload octets of every channel.");
        page.sample(name, &[("direction", "received")], media.bytes_in);
        page.sample(name, &[("direction", "sent")], media.bytes_out);
        page.counter(
            "pbx_rtp_packets_lost_total",
            "RTP packets lost on the way to pbx (RFC 3550 A.3), added when a channel ends.",
            tally.rtp_lost,
        );
        page.histogram(
            "pbx_rtp_jitter_seconds",
            "Interarrival jitter (RFC 3550 A.8) of each channel that received RTP, as it ended.",
            &tally.rtp_jitter_seconds,
        );
        page.gauge(
            "pbx_rtp_ports_in_use",
            "RTP ports leased.",
            self.ports.in_use(),
        );
        page.gauge(
            "pbx_rtp_ports",
            "RTP ports in the configured range.",
            self.ports.capacity(),
        );
    }

    fn trunks(&self, page: &mut Exposition, now: Instant) {
        let views = self.trunk_board.views(now);
        let name = "pbx_trunk_state";
        page.family(
            name,
            Kind::Gauge,
            "1 for the registration state each trunk is in.",
        );
        for view in &views {
            page.sample(name, &[("trunk", &view.name), ("state", &view.state)], 1u64);
        }
        let usage = self.trunks.usage();
        let name = "pbx_trunk_calls_active";
        page.family(name, Kind::Gauge, "Calls up out through each trunk.");
        for trunk in self.trunks.iter() {
            page.sample(name, &[("trunk", &trunk.name)], usage.active(&trunk.name));
        }
        let name = "pbx_trunk_calls_total";
        page.family(
            name,
            Kind::Counter,
            "Calls through each trunk: placed out through it, or come in from it.",
        );
        for trunk in self.trunks.iter() {
            let (out, came) = (usage.admitted(&trunk.name), usage.received(&trunk.name));
            page.sample(
                name,
                &[("trunk", &trunk.name), ("direction", "outbound")],
                out,
            );
            page.sample(
                name,
                &[("trunk", &trunk.name), ("direction", "inbound")],
                came,
            );
        }
    }

    fn security(&self, page: &mut Exposition, now: Instant) {
        page.gauge(
            "pbx_bans",
            "Source addresses banned now for failing authentication.",
            self.bans.list(now).len(),
        );
        page.counter(
            "pbx_bans_total",
            "Bans of source addresses since start.",
            self.tally.lock().bans,
        );
    }

    fn event_stream(&self, page: &mut Exposition) {
        page.counter(
            "pbx_events_published_total",
            "Events published on the event stream.",
            self.events.last().0,
        );
        page.gauge(
            "pbx_event_subscribers",
            "Readers of the event stream (API and ARI WebSockets, AMI, event socket, metrics).",
            self.events.subscribers(),
        );
        page.counter(
            "pbx_events_lost_total",
            "Events readers lost by falling behind the event window, summed over readers.",
            self.events.lost(),
        );
    }

    fn process(&self, page: &mut Exposition) {
        let started = self
            .started
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        page.gauge(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch, in seconds.",
            started,
        );
        let sample = match process::sample() {
            Ok(sample) => sample,
            Err(error) => {
                tracing::debug!(%error, "process figures unavailable");
                return;
            }
        };
        page.counter(
            "process_cpu_seconds_total",
            "User and system CPU time spent, in seconds.",
            sample.cpu_seconds,
        );
        page.gauge(
            "process_resident_memory_bytes",
            "Resident memory size, in bytes.",
            sample.resident_bytes,
        );
        page.gauge(
            "process_virtual_memory_bytes",
            "Virtual memory size, in bytes.",
            sample.virtual_bytes,
        );
        page.gauge("process_threads", "OS threads.", sample.threads);
        page.gauge(
            "process_open_fds",
            "Open file descriptors.",
            sample.open_fds,
        );
        if let Some(max) = sample.max_fds {
            page.gauge("process_max_fds", "Limit of open file descriptors.", max);
        }
    }
}

fn calls(page: &mut Exposition, tally: &EventTally) {
    page.counter(
        "pbx_calls_started_total",
        "Calls started (incoming, or placed by pbx), counted by their first channel.",
        tally.calls_started,
    );
    page.counter(
        "pbx_calls_answered_total",
        "Calls whose first channel was answered.",
        tally.calls_answered,
    );
    let name = "pbx_calls_failed_total";
    page.family(
        name,
        Kind::Counter,
        "Calls that ended unanswered, by Q.850 hang-up cause.",
    );
    for (cause, count) in &tally.calls_failed {
        page.sample(name, &[("cause", &cause.value())], *count);
    }
    page.histogram(
        "pbx_call_setup_seconds",
        "Time from a call's start to its answer, in seconds.",
        &tally.setup_seconds,
    );
    page.counter(
        "pbx_events_missed_total",
        "Events the metrics consumer missed by falling behind the event window.",
        tally.missed,
    );
}

fn sip(page: &mut Exposition, counters: &SipCounters) {
    let name = "pbx_sip_requests_total";
    page.family(
        name,
        Kind::Counter,
        "SIP requests (retransmissions not included) by direction and method.",
    );
    for direction in Direction::BOTH {
        for method in COUNTED_METHODS {
            let labels = [
                ("direction", direction.as_str()),
                ("method", method.as_str()),
            ];
            page.sample(name, &labels, counters.requests(direction, method));
        }
    }
    let name = "pbx_sip_responses_total";
    page.family(
        name,
        Kind::Counter,
        "SIP responses by direction and status class (sent: retransmissions not included).",
    );
    for direction in Direction::BOTH {
        for (index, class) in STATUS_CLASSES.iter().enumerate() {
            let labels = [("direction", direction.as_str()), ("class", *class)];
            page.sample(name, &labels, counters.responses(direction, index));
        }
    }
    let name = "pbx_sip_retransmissions_total";
    page.family(
        name,
        Kind::Counter,
        "SIP retransmissions: requests received again, messages pbx sent again.",
    );
    for direction in Direction::BOTH {
        let labels = [("direction", direction.as_str())];
        page.sample(name, &labels, counters.retransmitted(direction));
    }
    page.gauge(
        "pbx_sip_transactions",
        "SIP transactions alive (server and client).",
        counters.transactions(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::security::SecurityConfig;
    use crate::sip::registrar::{ContactSpec, ExpiryPolicy, RegisterAction, RegisterRequest};

    fn sources() -> Sources {
        let events = EventBus::new(16);
        let trunks = Trunks::default();
        Sources {
            location: Location::new(),
            transport: Arc::default(),
            channels: ChannelRegistry::new(events.clone()),
            bridges: BridgeRegistry::new(events.clone()),
            trunk_board: TrunkBoard::new(&trunks, events.clone()),
            trunks,
            bans: Bans::new(SecurityConfig::default().policy(), events.clone()),
            ports: PortPool::new(40000, 40009).unwrap(),
            tally: SharedTally::default(),
            started: UNIX_EPOCH,
            events,
        }
    }

    #[test]
    fn every_family_is_declared_once_and_every_sample_belongs_to_the_family_before_it() {
        let page = sources().render(Instant::now());
        let mut declared = std::collections::BTreeSet::new();
        let mut current = String::new();
        for line in page.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                current = rest.split(' ').next().unwrap().to_string();
                assert!(declared.insert(current.clone()), "{current} declared twice");
            } else if !line.starts_with('#') {
                let series = line.split(['{', ' ']).next().unwrap();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| series.strip_suffix(s).filter(|f| *f == current))
                    .unwrap_or(series);
                assert_eq!(family, current, "{line}");
            }
        }
        assert!(declared.len() >= 30, "{page}");
    }

    #[test]
    fn a_registration_and_sip_traffic_show_on_the_page() {
        let sources = sources();
        let now = Instant::now();
        let request = RegisterRequest {
            action: RegisterAction::Update(vec![ContactSpec {
                uri: "sip:6001@127.0.0.1:5070".into(),
                expires: None,
            }]),
            expires_header: None,
            call_id: "c".into(),
            cseq: 1,
            source: "127.0.0.1:5070".parse().unwrap(),
            user_agent: None,
            path: Vec::new(),
        };
        let policy = ExpiryPolicy {
            min: 60,
            max: 3600,
            default: 600,
        };
        sources
            .location
            .register("6001", policy, 3, &request, now)
            .unwrap();
        let sip = &sources.transport.messages;
        sip.request(Direction::Received, crate::sip::method::Method::Register);
        sip.response(Direction::Sent, 401);
        let page = sources.render(now);
        for line in [
            "pbx_registered_aors 1",
            "pbx_registered_contacts{reachability=\"unknown\"} 1",
            "pbx_sip_requests_total{direction=\"received\",method=\"REGISTER\"} 1",
            "pbx_sip_responses_total{direction=\"sent\",class=\"4xx\"} 1",
            "pbx_rtp_ports 5",
        ] {
            assert!(page.lines().any(|l| l == line), "no {line} in\n{page}");
        }
    }
}
