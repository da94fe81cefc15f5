//! Routing of SIP traffic to call tasks, owned by the SIP task: dialog id -> call, INVITE
//! transaction -> call (for CANCEL), our client transactions -> call (for responses), and each
//! call's event channel. Sans-IO apart from non-blocking channel sends.

use std::collections::HashMap;

use tokio::sync::mpsc::{self, error::TrySendError};

use super::{CallEvent, CallId};
use crate::sip::dialog::DialogId;
use crate::sip::transaction::TransactionKey;

#[derive(Debug)]
struct Route {
    events: mpsc::Sender<CallEvent>,
    /// The dialog and INVITE transaction of the call's incoming leg (none when the PBX
    /// placed the call).
    inbound: Option<(DialogId, TransactionKey)>,
}

/// The SIP task's map of live calls.
#[derive(Debug, Default)]
pub struct CallRoutes {
    calls: HashMap<CallId, Route>,
    dialogs: HashMap<DialogId, CallId>,
    invites: HashMap<TransactionKey, CallId>,
    requests: HashMap<TransactionKey, CallId>,
    locals: HashMap<(String, String), CallId>,
}

impl CallRoutes {
    /// Adds a call reachable by its dialog and INVITE transaction.
    pub fn insert(
        &mut self,
        call: CallId,
        events: mpsc::Sender<CallEvent>,
        dialog: DialogId,
        invite: TransactionKey,
    ) {
        self.dialogs.insert(dialog.clone(), call);
        self.invites.insert(invite.clone(), call);
        self.calls.insert(
            call,
            Route {
                events,
                inbound: Some((dialog, invite)),
            },
        );
    }

    /// Adds a call the PBX places itself: its legs are routed as they are created.
    pub fn insert_originated(&mut self, call: CallId, events: mpsc::Sender<CallEvent>) {
        self.calls.insert(
            call,
            Route {
                events,
                inbound: None,
            },
        );
    }

    /// Forgets a call and its routes.
    pub fn remove(&mut self, call: CallId) {
        if let Some((dialog, invite)) = self.calls.remove(&call).and_then(|r| r.inbound) {
            self.dialogs.remove(&dialog);
            self.invites.remove(&invite);
        }
        self.requests.retain(|_, owner| *owner != call);
        self.locals.retain(|_, owner| *owner != call);
    }

    /// Routes requests of an outgoing leg's dialog (Call-ID, our tag) to `call`.
    pub fn route_local(&mut self, call: CallId, call_id: String, local_tag: String) {
        if self.calls.contains_key(&call) {
            self.locals.insert((call_id, local_tag), call);
        }
    }

    /// The call a dialog belongs to.
    pub fn by_dialog(&self, dialog: &DialogId) -> Option<CallId> {
        self.dialogs.get(dialog).copied().or_else(|| {
            self.locals
                .get(&(dialog.call_id.clone(), dialog.local_tag.clone()))
                .copied()
        })
    }

    /// The call whose INVITE server transaction is `invite`.
    pub fn by_invite(&self, invite: &TransactionKey) -> Option<CallId> {
        self.invites.get(invite).copied()
    }

    /// Records that `call` owns client transaction `key`.
    pub fn own_request(&mut self, key: TransactionKey, call: CallId) {
        self.requests.insert(key, call);
    }

    /// The owner of client transaction `key`; `done` forgets it (final response or timeout).
    pub fn request_owner(&mut self, key: &TransactionKey, done: bool) -> Option<CallId> {
        if done {
            self.requests.remove(key)
        } else {
            self.requests.get(key).copied()
        }
    }

    /// Delivers `event` to `call` without waiting; false when the call is gone or its queue
    /// is full (the event is dropped and logged; a peer retransmits requests).
    pub fn deliver(&self, call: CallId, event: CallEvent) -> bool {
        let Some(route) = self.calls.get(&call) else {
            return false;
        };
        match route.events.try_send(event) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                tracing::warn!(call, "call event queue full: event dropped");
                false
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// Every live call's id.
    pub fn ids(&self) -> Vec<CallId> {
        self.calls.keys().copied().collect()
    }

    /// Number of routed calls.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether no call is routed.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}
