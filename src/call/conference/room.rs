//! The room task: owns the mixer and, while they are members, the channels' media legs. Every
//! frame period it reads every member's socket into that member's jitter buffer, plays one
//! frame out of each buffer into the mixer, mixes, and sends each member its mix encoded in
//! the member's codec (mu-law and A-law members mix together). Between periods it takes
//! joins, leaves and renegotiations from the members' call tasks.
//!
//! Sockets are read once per period rather than on each packet's arrival: one wake-up per
//! room per 20 ms whatever the number of members, and the jitter buffer absorbs the
//! quantisation of arrival times.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;

use super::RoomCommand;
use crate::call::media_io::{MediaEvent, MediaLeg};
use crate::media::jitter::{Frame, JitterBuffer, JitterConfig};
use crate::media::mixer::{beeps, MemberId, Mixer};
use crate::media::player::{FRAME_DURATION, FRAME_SAMPLES};

/// Pitch of the join tone's beeps.
const JOIN_TONE_HZ: f64 = 620.0;
/// Pitch of the leave tone's beeps, lower than the join tone's.
const LEAVE_TONE_HZ: f64 = 520.0;
/// Beeps per tone, their length and the gap after each, in milliseconds.
const BEEPS: (usize, usize, usize) = (2, 120, 80);
/// Peak amplitude of the tones (about -12 dBFS).
const TONE_AMPLITUDE: i16 = 8000;

/// One member: its leg and the buffer its decoded audio waits in for the mixer.
struct Member {
    id: MemberId,
    leg: Box<MediaLeg>,
    jitter: JitterBuffer,
    ended: Option<oneshot::Sender<()>>,
}

/// The room's state, owned by its task.
struct Room {
    /// The bridge's id, for logs.
    id: String,
    name: String,
    mixer: Mixer,
    members: Vec<Member>,
    join_tone: Arc<[i16]>,
    leave_tone: Arc<[i16]>,
    pcm: [i16; FRAME_SAMPLES],
}

/// Runs room `name` until every sender of `commands` is gone.
pub(super) async fn run(id: String, name: String, mut commands: mpsc::Receiver<RoomCommand>) {
    let (count, on, off) = BEEPS;
    let mut room = Room {
        id,
        name,
        mixer: Mixer::new(),
        members: Vec::new(),
        join_tone: beeps(JOIN_TONE_HZ, count, on, off, TONE_AMPLITUDE).into(),
        leave_tone: beeps(LEAVE_TONE_HZ, count, on, off, TONE_AMPLITUDE).into(),
        pcm: [0; FRAME_SAMPLES],
    };
    tracing::info!(bridge = %room.id, room = %room.name, "conference room created");
    let mut ticker = tokio::time::interval(FRAME_DURATION);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            biased;
            command = commands.recv() => match command {
                Some(command) => room.on_command(command),
                None => break,
            },
            _ = ticker.tick() => room.mix_period(Instant::now()),
        }
    }
    tracing::info!(bridge = %room.id, room = %room.name, "conference room closed");
}

impl Room {
    fn on_command(&mut self, command: RoomCommand) {
        match command {
            RoomCommand::Join { member, leg, ended } => {
                let jitter = match JitterBuffer::new(JitterConfig::default()) {
                    Ok(jitter) => jitter,
                    Err(error) => {
                        tracing::error!(bridge = %self.id, %error, "jitter buffer refused");
                        return;
                    }
                };
                if let Err(error) = self.mixer.add(member) {
                    tracing::warn!(bridge = %self.id, call = member.0, %error, "join refused");
                    return;
                }
                tracing::info!(bridge = %self.id, room = %self.name, call = member.0, codec = leg.negotiated().codec.encoding_name(), "joined the conference");
                self.members.push(Member {
                    id: member,
                    leg,
                    jitter,
                    ended: Some(ended),
                });
                self.mixer.announce(self.join_tone.clone());
            }
            RoomCommand::Leave { member, reply } => {
                let Some(index) = self.members.iter().position(|m| m.id == member) else {
                    return;
                };
                let gone = self.members.swap_remove(index);
                self.mixer.remove(member);
                tracing::info!(bridge = %self.id, room = %self.name, call = member.0, "left the conference");
                if !self.members.is_empty() {
                    self.mixer.announce(self.leave_tone.clone());
                }
                let _ = reply.send(gone.leg);
            }
            RoomCommand::Renegotiate { member, negotiated } => {
                if let Some(m) = self.members.iter_mut().find(|m| m.id == member) {
                    m.leg.renegotiate(negotiated);
                }
            }
        }
    }

    /// One frame period: read, play out, mix, send.
    fn mix_period(&mut self, now: Instant) {
        for m in &mut self.members {
            // Key presses are consumed here: a conference has no use for them yet.
            let _ = m.leg.receive_audio(&mut m.jitter, now);
            match m.jitter.pop(now, &mut self.pcm) {
                Ok(Frame::Silence) | Err(_) => {}
                Ok(_) => {
                    self.mixer.set_input(m.id, &self.pcm);
                }
            }
            if m.leg.poll_timeout().is_some_and(|due| due <= now)
                && m.leg.handle_timeout(now) == Some(MediaEvent::Inactive)
            {
                if let Some(ended) = m.ended.take() {
                    tracing::warn!(bridge = %self.id, call = m.id.0, "no RTP from a member");
                    let _ = ended.send(());
                }
            }
        }
        if self.members.is_empty() {
            return;
        }
        self.mixer.mix();
        for m in &mut self.members {
            if let Some(mix) = self.mixer.output(m.id) {
                m.leg.send_audio(mix, now);
            }
        }
    }
}
