//! The audio mixer of a conference (sans-IO): N members, one frame period at a time.
//!
//! Every period the edge hands the mixer each member's decoded frame (what it played out of
//! that member's jitter buffer) and calls [`Mixer::mix`]; every member then gets the sum of
//! all *other* members' audio ("N-1 mixing"), so nobody hears themselves. Sums are taken in
//! `i32` and clamped to `i16` once, at the end (clipping a loud room is the price of not
//! attenuating a quiet one). A member that gave no frame this period contributes silence:
//! inputs are cleared after each mix, so stale audio is never mixed twice. An optional
//! announcement (the join and leave tones) is added to everyone's mix until it ends.
//!
//! Frames are [`FRAME_SAMPLES`] samples (20 ms at 8 kHz). The slots and their buffers are
//! allocated when a member is added; a steady-state `mix` allocates nothing.

use std::f64::consts::TAU;
use std::sync::Arc;

/// Samples in one mixing period: 20 ms at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;
/// The mixing period.
pub const FRAME_DURATION: std::time::Duration = std::time::Duration::from_millis(20);

/// Most members one mixer takes; [`Mixer::add`] refuses more. Mixing cost grows linearly with
/// it, and a room this large is already an unusual conference.
pub const MAX_MEMBERS: usize = 256;

/// A member's key in the mixer (the edge uses its call id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId(pub u64);

/// Why a member could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MixerError {
    /// The mixer already has [`MAX_MEMBERS`] members.
    #[error("the conference is full ({MAX_MEMBERS} members)")]
    Full,
    /// A member with this id is already mixed.
    #[error("member {0:?} is already in the conference")]
    Duplicate(MemberId),
}

/// One member's input and output frames.
#[derive(Debug)]
struct Slot {
    id: MemberId,
    input: [i16; FRAME_SAMPLES],
    /// Whether `input` holds this period's audio; false mixes silence.
    has_input: bool,
    output: [i16; FRAME_SAMPLES],
}

/// An announcement being mixed to everyone, and how far it got.
#[derive(Debug)]
struct Announcement {
    samples: Arc<[i16]>,
    position: usize,
    /// Where it starts over after its end (a repeating tone); `None`: it ends.
    loop_start: Option<usize>,
}

/// The N-1 mixer of one conference.
#[derive(Debug, Default)]
pub struct Mixer {
    slots: Vec<Slot>,
    announcement: Option<Announcement>,
    sum: Vec<i32>,
}

impl Mixer {
    /// An empty mixer.
    pub fn new() -> Mixer {
        Mixer {
            slots: Vec::new(),
            announcement: None,
            sum: vec![0; FRAME_SAMPLES],
        }
    }

    /// Adds member `id`; it is mixed from the next [`Mixer::mix`] on.
    pub fn add(&mut self, id: MemberId) -> Result<(), MixerError> {
        if self.slots.iter().any(|s| s.id == id) {
            return Err(MixerError::Duplicate(id));
        }
        if self.slots.len() >= MAX_MEMBERS {
            return Err(MixerError::Full);
        }
        self.slots.push(Slot {
            id,
            input: [0; FRAME_SAMPLES],
            has_input: false,
            output: [0; FRAME_SAMPLES],
        });
        Ok(())
    }

    /// Removes member `id`; false when it was not mixed.
    pub fn remove(&mut self, id: MemberId) -> bool {
        match self.slots.iter().position(|s| s.id == id) {
            Some(index) => {
                self.slots.swap_remove(index);
                true
            }
            None => false,
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the mixer has no member.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Gives member `id`'s audio for this period: up to a frame of samples, the rest of the
    /// frame is silence. False when `id` is not a member.
    pub fn set_input(&mut self, id: MemberId, pcm: &[i16]) -> bool {
        let Some(slot) = self.slots.iter_mut().find(|s| s.id == id) else {
            return false;
        };
        let n = pcm.len().min(FRAME_SAMPLES);
        slot.input[..n].copy_from_slice(&pcm[..n]);
        slot.input[n..].fill(0);
        slot.has_input = true;
        true
    }

    /// Starts mixing `samples` (8 kHz) to every member, replacing an announcement in progress.
    pub fn announce(&mut self, samples: Arc<[i16]>) {
        self.announce_looping(samples, None);
    }

    /// Like [`Mixer::announce`], but after the end the announcement starts over at sample
    /// `loop_start` for as long as it is not stopped (a loop start past the end ends it).
    pub fn announce_looping(&mut self, samples: Arc<[i16]>, loop_start: Option<usize>) {
        let loop_start = loop_start.filter(|start| *start < samples.len());
        self.announcement = Some(Announcement {
            samples,
            position: 0,
            loop_start,
        });
    }

    /// Drops the announcement being mixed, if any.
    pub fn stop_announcement(&mut self) {
        self.announcement = None;
    }

    /// Whether an announcement is still being mixed.
    pub fn announcing(&self) -> bool {
        self.announcement.is_some()
    }

    /// Mixes one period: each member's output becomes the others' inputs plus the
    /// announcement, clamped to `i16`. Then every input is cleared to silence.
    pub fn mix(&mut self) {
        self.sum.fill(0);
        let mut ended = false;
        if let Some(a) = self.announcement.as_mut() {
            let mut filled = 0;
            while filled < FRAME_SAMPLES && !ended {
                let rest = &a.samples[a.position.min(a.samples.len())..];
                let n = rest.len().min(FRAME_SAMPLES - filled);
                for (s, &x) in self.sum[filled..filled + n].iter_mut().zip(&rest[..n]) {
                    *s += i32::from(x);
                }
                filled += n;
                a.position += n;
                if a.position >= a.samples.len() {
                    match a.loop_start {
                        Some(start) => a.position = start,
                        None => ended = true,
                    }
                }
            }
        }
        if ended {
            self.announcement = None;
        }
        for slot in self.slots.iter().filter(|s| s.has_input) {
            for (s, &x) in self.sum.iter_mut().zip(&slot.input) {
                *s += i32::from(x);
            }
        }
        for slot in &mut self.slots {
            let own = if slot.has_input {
                &slot.input
            } else {
                &[0; FRAME_SAMPLES]
            };
            for ((out, &s), &x) in slot.output.iter_mut().zip(&self.sum).zip(own) {
                *out = (s - i32::from(x)).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            }
            slot.has_input = false;
        }
    }

    /// Member `id`'s mix from the last [`Mixer::mix`].
    pub fn output(&self, id: MemberId) -> Option<&[i16; FRAME_SAMPLES]> {
        self.slots.iter().find(|s| s.id == id).map(|s| &s.output)
    }
}

/// `count` beeps of `frequency` Hz, each `on_ms` long and followed by `off_ms` of silence, at
/// `amplitude` (peak), 8 kHz: the join and leave tones. Computed once per room, not per frame.
pub fn beeps(
    frequency: f64,
    count: usize,
    on_ms: usize,
    off_ms: usize,
    amplitude: i16,
) -> Vec<i16> {
    let (on, off) = (on_ms * 8, off_ms * 8);
    let mut samples = Vec::with_capacity(count * (on + off));
    for _ in 0..count {
        samples.extend((0..on).map(|n| {
            let phase = TAU * frequency * n as f64 / 8000.0;
            (f64::from(amplitude) * phase.sin()) as i16
        }));
        samples.extend(std::iter::repeat_n(0, off));
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: MemberId = MemberId(1);
    const B: MemberId = MemberId(2);
    const C: MemberId = MemberId(3);

    fn frame(value: i16) -> [i16; FRAME_SAMPLES] {
        [value; FRAME_SAMPLES]
    }

    fn mixer(ids: &[MemberId]) -> Mixer {
        let mut m = Mixer::new();
        for &id in ids {
            m.add(id).unwrap();
        }
        m
    }

    #[test]
    fn each_member_hears_the_sum_of_the_others() {
        let mut m = mixer(&[A, B, C]);
        assert!(m.set_input(A, &frame(100)));
        assert!(m.set_input(B, &frame(20)));
        assert!(m.set_input(C, &frame(-3)));
        m.mix();
        assert_eq!(m.output(A).unwrap(), &frame(17));
        assert_eq!(m.output(B).unwrap(), &frame(97));
        assert_eq!(m.output(C).unwrap(), &frame(120));
    }

    #[test]
    fn sums_clamp_at_full_scale() {
        let mut m = mixer(&[A, B, C]);
        m.set_input(A, &frame(i16::MAX));
        m.set_input(B, &frame(i16::MAX));
        m.set_input(C, &frame(i16::MIN));
        m.mix();
        // A hears MAX + MIN = -1; C hears 2 * MAX, clamped, not wrapped.
        assert_eq!(m.output(A).unwrap(), &frame(-1));
        assert_eq!(m.output(C).unwrap(), &frame(i16::MAX));
        m.set_input(A, &frame(i16::MIN));
        m.set_input(B, &frame(i16::MIN));
        m.mix();
        assert_eq!(m.output(C).unwrap(), &frame(i16::MIN));
    }

    #[test]
    fn a_silent_member_contributes_silence_not_stale_audio() {
        let mut m = mixer(&[A, B]);
        m.set_input(A, &frame(500));
        m.mix();
        assert_eq!(m.output(B).unwrap(), &frame(500));
        // A sends nothing this period: B hears silence, not A's previous frame.
        m.mix();
        assert_eq!(m.output(B).unwrap(), &frame(0));
        assert_eq!(m.output(A).unwrap(), &frame(0));
    }

    #[test]
    fn a_short_input_is_padded_with_silence() {
        let mut m = mixer(&[A, B]);
        m.set_input(A, &frame(7));
        m.mix();
        m.set_input(A, &[9; 10]);
        m.mix();
        let heard = m.output(B).unwrap();
        assert!(heard[..10].iter().all(|&s| s == 9));
        assert!(heard[10..].iter().all(|&s| s == 0));
    }

    #[test]
    fn members_join_and_leave_mid_stream() {
        let mut m = mixer(&[A, B]);
        m.set_input(A, &frame(10));
        m.set_input(B, &frame(1));
        m.mix();
        assert_eq!(m.output(A).unwrap(), &frame(1));
        m.add(C).unwrap();
        assert_eq!(m.add(C), Err(MixerError::Duplicate(C)));
        m.set_input(A, &frame(10));
        m.set_input(B, &frame(1));
        m.set_input(C, &frame(100));
        m.mix();
        assert_eq!(m.output(A).unwrap(), &frame(101));
        assert_eq!(m.output(C).unwrap(), &frame(11));
        assert!(m.remove(A));
        assert!(!m.remove(A));
        assert!(!m.set_input(A, &frame(10)));
        assert_eq!(m.output(A), None);
        m.set_input(B, &frame(1));
        m.set_input(C, &frame(100));
        m.mix();
        assert_eq!(m.output(B).unwrap(), &frame(100));
        assert_eq!(m.output(C).unwrap(), &frame(1));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn the_announcement_reaches_everyone_until_it_ends() {
        let mut m = mixer(&[A, B]);
        let tone: Arc<[i16]> = (1..=FRAME_SAMPLES as i16 + 40).collect::<Vec<_>>().into();
        m.announce(tone.clone());
        m.set_input(A, &frame(1000));
        m.mix();
        let a = m.output(A).unwrap();
        let b = m.output(B).unwrap();
        assert_eq!(a[..], tone[..FRAME_SAMPLES]);
        assert!((0..FRAME_SAMPLES).all(|i| b[i] == tone[i] + 1000));
        assert!(m.announcing());
        m.mix();
        let a = m.output(A).unwrap();
        assert_eq!(a[..40], tone[FRAME_SAMPLES..]);
        assert!(a[40..].iter().all(|&s| s == 0));
        assert!(!m.announcing());
        m.mix();
        assert_eq!(m.output(B).unwrap(), &frame(0));
    }

    #[test]
    fn a_looping_announcement_starts_over_at_its_loop_until_stopped() {
        let mut m = mixer(&[A]);
        let tone: Arc<[i16]> = (1..=100).collect::<Vec<i16>>().into();
        m.announce_looping(tone, Some(60));
        m.mix();
        let expected: Vec<i16> = (1..=100).chain(61..=100).chain(61..=80).collect();
        assert_eq!(m.output(A).unwrap()[..], expected[..]);
        for _ in 0..1_000 {
            m.mix();
        }
        assert!(m.announcing(), "a loop never ends by itself");
        m.stop_announcement();
        m.mix();
        assert_eq!(m.output(A).unwrap(), &frame(0));
        m.announce_looping(vec![5; 10].into(), Some(10));
        m.mix();
        assert!(!m.announcing(), "a loop start past the end ends it");
    }

    #[test]
    fn the_mixer_is_bounded() {
        let mut m = Mixer::new();
        for i in 0..MAX_MEMBERS as u64 {
            m.add(MemberId(i)).unwrap();
        }
        assert_eq!(m.add(MemberId(u64::MAX)), Err(MixerError::Full));
        assert!(!m.is_empty());
    }

    #[test]
    fn beeps_have_their_length_and_gaps() {
        let b = beeps(620.0, 2, 100, 50, 8000);
        assert_eq!(b.len(), 2 * (800 + 400));
        assert!(b[800..1200].iter().all(|&s| s == 0));
        let peak = b[..800].iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((7900..=8000).contains(&peak), "{peak}");
    }
}
