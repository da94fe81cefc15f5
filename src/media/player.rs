//! Prompt player: streams one or more sounds as frames of the peer's packetization time
//! ([`Ptime`]), paced on the caller's clock; or loops them for as long as wanted (music on hold).
//!
//! Sits between the prompt library (which hands out [`Sound`]s) and a leg's RTP sender, which
//! encodes each frame and sends it. RFC 3551 §4.5.14: "the default packetization interval is
//! 20 ms" for G.711 (160 samples at 8 kHz); a peer that asked for `a=ptime:30` gets 240-sample
//! frames, one for `a=ptime:10` 80-sample ones. `Playback(a&b)` plays its sounds back to back:
//! a frame may hold the end of one sound and the start of the next, and only the very last
//! frame is padded with silence. A looping player ([`Player::looping`]) starts over after the
//! last sound without a gap and never finishes; [`Player::repeating_last`] loops only the last
//! sound (a call-progress tone after an announcement).
//!
//! Sans-IO: the caller passes `now` in, waits until [`Player::poll_timeout`], then calls
//! [`Player::next_frame`]. Frame `n` is due at `start + n * ptime`, computed from the start
//! rather than from the previous frame, so pacing never drifts. A caller that polls late gets
//! the missed frames back to back, up to [`MAX_CATCH_UP_FRAMES`] of them; frames older than that
//! are skipped (their audio is dropped, the timestamps move on), so the far end hears the
//! prompt in step with real time instead of a long burst after a stall.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ptime::Ptime;
use super::wav::{Sound, SAMPLE_RATE};

/// How many overdue frames a late caller gets back to back before older ones are skipped;
/// enough to ride out a scheduling hiccup without bursting seconds of audio.
pub const MAX_CATCH_UP_FRAMES: u64 = 5;

/// What [`Player::next_frame`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// Sample clock of the frame's first sample, counted from the player's start (wraps like an
    /// RTP timestamp; add the stream's random base).
    pub timestamp_samples: u32,
    /// The frame's number: it was due at `start + index * ptime`.
    pub index: u64,
    /// How many samples are audio; the rest of the frame (at the end) is silence.
    pub audio_samples: usize,
    /// Frames skipped just before this one because the caller polled too late.
    pub skipped_frames: u64,
}

/// Streams a list of sounds as paced frames of one packetization time.
#[derive(Debug, Clone)]
pub struct Player {
    sounds: Vec<Arc<Sound>>,
    start: Instant,
    ptime: Ptime,
    /// Where to start over after the last sound: 0 loops everything (music on hold), the
    /// last index loops only the last sound (a repeating tone); `None` ends.
    loop_from: Option<usize>,
    /// Number of the next frame to produce.
    next_index: u64,
    /// The sound being played, an index into `sounds`.
    sound: usize,
    /// The next sample within that sound.
    offset: usize,
    /// Audio samples consumed so far, skipped ones included.
    consumed: u64,
    finished: bool,
}

impl Player {
    /// A player for `sounds` in order, in frames of `ptime`, whose first frame is due at `start`.
    pub fn new(sounds: Vec<Arc<Sound>>, start: Instant, ptime: Ptime) -> Player {
        Player::with_loop(sounds, start, ptime, None)
    }

    /// A player that loops `sounds` until stopped (music on hold). Sounds without samples
    /// only are finished at once.
    pub fn looping(sounds: Vec<Arc<Sound>>, start: Instant, ptime: Ptime) -> Player {
        Player::with_loop(sounds, start, ptime, Some(0))
    }

    /// A player that plays `sounds` in order and then loops the last one until stopped (a
    /// call-progress tone after an announcement). A last sound without samples ends it.
    pub fn repeating_last(sounds: Vec<Arc<Sound>>, start: Instant, ptime: Ptime) -> Player {
        let last = sounds.len().checked_sub(1);
        Player::with_loop(sounds, start, ptime, last)
    }

    fn with_loop(
        sounds: Vec<Arc<Sound>>,
        start: Instant,
        ptime: Ptime,
        loop_from: Option<usize>,
    ) -> Player {
        let audible = |from: usize| sounds[from..].iter().any(|s| !s.samples().is_empty());
        let loop_from = loop_from.filter(|from| audible(*from));
        let mut player = Player {
            sounds,
            start,
            ptime,
            loop_from,
            next_index: 0,
            sound: 0,
            offset: 0,
            consumed: 0,
            finished: false,
        };
        player.skip_exhausted_sounds();
        player.finished = player.sound >= player.sounds.len();
        player
    }

    /// When the next frame is due, or `None` once playback is over.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.finished {
            return None;
        }
        self.due(self.next_index)
    }

    /// The packetization of the frames.
    pub fn ptime(&self) -> Ptime {
        self.ptime
    }

    /// Writes the next frame into `out[..ptime.samples()]` if one is due at `now`. Returns
    /// `None` when no frame is due yet, when playback is over ([`Player::is_finished`] tells
    /// which) or when `out` is shorter than a frame.
    pub fn next_frame(&mut self, now: Instant, out: &mut [i16]) -> Option<FrameInfo> {
        if self.finished {
            return None;
        }
        let samples = self.ptime.samples();
        let out = out.get_mut(..samples)?;
        let due = self.due(self.next_index)?;
        let late = now.checked_duration_since(due)?;
        let late_frames =
            u64::try_from(late.as_nanos() / self.ptime.duration().as_nanos()).unwrap_or(u64::MAX);
        let skipped_frames = late_frames.saturating_sub(MAX_CATCH_UP_FRAMES);
        if skipped_frames > 0 {
            self.next_index = self.next_index.saturating_add(skipped_frames);
            self.advance(skipped_frames.saturating_mul(samples as u64));
            if self.sound >= self.sounds.len() {
                self.finished = true;
                return None;
            }
        }
        let audio_samples = self.fill(out);
        let index = self.next_index;
        self.next_index += 1;
        self.finished = self.sound >= self.sounds.len();
        Some(FrameInfo {
            timestamp_samples: index.wrapping_mul(samples as u64) as u32,
            index,
            audio_samples,
            skipped_frames,
        })
    }

    /// How much audio has been played (or skipped) so far.
    pub fn position(&self) -> Duration {
        Duration::from_nanos(
            self.consumed
                .saturating_mul(1_000_000_000 / u64::from(SAMPLE_RATE)),
        )
    }

    /// True once every sound has been played (never for a looping player) or [`Player::stop`]
    /// was called.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Goes on at `now` from where it stands after a pause: the next frame is due at `now`
    /// (frame numbers, and so [`FrameInfo::timestamp_samples`], count from here again).
    pub fn resume(&mut self, now: Instant) {
        self.start = now;
        self.next_index = 0;
    }

    /// Ends playback now, e.g. when a digit interrupts `Background` or `WaitExten`.
    pub fn stop(&mut self) {
        self.finished = true;
    }

    /// When frame `index` is due; `None` only if that instant is not representable.
    fn due(&self, index: u64) -> Option<Instant> {
        let frame_nanos = u64::from(self.ptime.ms()) * 1_000_000;
        self.start
            .checked_add(Duration::from_nanos(index.checked_mul(frame_nanos)?))
    }

    /// Copies up to one frame of audio into `out`, pads the rest with silence and returns the
    /// number of audio samples.
    fn fill(&mut self, out: &mut [i16]) -> usize {
        let mut written = 0;
        while written < out.len() {
            let Some(sound) = self.sounds.get(self.sound) else {
                break;
            };
            let rest = sound.samples().get(self.offset..).unwrap_or_default();
            let n = rest.len().min(out.len() - written);
            out[written..written + n].copy_from_slice(&rest[..n]);
            written += n;
            self.offset += n;
            self.consumed += n as u64;
            self.skip_exhausted_sounds();
        }
        out[written..].fill(0);
        written
    }

    /// Drops `samples` samples of audio without playing them.
    fn advance(&mut self, mut samples: u64) {
        if let Some(from) = self.loop_from.filter(|from| self.sound >= *from) {
            let total: u64 = self.sounds[from..]
                .iter()
                .map(|s| s.samples().len() as u64)
                .sum();
            samples %= total.max(1);
        }
        while samples > 0 {
            let Some(sound) = self.sounds.get(self.sound) else {
                break;
            };
            let left = sound.samples().len().saturating_sub(self.offset);
            let n = usize::try_from(samples).map_or(left, |s| s.min(left));
            self.offset += n;
            self.consumed += n as u64;
            samples -= n as u64;
            self.skip_exhausted_sounds();
        }
    }

    /// Moves past sounds that have no samples left; a looping player starts over at its loop
    /// after the last one (the loop has at least one sample, so this ends).
    fn skip_exhausted_sounds(&mut self) {
        while self
            .sounds
            .get(self.sound)
            .is_some_and(|s| self.offset >= s.samples().len())
        {
            self.sound += 1;
            self.offset = 0;
            if let Some(from) = self.loop_from.filter(|_| self.sound == self.sounds.len()) {
                self.sound = from;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples in a default (20 ms) frame.
    const FRAME_SAMPLES: usize = 160;
    const FRAME_DURATION: Duration = Duration::from_millis(20);

    fn sound(value: i16, len: usize) -> Arc<Sound> {
        Arc::new(Sound::new(format!("{value}x{len}"), vec![value; len]))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Calls `next_frame` at `now` until it returns `None`, collecting the frames.
    fn drain(player: &mut Player, now: Instant) -> Vec<FrameInfo> {
        let mut out = [0; FRAME_SAMPLES];
        std::iter::from_fn(|| player.next_frame(now, &mut out)).collect()
    }

    #[test]
    fn sixty_seconds_of_jittery_polling_do_not_drift() {
        let start = Instant::now();
        let mut player = Player::new(vec![sound(1, 61 * 8000)], start, Ptime::DEFAULT);
        let mut out = [0; FRAME_SAMPLES];
        for n in 0..3000u64 {
            let due = player.poll_timeout().unwrap();
            assert_eq!(due, start + ms(20 * n));
            let now = due + ms(n * 7 % 5); // the caller wakes up 0..4 ms late
            let frame = player.next_frame(now, &mut out).unwrap();
            let media_time = Duration::from_secs_f64(f64::from(frame.timestamp_samples) / 8000.0);
            let clock = now - start;
            assert!(
                clock >= media_time && clock - media_time < FRAME_DURATION,
                "frame {n}"
            );
            assert_eq!(
                (frame.index, frame.skipped_frames, frame.audio_samples),
                (n, 0, 160)
            );
        }
        assert_eq!(player.poll_timeout(), Some(start + Duration::from_secs(60)));
        assert_eq!(player.position(), Duration::from_secs(60));
    }

    #[test]
    fn a_resumed_player_goes_on_where_it_paused_without_catching_up() {
        let start = Instant::now();
        let mut player = Player::new(vec![sound(1, 800)], start, Ptime::DEFAULT);
        assert_eq!(drain(&mut player, start + ms(40)).len(), 3);
        // Paused for ten seconds: none of that time is owed afterwards.
        let back = start + ms(10_040);
        player.resume(back);
        assert_eq!(player.poll_timeout(), Some(back));
        assert_eq!(drain(&mut player, back).len(), 1);
        assert_eq!(player.position(), ms(80));
        assert_eq!(drain(&mut player, back + ms(20)).len(), 1);
        assert!(player.is_finished(), "800 samples are five frames");
    }

    #[test]
    fn early_polls_produce_nothing_and_consume_nothing() {
        let start = Instant::now() + ms(1000);
        let mut player = Player::new(vec![sound(3, 1000)], start, Ptime::DEFAULT);
        assert!(drain(&mut player, start - ms(1)).is_empty());
        assert_eq!(drain(&mut player, start).len(), 1);
        assert!(drain(&mut player, start + ms(19)).is_empty());
        assert!(!player.is_finished());
        assert_eq!(player.position(), ms(20));
    }

    #[test]
    fn a_late_caller_gets_the_missed_frames_back_to_back() {
        let start = Instant::now();
        let mut player = Player::new(vec![sound(1, 8000)], start, Ptime::DEFAULT);
        assert_eq!(drain(&mut player, start).len(), 1);
        let frames = drain(&mut player, start + ms(85));
        let indices: Vec<u64> = frames.iter().map(|f| f.index).collect();
        assert_eq!(indices, [1, 2, 3, 4]);
        assert!(frames.iter().all(|f| f.skipped_frames == 0));
        assert_eq!(frames[3].timestamp_samples, 640);
        assert_eq!(player.poll_timeout(), Some(start + ms(100)));
    }

    #[test]
    fn a_very_late_caller_skips_all_but_the_catch_up_window() {
        let start = Instant::now();
        let mut player = Player::new(vec![sound(1, 16000)], start, Ptime::DEFAULT);
        assert_eq!(drain(&mut player, start).len(), 1);
        let frames = drain(&mut player, start + ms(1003));
        // Frames 1..=50 were due: 1..=44 are skipped, the five overdue ones 45..=49 and the
        // current one, 50, are sent.
        let indices: Vec<u64> = frames.iter().map(|f| f.index).collect();
        assert_eq!(indices, (45..=50).collect::<Vec<_>>());
        assert_eq!(frames[0].skipped_frames, 44);
        assert_eq!(frames[0].timestamp_samples, 45 * 160);
        assert!(frames[1..].iter().all(|f| f.skipped_frames == 0));
        assert_eq!(player.poll_timeout(), Some(start + ms(1020)));
        assert_eq!(player.position(), ms(1020));
    }

    #[test]
    fn skipping_past_the_end_finishes() {
        let start = Instant::now();
        let mut player = Player::new(vec![sound(1, 800)], start, Ptime::DEFAULT);
        assert!(drain(&mut player, start + Duration::from_secs(5)).is_empty());
        assert!(player.is_finished());
        assert_eq!(player.poll_timeout(), None);
    }

    #[test]
    fn sounds_play_back_to_back_and_only_the_last_frame_is_padded() {
        let start = Instant::now();
        let sounds = vec![sound(1, 250), sound(9, 0), sound(2, 100)];
        let mut player = Player::new(sounds, start, Ptime::DEFAULT);
        let mut out = [7; FRAME_SAMPLES];
        let first = player.next_frame(start, &mut out).unwrap();
        assert_eq!((first.audio_samples, out), (160, [1; FRAME_SAMPLES]));
        let second = player.next_frame(start + ms(20), &mut out).unwrap();
        assert_eq!(second.audio_samples, 160);
        assert!(out[..90].iter().all(|&s| s == 1) && out[90..].iter().all(|&s| s == 2));
        assert!(!player.is_finished());
        let last = player.next_frame(start + ms(40), &mut out).unwrap();
        assert_eq!((last.audio_samples, last.timestamp_samples), (30, 320));
        assert!(out[..30].iter().all(|&s| s == 2) && out[30..].iter().all(|&s| s == 0));
        assert!(player.is_finished());
        assert_eq!(player.poll_timeout(), None);
        assert_eq!(player.next_frame(start + ms(60), &mut out), None);
        assert_eq!(player.position(), Duration::from_micros(350 * 125));
    }

    #[test]
    fn a_sound_ending_on_a_frame_boundary_adds_no_silent_frame() {
        let start = Instant::now();
        let mut player = Player::new(vec![sound(5, 320)], start, Ptime::DEFAULT);
        let frames = drain(&mut player, start + ms(40));
        assert_eq!(frames.len(), 2);
        assert!(frames.iter().all(|f| f.audio_samples == 160));
        assert!(player.is_finished());
    }

    #[test]
    fn stop_interrupts_and_empty_lists_are_finished_at_once() {
        let start = Instant::now();
        let mut player = Player::new(vec![sound(1, 8000)], start, Ptime::DEFAULT);
        assert_eq!(drain(&mut player, start).len(), 1);
        player.stop();
        assert!(player.is_finished());
        assert_eq!(player.poll_timeout(), None);
        assert!(drain(&mut player, start + ms(200)).is_empty());
        assert_eq!(player.position(), ms(20));
        for sounds in [vec![], vec![sound(1, 0), sound(2, 0)]] {
            let mut empty = Player::new(sounds, start, Ptime::DEFAULT);
            assert!(empty.is_finished() && empty.poll_timeout().is_none());
            assert!(drain(&mut empty, start).is_empty());
        }
    }

    /// A sound whose sample `i` is `i` (so frames show where they came from).
    fn ramp(len: usize) -> Arc<Sound> {
        Arc::new(Sound::new("ramp", (0..len).map(|i| i as i16).collect()))
    }

    #[test]
    fn frames_follow_the_ptime_in_size_pacing_and_timestamps() {
        for (ptime_ms, samples) in [(10u64, 80usize), (20, 160), (30, 240)] {
            let start = Instant::now();
            let ptime = Ptime::from_ms(ptime_ms as u32).unwrap();
            let mut player = Player::new(vec![ramp(2400)], start, ptime);
            let mut out = [0i16; 960];
            let mut frames = 0;
            while let Some(due) = player.poll_timeout() {
                assert_eq!(due, start + ms(ptime_ms * frames), "{ptime_ms} ms");
                let frame = player.next_frame(due, &mut out).unwrap();
                assert_eq!(frame.audio_samples, samples, "{ptime_ms} ms");
                assert_eq!(frame.timestamp_samples as usize, frames as usize * samples);
                assert_eq!(out[0] as usize, frames as usize * samples);
                assert_eq!(
                    out[samples - 1] as usize,
                    (frames as usize + 1) * samples - 1
                );
                frames += 1;
            }
            assert_eq!(frames as usize, 2400 / samples, "{ptime_ms} ms");
            assert_eq!(player.position(), Duration::from_millis(300));
        }
    }

    #[test]
    fn an_output_shorter_than_a_frame_gets_nothing() {
        let start = Instant::now();
        let mut player = Player::new(vec![ramp(800)], start, Ptime::from_ms(30).unwrap());
        let mut short = [0i16; 160];
        assert_eq!(player.next_frame(start, &mut short), None);
        assert_eq!(player.position(), Duration::ZERO);
    }

    #[test]
    fn a_looping_player_starts_over_without_a_gap_and_never_finishes() {
        let start = Instant::now();
        let ptime = Ptime::from_ms(30).unwrap();
        let mut player = Player::looping(vec![ramp(100), ramp(50)], start, ptime);
        let mut out = [0i16; 240];
        let frame = player.next_frame(start, &mut out).unwrap();
        assert_eq!(frame.audio_samples, 240);
        let expected: Vec<i16> = (0..100).chain(0..50).chain(0..90).collect();
        assert_eq!(out.to_vec(), expected);
        // An hour later (skipping all but the catch-up window) it still plays, in step.
        let later = start + Duration::from_secs(3600);
        let mut played = 0;
        while let Some(frame) = player.next_frame(later, &mut out) {
            assert_eq!(frame.audio_samples, 240);
            played += 1;
        }
        assert_eq!(played, MAX_CATCH_UP_FRAMES + 1);
        assert!(!player.is_finished());
        assert_eq!(player.poll_timeout(), Some(later + ms(30)));
        // The loop is 150 samples: the frame at sample offset n*240 starts at n*240 % 150.
        let next = player.next_frame(later + ms(30), &mut out).unwrap();
        let offset = (next.index as usize * 240) % 150;
        let first = if offset < 100 { offset } else { offset - 100 };
        assert_eq!(out[0] as usize, first);
    }

    #[test]
    fn a_player_repeating_its_last_sound_plays_the_others_once() {
        let start = Instant::now();
        let mut player = Player::repeating_last(vec![ramp(100), ramp(50)], start, Ptime::DEFAULT);
        let mut out = [0i16; FRAME_SAMPLES];
        player.next_frame(start, &mut out).unwrap();
        let expected: Vec<i16> = (0..100).chain(0..50).chain(0..10).collect();
        assert_eq!(out.to_vec(), expected);
        player.next_frame(start + FRAME_DURATION, &mut out).unwrap();
        let expected: Vec<i16> = (10..50).chain(0..50).chain(0..50).chain(0..20).collect();
        assert_eq!(
            out.to_vec(),
            expected,
            "only the last sound comes round again"
        );
        let later = start + Duration::from_secs(3600);
        while player.next_frame(later, &mut out).is_some() {}
        assert!(!player.is_finished());
        let mut silent_tail =
            Player::repeating_last(vec![ramp(100), ramp(0)], start, Ptime::DEFAULT);
        assert_eq!(
            drain(&mut silent_tail, start).len(),
            1,
            "nothing to loop: it ends"
        );
    }

    #[test]
    fn looping_silence_or_nothing_finishes_at_once() {
        let start = Instant::now();
        for sounds in [vec![], vec![ramp(0)]] {
            let mut player = Player::looping(sounds, start, Ptime::DEFAULT);
            assert!(player.is_finished());
            assert_eq!(player.next_frame(start, &mut [0; 160]), None);
        }
    }
}
