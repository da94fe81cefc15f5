//! The registry of live calls (edge): what `GET /api/calls` lists and what leak checks count.
//! Call tasks insert themselves at start, update their state, and are removed by a guard when
//! their task ends, whichever way it ends.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::CallId;

/// One live call as the operator sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallView {
    /// The call's id.
    pub id: CallId,
    /// Caller (authenticated endpoint user).
    pub from: String,
    /// Dialled extension.
    pub to: String,
    /// `ringing`, `answered` or `ending`.
    pub state: String,
    /// Seconds since the INVITE.
    pub duration_secs: u64,
    /// Negotiated codec, e.g. `PCMU`.
    pub codec: Option<String>,
    /// RTP packets received.
    pub packets_in: u64,
    /// RTP packets sent.
    pub packets_out: u64,
    /// RTP packets lost (RFC 3550 A.3; negative with duplicates).
    pub lost: i64,
    /// Interarrival jitter in milliseconds (RFC 3550 A.8).
    pub jitter_ms: f64,
}

#[derive(Debug, Clone)]
struct Entry {
    view: CallView,
    started: Instant,
}

/// Clonable handle to the live-call table.
#[derive(Debug, Clone, Default)]
pub struct CallRegistry {
    calls: Arc<Mutex<BTreeMap<CallId, Entry>>>,
    next_id: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
}

/// Removes its call from the registry when dropped (task end, panic or cancellation).
#[derive(Debug)]
pub struct CallGuard {
    registry: CallRegistry,
    id: CallId,
}

impl CallGuard {
    /// The call's id.
    pub fn id(&self) -> CallId {
        self.id
    }

    /// Updates the call's row with `update`.
    pub fn update(&self, update: impl FnOnce(&mut CallView)) {
        if let Some(entry) = self.registry.lock().get_mut(&self.id) {
            update(&mut entry.view);
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

impl CallRegistry {
    /// An empty registry.
    pub fn new() -> CallRegistry {
        CallRegistry::default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<CallId, Entry>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh call id (not yet registered).
    pub fn next_id(&self) -> CallId {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers call `id` from `from` to `to`; the returned guard removes it on drop.
    pub fn register(&self, id: CallId, from: &str, to: &str, now: Instant) -> CallGuard {
        self.total.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(
            id,
            Entry {
                view: CallView {
                    id,
                    from: from.to_string(),
                    to: to.to_string(),
                    state: "ringing".into(),
                    duration_secs: 0,
                    codec: None,
                    packets_in: 0,
                    packets_out: 0,
                    lost: 0,
                    jitter_ms: 0.0,
                },
                started: now,
            },
        );
        CallGuard {
            registry: self.clone(),
            id,
        }
    }

    /// Every live call.
    pub fn views(&self, now: Instant) -> Vec<CallView> {
        self.lock()
            .values()
            .map(|e| {
                let mut view = e.view.clone();
                view.duration_secs = now.saturating_duration_since(e.started).as_secs();
                view
            })
            .collect()
    }

    /// Number of live calls.
    pub fn active(&self) -> usize {
        self.lock().len()
    }

    /// Calls registered since start.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}
