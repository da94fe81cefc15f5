//! The event stream (edge around a sans-IO window): everything that happens in the PBX —
//! channels created, changing state, stepping through the dialplan, pressing keys, hanging up;
//! bridges and their members; playbacks; Dial; registrations; trunks — published as one typed
//! [`PbxEvent`] with a sequence number and a timestamp. Adapters (`pbx ctl events`, the admin
//! API's WebSocket; ARI, AMI and the event socket later) render them.
//!
//! Publishing never slows a call: it appends to a bounded in-memory [`Window`] under a lock
//! held only for the append, and wakes readers through a `watch` channel. Readers read at
//! their own pace with a [`Subscription`]; one that falls behind the window is told how many
//! events it lost ([`Read::Lost`]) and goes on from the oldest event still held.

mod event;
mod time;
mod window;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

pub use event::{
    BridgeSnapshot, ContactStatus, PbxEvent, PlaybackSnapshot, PlaybackState, RecordingSnapshot,
    RecordingState, SourceBan, TrunkState,
};
pub use time::iso8601;
pub use window::{Read, Window};

/// Events kept for readers that fall behind or reconnect, unless `[events] window` says
/// otherwise. Each holds about 1.3 KB (most events carry a channel snapshot), so the default
/// window costs about 2.6 MB once full (measured with `scripts/bench/bridge.sh`).
pub const DEFAULT_WINDOW: usize = 2_000;

/// An event's sequence number: 1 for the first event after start, then one more each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seq(pub u64);

/// A published event: its place in the stream, when it happened, and what happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    /// Place in the stream.
    pub seq: Seq,
    /// When it was published.
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: SystemTime,
    /// The node that published it (`[node] name`), absent on a single box.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_node"
    )]
    pub node: Option<Arc<str>>,
    /// What happened (its `type` and fields are flattened into the JSON object).
    #[serde(flatten)]
    pub event: PbxEvent,
}

fn serialize_node<S: serde::Serializer>(node: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
    node.as_deref().serialize(s)
}

#[derive(Debug)]
struct Inner {
    window: Mutex<Window>,
    node: Option<Arc<str>>,
    latest: watch::Sender<Seq>,
    /// Subscriptions alive.
    subscribers: AtomicUsize,
    /// Events readers lost by falling behind the window, summed over every reader.
    lost: AtomicU64,
}

/// Clonable handle to the event stream: publish from anywhere, subscribe from anywhere.
#[derive(Debug, Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new(DEFAULT_WINDOW)
    }
}

impl EventBus {
    /// A stream keeping the last `window` events.
    pub fn new(window: usize) -> EventBus {
        EventBus::for_node(window, None)
    }

    /// A stream keeping the last `window` events, each marked as published by `node`.
    pub fn for_node(window: usize, node: Option<&str>) -> EventBus {
        EventBus {
            inner: Arc::new(Inner {
                node: node.map(Arc::from),
                window: Mutex::new(Window::new(window)),
                latest: watch::Sender::new(Seq(0)),
                subscribers: AtomicUsize::new(0),
                lost: AtomicU64::new(0),
            }),
        }
    }

    fn window(&self) -> MutexGuard<'_, Window> {
        self.inner.window.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes `event` now; returns its sequence number.
    pub fn publish(&self, event: PbxEvent) -> Seq {
        let timestamp = SystemTime::now();
        let node = self.inner.node.clone();
        let seq = self.window().push(|seq| Published {
            seq,
            timestamp,
            node,
            event,
        });
        self.inner.latest.send_replace(seq);
        seq
    }

    /// The latest sequence number published (0 before the first event).
    pub fn last(&self) -> Seq {
        self.window().last()
    }

    /// A reader of the events published after `after`; `None` reads only what is published
    /// from now on. `Some(Seq(0))` replays the whole window.
    pub fn subscribe(&self, after: Option<Seq>) -> Subscription {
        let changes = self.inner.latest.subscribe();
        self.inner.subscribers.fetch_add(1, Ordering::Relaxed);
        Subscription {
            after: after.unwrap_or_else(|| self.last()),
            bus: self.clone(),
            changes,
        }
    }

    /// Subscriptions alive now.
    pub fn subscribers(&self) -> usize {
        self.inner.subscribers.load(Ordering::Relaxed)
    }

    /// Events lost by readers that fell behind the window, summed over all readers since start.
    pub fn lost(&self) -> u64 {
        self.inner.lost.load(Ordering::Relaxed)
    }
}

/// One reader's position in the stream.
#[derive(Debug)]
pub struct Subscription {
    bus: EventBus,
    after: Seq,
    changes: watch::Receiver<Seq>,
}

impl Subscription {
    /// The next event, or how many were lost, or `Pending` when the reader is up to date.
    pub fn try_next(&mut self) -> Read {
        let read = self.bus.window().read_after(self.after);
        match &read {
            Read::Event(published) => self.after = published.seq,
            Read::Lost {
                count,
                resume_after,
            } => {
                self.after = *resume_after;
                self.bus.inner.lost.fetch_add(*count, Ordering::Relaxed);
            }
            Read::Pending => {}
        }
        read
    }

    /// Waits for the next event (or a loss report); never returns `Read::Pending`.
    pub async fn next(&mut self) -> Read {
        loop {
            self.changes.borrow_and_update();
            match self.try_next() {
                Read::Pending => {}
                read => return read,
            }
            if self.changes.changed().await.is_err() {
                // The bus is held by this subscription, so its sender never goes away.
                std::future::pending::<()>().await;
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.bus.inner.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A random RFC 4122 version-4 UUID: the form Asterisk gives bridge and playback ids.
pub fn random_id() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lost(count: u64) -> PbxEvent {
        PbxEvent::EventsLost { count }
    }

    #[tokio::test]
    async fn a_subscriber_gets_what_is_published_after_it_subscribed_in_order() {
        let bus = EventBus::new(16);
        bus.publish(lost(0));
        let mut sub = bus.subscribe(None);
        let reader = tokio::spawn(async move {
            let mut seqs = Vec::new();
            for _ in 0..3 {
                if let Read::Event(e) = sub.next().await {
                    seqs.push(e.seq.0);
                }
            }
            seqs
        });
        for i in 1..=3 {
            tokio::task::yield_now().await;
            bus.publish(lost(i));
        }
        assert_eq!(reader.await.unwrap(), vec![2, 3, 4]);
    }

    #[test]
    fn a_subscriber_since_a_sequence_number_replays_the_rest_of_the_window() {
        let bus = EventBus::new(16);
        for i in 0..5 {
            bus.publish(lost(i));
        }
        let mut sub = bus.subscribe(Some(Seq(3)));
        let mut seqs = Vec::new();
        while let Read::Event(e) = sub.try_next() {
            seqs.push(e.seq.0);
        }
        assert_eq!(seqs, vec![4, 5]);
    }

    #[test]
    fn publishing_never_waits_for_a_reader_that_stopped_reading() {
        let bus = EventBus::new(4);
        let mut slow = bus.subscribe(Some(Seq(0)));
        for i in 0..100 {
            bus.publish(lost(i));
        }
        assert_eq!(
            slow.try_next(),
            Read::Lost {
                count: 96,
                resume_after: Seq(96)
            }
        );
        assert!(matches!(slow.try_next(), Read::Event(e) if e.seq == Seq(97)));
        assert_eq!(bus.lost(), 96);
    }

    #[test]
    fn subscribers_are_counted_while_they_live() {
        let bus = EventBus::new(4);
        let first = bus.subscribe(None);
        let second = bus.subscribe(Some(Seq(0)));
        assert_eq!(bus.subscribers(), 2);
        drop(first);
        assert_eq!(bus.subscribers(), 1);
        drop(second);
        assert_eq!(bus.subscribers(), 0);
    }

    #[test]
    fn an_event_renders_as_one_json_object_with_seq_timestamp_and_type() {
        let bus = EventBus::new(4);
        bus.publish(lost(7));
        let mut sub = bus.subscribe(Some(Seq(0)));
        let Read::Event(published) = sub.try_next() else {
            panic!("no event");
        };
        let json = serde_json::to_value(&*published).unwrap();
        assert_eq!(json["seq"], 1);
        assert_eq!(json["type"], "EventsLost");
        assert_eq!(json["count"], 7);
        assert!(json["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(json.get("node").is_none(), "a single box names no node");
    }

    #[test]
    fn a_node_marks_every_event_with_its_name() {
        let bus = EventBus::for_node(4, Some("pbx-a"));
        bus.publish(lost(1));
        let mut sub = bus.subscribe(Some(Seq(0)));
        let Read::Event(published) = sub.try_next() else {
            panic!("no event");
        };
        let json = serde_json::to_value(&*published).unwrap();
        assert_eq!(json["node"], "pbx-a");
    }
}
