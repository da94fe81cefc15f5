//! Prompt player cost per 20 ms frame: pacing check, copy across sound boundaries and padding,
//! as a leg playing `Playback(a&b)` runs it every 20 ms.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pbx::media::player::Player;
use pbx::media::ptime::Ptime;
use pbx::media::wav::Sound;

/// Frames produced per measured batch: two sounds of 0.995 s and 1.005 s, so frames straddle
/// the boundary and the last one is padded.
const FRAMES: u64 = 100;

fn player_frames(c: &mut Criterion) {
    let sounds = vec![
        Arc::new(Sound::new("a", vec![1000; 7960])),
        Arc::new(Sound::new("b", vec![-1000; 8040])),
    ];
    let start = Instant::now();
    let ptime = Ptime::DEFAULT;
    let mut out = vec![0i16; ptime.samples()];
    let mut group = c.benchmark_group("player");
    group.throughput(Throughput::Elements(FRAMES));
    group.bench_function("next_frame_x100", |b| {
        b.iter_batched_ref(
            || Player::new(sounds.clone(), start, ptime),
            |player| {
                for n in 0..FRAMES {
                    let now = start + ptime.duration() * n as u32 + Duration::from_micros(300);
                    black_box(player.next_frame(now, &mut out));
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, player_frames);
criterion_main!(benches);
