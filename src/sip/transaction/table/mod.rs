//! The transaction table of one transport: matching (RFC 3261 §17.1.3, §17.2.3) and timers.
//!
//! > "When the transport layer in the server receives a request, it first checks to see if
//! > there is a server transaction whose branch ID, sent-by and method match ..." (§17.2.3)
//!
//! The UDP edge owns one [`TransactionTable`]. For each parsed request it calls
//! [`TransactionTable::on_request`], which absorbs retransmissions and ACKs for non-2xx
//! responses and creates the server transaction for a new request before the TU sees it; the
//! TU answers with [`TransactionTable::respond`]. Outgoing requests go through
//! [`TransactionTable::send_request`], their responses through
//! [`TransactionTable::on_response`]. The edge drains [`TransactionTable::poll_transmit`],
//! sleeps until [`TransactionTable::poll_timeout`], calls [`TransactionTable::handle_timeout`]
//! and forwards [`TransactionTable::poll_event`] to the TU. Terminated transactions are
//! removed at once; deadlines live in a binary heap with lazy deletion (`deadlines.rs`).
//!
//! Server and client transactions live in separate maps, so a request that loops back to
//! this PBX with its own branch does not match the client transaction that sent it.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::client::ClientTransaction;
use super::client_invite::{ClientInviteState, ClientInviteTransaction};
use super::deadlines::{Deadlines, Scheduled, Side};
use super::server::ServerTransaction;
use super::server_invite::{ServerInviteState, ServerInviteTransaction};
use super::{
    Reliability, ResponseDisposition, Timers, Transaction, TransactionError, TransactionEvent,
    TransactionKey,
};
use crate::sip::counters::{Direction, SipCounters};
use crate::sip::method::Method;

/// How an incoming request relates to the existing server transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestMatch {
    /// A new request: its server transaction now exists and the TU must answer it.
    New,
    /// A retransmission, absorbed; any response to re-send is queued for transmit.
    Retransmission,
    /// An ACK for a non-2xx final response, absorbed by its INVITE server transaction.
    AckMatched,
    /// An ACK no transaction absorbs (an ACK for a 2xx): it goes to the TU / dialog core.
    AckUnmatched,
}

/// What the table tells the TU on its own initiative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableEvent {
    /// Timer B or F: the request got no final response; the TU acts as on a 408.
    ClientTimeout(TransactionKey),
    /// Timer H: the non-2xx final response to this INVITE was never acknowledged.
    ServerNoAck(TransactionKey),
}

/// A server transaction of either kind.
#[derive(Debug)]
enum Server {
    Invite(ServerInviteTransaction),
    NonInvite(ServerTransaction),
}

/// A client transaction of either kind.
#[derive(Debug)]
enum Client {
    Invite(ClientInviteTransaction),
    NonInvite(ClientTransaction),
}

/// Access to the machine behind either kind, for the shared [`Transaction`] calls.
trait AsTransaction {
    fn machine(&mut self) -> &mut dyn Transaction;
}

impl AsTransaction for Server {
    fn machine(&mut self) -> &mut dyn Transaction {
        match self {
            Server::Invite(tx) => tx,
            Server::NonInvite(tx) => tx,
        }
    }
}

impl AsTransaction for Client {
    fn machine(&mut self) -> &mut dyn Transaction {
        match self {
            Client::Invite(tx) => tx,
            Client::NonInvite(tx) => tx,
        }
    }
}

/// A transaction with the peer it talks to and the deadline the heap knows it by.
#[derive(Debug)]
struct Entry<M> {
    remote: SocketAddr,
    kind: M,
    deadline: Option<Instant>,
}

impl<M> Entry<M> {
    /// A fresh entry, not yet known to the deadline heap.
    fn new(remote: SocketAddr, kind: M) -> Self {
        Entry {
            remote,
            kind,
            deadline: None,
        }
    }
}

/// The outputs shared by all transactions: wire queue, TU events and deadlines.
#[derive(Debug, Default)]
struct Outputs {
    transmit: VecDeque<(SocketAddr, Bytes)>,
    events: VecDeque<TableEvent>,
    deadlines: Deadlines,
}

/// Collects what `key`'s machine produced, removes it if terminated, and records a changed
/// deadline.
fn settle<M: AsTransaction>(
    map: &mut HashMap<TransactionKey, Entry<M>>,
    out: &mut Outputs,
    key: &TransactionKey,
    side: Side,
) {
    let Some(entry) = map.get_mut(key) else {
        return;
    };
    let tx = entry.kind.machine();
    while let Some(bytes) = tx.poll_transmit() {
        out.transmit.push_back((entry.remote, bytes));
    }
    if let Some(event) = tx.poll_event() {
        out.events.push_back(match event {
            TransactionEvent::RequestTimeout => TableEvent::ClientTimeout(key.clone()),
            TransactionEvent::AckTimeout => TableEvent::ServerNoAck(key.clone()),
        });
    }
    if tx.is_terminated() {
        map.remove(key);
        return;
    }
    let next = tx.poll_timeout();
    if next != entry.deadline {
        entry.deadline = next;
        if let Some(at) = next {
            out.deadlines.push(at, side, key.clone());
        }
    }
}

/// All server and client transactions of one transport, keyed by [`TransactionKey`].
#[derive(Debug)]
pub struct TransactionTable {
    reliability: Reliability,
    timers: Timers,
    servers: HashMap<TransactionKey, Entry<Server>>,
    clients: HashMap<TransactionKey, Entry<Client>>,
    out: Outputs,
    /// Reused buffer of deadlines due in one [`TransactionTable::handle_timeout`] call.
    due: Vec<Scheduled>,
    /// Messages counted by method, class and retransmission.
    counters: Arc<SipCounters>,
}

impl TransactionTable {
    /// An empty table for a transport of the given reliability.
    pub fn new(reliability: Reliability, timers: Timers) -> Self {
        TransactionTable {
            reliability,
            timers,
            servers: HashMap::new(),
            clients: HashMap::new(),
            out: Outputs::default(),
            due: Vec::new(),
            counters: Arc::default(),
        }
    }

    /// The same table counting its messages into `counters` (shared with their readers).
    pub fn with_counters(mut self, counters: Arc<SipCounters>) -> Self {
        self.counters = counters;
        self
    }

    /// Messages counted so far.
    pub fn counters(&self) -> &SipCounters {
        &self.counters
    }

    /// Matches a request from `remote`. `key` is `TransactionKey::for_request(branch, method)`
    /// (plus sent-by) and `method` the request's own method, which tells an ACK from an INVITE.
    /// A new request (never an ACK) gets its server transaction here.
    pub fn on_request(
        &mut self,
        key: &TransactionKey,
        method: Method,
        remote: SocketAddr,
        now: Instant,
    ) -> RequestMatch {
        let matched = self.match_request(key, method, remote, now);
        if matched == RequestMatch::Retransmission {
            self.counters.retransmissions(Direction::Received, 1);
        } else {
            self.counters.request(Direction::Received, method);
        }
        matched
    }

    fn match_request(
        &mut self,
        key: &TransactionKey,
        method: Method,
        remote: SocketAddr,
        now: Instant,
    ) -> RequestMatch {
        if method == Method::Ack {
            let absorbed = match self.servers.get_mut(key) {
                Some(Entry {
                    kind: Server::Invite(tx),
                    ..
                }) => tx.handle_ack(now),
                _ => false,
            };
            if !absorbed {
                return RequestMatch::AckUnmatched;
            }
            settle(&mut self.servers, &mut self.out, key, Side::Server);
            return RequestMatch::AckMatched;
        }
        if let Some(entry) = self.servers.get_mut(key) {
            match &mut entry.kind {
                Server::Invite(tx) => tx.handle_request(),
                Server::NonInvite(tx) => tx.handle_request(),
            }
            let queued = self.out.transmit.len();
            settle(&mut self.servers, &mut self.out, key, Side::Server);
            self.count_resent(queued);
            return RequestMatch::Retransmission;
        }
        let kind = if key.method == Method::Invite {
            Server::Invite(ServerInviteTransaction::new(self.reliability, self.timers))
        } else {
            Server::NonInvite(ServerTransaction::new(self.reliability, self.timers))
        };
        self.servers.insert(key.clone(), Entry::new(remote, kind));
        RequestMatch::New
    }

    /// True while the INVITE server transaction `key` has sent nothing: the TU owes a
    /// 100 (Trying) unless it answers within 200 ms (§17.2.1).
    pub fn owes_trying(&self, key: &TransactionKey) -> bool {
        matches!(
            self.servers.get(key),
            Some(Entry { kind: Server::Invite(tx), .. }) if tx.owes_trying()
        )
    }

    /// The TU's response with `status` to the server transaction `key`, queued for transmit.
    pub fn respond(
        &mut self,
        key: &TransactionKey,
        status: u16,
        response: Bytes,
        now: Instant,
    ) -> Result<(), TransactionError> {
        let entry = self
            .servers
            .get_mut(key)
            .ok_or(TransactionError::NoTransaction)?;
        // RFC 6026 §7.1: the TU's retransmissions of a 2xx pass through the Accepted state.
        let retransmitted_2xx = match &mut entry.kind {
            Server::Invite(tx) => {
                let again =
                    tx.state() == ServerInviteState::Accepted && (200..300).contains(&status);
                tx.send_response(status, response, now)?;
                again
            }
            Server::NonInvite(tx) => {
                tx.send_response(status, response, now)?;
                false
            }
        };
        if retransmitted_2xx {
            self.counters.retransmissions(Direction::Sent, 1);
        } else {
            self.counters.response(Direction::Sent, status);
        }
        settle(&mut self.servers, &mut self.out, key, Side::Server);
        Ok(())
    }

    /// Starts a client transaction sending `request` to `remote`; an INVITE transaction when
    /// `key.method` is INVITE. ACKs are never sent through here: an ACK for a 2xx is not a
    /// transaction and an ACK for a non-2xx goes through [`Self::send_ack`].
    pub fn send_request(
        &mut self,
        key: &TransactionKey,
        remote: SocketAddr,
        request: Bytes,
        now: Instant,
    ) -> Result<(), TransactionError> {
        if self.clients.contains_key(key) {
            return Err(TransactionError::DuplicateKey);
        }
        let (r, t) = (self.reliability, self.timers);
        let kind = if key.method == Method::Invite {
            Client::Invite(ClientInviteTransaction::new(request, r, t, now))
        } else {
            Client::NonInvite(ClientTransaction::new(request, r, t, now))
        };
        self.clients.insert(key.clone(), Entry::new(remote, kind));
        self.counters.request(Direction::Sent, key.method);
        settle(&mut self.clients, &mut self.out, key, Side::Client);
        Ok(())
    }

    /// Matches a response (top Via branch, CSeq method) to its client transaction. On
    /// [`ResponseDisposition::DeliverAndAck`] the caller builds the ACK from
    /// [`Self::invite_request`] and the response and calls [`Self::send_ack`] before the next
    /// [`Self::handle_timeout`]; on `NoTransaction` it drops the stray response.
    pub fn on_response(
        &mut self,
        key: &TransactionKey,
        status: u16,
        now: Instant,
    ) -> ResponseDisposition {
        self.counters.response(Direction::Received, status);
        let Some(entry) = self.clients.get_mut(key) else {
            return ResponseDisposition::NoTransaction;
        };
        let disposition = match &mut entry.kind {
            Client::Invite(tx) => tx.handle_response(status, now),
            Client::NonInvite(tx) => tx.handle_response(status, now),
        };
        settle(&mut self.clients, &mut self.out, key, Side::Client);
        disposition
    }

    /// The INVITE sent by client transaction `key`, to build the ACK from (§17.1.1.3).
    pub fn invite_request(&self, key: &TransactionKey) -> Option<&Bytes> {
        match self.clients.get(key) {
            Some(Entry {
                kind: Client::Invite(tx),
                ..
            }) => Some(tx.request()),
            _ => None,
        }
    }

    /// Whether INVITE client transaction `key` exists and has had a response (a CANCEL may
    /// be sent only then, §9.1).
    pub fn invite_answered(&self, key: &TransactionKey) -> Option<bool> {
        match self.clients.get(key) {
            Some(Entry {
                kind: Client::Invite(tx),
                ..
            }) => Some(tx.state() != ClientInviteState::Calling),
            _ => None,
        }
    }

    /// Hands the ACK for a 3xx-6xx response to INVITE client transaction `key`.
    pub fn send_ack(&mut self, key: &TransactionKey, ack: Bytes) -> Result<(), TransactionError> {
        let entry = self
            .clients
            .get_mut(key)
            .ok_or(TransactionError::NoTransaction)?;
        match &mut entry.kind {
            Client::Invite(tx) => tx.send_ack(ack)?,
            Client::NonInvite(_) => return Err(TransactionError::AckNotExpected),
        }
        self.counters.request(Direction::Sent, Method::Ack);
        settle(&mut self.clients, &mut self.out, key, Side::Client);
        Ok(())
    }

    /// Destroys client transaction `key` without further ado: for an INVITE still without a
    /// final response 64*T1 after its CANCEL (§9.1). Returns whether it existed.
    pub fn abandon_client(&mut self, key: &TransactionKey) -> bool {
        self.clients.remove(key).is_some()
    }

    /// The next datagram to send and its destination, oldest first.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Bytes)> {
        self.out.transmit.pop_front()
    }

    /// The earliest deadline of any transaction; [`Self::handle_timeout`] is due then.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(top) = self.out.deadlines.peek() {
            if self.is_current(top) {
                return Some(top.at);
            }
            self.out.deadlines.pop();
        }
        None
    }

    /// Fires every timer due at `now`. Deadlines the machines set at or before `now` while
    /// doing so are left for the next call, so one call always finishes.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut due = std::mem::take(&mut self.due);
        self.out.deadlines.pop_due(now, &mut due);
        // Whatever a timer makes a transaction send is a retransmission (timers A, E, G).
        let queued = self.out.transmit.len();
        for item in due.drain(..) {
            if !self.is_current(&item) {
                continue;
            }
            match item.side {
                Side::Server => {
                    if let Some(entry) = self.servers.get_mut(&item.key) {
                        entry.kind.machine().handle_timeout(now);
                    }
                    settle(&mut self.servers, &mut self.out, &item.key, Side::Server);
                }
                Side::Client => {
                    if let Some(entry) = self.clients.get_mut(&item.key) {
                        entry.kind.machine().handle_timeout(now);
                    }
                    settle(&mut self.clients, &mut self.out, &item.key, Side::Client);
                }
            }
        }
        self.due = due;
        self.count_resent(queued);
    }

    /// Counts what was queued for transmit beyond the first `queued` as retransmissions.
    fn count_resent(&self, queued: usize) {
        let resent = self.out.transmit.len().saturating_sub(queued);
        self.counters
            .retransmissions(Direction::Sent, resent as u64);
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<TableEvent> {
        self.out.events.pop_front()
    }

    /// How many transactions are alive (server and client).
    pub fn len(&self) -> usize {
        self.servers.len() + self.clients.len()
    }

    /// True when no transaction is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the heap entry still names a live transaction with that deadline.
    fn is_current(&self, item: &Scheduled) -> bool {
        let deadline = match item.side {
            Side::Server => self.servers.get(&item.key).map(|e| e.deadline),
            Side::Client => self.clients.get(&item.key).map(|e| e.deadline),
        };
        deadline == Some(Some(item.at))
    }
}

#[cfg(test)]
mod tests;
