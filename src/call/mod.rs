//! Calls (edge): one tokio task per call owns its leg (dialog, media session, dialplan run).
//! The SIP task and the call tasks talk only through the typed messages below, over bounded
//! channels; no lock guards call state.

mod agi;
mod agi_commands;
mod app_recording;
pub mod b2bua;
pub mod bridge;
pub mod command;
pub mod conference;
pub mod dialplan_handle;
mod esl;
pub use esl::core as esl_core;
mod esl_apps;
pub mod live;
pub mod media_io;
pub mod originate;
pub mod outgoing;
mod record;
pub mod routes;
pub mod runtimes;
mod stasis;
pub mod task;
pub mod transfer;
pub mod uas;
pub mod wait;

use std::net::SocketAddr;

use bytes::Bytes;

use crate::channel::ChannelId;
use crate::sip::message::SipMessage;
use crate::sip::transaction::TransactionKey;

/// Events one call task can have queued. When full, the SIP task drops the in-dialog request
/// (the peer retransmits it) and logs it: a call that far behind is stuck anyway.
pub const CALL_EVENT_CAPACITY: usize = 32;

/// Commands all call tasks can have queued for the SIP task. When full, call tasks wait: the
/// SIP task is the bottleneck then and back-pressure is the right answer.
pub const SIP_COMMAND_CAPACITY: usize = 4096;

/// Operator commands queued for the SIP task (from the admin API). When full, the API answers
/// 503 and the operator retries.
pub const CONTROL_CAPACITY: usize = 64;

/// An operator's command for the SIP task.
#[derive(Debug)]
pub enum ControlCommand {
    /// Place a call ([`originate`]); the reply names the ringing channel.
    Originate {
        /// What to call and where the answered channel goes.
        request: originate::OriginateRequest,
        /// Answered with the ringing channel or why nothing rings.
        reply: tokio::sync::oneshot::Sender<
            Result<crate::channel::ChannelSnapshot, originate::OriginateError>,
        >,
    },
    /// Deliver `command` to channel `channel` of call `call`; false when the call is gone.
    Channel {
        /// The call task that owns the channel.
        call: CallId,
        /// The channel.
        channel: ChannelId,
        /// The command (answered on its own reply).
        command: command::ChannelCommand,
    },
    /// Hang up channel `channel` of call `call`; the reply says whether the call existed.
    Hangup {
        /// The call task that owns the channel.
        call: CallId,
        /// The channel (the call's own leg, or one of its Dial branches).
        channel: ChannelId,
        /// Why (Q.850; 16, normal clearing, when the operator gives none).
        cause: u16,
        /// Answered with whether the call was found.
        reply: tokio::sync::oneshot::Sender<bool>,
    },
}

/// A call's id, unique within the process (for logs, the API and routing).
pub type CallId = u64;

/// What the SIP task tells a call task. The payloads are boxed so an event is two words: a
/// call's channel allocates room for [`CALL_EVENT_CAPACITY`] events up front, for every call.
#[derive(Debug)]
pub enum CallEvent {
    /// An in-dialog request (BYE, re-INVITE, ACK, INFO, OPTIONS...).
    Request(Box<IncomingRequest>),
    /// The caller sent CANCEL for the INVITE (already answered 200 by the SIP task).
    Cancelled,
    /// A response to a request the call sent.
    Response(Box<SipMessage>),
    /// A request the call sent got no final response (timer B/F): treat as 408.
    RequestTimeout(Box<TransactionKey>),
    /// A command to one of the call's channels.
    Command(Box<(ChannelId, command::ChannelCommand)>),
    /// The operator asked to hang up a channel of the call (`pbx ctl hangup`), or all of them
    /// (`channel` `None`: the server is shutting down).
    Hangup {
        /// The channel, or every channel of the call.
        channel: Option<Box<ChannelId>>,
        /// Why (Q.850): published in `ChannelHangupRequest`, mapped to the final response of
        /// a channel not answered yet.
        cause: u16,
    },
}

/// An in-dialog request for a call, with what is needed to answer it.
#[derive(Debug)]
pub struct IncomingRequest {
    /// The request.
    pub request: SipMessage,
    /// Its server transaction, to respond with (`None` for an ACK to our 2xx, which has none).
    pub key: Option<TransactionKey>,
    /// Where it came from.
    pub source: SocketAddr,
}

/// What a call task asks the SIP task to do.
#[derive(Debug)]
pub enum SipCommand {
    /// Send a response through the server transaction `key`; when the transaction is gone
    /// (a 2xx retransmitted after timer L), send it directly to `to`.
    Respond {
        /// The server transaction.
        key: TransactionKey,
        /// The status code.
        status: u16,
        /// The serialized response.
        response: Bytes,
        /// The address responses go to.
        to: SocketAddr,
    },
    /// Send a request in a new client transaction; its responses come back as
    /// [`CallEvent::Response`].
    Request {
        /// The client transaction's key.
        key: TransactionKey,
        /// Where to send it.
        to: SocketAddr,
        /// The serialized request.
        request: Bytes,
        /// The call that owns it.
        call: CallId,
    },
    /// Send a message outside any transaction (the ACK for a 2xx, RFC 3261 §13.2.2.4).
    Send {
        /// Where to send it.
        to: SocketAddr,
        /// The serialized message.
        message: Bytes,
    },
    /// Route in-dialog requests with this Call-ID and our tag to `call` (an outgoing leg's
    /// dialog, whose remote tag is not known yet).
    Route {
        /// The call that owns the leg.
        call: CallId,
        /// The leg's Call-ID.
        call_id: String,
        /// Our tag on the leg.
        local_tag: String,
    },
    /// The call ended: forget its routes.
    Ended {
        /// The call.
        call: CallId,
    },
}
