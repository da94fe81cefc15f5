//! Delay control of the jitter buffer: the RFC 3550 A.8 interarrival jitter ("J(i) = J(i-1) +
//! (|D(i-1,i)| - J(i-1))/16"), the target delay derived from it, the smoothed current delay, and
//! the decision at each pop to insert a frame (delay too low) or drop one (delay too high), at a
//! silence-like frame unless the pressure lasts [`GROW_PATIENCE`] or [`SHRINK_PATIENCE`] pops.

use std::time::Instant;

use super::{micros, signed_us, JitterBuffer, Phase, GROW_PATIENCE, SHRINK_PATIENCE};

/// Multiplier of the RFC 3550 jitter estimate in the target delay.
const JITTER_FACTOR: i64 = 3;

/// Delay estimates in microseconds, and the previous arrival for RFC 3550 A.8.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Estimator {
    pub(super) jitter_us: i64,
    pub(super) delay_us: i64,
    pub(super) target_us: i64,
    pub(super) prev: Option<(Instant, u32)>,
}

impl JitterBuffer {
    /// Updates jitter (RFC 3550 A.8), target and smoothed delay with a packet's arrival.
    pub(super) fn observe(&mut self, ts: u32, now: Instant) {
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
    pub(super) fn adapt(&mut self) -> bool {
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
