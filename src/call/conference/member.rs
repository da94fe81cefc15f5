//! A channel in a room (the call task's side of `ConfBridge` and of an application's bridge):
//! hand the media leg to the room, keep handling the dialog (BYE, re-INVITE answered locally,
//! OPTIONS, INFO, 2xx retransmissions, operator commands) while the room mixes, then take the
//! leg back. In `ConfBridge`, a mute command (AMI's ConfbridgeMute) goes to the room.
//!
//! `Call::media` is not optional, so while the room owns the real leg the call holds a spare
//! leg with the same negotiated media on a port of its own, which nothing reads; a
//! re-INVITE renegotiates the spare, and the change is passed on to the room.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::{MemberEnd, RoomCommand, MEMBER_DIGIT_CAPACITY};
use crate::call::command::ChannelCommand;
use crate::call::media_io::{open_socket, MediaLeg, MuteDirection};
use crate::call::task::{rearm, Call};
use crate::call::CallEvent;
use crate::channel::MediaStats;
use crate::dialplan::Event;
use crate::media::dtmf::KeyPress;
use crate::media::mixer::MemberId;
use crate::sdp::negotiate::Negotiated;

/// A channel's place in a room, held by its call task while the room owns its media leg.
#[derive(Debug)]
pub(in crate::call) struct Membership {
    /// The room's bridge id.
    pub(in crate::call) bridge: String,
    commands: mpsc::Sender<RoomCommand>,
    member: MemberId,
    /// `None` once the room has said why it let the member go.
    ended: Option<oneshot::Receiver<MemberEnd>>,
    digits: mpsc::Receiver<KeyPress>,
    /// The media the room was last told about.
    negotiated: Negotiated,
}

/// What a room tells one of its members.
#[derive(Debug)]
pub(in crate::call) enum RoomSignal {
    /// A key press the member sent (RFC 4733), read by the room.
    Digit(KeyPress),
    /// The room let the member go: refused it (full), or the bridge was destroyed. The
    /// member's leg is back in `Call::media`; the membership is over.
    Released,
    /// No RTP from the member for the inactivity timeout (or the room is gone).
    Inactive,
}

impl Membership {
    /// Waits for the next thing the room tells the member. Pending forever once the room
    /// has let the member go.
    async fn signal(&mut self) -> Result<KeyPress, MemberEnd> {
        let Some(ended) = self.ended.as_mut() else {
            return std::future::pending().await;
        };
        tokio::select! {
            Some(digit) = self.digits.recv() => Ok(digit),
            end = ended => {
                self.ended = None;
                Err(end.unwrap_or(MemberEnd::Inactive))
            }
        }
    }

    /// Whether the room has let the member go already.
    pub(in crate::call) fn released(&self) -> bool {
        self.ended.is_none()
    }
}

impl Call {
    /// Runs `ConfBridge(room)`: `Hangup` once the call has ended, `Done` (next step) when the
    /// room could not be joined (no spare port, room full) or let the call go.
    pub(in crate::call) async fn conference(&mut self, room: &str) -> Event {
        self.answer().await;
        if self.hung_up {
            return Event::Hangup;
        }
        let rooms = self.shared.conferences.clone();
        let (bridge, commands) = rooms.enter(room, &self.channel);
        let Some(mut membership) = self.join_room(bridge, commands).await else {
            return Event::Done;
        };
        let event = self.in_conference(&mut membership).await;
        self.leave_room(membership).await;
        event
    }

    /// Enters this channel in bridge `bridge` (one of the rooms): the room takes the media
    /// leg. `None` (logged, the channel listed out of the bridge again) when that fails.
    pub(in crate::call) async fn enter_room(&mut self, bridge: &str) -> Option<Membership> {
        let commands = self
            .shared
            .conferences
            .enter_bridge(bridge, &self.channel)?;
        self.join_room(bridge.to_owned(), commands).await
    }

    /// Hands the media leg to the room whose `commands` these are (the channel is already
    /// listed in its bridge), swapping in a spare leg.
    async fn join_room(
        &mut self,
        bridge: String,
        commands: mpsc::Sender<RoomCommand>,
    ) -> Option<Membership> {
        let spare = match open_socket(&self.shared.ports, self.shared.rtp_bind).await {
            Ok((socket, lease)) => MediaLeg::new(
                socket,
                lease,
                *self.media.negotiated(),
                Duration::ZERO,
                Instant::now(),
            ),
            Err(error) => Err(error),
        };
        let spare = match spare {
            Ok(spare) => spare,
            Err(error) => {
                tracing::warn!(call = self.id, %error, %bridge, "cannot join the bridge");
                self.shared.conferences.forget(&bridge, &self.channel);
                return None;
            }
        };
        let negotiated = *self.media.negotiated();
        let leg = Box::new(std::mem::replace(&mut self.media, spare));
        let member = MemberId(self.id);
        let (ended, room_ended) = oneshot::channel();
        let (digits, digits_in) = mpsc::channel(MEMBER_DIGIT_CAPACITY);
        let join = RoomCommand::Join {
            member,
            leg,
            digits,
            ended,
        };
        if let Err(mpsc::error::SendError(command)) = commands.send(join).await {
            tracing::error!(call = self.id, %bridge, "room gone");
            if let RoomCommand::Join { leg, .. } = command {
                self.media = *leg;
            }
            self.shared.conferences.forget(&bridge, &self.channel);
            return None;
        }
        Some(Membership {
            bridge,
            commands,
            member,
            ended: Some(room_ended),
            digits: digits_in,
            negotiated,
        })
    }

    /// Takes the media leg back from the room (unless it let the channel go already) and
    /// lists the channel out of the bridge.
    pub(in crate::call) async fn leave_room(&mut self, membership: Membership) {
        if !membership.released() {
            let (reply, back) = oneshot::channel();
            let leave = RoomCommand::Leave {
                member: membership.member,
                reply,
            };
            if membership.commands.send(leave).await.is_ok() {
                if let Ok(leg) = back.await {
                    self.media = *leg;
                }
            }
        }
        let Membership { bridge, .. } = membership;
        self.shared.conferences.forget(&bridge, &self.channel);
    }

    /// Waits for what the room tells this member; a released leg is put back in
    /// `self.media`.
    pub(in crate::call) async fn room_signal(membership: &mut Membership) -> RoomEnd {
        match membership.signal().await {
            Ok(digit) => RoomEnd::Signal(RoomSignal::Digit(digit)),
            Err(MemberEnd::Refused(leg) | MemberEnd::Removed(leg)) => RoomEnd::Leg(leg),
            Err(MemberEnd::Inactive) => RoomEnd::Signal(RoomSignal::Inactive),
        }
    }

    /// Applies what [`Call::room_signal`] returned.
    pub(in crate::call) fn on_room_end(&mut self, end: RoomEnd) -> RoomSignal {
        match end {
            RoomEnd::Signal(signal) => signal,
            RoomEnd::Leg(leg) => {
                self.media = *leg;
                RoomSignal::Released
            }
        }
    }

    /// Tells the room about a renegotiation of this channel's media (re-INVITE), if any.
    pub(in crate::call) async fn renegotiate_room(&self, membership: &mut Membership) {
        if *self.media.negotiated() != membership.negotiated {
            membership.negotiated = *self.media.negotiated();
            let renegotiate = RoomCommand::Renegotiate {
                member: membership.member,
                negotiated: membership.negotiated,
            };
            let _ = membership.commands.send(renegotiate).await;
        }
    }

    /// Mutes or unmutes `direction` of this channel's audio on the leg the room owns.
    pub(in crate::call) async fn mute_in_room(
        &self,
        membership: &Membership,
        direction: MuteDirection,
        muted: bool,
    ) {
        let mute = RoomCommand::Mute {
            member: membership.member,
            direction,
            muted,
        };
        if membership.commands.send(mute).await.is_ok() && direction != MuteDirection::Out {
            self.shared
                .conferences
                .note_muted(&membership.bridge, self.channel.id(), muted);
        }
    }

    /// Publishes the statistics of the leg the room owns (the call's own leg is a spare now).
    pub(in crate::call) async fn publish_room_stats(&self, membership: &Membership) {
        let (reply, stats) = oneshot::channel();
        let ask = RoomCommand::Stats {
            member: membership.member,
            reply,
        };
        if membership.commands.send(ask).await.is_err() {
            return;
        }
        if let Ok(stats) = stats.await {
            self.channel.update(|v| v.media = MediaStats::from(&stats));
        }
    }

    /// Handles the dialog while the room mixes this channel, until the call ends or the
    /// room lets it go.
    async fn in_conference(&mut self, membership: &mut Membership) -> Event {
        let timer = tokio::time::sleep(Duration::from_secs(86_400));
        tokio::pin!(timer);
        loop {
            if self.interrupted() {
                return Event::Hangup;
            }
            rearm(timer.as_mut(), self.next_deadline([]));
            tokio::select! {
                event = self.events.recv() => match event {
                    None => self.hung_up = true,
                    Some(CallEvent::Command(command))
                        if command.0 == *self.channel.id()
                            && matches!(command.1, ChannelCommand::Mute { .. }) =>
                    {
                        if let (_, ChannelCommand::Mute { direction, muted, reply }) = *command {
                            self.mute_in_room(membership, direction, muted).await;
                            let _ = reply.send(Ok(()));
                        }
                    }
                    Some(event) => {
                        if let Some(digit) = Box::pin(self.on_sip_event(event)).await {
                            self.publish_digit(digit);
                        }
                        self.renegotiate_room(membership).await;
                    }
                },
                end = Call::room_signal(membership) => match self.on_room_end(end) {
                    RoomSignal::Digit(digit) => self.publish_digit(digit),
                    RoomSignal::Released => {
                        tracing::warn!(call = self.id, "the conference let the call go (full, or destroyed)");
                        return Event::Done;
                    }
                    RoomSignal::Inactive => {
                        tracing::warn!(call = self.id, "no RTP in the conference (or the room is gone): hanging up");
                        self.hangup(None).await;
                        return Event::Hangup;
                    }
                },
                _ = &mut timer => {
                    let now = Instant::now();
                    if self.pending_ack.is_some() {
                        self.retransmit_2xx(now).await;
                    }
                    if now >= self.last_stats + Duration::from_secs(1) {
                        self.last_stats = now;
                        self.publish_room_stats(membership).await;
                    }
                }
            }
        }
    }
}

/// What [`Call::room_signal`] got: a signal, or the member's leg handed back.
#[derive(Debug)]
pub(in crate::call) enum RoomEnd {
    /// A signal with nothing to hand over.
    Signal(RoomSignal),
    /// The room let the member go and handed its leg back.
    Leg(Box<MediaLeg>),
}
