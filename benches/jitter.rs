//! Jitter buffer hot path: one `push` and one `pop` per 20 ms packet in steady state (G.711
//! frames of 160 samples, packets arriving 5 ms after sending, the playout clock 3 ms later).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use pbx::media::jitter::{JitterBuffer, JitterConfig};

fn push_pop(c: &mut Criterion) {
    let mut jb = JitterBuffer::new(JitterConfig::default()).expect("default config is valid");
    let n = jb.frame_samples();
    let frame: Vec<i16> = (0..n).map(|i| ((i * 397) % 2000) as i16 - 1000).collect();
    let mut out = vec![0i16; n];
    let (start, mut k) = (Instant::now(), 0u64);
    c.bench_function("jitter push+pop per packet", |b| {
        b.iter(|| {
            let sent = start + Duration::from_millis(20 * k);
            let (seq, ts) = (k as u16, (k as u32).wrapping_mul(n as u32));
            black_box(jb.push(seq, ts, black_box(&frame), sent + Duration::from_millis(5)));
            let played = jb
                .pop(sent + Duration::from_millis(8), &mut out)
                .expect("a frame fits");
            k += 1;
            black_box((played, &out));
        })
    });
}

criterion_group!(benches, push_pop);
criterion_main!(benches);
