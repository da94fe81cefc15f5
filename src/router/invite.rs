//! The router's handling of INVITE and CANCEL (edge glue): a new INVITE becomes a call task
//! (trunk and trusted-proxy calls unchallenged, others authenticated as endpoints; 503 while
//! the node drains), a CANCEL reaches the call it cancels, and in-dialog requests go to the
//! call that owns the dialog.

use std::net::SocketAddr;
use std::time::Instant;

use tokio::sync::mpsc;

use super::{EndpointProfile, Router};
use crate::call::task::CallSetup;
use crate::call::{CallEvent, IncomingRequest, CALL_EVENT_CAPACITY};
use crate::config::DidSource;
use crate::events::PbxEvent;
use crate::registration::{random_tag, AuthOutcome};
use crate::sip::dialog::DialogId;
use crate::sip::header::SipUri;
use crate::sip::message::{reason_phrase, MessageWriter, SipMessage};
use crate::sip::transaction::TransactionKey;

impl Router {
    /// An INVITE outside any dialog: refused with 503 while draining; from a trunk's provider
    /// or a trusted proxy it goes to their context unchallenged; otherwise the caller must
    /// authenticate as an endpoint (407). Then it is handed to a new call task.
    pub(super) fn new_invite(
        &mut self,
        request: &SipMessage,
        key: TransactionKey,
        source: SocketAddr,
        now: Instant,
    ) {
        if self.drain.is_draining() {
            tracing::info!(%source, "new call refused: this node is draining");
            let response = self
                .response(request, 503, "Service Unavailable (draining)", source)
                .finish();
            self.respond(&key, 503, response, now);
            return;
        }
        let request_user = request
            .request_uri()
            .and_then(|u| SipUri::parse(u).ok())
            .and_then(|u| u.dialled().map(str::to_string))
            .unwrap_or_default();
        let (caller, endpoint, profile, exten) = if let Some(trunk) = self.trunks.identify(source) {
            let did = match trunk.did_from {
                DidSource::RequestUri => request_user,
                DidSource::To => request
                    .to_header()
                    .ok()
                    .and_then(|t| t.sip_uri().ok().and_then(|u| u.user.map(str::to_string)))
                    .unwrap_or_default(),
            };
            let caller = request
                .from_header()
                .ok()
                .and_then(|f| f.sip_uri().ok().and_then(|u| u.user.map(str::to_string)))
                .unwrap_or_else(|| "anonymous".into());
            tracing::info!(trunk = %trunk.name, %source, %did, "inbound call from trunk");
            let profile = EndpointProfile {
                context: trunk.context.clone(),
                codecs: trunk.codecs.clone(),
                max_concurrent_calls: 0,
                allowed_trunks: None,
            };
            self.trunks.usage().receive(&trunk.name);
            (caller, trunk.name.clone(), profile, did)
        } else if let Some(proxy) = self.proxies.identify(source) {
            let caller = super::trusted_proxy::asserted_caller(request);
            tracing::info!(%source, %caller, exten = %request_user, "call from a trusted proxy");
            let profile = EndpointProfile {
                context: proxy.context.clone(),
                codecs: proxy.codecs.clone(),
                max_concurrent_calls: 0,
                allowed_trunks: None,
            };
            (caller.clone(), caller, profile, request_user)
        } else {
            let user = match self.registration.authenticate(request, source, true, now) {
                AuthOutcome::Challenge(response) => {
                    self.respond(&key, 407, response, now);
                    return;
                }
                AuthOutcome::Authenticated(user) => user,
            };
            let Some(profile) = self.endpoints.get(&user).cloned() else {
                let response = self
                    .response(request, 403, reason_phrase(403), source)
                    .finish();
                self.respond(&key, 403, response, now);
                return;
            };
            let max = profile.max_concurrent_calls;
            if max > 0 && self.endpoint_calls.count(&user) >= max {
                let why = format!("endpoint {user} already has its {max} concurrent calls");
                tracing::warn!(%source, %user, %why, "toll-fraud limit: call refused");
                self.registry.events().publish(PbxEvent::CallRefused {
                    endpoint: user.clone(),
                    trunk: String::new(),
                    number: request_user.clone(),
                    reason: why.clone(),
                });
                let reason = format!("{} ({why})", reason_phrase(403));
                let response = self.response(request, 403, &reason, source).finish();
                self.respond(&key, 403, response, now);
                return;
            }
            (user.clone(), user, profile, request_user)
        };
        let trying = MessageWriter::response(request, 100, "Trying", None, source).finish();
        self.respond(&key, 100, trying, now);
        let local_tag = random_tag();
        let Some(dialog) = request
            .from_header()
            .ok()
            .and_then(|f| f.tag().map(str::to_string))
            .zip(request.call_id().map(str::to_string))
            .map(|(remote_tag, call_id)| DialogId {
                call_id,
                local_tag: local_tag.clone(),
                remote_tag,
            })
        else {
            let response = self
                .response(request, 400, "Bad Request (missing From tag)", source)
                .finish();
            self.respond(&key, 400, response, now);
            return;
        };
        let id = self.registry.next_call_id();
        let (events, receiver) = mpsc::channel(CALL_EVENT_CAPACITY);
        self.calls.insert(id, events, dialog, key.clone());
        if self.endpoints.contains_key(&endpoint) && self.trunks.get(&endpoint).is_none() {
            self.endpoint_calls.started(id, &endpoint);
        }
        self.new_calls.push_back(CallSetup {
            id,
            invite: request.clone(),
            key,
            source,
            endpoint,
            local_tag,
            caller,
            exten,
            context: profile.context,
            codecs: profile.codecs,
            events: receiver,
        });
    }

    /// CANCEL (RFC 3261 §9.2): 200 to the CANCEL, and the call answers 487 to its INVITE.
    pub(super) fn cancel(
        &mut self,
        request: &SipMessage,
        key: TransactionKey,
        source: SocketAddr,
        now: Instant,
    ) {
        match self.calls.by_invite(&key.cancelled_invite()) {
            Some(call) => {
                let response = self.response(request, 200, "OK", source).finish();
                self.respond(&key, 200, response, now);
                self.calls.deliver(call, CallEvent::Cancelled);
            }
            None => {
                let response = self
                    .response(request, 481, reason_phrase(481), source)
                    .finish();
                self.respond(&key, 481, response, now);
            }
        }
    }

    pub(super) fn route_in_dialog(
        &mut self,
        request: &SipMessage,
        key: TransactionKey,
        source: SocketAddr,
        now: Instant,
    ) {
        let call = DialogId::of_incoming_request(request).and_then(|d| self.calls.by_dialog(&d));
        let delivered = call.is_some_and(|call| {
            self.calls.deliver(
                call,
                CallEvent::Request(Box::new(IncomingRequest {
                    request: request.clone(),
                    key: Some(key.clone()),
                    source,
                })),
            )
        });
        if !delivered {
            let response = self
                .response(request, 481, reason_phrase(481), source)
                .finish();
            self.respond(&key, 481, response, now);
        }
    }
}
