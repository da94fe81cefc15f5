//! A channel in a conference (the call task's side of `ConfBridge`): answer, hand the media
//! leg to the room, then keep handling the dialog (BYE, re-INVITE answered locally, OPTIONS,
//! INFO, 2xx retransmissions, operator hangup) until the call ends; then take the leg back.
//!
//! `Call::media` is not optional, so while the room owns the real leg the call holds a spare
//! leg with the same negotiated media on a port of its own, which nothing reads; a
//! re-INVITE renegotiates the spare, and the change is passed on to the room.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::{MemberEnd, RoomCommand, MEMBER_DIGIT_CAPACITY};
use crate::call::media_io::{open_socket, MediaLeg};
use crate::call::task::{rearm, Call, PendingAck};
use crate::channel::MediaStats;
use crate::dialplan::Event;
use crate::media::mixer::MemberId;

impl Call {
    /// Runs `ConfBridge(room)`: `Hangup` once the call has ended, `Done` (next step) when the
    /// room could not be joined (no spare port, room full).
    pub(in crate::call) async fn conference(&mut self, room: &str) -> Event {
        self.answer().await;
        if self.hung_up {
            return Event::Hangup;
        }
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
                tracing::warn!(call = self.id, %error, room, "cannot join the conference");
                return Event::Done;
            }
        };
        let leg = Box::new(std::mem::replace(&mut self.media, spare));
        let rooms = self.shared.conferences.clone();
        let commands = rooms.enter(room, &self.channel);
        let member = MemberId(self.id);
        let (ended, room_ended) = oneshot::channel();
        let (digits, digits_in) = mpsc::channel(MEMBER_DIGIT_CAPACITY);
        let join = RoomCommand::Join {
            member,
            leg,
            digits,
            ended,
        };
        let event = match commands.send(join).await {
            Ok(()) => {
                let ends = (room_ended, digits_in);
                let event = self.in_conference(member, &commands, ends).await;
                let (reply, back) = oneshot::channel();
                if commands
                    .send(RoomCommand::Leave { member, reply })
                    .await
                    .is_ok()
                {
                    if let Ok(leg) = back.await {
                        self.media = *leg;
                    }
                }
                event
            }
            Err(mpsc::error::SendError(command)) => {
                tracing::error!(call = self.id, room, "conference room gone");
                if let RoomCommand::Join { leg, .. } = command {
                    self.media = *leg;
                }
                Event::Done
            }
        };
        rooms.forget(room, &self.channel);
        event
    }

    /// Publishes the statistics of the leg the room owns (the call's own leg is a spare now).
    async fn publish_room_stats(&self, member: MemberId, commands: &mpsc::Sender<RoomCommand>) {
        let (reply, stats) = oneshot::channel();
        if commands
            .send(RoomCommand::Stats { member, reply })
            .await
            .is_err()
        {
            return;
        }
        if let Ok(stats) = stats.await {
            self.channel.update(|v| {
                v.media = MediaStats {
                    packets_in: stats.packets_received,
                    packets_out: stats.packets_sent,
                    lost: stats.lost,
                    jitter_ms: stats.jitter_ms,
                }
            });
        }
    }

    /// Handles the dialog while the room mixes this channel, until the call ends.
    async fn in_conference(
        &mut self,
        member: MemberId,
        commands: &mpsc::Sender<RoomCommand>,
        (mut room_ended, mut digits): (oneshot::Receiver<MemberEnd>, mpsc::Receiver<char>),
    ) -> Event {
        let mut negotiated = *self.media.negotiated();
        let timer = tokio::time::sleep(Duration::from_secs(86_400));
        tokio::pin!(timer);
        loop {
            if self.hung_up {
                return Event::Hangup;
            }
            let deadline = [
                self.pending_ack.as_ref().map(PendingAck::deadline),
                Some(self.last_stats + Duration::from_secs(1)),
            ]
            .into_iter()
            .flatten()
            .min();
            rearm(timer.as_mut(), deadline);
            tokio::select! {
                event = self.events.recv() => match event {
                    None => self.hung_up = true,
                    Some(event) => {
                        if let Some(digit) = Box::pin(self.on_sip_event(event)).await {
                            self.publish_digit(digit);
                        }
                        if *self.media.negotiated() != negotiated {
                            negotiated = *self.media.negotiated();
                            let renegotiate = RoomCommand::Renegotiate { member, negotiated };
                            let _ = commands.send(renegotiate).await;
                        }
                    }
                },
                Some(digit) = digits.recv() => self.publish_digit(digit),
                end = &mut room_ended => {
                    if let Ok(MemberEnd::Refused(leg)) = end {
                        tracing::warn!(call = self.id, "the conference refused the call (full)");
                        self.media = *leg;
                        return Event::Done;
                    }
                    tracing::warn!(call = self.id, "no RTP in the conference (or the room is gone): hanging up");
                    self.hangup(None).await;
                    return Event::Hangup;
                }
                _ = &mut timer => {
                    let now = Instant::now();
                    if self.pending_ack.is_some() {
                        self.retransmit_2xx(now).await;
                    }
                    if now >= self.last_stats + Duration::from_secs(1) {
                        self.last_stats = now;
                        self.publish_room_stats(member, commands).await;
                    }
                }
            }
        }
    }
}
