//! What the jitter buffer plays when it has no received frame: loss concealment (the last
//! frame fading out over [`CONCEAL_FRAMES`] frames, then silence) and the silence-like test
//! that picks where a frame is best dropped or inserted.

use super::{Frame, CONCEAL_FRAMES};

/// Mean absolute sample value under which a frame counts as silence-like (about -50 dBFS).
const QUIET_MEAN_ABS: u64 = 100;

/// Whether a frame's mean absolute sample value is under [`QUIET_MEAN_ABS`].
pub(super) fn quiet(frame: &[i16]) -> bool {
    let energy: u64 = frame.iter().map(|&x| u64::from(x.unsigned_abs())).sum();
    energy <= QUIET_MEAN_ABS * frame.len() as u64
}

pub(super) fn silence(out: &mut [i16]) -> Frame {
    out.fill(0);
    Frame::Silence
}

/// Fills `out` for the `attempt`-th consecutive lost frame: `last` under a linear fade reaching
/// zero after [`CONCEAL_FRAMES`] frames, then silence.
pub(super) fn conceal(last: &[i16], attempt: u32, out: &mut [i16]) {
    let n = out.len() as i64;
    let total = i64::from(CONCEAL_FRAMES) * n;
    let start = i64::from(attempt.saturating_sub(1)).saturating_mul(n);
    for (i, (o, &x)) in out.iter_mut().zip(last).enumerate() {
        *o = (i64::from(x) * (total - start - i as i64).max(0) / total) as i16;
    }
}
