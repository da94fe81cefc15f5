//! Unit tests of the transcoding playout on a simulated clock: senders of 10, 20 and 30 ms
//! packets played out to receivers of another ptime, pauses and packet-size changes.

use super::*;
use crate::media::jitter::CONCEAL_FRAMES;

/// Sample `n` of the test signal: a ramp, so the output shows which input samples it holds.
fn sample(n: usize) -> i16 {
    (n % 20_000) as i16 + 1
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sends `packets` packets of `sender_ms` at their due times (starting at `t0`) into a
/// playout of `receiver_ms`, stepping the clock by 1 ms for `run_ms`; returns each sent frame
/// with its time.
fn run(sender_ms: u64, receiver_ms: u32, packets: usize, run_ms: u64) -> Vec<(Instant, Vec<i16>)> {
    let t0 = Instant::now();
    let per_packet = sender_ms as usize * 8;
    let mut playout = Playout::new(Ptime::from_ms(receiver_ms).unwrap());
    let mut sent = Vec::new();
    let mut out = [0i16; MAX_FRAME_SAMPLES];
    let mut next_packet = 0;
    for step in 0..=run_ms {
        let now = t0 + ms(step);
        while next_packet < packets && t0 + ms(next_packet as u64 * sender_ms) <= now {
            let first = next_packet * per_packet;
            let pcm: Vec<i16> = (first..first + per_packet).map(sample).collect();
            let outcome = playout.push(next_packet as u16, first as u32, &pcm, now);
            assert_eq!(outcome, Ok(PushOutcome::Accepted));
            next_packet += 1;
        }
        if playout.poll_timeout().is_some_and(|due| due <= now) {
            while let Some(n) = playout.next_frame(now, &mut out) {
                sent.push((now, out[..n].to_vec()));
            }
        }
    }
    sent
}

/// The audio of `frames` with leading silence removed.
fn audio(frames: &[(Instant, Vec<i16>)]) -> Vec<i16> {
    let all: Vec<i16> = frames.iter().flat_map(|(_, f)| f.iter().copied()).collect();
    let start = all.iter().position(|&s| s != 0).unwrap_or(all.len());
    all[start..].to_vec()
}

#[test]
fn every_sender_ptime_reaches_every_receiver_ptime_in_full_and_in_order() {
    for (sender, receiver) in [(30, 20), (20, 30), (10, 20), (20, 10), (30, 10), (20, 20)] {
        // Two seconds of audio, then time to drain.
        let packets = 2000 / sender as usize;
        let frames = run(sender, receiver, packets, 2600);
        let want = receiver as usize * 8;
        assert!(!frames.is_empty(), "{sender}->{receiver}: nothing sent");
        assert!(
            frames.iter().all(|(_, f)| f.len() == want),
            "{sender}->{receiver}: frame sizes {:?}",
            frames
                .iter()
                .map(|(_, f)| f.len())
                .collect::<std::collections::BTreeSet<_>>()
        );
        let heard = audio(&frames);
        let expected: Vec<i16> = (0..packets * sender as usize * 8).map(sample).collect();
        // All of the input, in order, without repeats or gaps, then the concealment of the
        // last packet fading out.
        assert!(
            heard.len() >= expected.len(),
            "{sender}->{receiver}: {} of {} samples",
            heard.len(),
            expected.len()
        );
        let first_difference = (0..expected.len()).find(|&i| heard[i] != expected[i]);
        assert_eq!(first_difference, None, "{sender}->{receiver}");
        // Paced: one frame every receiver ptime once playing.
        let gaps: Vec<Duration> = frames.windows(2).map(|w| w[1].0 - w[0].0).collect();
        let paced = gaps
            .iter()
            .filter(|g| **g == ms(u64::from(receiver)))
            .count();
        assert!(
            paced + 3 >= gaps.len(),
            "{sender}->{receiver}: gaps {gaps:?}"
        );
    }
}

#[test]
fn a_paused_sender_stops_the_playout_and_the_next_packet_restarts_it() {
    let t0 = Instant::now();
    let mut playout = Playout::new(Ptime::from_ms(20).unwrap());
    let pcm = [1000i16; 240];
    assert_eq!(playout.poll_timeout(), None);
    playout.push(1, 0, &pcm, t0).unwrap();
    let mut out = [0i16; MAX_FRAME_SAMPLES];
    let mut sent = 0;
    for step in 0..500 {
        let now = t0 + ms(step);
        while playout.next_frame(now, &mut out).is_some() {
            sent += 1;
        }
    }
    // One 30 ms packet and its concealment (three fading frames) make six 20 ms frames.
    assert_eq!(sent, (1 + CONCEAL_FRAMES as usize) * 240 / 160);
    assert_eq!(playout.poll_timeout(), None);
    let later = t0 + ms(10_000);
    playout.push(2, 240, &pcm, later).unwrap();
    assert!(playout.poll_timeout().is_some_and(|due| due > later));
}

#[test]
fn a_new_packet_size_starts_a_new_buffer() {
    let t0 = Instant::now();
    let mut playout = Playout::new(Ptime::DEFAULT);
    playout.push(1, 0, &[5; 160], t0).unwrap();
    playout.push(2, 160, &[5; 240], t0 + ms(20)).unwrap();
    assert_eq!(
        playout.buffer.as_ref().map(JitterBuffer::frame_samples),
        Some(240)
    );
    assert!(playout.push(3, 400, &[5; 961], t0 + ms(40)).is_err());
    assert!(playout.push(4, 400, &[], t0 + ms(40)).is_err());
}

#[test]
fn a_short_output_gets_nothing() {
    let t0 = Instant::now();
    let mut playout = Playout::new(Ptime::from_ms(30).unwrap());
    playout.push(1, 0, &[5; 240], t0).unwrap();
    let mut short = [0i16; 160];
    assert_eq!(playout.next_frame(t0 + ms(500), &mut short), None);
}
