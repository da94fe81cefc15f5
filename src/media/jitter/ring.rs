//! The jitter buffer's frame slots: one PCM16 frame per slot, allocated once, indexed from the
//! playout point (offset 0 is the next frame to play). Where a frame goes is decided by its RTP
//! timestamp (RFC 3550 §5.1, "the sampling instant of the first octet in the RTP data
//! packet"); this type only stores, moves and reports frames.

use super::conceal::quiet;

/// Preallocated frame slots; offset 0 is the next frame to play, `None` an empty slot.
#[derive(Debug)]
pub(super) struct Ring {
    pub(super) pcm: Vec<i16>,
    pub(super) lens: Vec<Option<usize>>,
    pub(super) head: usize,
    pub(super) fs: usize,
}

impl Ring {
    fn at(&self, off: usize) -> usize {
        (self.head + off) % self.lens.len()
    }

    pub(super) fn full(&self, off: usize) -> bool {
        self.lens[self.at(off)].is_some()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.lens.iter().all(Option::is_none)
    }

    /// Whether the frame at `off` is silence-like.
    pub(super) fn quiet(&self, off: usize) -> bool {
        let i = self.at(off);
        self.lens[i].is_some_and(|len| quiet(&self.pcm[i * self.fs..][..len]))
    }

    /// Stores a frame of at most `fs` samples at `off` (below capacity, slot empty).
    pub(super) fn put(&mut self, off: usize, frame: &[i16]) {
        let i = self.at(off);
        self.pcm[i * self.fs..][..frame.len()].copy_from_slice(frame);
        self.lens[i] = Some(frame.len());
    }

    /// Moves the head frame into `out` (one frame long, zero-padded).
    pub(super) fn take(&mut self, out: &mut [i16]) -> bool {
        let Some(len) = self.lens[self.head] else {
            return false;
        };
        let (played, pad) = out.split_at_mut(len);
        played.copy_from_slice(&self.pcm[self.head * self.fs..][..len]);
        pad.fill(0);
        self.skip()
    }

    /// Empties the head slot and moves past it; true if it held a frame.
    pub(super) fn skip(&mut self) -> bool {
        let was_full = self.lens[self.head].take().is_some();
        self.head = (self.head + 1) % self.lens.len();
        was_full
    }

    /// Moves the head `k` slots back (they are empty: beyond the buffered span).
    pub(super) fn back(&mut self, k: usize) {
        let cap = self.lens.len();
        self.head = (self.head + cap - k % cap) % cap;
    }

    /// Offset of the last stored frame plus one.
    pub(super) fn span(&self) -> usize {
        let last = (0..self.lens.len()).rev().find(|&o| self.full(o));
        last.map_or(0, |o| o + 1)
    }
}
