//! Unit tests of the jitter buffer: arrival traces (reordering, loss, bursts, jitter, sender
//! clock drift) played through a default buffer on a simulated clock, plus edge cases and
//! hostile input.

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

/// 10 and 30 ms frames (80 and 240 samples at 8 kHz), sent every frame interval and arriving
/// with up to 15 ms of random jitter, popped every frame interval: the frames play whole, in
/// order, and nearly all of them (the rest counted as dropped).
#[test]
fn ten_and_thirty_ms_frames_play_in_order_through_jitter() {
    for samples in [80usize, 240] {
        let frame_us = samples as i64 * 125;
        let config = JitterConfig {
            frame_samples: samples,
            ..JitterConfig::default()
        };
        let mut jb = JitterBuffer::new(config).unwrap();
        assert_eq!(jb.frame_samples(), samples);
        let mut rng = Rng(0x1234_5678_9ABC_DEF1);
        let n = 1500u32;
        let mut pkts = stream(n, frame_us as f64, |_| {
            Some(2_000 + (rng.next() * 15_000.0) as i64)
        });
        pkts.sort_by_key(|p| p.0);
        let base = Instant::now();
        let at = |us: i64| base + Duration::from_micros(us as u64);
        let (mut played, mut next, mut now) = (Vec::new(), 0, 1_000);
        let mut out = vec![0i16; samples];
        while next < pkts.len() || !jb.ring.is_empty() {
            while let Some(&(t, idx)) = pkts.get(next).filter(|p| p.0 <= now) {
                let mut frame = vec![4000i16; samples];
                frame[0] = (idx % 20_000) as i16 + 1;
                jb.push(idx as u16, idx * samples as u32, &frame, at(t));
                next += 1;
            }
            if jb.pop(at(now), &mut out).unwrap() == Frame::Audio {
                assert!(
                    out[1..].iter().all(|&s| s == 4000),
                    "{samples}: a partial frame"
                );
                played.push(out[0] as u32 - 1);
            }
            now += frame_us;
        }
        let s = jb.stats();
        assert!(increasing(&played), "{samples}: out of order");
        assert!(
            played.len() as u32 * 100 >= n * 98,
            "{samples}: {} of {n} played, {s:?}",
            played.len()
        );
        assert_eq!(
            played.len() as u64 + s.dropped_late + s.dropped_overflow,
            u64::from(n),
            "{samples}: {s:?}"
        );
        let short = jb.pop(at(now), &mut vec![0i16; samples - 1]);
        assert_eq!(short, Err(E::OutputTooShort(samples - 1, samples)));
    }
}
