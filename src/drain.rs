//! Draining (edge): a node leaving a cluster without dropping calls. Once a drain starts
//! (`pbx ctl drain`, or SIGTERM with `[node] drain_grace_secs`), OPTIONS are answered 503 so
//! the proxy's dispatcher stops choosing this node, new INVITEs are refused with 503 (the
//! proxy fails over to another node), and calls in progress go on; the SIP task shuts the
//! server down when the last call ends or the grace period is over. [`Drain`] is the shared
//! switch; the router, the admin API and the SIP task read it.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The node's state as health checks report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Taking calls.
    Active,
    /// Refusing new calls until the calls in progress end.
    Draining,
}

impl NodeState {
    /// `ok` or `draining`, as `GET /api/health` and `pbx ctl health` say it.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Active => "ok",
            NodeState::Draining => "draining",
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// `Some` once draining: the deadline, `None` inside for no deadline.
    state: Mutex<Option<Option<Instant>>>,
    started: Notify,
}

/// Clonable handle to the drain switch. The lock is held only to read or set the state.
#[derive(Debug, Clone, Default)]
pub struct Drain {
    inner: Arc<Inner>,
}

impl Drain {
    fn lock(&self) -> MutexGuard<'_, Option<Option<Instant>>> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts draining, calls in progress to be hung up at `deadline` (`None`: when they
    /// end). A drain already running keeps the earlier of the two deadlines.
    pub fn begin(&self, deadline: Option<Instant>) {
        let mut state = self.lock();
        *state = Some(match (*state, deadline) {
            (Some(Some(a)), Some(b)) => Some(a.min(b)),
            (Some(Some(a)), None) => Some(a),
            (_, new) => new,
        });
        drop(state);
        self.inner.started.notify_one();
    }

    /// Whether new calls are refused.
    pub fn is_draining(&self) -> bool {
        self.lock().is_some()
    }

    /// Active or draining.
    pub fn state(&self) -> NodeState {
        if self.is_draining() {
            NodeState::Draining
        } else {
            NodeState::Active
        }
    }

    /// When calls still up are hung up, if draining with a deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.lock().flatten()
    }

    /// Resolves when [`Drain::begin`] was called (again) since the last time.
    pub async fn started(&self) {
        self.inner.started.notified().await;
    }
}

/// On SIGTERM, drains with a deadline `grace` away (hanging calls up at once when zero); a
/// second SIGTERM stops at once.
pub async fn on_sigterm(drain: Drain, grace: Duration, shutdown: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut terms) = signal(SignalKind::terminate()) else {
        return;
    };
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = terms.recv() => {
                if grace.is_zero() || drain.is_draining() {
                    tracing::info!("shutdown requested (SIGTERM)");
                    shutdown.cancel();
                    break;
                }
                tracing::info!(grace_secs = grace.as_secs(), "drain requested (SIGTERM)");
                drain.begin(Some(Instant::now() + grace));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drain_keeps_the_earlier_deadline_and_reports_draining() {
        let drain = Drain::default();
        assert_eq!(drain.state(), NodeState::Active);
        let now = Instant::now();
        drain.begin(None);
        assert_eq!(drain.state().as_str(), "draining");
        assert_eq!(drain.deadline(), None);
        drain.begin(Some(now + Duration::from_secs(30)));
        drain.begin(Some(now + Duration::from_secs(60)));
        drain.begin(None);
        assert_eq!(drain.deadline(), Some(now + Duration::from_secs(30)));
    }
}
