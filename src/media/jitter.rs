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

use std::time::{Duration, Instant};
use thiserror::Error;

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
/// Multiplier of the RFC 3550 jitter estimate in the target delay.
const JITTER_FACTOR: i64 = 3;
/// Mean absolute sample value under which a frame counts as silence-like (about -50 dBFS).
const QUIET_MEAN_ABS: u64 = 100;

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
    Concealed { attempt: u32 },
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

/// Preallocated frame slots; offset 0 is the next frame to play, `None` an empty slot.
#[derive(Debug)]
struct Ring {
    pcm: Vec<i16>,
    lens: Vec<Option<usize>>,
    head: usize,
    fs: usize,
}

impl Ring {
    fn at(&self, off: usize) -> usize {
        (self.head + off) % self.lens.len()
    }

    fn full(&self, off: usize) -> bool {
        self.lens[self.at(off)].is_some()
    }

    fn is_empty(&self) -> bool {
        self.lens.iter().all(Option::is_none)
    }

    /// Whether the frame at `off` is silence-like.
    fn quiet(&self, off: usize) -> bool {
        let i = self.at(off);
        self.lens[i].is_some_and(|len| quiet(&self.pcm[i * self.fs..][..len]))
    }

    /// Stores a frame of at most `fs` samples at `off` (below capacity, slot empty).
    fn put(&mut self, off: usize, frame: &[i16]) {
        let i = self.at(off);
        self.pcm[i * self.fs..][..frame.len()].copy_from_slice(frame);
        self.lens[i] = Some(frame.len());
    }

    /// Moves the head frame into `out` (one frame long, zero-padded).
    fn take(&mut self, out: &mut [i16]) -> bool {
        let Some(len) = self.lens[self.head] else {
            return false;
        };
        let (played, pad) = out.split_at_mut(len);
        played.copy_from_slice(&self.pcm[self.head * self.fs..][..len]);
        pad.fill(0);
        self.skip()
    }

    /// Empties the head slot and moves past it; true if it held a frame.
    fn skip(&mut self) -> bool {
        let was_full = self.lens[self.head].take().is_some();
        self.head = (self.head + 1) % self.lens.len();
        was_full
    }

    /// Moves the head `k` slots back (they are empty: beyond the buffered span).
    fn back(&mut self, k: usize) {
        let cap = self.lens.len();
        self.head = (self.head + cap - k % cap) % cap;
    }

    /// Offset of the last stored frame plus one.
    fn span(&self) -> usize {
        let last = (0..self.lens.len()).rev().find(|&o| self.full(o));
        last.map_or(0, |o| o + 1)
    }
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

/// Delay estimates in microseconds, and the previous arrival for RFC 3550 A.8.
#[derive(Debug, Clone, Copy, Default)]
struct Estimator {
    jitter_us: i64,
    delay_us: i64,
    target_us: i64,
    prev: Option<(Instant, u32)>,
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

    /// Updates jitter (RFC 3550 A.8), target and smoothed delay with a packet's arrival.
    fn observe(&mut self, ts: u32, now: Instant) {
        let (e, f, rate) = (&mut self.est, self.frame_us, i64::from(self.cfg.clock_rate));
        let media_us = |from: u32| i64::from(ts.wrapping_sub(from) as i32) * 1_000_000 / rate;
        if let Some((at, prev_ts)) = e.prev {
            let d = signed_us(now, at) - media_us(prev_ts);
            e.jitter_us += (d.abs() - e.jitter_us) / 16;
        }
        e.prev = Some((now, ts));
        let (min, max) = (micros(self.cfg.min_delay), micros(self.cfg.max_delay));
        let raw = (JITTER_FACTOR * e.jitter_us + f).clamp(min, max);
        e.target_us = raw.max(e.target_us + (raw - e.target_us) / 256);
        if let Phase::Buffering(due) | Phase::Playing(due) = self.play.phase {
            let slack = signed_us(due, now) + media_us(self.play.next_ts);
            e.delay_us += (slack - e.delay_us) / 16;
            if slack < 0 {
                e.target_us = e.target_us.max((e.delay_us - slack + f / 2).min(max));
            }
        }
    }

    /// Decides at a pop whether to insert a frame (returns true) or drop the head frame.
    fn adapt(&mut self) -> bool {
        let (d, target, f) = (self.est.delay_us, self.est.target_us, self.frame_us);
        let p = &mut self.play;
        let (low, high) = (d < target - f / 2, d > target + f);
        p.grow = if low { p.grow.saturating_add(1) } else { 0 };
        p.shrink = if high { p.shrink.saturating_add(1) } else { 0 };
        if p.grow > 0 && (p.last_quiet || p.grow >= GROW_PATIENCE || d < target - 2 * f) {
            p.grow = 0;
            self.est.delay_us += f;
            self.stats.stretched += 1;
            return true;
        }
        let ready = self.ring.full(0) && self.ring.full(1);
        if p.shrink > 0 && ready && (p.shrink >= SHRINK_PATIENCE || self.ring.quiet(0)) {
            p.shrink = 0;
            self.skip_head();
        }
        false
    }
}

/// Whether a frame's mean absolute sample value is under [`QUIET_MEAN_ABS`].
fn quiet(frame: &[i16]) -> bool {
    let energy: u64 = frame.iter().map(|&x| u64::from(x.unsigned_abs())).sum();
    energy <= QUIET_MEAN_ABS * frame.len() as u64
}

fn silence(out: &mut [i16]) -> Frame {
    out.fill(0);
    Frame::Silence
}

/// Fills `out` for the `attempt`-th consecutive lost frame: `last` under a linear fade reaching
/// zero after [`CONCEAL_FRAMES`] frames, then silence.
fn conceal(last: &[i16], attempt: u32, out: &mut [i16]) {
    let n = out.len() as i64;
    let total = i64::from(CONCEAL_FRAMES) * n;
    let start = i64::from(attempt.saturating_sub(1)).saturating_mul(n);
    for (i, (o, &x)) in out.iter_mut().zip(last).enumerate() {
        *o = (i64::from(x) * (total - start - i as i64).max(0) / total) as i16;
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
mod tests {
    use super::*;
    use JitterError as E;
    use PushOutcome::{Accepted, Resynced, TooLarge, TooLate};

    const N: usize = 160;
    const F: i64 = 20_000;

    /// xorshift64, uniform in [0, 1): a deterministic PRNG for the arrival traces.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// An arrival: (time in us, frame index).
    type Pkt = (i64, u32);

    #[derive(Default)]
    struct Sim {
        played: Vec<u32>,
        frames: Vec<Frame>,
        late: Vec<u32>,
        dups: usize,
        max_buffered: Duration,
        /// (current, target) delay in us after each pop.
        delays: Vec<(i64, i64)>,
        stats: JitterStats,
    }

    fn loud(_: u32) -> bool {
        true
    }

    /// Talkspurts: two seconds loud, one second quiet.
    fn speech(idx: u32) -> bool {
        idx / 50 % 3 != 2
    }

    fn ms(m: u64) -> Duration {
        Duration::from_millis(m)
    }

    fn ids(range: std::ops::Range<u32>) -> Vec<u32> {
        range.collect()
    }

    fn increasing(played: &[u32]) -> bool {
        played.windows(2).all(|w| w[0] < w[1])
    }

    /// played, concealed, stretched, late, duplicate, overflow.
    fn counts(s: &JitterStats) -> [u64; 6] {
        let late = [s.dropped_late, s.dropped_duplicate, s.dropped_overflow];
        [
            s.played,
            s.concealed,
            s.stretched,
            late[0],
            late[1],
            late[2],
        ]
    }

    /// Frame `idx`: its index in the first two samples, a loud square wave or zeros elsewhere.
    fn pcm(idx: u32, loud: bool) -> [i16; N] {
        let mut f = [0i16; N];
        for (i, x) in f.iter_mut().enumerate() {
            *x = [8000, -8000][i % 2] * i16::from(loud);
        }
        (f[0], f[1]) = ((idx % 256) as i16, (idx / 256 % 256) as i16);
        f
    }

    /// Frames `0..n` sent every `period` us, arriving `delay(idx)` us later (`None`: lost).
    fn stream(n: u32, period: f64, mut delay: impl FnMut(u32) -> Option<i64>) -> Vec<Pkt> {
        let sent = |idx: u32| (f64::from(idx) * period) as i64;
        (0..n)
            .filter_map(|i| Some((sent(i) + delay(i)?, i)))
            .collect()
    }

    /// Plays `pkts` (sequence numbers and timestamps counted from `origin`) through a default
    /// buffer, popping every 20 ms at phase 3 ms until all are pushed and played out.
    fn run(mut pkts: Vec<Pkt>, origin: (u16, u32), loud: fn(u32) -> bool) -> Sim {
        pkts.sort_by_key(|p| p.0);
        let mut jb = JitterBuffer::new(JitterConfig::default()).unwrap();
        let base = Instant::now();
        let at = |us: i64| base + Duration::from_micros(us as u64);
        let (mut sim, mut out, mut next, mut now) = (Sim::default(), [0i16; N], 0, 3_000);
        loop {
            while let Some(&(t, idx)) = pkts.get(next).filter(|p| p.0 <= now) {
                let seq = origin.0.wrapping_add(idx as u16);
                let ts = origin.1.wrapping_add(idx * N as u32);
                match jb.push(seq, ts, &pcm(idx, loud(idx)), at(t)) {
                    TooLate => sim.late.push(idx),
                    PushOutcome::Duplicate => sim.dups += 1,
                    _ => {}
                }
                next += 1;
            }
            let frame = jb.pop(at(now), &mut out).unwrap();
            if frame == Frame::Audio {
                sim.played.push(out[0] as u32 + 256 * out[1] as u32);
            }
            sim.frames.push(frame);
            sim.max_buffered = sim.max_buffered.max(jb.buffered());
            sim.delays.push((jb.est.delay_us, jb.est.target_us));
            if next == pkts.len() && jb.ring.is_empty() {
                sim.stats = jb.stats();
                return sim;
            }
            now += F;
        }
    }

    #[test]
    fn in_order_stream_plays_every_frame_in_order() {
        let sim = run(stream(500, 20_000.0, |_| Some(5_000)), (1000, 12345), loud);
        assert_eq!(sim.played, ids(0..500));
        let buffering = sim.frames.iter().filter(|f| **f != Frame::Audio).count();
        assert_eq!(buffering, 1, "one pop of buffering, then every frame");
        let s = sim.stats;
        assert_eq!(counts(&s), [500, 0, 0, 0, 0, 0]);
        assert_eq!((s.target_delay, s.jitter), (ms(20), Duration::ZERO));
    }

    /// Every even frame arrives 2 ms after the odd one following it.
    fn reordered_pairs(origin: (u16, u32)) {
        let pkts = stream(400, 20_000.0, |i| Some([27_000, 5_000][i as usize % 2]));
        let sim = run(pkts, origin, loud);
        assert_eq!(sim.played, ids(0..400));
        let s = sim.stats;
        assert_eq!((s.concealed, s.dropped_late, s.resyncs), (0, 0, 0));
    }

    #[test]
    fn reordered_pairs_come_out_in_order() {
        reordered_pairs((1, 0));
    }

    #[test]
    fn sequence_and_timestamp_wrap() {
        reordered_pairs((65_400, u32::MAX - 99 * N as u32));
    }

    #[test]
    fn five_percent_random_loss_conceals_about_five_percent() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let pkts = stream(5000, 20_000.0, |_| (rng.next() >= 0.05).then_some(5_000));
        let lost = 5000 - pkts.len() as u64;
        assert!((200..300).contains(&lost), "{lost}");
        let s = run(pkts, (0, 0), speech).stats;
        assert!(
            s.concealed <= lost && s.concealed + 5 >= lost,
            "{} of {lost}",
            s.concealed
        );
        assert_eq!(counts(&s), [5000 - lost, s.concealed, 0, 0, 0, 0]);
    }

    #[test]
    fn burst_gap_of_200_ms_then_recovery() {
        // Outage: frames 100..110 never arrive; fade out, silence, then playout resumes.
        let pkts = stream(300, 20_000.0, |i| {
            (!(100..110).contains(&i)).then_some(5_000)
        });
        let sim = run(pkts, (0, 0), loud);
        assert_eq!(sim.played, (0..100).chain(110..300).collect::<Vec<_>>());
        let fade = [1, 2, 3].map(|attempt| Frame::Concealed { attempt });
        assert_eq!(
            (&sim.frames[101..104], sim.frames[104]),
            (&fade[..], Frame::Silence)
        );
        assert_eq!(counts(&sim.stats), [290, 3, 0, 0, 0, 0]);

        // Stall: frames 100..110 are held, then arrive in a burst with frame 110.
        let held = |i: u32| i64::from((100..110).contains(&i)) * (110 - i64::from(i)) * F;
        let sim = run(
            stream(1500, 20_000.0, |i| Some(5_000 + held(i))),
            (0, 0),
            loud,
        );
        let (s, n) = (sim.stats, sim.played.len());
        assert!(sim.max_buffered <= ms(220), "{:?}", sim.max_buffered);
        assert!(
            increasing(&sim.played) && s.dropped_late <= 10,
            "{}",
            s.dropped_late
        );
        assert_eq!(
            n as u64 + s.dropped_late + s.dropped_overflow,
            1500,
            "all accounted"
        );
        assert_eq!(sim.played[n - 250..], ids(1250..1500), "steady again");
        let tail = &sim.delays[sim.delays.len() - 250..];
        assert!(
            tail.iter().all(|(d, t)| d - t <= 2 * F),
            "delay back near target"
        );
    }

    #[test]
    fn steady_40_ms_jitter_raises_target_and_stops_late_drops() {
        let mut rng = Rng(7);
        let pkts = stream(3000, 20_000.0, |_| {
            Some(10_000 + (rng.next() * 40_000.0) as i64)
        });
        let sim = run(pkts, (0, 0), loud);
        let late_after = sim.late.iter().filter(|&&i| i >= 250).count();
        assert!(
            late_after * 100 < 2750,
            "{late_after} late after 5 s of adapting"
        );
        let target = sim.stats.target_delay;
        assert!(target >= ms(40) && target <= ms(200), "{target:?}");
        assert!(increasing(&sim.played) && sim.max_buffered <= ms(220));
    }

    /// 10 minutes of sender audio, its clock rate off by `factor`, up to 10 ms of jitter.
    fn drift(factor: f64) -> Sim {
        let mut rng = Rng(42);
        let jitter = |_: u32| Some(5_000 + (rng.next() * 10_000.0) as i64);
        let sim = run(stream(30_000, 20_000.0 / factor, jitter), (9, 9), speech);
        assert!(sim.max_buffered <= ms(220), "{:?}", sim.max_buffered);
        let half = &sim.delays[sim.delays.len() / 2..];
        assert!(
            half.iter().all(|(d, t)| (-F..=3 * F).contains(&(d - t))),
            "on target"
        );
        assert!(increasing(&sim.played));
        sim
    }

    #[test]
    fn fast_sender_clock_drops_about_one_percent_in_silence() {
        let sim = drift(1.01);
        let dropped = sim.stats.dropped_overflow;
        assert!((240..=360).contains(&dropped), "{dropped} dropped");
        assert_eq!(counts(&sim.stats), [30_000 - dropped, 0, 0, 0, 0, dropped]);
        let gaps = sim.played.windows(2).filter(|w| w[1] == w[0] + 2);
        let quiet = gaps.filter(|w| !speech(w[0] + 1)).count() as u64;
        assert!(
            quiet * 10 >= dropped * 8,
            "{quiet} of {dropped} drops in silence"
        );
    }

    #[test]
    fn slow_sender_clock_inserts_about_one_percent() {
        let s = drift(1.0 / 1.01).stats;
        assert!(
            (240..=360).contains(&s.stretched),
            "{} inserted",
            s.stretched
        );
        assert_eq!(counts(&s), [30_000, 0, s.stretched, 0, 0, 0]);
    }

    #[test]
    fn duplicates_are_dropped() {
        let pkts = stream(300, 20_000.0, |_| Some(5_000));
        let twice = pkts
            .iter()
            .flat_map(|&(at, i)| [(at, i), (at + 1_000, i)])
            .collect();
        let sim = run(twice, (0, 0), loud);
        assert_eq!((sim.played, sim.dups), (ids(0..300), 300));
        assert_eq!(counts(&sim.stats), [300, 0, 0, 0, 300, 0]);
        assert_eq!(sim.stats.target_delay, ms(20), "duplicates are not jitter");
    }

    #[test]
    fn concealment_fades_the_last_frame_then_goes_silent() {
        let mut jb = JitterBuffer::new(JitterConfig::default()).unwrap();
        let (t0, tone, mut out) = (Instant::now(), [1000i16; N], [0i16; N]);
        assert_eq!(jb.push(0, 0, &tone, t0), Accepted);
        assert_eq!(jb.pop(t0 + ms(20), &mut out), Ok(Frame::Audio));
        // Frame 6 arrives early: frames 1..=5 are lost.
        assert_eq!(jb.push(6, 6 * N as u32, &tone, t0 + ms(21)), Accepted);
        let mut pop = |k: u64| (jb.pop(t0 + ms(20 + 20 * k), &mut out).unwrap(), out);
        let mut prev = 1000;
        for attempt in 1..=3 {
            let (frame, out) = pop(u64::from(attempt));
            assert_eq!(frame, Frame::Concealed { attempt });
            assert!(
                out[0] <= prev && out.windows(2).all(|w| w[0] >= w[1]),
                "fades"
            );
            prev = out[N - 1];
        }
        assert!(prev <= 3, "faded to {prev}");
        for attempt in 4..=5 {
            assert_eq!(
                pop(u64::from(attempt)),
                (Frame::Concealed { attempt }, [0; N])
            );
        }
        assert_eq!(pop(6), (Frame::Audio, tone));
        for attempt in 1..=3 {
            assert_eq!(pop(6 + u64::from(attempt)).0, Frame::Concealed { attempt });
        }
        assert_eq!(pop(10), (Frame::Silence, [0; N]), "underrun");
        assert_eq!(jb.stats().concealed, 8);
    }

    #[test]
    fn timestamp_jump_or_new_stream_resyncs() {
        let (t0, mut out) = (Instant::now(), [0i16; N]);
        let push = |jb: &mut JitterBuffer, seq, ts, m| jb.push(seq, ts, &[0; N], t0 + ms(m));
        let mut jb = JitterBuffer::new(JitterConfig::default()).unwrap();
        for i in 0..5 {
            let (seq, ts, m) = (100 + i, 1000 + 160 * u32::from(i), 20 * u64::from(i));
            assert_eq!(push(&mut jb, seq, ts, m), Accepted);
            jb.pop(t0 + ms(m + 10), &mut out).unwrap();
        }
        // Sender pause of 10 s: the timestamp jumps far ahead, the sequence number goes on.
        assert_eq!(push(&mut jb, 105, 81_800, 10_000), Resynced);
        assert_eq!(
            jb.pop(t0 + ms(10_001), &mut out),
            Ok(Frame::Silence),
            "buffering"
        );
        assert_eq!(jb.pop(t0 + ms(10_020), &mut out), Ok(Frame::Audio));
        assert_eq!(
            push(&mut jb, 104, 1640, 10_021),
            TooLate,
            "old timeline straggler"
        );
        // New stream behind, older sequence number: confirmed by the next in sequence.
        assert_eq!(push(&mut jb, 50, 500, 10_030), TooLate);
        assert_eq!(push(&mut jb, 51, 660, 10_040), Resynced);
        assert_eq!(jb.stats().resyncs, 2);
        // Far behind with a newer sequence number (across the wrap): resync at once.
        let mut jb = JitterBuffer::new(JitterConfig::default()).unwrap();
        assert_eq!(push(&mut jb, 65_535, 1_000_000, 0), Accepted);
        assert_eq!(push(&mut jb, 1, 0, 20), Resynced);
        // reset(): anything starts a new timeline.
        jb.reset();
        assert_eq!(push(&mut jb, 7, 3_000_000, 40), Accepted);
        assert_eq!(jb.stats().resyncs, 1);
    }

    #[test]
    fn bad_config_and_input_are_rejected() {
        let bad = |f: fn(&mut JitterConfig)| {
            let mut c = JitterConfig::default();
            f(&mut c);
            JitterBuffer::new(c).err()
        };
        assert_eq!(bad(|c| c.clock_rate = 0), Some(E::ClockRate(0)));
        assert_eq!(bad(|c| c.frame_samples = 961), Some(E::FrameSamples(961)));
        assert_eq!(bad(|c| c.min_delay = ms(300)), Some(E::DelayRange));
        assert_eq!(bad(|c| c.capacity_frames = 11), Some(E::Capacity(11, 12)));
        let mut jb = JitterBuffer::new(JitterConfig::default()).unwrap();
        let now = Instant::now();
        assert_eq!(jb.push(0, 0, &[1; N + 1], now), TooLarge);
        let short = jb.pop(now, &mut [0; N - 1]);
        assert_eq!(short, Err(E::OutputTooShort(N - 1, N)));
        assert_eq!(jb.push(0, 0, &[1; 80], now), Accepted);
        let mut out = [9i16; N + 10];
        assert_eq!(jb.pop(now + ms(20), &mut out), Ok(Frame::Audio));
        assert!(out[..80].iter().all(|&x| x == 1) && out[80..N].iter().all(|&x| x == 0));
        assert_eq!(out[N..], [9; 10], "only one frame written");
    }

    #[test]
    fn hostile_input_never_panics_and_stays_bounded() {
        let mut jb = JitterBuffer::new(JitterConfig::default()).unwrap();
        let (mut rng, t0, mut out, mut t) = (Rng(99), Instant::now(), [0i16; N], 0);
        for k in 0..100_000u32 {
            let mut r = || (rng.next() * 4e9) as u32;
            let (a, b, c) = (r(), r(), r());
            let ts = if a % 10 != 0 {
                k.wrapping_mul(160).wrapping_add(b % 4000)
            } else {
                b
            };
            let (len, seq) = (if c % 20 != 0 { N } else { c as usize % 200 }, k + c % 4);
            t += u64::from(a % 25_000);
            let now = t0 + Duration::from_micros(t);
            jb.push(seq as u16, ts, &[7; 200][..len], now);
            if k % 2 == 0 {
                jb.pop(now, &mut out).unwrap();
            }
            assert!(jb.buffered() <= ms(220));
        }
    }
}
