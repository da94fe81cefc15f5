//! Dial: the B2BUA half of a call (RFC 3261 §13 as UAC, RFC 7092 B2BUA roles). The call task
//! forks an INVITE to every registered contact of the dialled endpoints ([`super::outgoing`]
//! legs, each a channel with its own dialog and RTP port: the PBX anchors media for NAT and
//! docker), relays ringing and early media to the caller, takes the first 2xx and CANCELs the
//! other branches, answers the caller and then bridges the two legs' media until one side
//! hangs up.

use std::time::{Duration, Instant};

use super::outgoing::{Bridged, Dialer, LegProgress, OutLeg};
use super::task::{send_bye, Call};
use super::CallEvent;
use crate::channel::Party;
use crate::dialplan::{DialStatus, DialTarget, Event};
use crate::events::PbxEvent;
use crate::sip::dialog::Dialog;
use crate::trunk::limits::{Refusal, TrunkCall};

impl Call {
    /// Logs and publishes a Dial branch refused by its trunk's toll-fraud limits.
    fn refused(&self, trunk: &str, number: &str, reason: &Refusal) {
        tracing::warn!(call = self.id, %trunk, %number, %reason, "toll-fraud limit: call refused");
        let endpoint = self
            .calling_endpoint()
            .map(String::from)
            .unwrap_or_default();
        self.shared
            .channels
            .events()
            .publish(PbxEvent::CallRefused {
                endpoint,
                trunk: trunk.to_string(),
                number: number.to_string(),
                reason: reason.to_string(),
            });
    }

    /// The endpoint that placed this call, when an endpoint did (its caller is that user).
    fn calling_endpoint(&self) -> Option<&str> {
        self.shared
            .endpoints
            .contains_key(&self.caller)
            .then_some(self.caller.as_str())
    }

    /// The calling endpoint's `allowed_trunks` rule, then the trunk's own limits.
    fn admit_trunk(
        &self,
        trunk: &str,
        number: &str,
        now: Instant,
    ) -> Option<Result<TrunkCall, Refusal>> {
        let endpoint = self.calling_endpoint();
        let allowed = endpoint
            .and_then(|e| self.shared.endpoints.get(e))
            .and_then(|profile| profile.allowed_trunks.as_ref());
        if let (Some(endpoint), Some(allowed)) = (endpoint, allowed) {
            if !allowed.iter().any(|t| t == trunk) {
                return Some(Err(Refusal::TrunkNotAllowed {
                    trunk: trunk.to_string(),
                    endpoint: endpoint.to_string(),
                }));
            }
        }
        self.shared.trunks.admit(trunk, number, now)
    }

    /// Who places this call's Dial branches.
    fn dialer(&self) -> Dialer {
        Dialer {
            shared: self.shared.clone(),
            call: self.id,
            from: Party {
                number: self.caller.clone(),
                name: self.caller_name.clone(),
            },
            caller: Some(self.channel.id().clone()),
            context: self.interpreter.location().0.to_string(),
            preferred: Some(self.media.negotiated().codec),
        }
    }

    /// Runs `Dial(targets, timeout)` up to the answer: returns the answered leg to bridge, or
    /// the dialplan event (`DialResult` with the outcome, or `Hangup` when the caller went
    /// away). The bridge runs after this future is gone, so a bridged call does not keep the
    /// ringing phase's state.
    pub(super) async fn dial(
        &mut self,
        targets: Vec<DialTarget>,
        timeout: Duration,
    ) -> Result<Box<Bridged>, Event> {
        if self.hung_up {
            return Err(Event::Hangup);
        }
        let dialer = self.dialer();
        let now = Instant::now();
        let mut legs = Vec::new();
        let mut refusal = None;
        for target in targets {
            match target {
                DialTarget::Endpoint(user) => {
                    for target in dialer.endpoint_targets(&user, now) {
                        legs.extend(Box::pin(dialer.start(target)).await);
                    }
                }
                DialTarget::Trunk { trunk, number } => {
                    let admitted = match self.admit_trunk(&trunk, &number, now) {
                        Some(Err(reason)) => {
                            self.refused(&trunk, &number, &reason);
                            refusal = Some(reason);
                            continue;
                        }
                        Some(Ok(admitted)) => Some(admitted),
                        None => None,
                    };
                    match dialer.trunk_target(&trunk, &number) {
                        Some(mut target) => {
                            target.trunk_call = admitted;
                            legs.extend(Box::pin(dialer.start(target)).await);
                        }
                        None => {
                            tracing::info!(call = self.id, %trunk, %number, "trunk unavailable (disabled, unknown or unresolved): CHANUNAVAIL");
                        }
                    }
                }
            }
        }
        if let (true, Some(reason)) = (legs.is_empty(), refusal) {
            Box::pin(self.refuse(&reason.to_string())).await;
            return Err(Event::Hangup);
        }
        if legs.is_empty() {
            tracing::info!(
                call = self.id,
                "Dial: nobody to call (not registered): CHANUNAVAIL"
            );
            return Err(Event::DialResult(DialStatus::ChanUnavail));
        }
        let ring_timeout = tokio::time::sleep_until((now + timeout).into());
        tokio::pin!(ring_timeout);
        let winner = loop {
            if self.interrupted() {
                Box::pin(dialer.abandon(&mut legs, DialStatus::Cancel)).await;
                return Err(Event::Hangup);
            }
            if Dialer::all_over(&legs) {
                let status = Dialer::dial_status(&legs);
                tracing::info!(call = self.id, ?status, "Dial failed");
                return Err(Event::DialResult(status));
            }
            let early = legs.iter().position(|l| l.early.is_some());
            tokio::select! {
                event = self.events.recv() => match event {
                    None => self.hung_up = true,
                    Some(CallEvent::Response(response)) => {
                        match Box::pin(dialer.on_response(&mut legs, &response)).await {
                            Some(LegProgress::Answered(index, ok)) => break (index, ok),
                            Some(LegProgress::Ringing { first, early_media }) => {
                                Box::pin(self.relay_ringing(first, early_media)).await;
                            }
                            None => {}
                        }
                    }
                    Some(CallEvent::RequestTimeout(key)) => {
                        if let Some(leg) = legs.iter_mut().find(|l| l.key == *key) {
                            dialer.fail(leg, 408);
                        }
                    }
                    Some(CallEvent::Hangup { channel: Some(channel), cause })
                        if legs.iter().any(|l| *l.channel.id() == *channel) =>
                    {
                        if let Some(index) = legs.iter().position(|l| *l.channel.id() == *channel) {
                            legs[index].channel.publish(|channel| PbxEvent::ChannelHangupRequest {
                                channel,
                                cause,
                                source: "operator".into(),
                            });
                            Box::pin(dialer.abandon(&mut legs[index..=index], DialStatus::Cancel)).await;
                        }
                    }
                    Some(event) => {
                        Box::pin(self.on_sip_event(event)).await;
                    }
                },
                Ok(()) = self.media.readable() => {
                    match early.and_then(|i| legs[i].early.as_mut()) {
                        Some(early) => self.media.relay(Instant::now(), early),
                        None => {
                            self.media.receive(Instant::now());
                        }
                    }
                }
                Ok(()) = early_readable(&legs, early) => {
                    if let Some(media) = early.and_then(|i| legs[i].early.as_mut()) {
                        media.relay(Instant::now(), &mut self.media);
                    }
                }
                _ = &mut ring_timeout => {
                    tracing::info!(call = self.id, "Dial timed out: cancelling");
                    Box::pin(dialer.abandon(&mut legs, DialStatus::NoAnswer)).await;
                    return Err(Event::DialResult(DialStatus::NoAnswer));
                }
            }
        };
        let (winner, response) = winner;
        let answer = legs.remove(winner);
        Box::pin(dialer.abandon(&mut legs, DialStatus::Cancel)).await;
        let Some(bridged) = Box::pin(dialer.connect(answer, response)).await else {
            return Err(Event::DialResult(DialStatus::Congestion));
        };
        self.answer().await;
        let connected = bridged.channel_number();
        self.channel.update(|c| c.connected.number = connected);
        self.channel
            .publish(|channel| PbxEvent::ChannelConnectedLine { channel });
        tracing::info!(
            call = self.id,
            codec_in = self.media.negotiated().codec.encoding_name(),
            codec_out = bridged.media.negotiated().codec.encoding_name(),
            "Dial answered: bridging"
        );
        Ok(Box::new(bridged))
    }

    /// A branch rings: the caller hears ringing (180) on the first one, or the branch's
    /// early media behind our own 183 with SDP (the PBX anchors media on both legs).
    async fn relay_ringing(&mut self, first: bool, early_media: bool) {
        if self.final_sent || self.answered {
            return;
        }
        if early_media {
            self.provisional(183, true).await;
            self.early_media = true;
            tracing::info!(call = self.id, "early media from the callee");
        } else if first && !self.early_media {
            self.provisional(180, false).await;
        }
    }

    pub(super) async fn bye(&mut self, dialog: &mut Dialog, to: std::net::SocketAddr) {
        send_bye(&self.shared, self.id, dialog, to).await;
    }
}

impl Bridged {
    /// The number of the party on this leg (the channel's connected number).
    fn channel_number(&self) -> String {
        self.channel
            .snapshot()
            .map(|c| c.connected.number)
            .unwrap_or_default()
    }
}

/// Waits for RTP on the early-media leg `index`, or forever when there is none.
async fn early_readable(legs: &[OutLeg], index: Option<usize>) -> std::io::Result<()> {
    match index
        .and_then(|i| legs.get(i))
        .and_then(|l| l.early.as_ref())
    {
        Some(media) => media.readable().await,
        None => std::future::pending().await,
    }
}
