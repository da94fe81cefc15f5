//! Playout of transcoded audio: the other leg's packets, decoded, go through a
//! [`JitterBuffer`] and come out re-framed to this leg's packetization ([`Ptime`]), so a 30 ms
//! sender bridged to a 20 ms receiver (or the reverse) is heard in full.
//!
//! The jitter buffer works in the sender's frames: RFC 3550 §5.1 timestamps place each packet,
//! and its slots are as long as the packets that arrive (the first packet sets the size; a
//! sender that changes its packet size starts a new buffer, dropping what was buffered: G.711
//! senders keep one size). Two schedules run on the caller's clock: a pop every sender frame
//! duration (the buffer's contract, so its delay estimates hold) into a small FIFO, and a
//! frame of the receiver's ptime out of that FIFO every receiver frame duration. Events are
//! taken in time order, a pop before a send at the same instant, so the FIFO never holds
//! more than one frame of each size, and the re-framing adds less than one receiver frame of
//! delay. When the buffer runs dry for good (the sender paused), both schedules stop and the
//! next packet starts them again; the FIFO's last partial frame is dropped then.
//!
//! Sans-IO: [`Playout::push`] each decoded packet, wait until [`Playout::poll_timeout`], call
//! [`Playout::next_frame`] until it returns `None`. Memory is allocated when the playout is
//! created and when the sender's packet size changes, never per packet.

use std::time::{Duration, Instant};

use super::jitter::{Frame, JitterBuffer, JitterConfig, JitterError, PushOutcome};
use super::ptime::{Ptime, MAX_FRAME_SAMPLES};
use super::wav::SAMPLE_RATE;

/// The FIFO between the two schedules: a sender frame plus a receiver frame at most.
const FIFO_SAMPLES: usize = 2 * MAX_FRAME_SAMPLES;

/// Decoded audio from another leg, played out in this leg's ptime.
#[derive(Debug)]
pub struct Playout {
    /// The receiving leg's packetization.
    ptime: Ptime,
    /// The jitter buffer, in frames of the sender's packet size (none before the first packet).
    buffer: Option<JitterBuffer>,
    /// When the next sender frame leaves the jitter buffer.
    next_pop: Option<Instant>,
    /// When the next receiver frame is sent.
    next_send: Option<Instant>,
    /// Popped audio waiting to be sent; `fifo[..queued]` holds it, oldest first.
    fifo: Box<[i16; FIFO_SAMPLES]>,
    queued: usize,
}

impl Playout {
    /// A playout sending frames of `ptime`.
    pub fn new(ptime: Ptime) -> Playout {
        Playout {
            ptime,
            buffer: None,
            next_pop: None,
            next_send: None,
            fifo: Box::new([0; FIFO_SAMPLES]),
            queued: 0,
        }
    }

    /// The receiving leg's packetization changed (re-INVITE): later frames have the new size.
    pub fn set_ptime(&mut self, ptime: Ptime) {
        self.ptime = ptime;
    }

    /// Offers a decoded packet (RTP sequence number and timestamp) that arrived at `now`.
    /// A packet longer than [`MAX_FRAME_SAMPLES`] or empty is refused.
    pub fn push(
        &mut self,
        seq: u16,
        timestamp: u32,
        pcm: &[i16],
        now: Instant,
    ) -> Result<PushOutcome, JitterError> {
        let samples = pcm.len();
        let buffer = match self.buffer.as_mut() {
            Some(buffer) if buffer.frame_samples() == samples => buffer,
            _ => {
                let config = JitterConfig {
                    frame_samples: samples,
                    ..JitterConfig::default()
                };
                self.next_pop = None;
                self.buffer.insert(JitterBuffer::new(config)?)
            }
        };
        let outcome = buffer.push(seq, timestamp, pcm, now);
        if self.next_pop.is_none() {
            self.next_pop = Some(now + frame_duration(samples));
            self.next_send = None;
            self.queued = 0;
        }
        Ok(outcome)
    }

    /// When [`Playout::next_frame`] must next be called; `None` while idle.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.next_pop, self.next_send].into_iter().flatten().min()
    }

    /// Writes the next receiver frame due at `now` into `out` and returns its length (the
    /// ptime's samples); `None` when none is due yet or `out` is too short.
    pub fn next_frame(&mut self, now: Instant, out: &mut [i16]) -> Option<usize> {
        let samples = self.ptime.samples();
        let out = out.get_mut(..samples)?;
        loop {
            let pop = self.next_pop.filter(|due| *due <= now);
            let send = self.next_send.filter(|due| *due <= now);
            match (pop, send) {
                (Some(pop), send) if send.is_none_or(|send| pop <= send) => self.pop(pop),
                (_, Some(send)) => {
                    if self.queued < samples {
                        // The FIFO ran short (the sender's frames are longer): wait for a pop.
                        self.next_send = self.next_pop;
                        continue;
                    }
                    out.copy_from_slice(&self.fifo[..samples]);
                    self.fifo.copy_within(samples..self.queued, 0);
                    self.queued -= samples;
                    self.next_send = Some(send + self.ptime.duration());
                    return Some(samples);
                }
                _ => return None,
            }
        }
    }

    /// Takes the sender frame due at `due` out of the jitter buffer into the FIFO.
    fn pop(&mut self, due: Instant) {
        let Some(buffer) = self.buffer.as_mut() else {
            self.next_pop = None;
            return;
        };
        let frame = buffer.frame_samples();
        if self.queued + frame > FIFO_SAMPLES {
            // Cannot happen with events in time order; drop the oldest audio rather than panic.
            self.fifo.copy_within(frame..self.queued, 0);
            self.queued -= frame;
        }
        let slot = &mut self.fifo[self.queued..self.queued + frame];
        match buffer.pop(due, slot) {
            Ok(Frame::Silence) if buffer.buffered().is_zero() => {
                self.next_pop = None;
                self.next_send = None;
                self.queued = 0;
            }
            Ok(Frame::Silence) => self.next_pop = Some(due + frame_duration(frame)),
            Ok(_) => {
                self.queued += frame;
                self.next_pop = Some(due + frame_duration(frame));
                self.next_send.get_or_insert(due);
            }
            Err(_) => self.next_pop = None,
        }
    }
}

/// The time `samples` samples cover at [`SAMPLE_RATE`].
fn frame_duration(samples: usize) -> Duration {
    Duration::from_micros(samples as u64 * 1_000_000 / u64::from(SAMPLE_RATE))
}

#[cfg(test)]
mod tests;
