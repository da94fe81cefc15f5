//! What the metrics learn from the event stream: calls started, answered and failed (by Q.850
//! cause), the call setup time, the RTP loss and jitter of every channel as it ended, and the
//! bans. [`EventTally`] folds events in (no I/O, no clock: the event's own timestamp is
//! used); [`run`] is the consumer task feeding it from a [`Subscription`].
//!
//! A *call* is counted by its first channel (the one whose `linkedid` is its own id): started
//! when it is created, answered when it goes `Up`, failed when it ends without having been
//! `Up`. The setup time is from its creation to its answer.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use tokio_util::sync::CancellationToken;

use super::histogram::Histogram;
use crate::channel::{ChannelId, ChannelSnapshot, ChannelState};
use crate::events::{PbxEvent, Published, Read, Subscription};

/// Upper bounds of the call setup time histogram, in seconds: an IVR answers at once, a
/// phone rings for up to a minute.
pub const SETUP_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0];

/// Upper bounds of the RTP jitter histogram, in seconds (RFC 3550 interarrival jitter of a
/// channel when it ended).
pub const JITTER_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2];

/// A Q.850 cause as a label value: the causes are 1–127; anything else is `Other`, so the
/// label set stays bounded whatever a peer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CauseLabel {
    /// A cause within 1–127.
    Q850(u16),
    /// A number outside the Q.850 range.
    Other,
}

impl CauseLabel {
    /// The label for `cause`.
    pub fn of(cause: u16) -> CauseLabel {
        if (1..=127).contains(&cause) {
            CauseLabel::Q850(cause)
        } else {
            CauseLabel::Other
        }
    }

    /// The label value: the number, or `other`.
    pub fn value(self) -> String {
        match self {
            CauseLabel::Q850(cause) => cause.to_string(),
            CauseLabel::Other => "other".into(),
        }
    }
}

/// The counts the event stream gives.
#[derive(Debug, Clone)]
pub struct EventTally {
    /// Calls started.
    pub calls_started: u64,
    /// Calls answered.
    pub calls_answered: u64,
    /// Calls that ended unanswered, by hang-up cause.
    pub calls_failed: BTreeMap<CauseLabel, u64>,
    /// Seconds from a call's first channel's creation to its answer.
    pub setup_seconds: Histogram,
    /// RTP packets lost (RFC 3550 A.3) by channels that ended, a channel's negative figure
    /// (duplicates) counted as none.
    pub rtp_lost: u64,
    /// Interarrival jitter of each channel that ended having received RTP, in seconds.
    pub rtp_jitter_seconds: Histogram,
    /// Sources banned.
    pub bans: u64,
    /// Events this consumer missed by falling behind the window.
    pub missed: u64,
    /// First channels of calls not answered yet, with their creation time.
    unanswered: HashMap<ChannelId, SystemTime>,
}

impl Default for EventTally {
    fn default() -> Self {
        EventTally {
            calls_started: 0,
            calls_answered: 0,
            calls_failed: BTreeMap::new(),
            setup_seconds: Histogram::new(SETUP_BUCKETS),
            rtp_lost: 0,
            rtp_jitter_seconds: Histogram::new(JITTER_BUCKETS),
            bans: 0,
            missed: 0,
            unanswered: HashMap::new(),
        }
    }
}

fn starts_a_call(channel: &ChannelSnapshot) -> bool {
    channel.linkedid == channel.id
}

impl EventTally {
    /// Folds one published event in.
    pub fn on_event(&mut self, published: &Published) {
        match &published.event {
            PbxEvent::ChannelCreated { channel } if starts_a_call(channel) => {
                self.calls_started += 1;
                self.unanswered
                    .insert(channel.id.clone(), published.timestamp);
            }
            PbxEvent::ChannelStateChanged { channel } if channel.state == ChannelState::Up => {
                if let Some(created) = self.unanswered.remove(&channel.id) {
                    self.calls_answered += 1;
                    let setup = published.timestamp.duration_since(created);
                    self.setup_seconds
                        .observe(setup.unwrap_or_default().as_secs_f64());
                }
            }
            PbxEvent::ChannelDestroyed { channel, cause, .. } => {
                if self.unanswered.remove(&channel.id).is_some() {
                    *self.calls_failed.entry(CauseLabel::of(*cause)).or_default() += 1;
                }
                self.rtp_lost += u64::try_from(channel.media.lost).unwrap_or(0);
                if channel.media.packets_in > 0 {
                    self.rtp_jitter_seconds
                        .observe(channel.media.jitter_ms / 1000.0);
                }
            }
            PbxEvent::SourceBanned { .. } => self.bans += 1,
            _ => {}
        }
    }

    /// Records that `count` events went by unseen. The calls being followed can no longer be
    /// told answered or failed, so they are dropped (counted as started only).
    pub fn on_missed(&mut self, count: u64) {
        self.missed += count;
        self.unanswered.clear();
    }

    /// Calls started and neither answered nor ended yet.
    pub fn calls_unanswered(&self) -> usize {
        self.unanswered.len()
    }
}

/// Clonable handle to the tally the consumer task writes and the scrape reads.
#[derive(Debug, Clone, Default)]
pub struct SharedTally(Arc<Mutex<EventTally>>);

impl SharedTally {
    /// The tally, locked (for a fold or a read, never across `.await`).
    pub fn lock(&self) -> MutexGuard<'_, EventTally> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The consumer task: folds every event of `events` into `tally` until `shutdown`.
pub async fn run(mut events: Subscription, tally: SharedTally, shutdown: CancellationToken) {
    loop {
        let read = tokio::select! {
            _ = shutdown.cancelled() => break,
            read = events.next() => read,
        };
        match read {
            Read::Event(published) => tally.lock().on_event(&published),
            Read::Lost { count, .. } => tally.lock().on_missed(count),
            Read::Pending => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::channel::{ChannelRegistry, MediaStats, NewChannel, Party};
    use crate::events::{EventBus, Seq};

    fn snapshot(id: &str, linkedid: &str, state: ChannelState) -> ChannelSnapshot {
        let registry = ChannelRegistry::new(EventBus::new(4));
        let handle = registry.create(
            NewChannel {
                id: Some(ChannelId(id.into())),
                call: 1,
                endpoint: "6001".into(),
                state,
                caller: Party::default(),
                connected: Party::default(),
                context: "internal".into(),
                exten: "8000".into(),
                sip_call_id: "c".into(),
                linked: Some(ChannelId(linkedid.into())),
            },
            std::time::Instant::now(),
            SystemTime::UNIX_EPOCH,
        );
        handle.snapshot().unwrap()
    }

    fn at(secs: f64, event: PbxEvent) -> Published {
        Published {
            seq: Seq(1),
            timestamp: SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs),
            node: None,
            event,
        }
    }

    fn destroyed(channel: ChannelSnapshot, cause: u16) -> PbxEvent {
        PbxEvent::ChannelDestroyed {
            channel,
            cause,
            cause_txt: String::new(),
        }
    }

    #[test]
    fn an_answered_call_counts_once_with_its_setup_time_and_its_branch_not_at_all() {
        let mut tally = EventTally::default();
        let caller = snapshot("1.1", "1.1", ChannelState::Ring);
        let branch = snapshot("1.2", "1.1", ChannelState::Down);
        let up = |c: &ChannelSnapshot| PbxEvent::ChannelStateChanged {
            channel: ChannelSnapshot {
                state: ChannelState::Up,
                ..c.clone()
            },
        };
        tally.on_event(&at(
            10.0,
            PbxEvent::ChannelCreated {
                channel: caller.clone(),
            },
        ));
        tally.on_event(&at(
            10.1,
            PbxEvent::ChannelCreated {
                channel: branch.clone(),
            },
        ));
        tally.on_event(&at(13.0, up(&branch)));
        tally.on_event(&at(13.0, up(&caller)));
        tally.on_event(&at(14.0, up(&caller)));
        tally.on_event(&at(20.0, destroyed(branch, 16)));
        tally.on_event(&at(20.0, destroyed(caller, 16)));
        assert_eq!((tally.calls_started, tally.calls_answered), (1, 1));
        assert!(tally.calls_failed.is_empty());
        assert_eq!(tally.setup_seconds.count(), 1);
        assert!((tally.setup_seconds.sum() - 3.0).abs() < 1e-6);
        assert_eq!(tally.calls_unanswered(), 0);
    }

    #[test]
    fn an_unanswered_call_fails_with_its_cause_and_odd_causes_share_a_label() {
        let mut tally = EventTally::default();
        for (id, cause) in [("2.1", 17), ("2.2", 17), ("2.3", 999)] {
            let channel = snapshot(id, id, ChannelState::Ring);
            tally.on_event(&at(
                1.0,
                PbxEvent::ChannelCreated {
                    channel: channel.clone(),
                },
            ));
            tally.on_event(&at(2.0, destroyed(channel, cause)));
        }
        let failed: Vec<(CauseLabel, u64)> = tally.calls_failed.clone().into_iter().collect();
        assert_eq!(
            failed,
            vec![(CauseLabel::Q850(17), 2), (CauseLabel::Other, 1)]
        );
        assert_eq!(tally.calls_answered, 0);
    }

    #[test]
    fn ended_channels_add_their_loss_and_jitter() {
        let mut tally = EventTally::default();
        let mut channel = snapshot("3.1", "3.1", ChannelState::Up);
        channel.media = MediaStats {
            packets_in: 100,
            lost: 4,
            jitter_ms: 12.0,
            ..MediaStats::default()
        };
        let mut duplicated = channel.clone();
        duplicated.media.lost = -2;
        tally.on_event(&at(1.0, destroyed(channel, 16)));
        tally.on_event(&at(1.0, destroyed(duplicated, 16)));
        assert_eq!(tally.rtp_lost, 4);
        assert_eq!(tally.rtp_jitter_seconds.count(), 2);
        assert!((tally.rtp_jitter_seconds.sum() - 0.024).abs() < 1e-9);
    }

    #[test]
    fn missed_events_forget_the_calls_being_followed() {
        let mut tally = EventTally::default();
        let channel = snapshot("4.1", "4.1", ChannelState::Ring);
        tally.on_event(&at(
            1.0,
            PbxEvent::ChannelCreated {
                channel: channel.clone(),
            },
        ));
        tally.on_missed(5);
        tally.on_event(&at(2.0, destroyed(channel, 17)));
        assert_eq!((tally.missed, tally.calls_started), (5, 1));
        assert!(tally.calls_failed.is_empty());
    }

    #[tokio::test]
    async fn the_consumer_task_folds_what_is_published() {
        let bus = EventBus::new(16);
        let tally = SharedTally::default();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(run(bus.subscribe(None), tally.clone(), shutdown.clone()));
        let channel = snapshot("5.1", "5.1", ChannelState::Ring);
        bus.publish(PbxEvent::ChannelCreated { channel });
        for _ in 0..100 {
            if tally.lock().calls_started == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(tally.lock().calls_started, 1);
        shutdown.cancel();
        task.await.unwrap();
    }
}
