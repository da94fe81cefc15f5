//! Adaptive jitter buffer for received audio (transcoding bridge, inband DTMF, recording). The
//! media task [`JitterBuffer::push`]es each decoded PCM16 frame with its RTP sequence number and
//! timestamp; a playout clock calls [`JitterBuffer::pop`] every frame interval and always gets a
//! full frame. Sans-IO (`now` is passed in); frames live in a ring allocated once.
//!
//! PCM16 rather than payload bytes: concealment (the last frame repeated, fading, then silence)
//! and choosing where to drop or insert a frame (preferably a silence-like one) need samples, and
//! decoding G.711 on arrival costs what decoding at playout costs.
//!
//! RFC 3550, quoted. §5.1: "The timestamp reflects the sampling instant of the first octet in
//! the RTP data packet": frames are placed by timestamp (32-bit wrap included), so a sender pause
//! plays as a gap, and a timestamp beyond the ring (long pause, new stream) resyncs at once.
//! §6.4.1 and A.8: "J(i) = J(i-1) + (|D(i-1,i)| - J(i-1))/16"; the target delay is
//! `clamp(3 * J + frame, min_delay, max_delay)`, raised at once (also to cover a late packet),
//! lowered slowly. A.1: "Two sequential packets -- assume that the other side restarted without
//! telling us so just re-sync": a timestamp far behind the playout point starts a new timeline
//! once two such packets arrive in sequence, or at once if its sequence number is newer than any
//! seen (16-bit wrap included).
//!
//! Adaptation: each packet's slack (time until the pop that plays it) feeds a smoothed current
//! delay. Below `target - frame/2` a frame is inserted (the last one again), above
//! `target + frame` one is dropped, each at a silence-like frame unless the pressure lasts
//! [`GROW_PATIENCE`] or [`SHRINK_PATIENCE`] pops; this also absorbs a sender clock running fast
//! or slow. At most `max_delay` plus a frame is ever buffered: beyond, the oldest frames drop.
//!
//! Parts: `ring` holds the preallocated frame slots, `conceal` fills lost frames and tells
//! silence-like frames apart, `delay` keeps the RFC 3550 A.8 estimates and decides at each pop
//! whether to insert or drop a frame.

mod conceal;
mod delay;
mod ring;

use std::time::{Duration, Instant};
use thiserror::Error;

use conceal::{conceal, quiet, silence};
use delay::Estimator;
use ring::Ring;

/// Largest frame stored, in samples: 20 ms at 48 kHz (1920 bytes of PCM16 per slot).
pub const MAX_FRAME_SAMPLES: usize = 960;
/// Largest ring accepted, in frames; bounds a buffer's memory to about 2 MB.
pub const MAX_CAPACITY_FRAMES: usize = 1024;
/// Highest RTP clock rate accepted, in Hz.
pub const MAX_CLOCK_RATE: u32 = 384_000;
/// Consecutive lost frames filled by the last frame fading out; later ones are silence.
pub const CONCEAL_FRAMES: u32 = 3;
/// Pops the delay may stay too low before a frame is inserted into loud audio (grow quickly).
pub const GROW_PATIENCE: u32 = 25;
/// Pops the delay may stay too high before a loud frame is dropped (shrink slowly).
pub const SHRINK_PATIENCE: u32 = 100;

/// Invalid settings, or a too-short output slice.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum JitterError {
    /// `clock_rate` is zero or above [`MAX_CLOCK_RATE`].
    #[error("clock rate {0} Hz is outside 1..={MAX_CLOCK_RATE}")]
    ClockRate(u32),
    /// `frame_samples` is zero or above [`MAX_FRAME_SAMPLES`].
    #[error("frame of {0} samples is outside 1..={MAX_FRAME_SAMPLES}")]
    FrameSamples(usize),
    /// `min_delay` is above `max_delay`.
    #[error("min delay is above max delay")]
    DelayRange,
    /// `capacity_frames` (first) cannot hold `max_delay` plus a frame (second), or is too large.
    #[error("capacity of {0} frames is outside {1}..={MAX_CAPACITY_FRAMES}")]
    Capacity(usize, usize),
    /// The slice given to `pop` (length first) is shorter than a frame (second).
    #[error("output of {0} samples is shorter than a frame of {1}")]
    OutputTooShort(usize, usize),
}

/// Buffer settings. Defaults: G.711 (8 kHz, 20 ms frames), 20..200 ms delay, 32 frame slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// RTP clock rate in Hz: converts timestamps to time.
    pub clock_rate: u32,
    /// Samples per frame: per packet and per `pop` (160 is 20 ms at 8 kHz).
    pub frame_samples: usize,
    /// Lowest target delay: what a jitter-free network gets.
    pub min_delay: Duration,
    /// Highest target delay; the buffered audio never exceeds it by more than a frame.
    pub max_delay: Duration,
    /// Ring slots; a timestamp this many frames away from the playout point resyncs.
    pub capacity_frames: usize,
}

impl Default for JitterConfig {
    fn default() -> Self {
        JitterConfig {
            clock_rate: 8000,
            frame_samples: 160,
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            capacity_frames: 32,
        }
    }
}

/// What `push` did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Stored for playout.
    Accepted,
    /// Stored as the first frame of a new timeline (timestamp jump or new stream).
    Resynced,
    /// Dropped: its slot already holds a frame.
    Duplicate,
    /// Dropped: its playout time has passed (a copy of a played frame lands here too), or it is
    /// an unconfirmed far-behind timestamp.
    TooLate,
    /// Dropped: longer than a frame.
    TooLarge,
}

/// What `pop` wrote into the output (always a full frame of samples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A received frame, zero-padded if its packet was shorter than a frame.
    Audio,
    /// A lost frame; `attempt` counts consecutive losses from 1. Up to [`CONCEAL_FRAMES`] it
    /// holds the last frame fading linearly to zero, after that silence.
    Concealed {
        /// Consecutive lost frames so far, from 1.
        attempt: u32,
    },
    /// A frame inserted to raise the delay (more jitter, slow sender clock): the last one again.
    Stretched,
    /// Nothing to play: no packet yet, buffering, or a lasting underrun.
    Silence,
}

/// Counters since construction, and the current delay estimates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// `push` calls.
    pub pushed: u64,
    /// Pops that returned [`Frame::Audio`].
    pub played: u64,
    /// Pops that returned [`Frame::Concealed`].
    pub concealed: u64,
    /// Pops that returned [`Frame::Stretched`].
    pub stretched: u64,
    /// Packets dropped as [`PushOutcome::TooLate`].
    pub dropped_late: u64,
    /// Packets dropped as [`PushOutcome::Duplicate`].
    pub dropped_duplicate: u64,
    /// Stored frames dropped to lower the delay (above target, fast sender, over `max_delay`).
    pub dropped_overflow: u64,
    /// Timelines restarted by a timestamp jump or a new stream.
    pub resyncs: u64,
    /// Smoothed time packets spend in the buffer.
    pub current_delay: Duration,
    /// Delay the buffer steers towards.
    pub target_delay: Duration,
    /// RFC 3550 A.8 interarrival jitter.
    pub jitter: Duration,
}

/// Where playout stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Phase {
    /// No timeline: the next packet starts one.
    #[default]
    Fresh,
    /// Underrun with an empty ring: the next packet at or after `next_ts` restarts buffering.
    Idle,
    /// Waiting until the instant given before playing `next_ts`.
    Buffering(Instant),
    /// Playing; the instant is when the next pop is expected.
    Playing(Instant),
}

/// Playout position, stream tracking and adaptation pressure.
#[derive(Debug, Default)]
struct Playout {
    phase: Phase,
    next_ts: u32,
    /// Lowest timestamp buffering may reach back to (`None`: nothing played on this timeline).
    floor: Option<u32>,
    max_seq: Option<u16>,
    /// Sequence number that would confirm a far-behind timestamp as a new stream (RFC 3550 A.1).
    probation: Option<u16>,
    miss_run: u32,
    grow: u32,
    shrink: u32,
    last: Vec<i16>,
    last_quiet: bool,
    /// Timestamp units per frame.
    step: u32,
}

impl Playout {
    fn advance(&mut self) {
        self.next_ts = self.next_ts.wrapping_add(self.step);
    }
}

/// The adaptive jitter buffer of one received audio stream.
#[derive(Debug)]
pub struct JitterBuffer {
    cfg: JitterConfig,
    frame_us: i64,
    /// Most frames buffered at once: `max_delay` rounded up, plus one.
    max_frames: usize,
    ring: Ring,
    play: Playout,
    est: Estimator,
    stats: JitterStats,
}

impl JitterBuffer {
    /// Validates `config` and allocates the ring: the only allocation the buffer makes.
    pub fn new(config: JitterConfig) -> Result<Self, JitterError> {
        let (rate, fs) = (config.clock_rate, config.frame_samples);
        let cap = config.capacity_frames;
        if rate == 0 || rate > MAX_CLOCK_RATE {
            return Err(JitterError::ClockRate(rate));
        }
        if fs == 0 || fs > MAX_FRAME_SAMPLES {
            return Err(JitterError::FrameSamples(fs));
        }
        if config.min_delay > config.max_delay {
            return Err(JitterError::DelayRange);
        }
        let frame_us = fs as i64 * 1_000_000 / i64::from(rate);
        let frames = micros(config.max_delay).saturating_add(frame_us - 1) / frame_us + 1;
        let max_frames = usize::try_from(frames).unwrap_or(usize::MAX);
        if !(max_frames.saturating_add(1)..=MAX_CAPACITY_FRAMES).contains(&cap) {
            return Err(JitterError::Capacity(cap, max_frames.saturating_add(1)));
        }
        let mut jb = JitterBuffer {
            cfg: config,
            frame_us,
            max_frames,
            ring: Ring {
                pcm: vec![0; cap * fs],
                lens: vec![None; cap],
                head: 0,
                fs,
            },
            play: Playout::default(),
            est: Estimator::default(),
            stats: JitterStats::default(),
        };
        (jb.play.last, jb.play.step) = (vec![0; fs], fs as u32);
        jb.reset();
        Ok(jb)
    }

    /// Samples per frame: the most `push` accepts, what `pop` writes.
    pub fn frame_samples(&self) -> usize {
        self.cfg.frame_samples
    }

    /// Offers a received frame (decoded PCM16) with its RTP sequence number and timestamp.
    pub fn push(&mut self, seq: u16, timestamp: u32, pcm: &[i16], now: Instant) -> PushOutcome {
        self.stats.pushed += 1;
        if pcm.len() > self.cfg.frame_samples {
            return PushOutcome::TooLarge;
        }
        let (mut outcome, off) = (PushOutcome::Accepted, self.offset(timestamp));
        let started = self.play.phase != Phase::Fresh;
        if started && off.unsigned_abs() >= self.ring.lens.len() as u64 {
            if off < 0 && !self.seq_newer(seq) && self.play.probation != Some(seq) {
                self.play.probation = Some(seq.wrapping_add(1));
                self.stats.dropped_late += 1;
                return PushOutcome::TooLate;
            }
            self.restart();
            self.stats.resyncs += 1;
            outcome = PushOutcome::Resynced;
        } else if started && off >= 0 && self.ring.full(off as usize) {
            self.stats.dropped_duplicate += 1;
            return PushOutcome::Duplicate;
        }
        self.play.probation = None;
        if self.seq_newer(seq) {
            self.play.max_seq = Some(seq);
        }
        match self.play.phase {
            Phase::Fresh => self.anchor(timestamp, now, None),
            Phase::Idle if off >= 0 => self.anchor(timestamp, now, Some(self.play.next_ts)),
            Phase::Buffering(_) => self.extend_back(timestamp),
            _ => {}
        }
        while self.offset(timestamp) >= self.max_frames as i64 {
            self.skip_head();
        }
        self.observe(timestamp, now);
        let Ok(off) = usize::try_from(self.offset(timestamp)) else {
            self.stats.dropped_late += 1;
            return PushOutcome::TooLate;
        };
        self.ring.put(off, pcm);
        outcome
    }

    /// Writes the next frame into `out[..frame_samples]`; call once per frame interval.
    pub fn pop(&mut self, now: Instant, out: &mut [i16]) -> Result<Frame, JitterError> {
        let (got, fs) = (out.len(), self.cfg.frame_samples);
        let out = out
            .get_mut(..fs)
            .ok_or(JitterError::OutputTooShort(got, fs))?;
        match self.play.phase {
            Phase::Buffering(due) if signed_us(due, now) <= self.frame_us / 2 => {}
            Phase::Playing(_) => {}
            _ => return Ok(silence(out)),
        }
        self.play.phase = Phase::Playing(now + to_duration(self.frame_us));
        if self.adapt() {
            out.copy_from_slice(&self.play.last);
            return Ok(Frame::Stretched);
        }
        let p = &mut self.play;
        if self.ring.take(out) {
            p.last.copy_from_slice(out);
            (p.last_quiet, p.miss_run) = (quiet(out), 0);
            p.advance();
            self.stats.played += 1;
            return Ok(Frame::Audio);
        }
        p.miss_run += 1;
        if p.miss_run > CONCEAL_FRAMES && self.ring.is_empty() {
            p.phase = Phase::Idle;
            return Ok(silence(out));
        }
        self.ring.skip();
        p.advance();
        self.stats.concealed += 1;
        conceal(&p.last, p.miss_run, out);
        Ok(Frame::Concealed {
            attempt: p.miss_run,
        })
    }

    /// Drops all frames and estimates for a new stream (e.g. after a re-INVITE); counters stay.
    pub fn reset(&mut self) {
        self.restart();
        let min = micros(self.cfg.min_delay);
        (self.est.jitter_us, self.est.delay_us, self.est.target_us) = (0, min, min);
        self.play.last.fill(0);
        self.play.last_quiet = true;
    }

    /// Audio currently held, from the next frame to play to the newest stored one.
    pub fn buffered(&self) -> Duration {
        to_duration(self.ring.span() as i64 * self.frame_us)
    }

    /// Counters and current estimates.
    pub fn stats(&self) -> JitterStats {
        JitterStats {
            current_delay: to_duration(self.est.delay_us),
            target_delay: to_duration(self.est.target_us),
            jitter: to_duration(self.est.jitter_us),
            ..self.stats
        }
    }

    /// Frames from the playout point to `ts`, rounded to the nearest frame.
    fn offset(&self, ts: u32) -> i64 {
        let fs = self.cfg.frame_samples as i64;
        (i64::from(ts.wrapping_sub(self.play.next_ts) as i32) + fs / 2).div_euclid(fs)
    }

    fn seq_newer(&self, seq: u16) -> bool {
        let newer = |max: u16| seq.wrapping_sub(max) as i16 > 0;
        self.play.max_seq.is_none_or(newer)
    }

    fn restart(&mut self) {
        self.ring.lens.fill(None);
        (self.play.phase, self.play.probation, self.play.max_seq) = (Phase::Fresh, None, None);
        self.est.prev = None;
    }

    /// Starts buffering a timeline whose first frame is `ts`.
    fn anchor(&mut self, ts: u32, now: Instant, floor: Option<u32>) {
        let p = &mut self.play;
        p.phase = Phase::Buffering(now + to_duration(self.est.target_us));
        (p.next_ts, p.floor, p.miss_run, p.grow, p.shrink) = (ts, floor, 0, 0, 0);
        self.est.delay_us = self.est.target_us;
    }

    /// While buffering, lets a reordered earlier frame become the first one to play.
    fn extend_back(&mut self, ts: u32) {
        let Ok(k) = usize::try_from(-self.offset(ts)) else {
            return;
        };
        let start = self.play.next_ts.wrapping_sub(k as u32 * self.play.step);
        let above = |floor: u32| start.wrapping_sub(floor) as i32 >= 0;
        if k > 0 && self.play.floor.is_none_or(above) && k + self.ring.span() <= self.max_frames {
            self.ring.back(k);
            self.play.next_ts = start;
            self.est.delay_us += k as i64 * self.frame_us;
        }
    }

    /// Drops the next frame to play, lowering the delay by a frame.
    fn skip_head(&mut self) {
        if self.ring.skip() {
            self.stats.dropped_overflow += 1;
        }
        self.play.advance();
        self.play.floor = Some(self.play.next_ts);
        self.est.delay_us -= self.frame_us;
    }
}

/// `a - b` in microseconds, negative when `a` is earlier.
fn signed_us(a: Instant, b: Instant) -> i64 {
    match a.checked_duration_since(b) {
        Some(d) => micros(d),
        None => -micros(b - a),
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn to_duration(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

#[cfg(test)]
mod tests;
