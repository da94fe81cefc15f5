//! G.711 cost per 20 ms frame (160 samples): encode and decode for both laws, and the direct
//! mu-law to A-law transcode a bridge between a PCMU and a PCMA leg runs on every packet.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pbx::media::codec::g711;

/// Samples per 20 ms frame at 8 kHz.
const FRAME: usize = 160;

/// A speech-like frame: a 440 Hz tone plus a slower component, near full scale.
fn pcm_frame() -> [i16; FRAME] {
    std::array::from_fn(|i| {
        let t = i as f64 / 8000.0;
        let v = (t * 440.0 * std::f64::consts::TAU).sin() * 12000.0
            + (t * 97.0 * std::f64::consts::TAU).sin() * 8000.0;
        v as i16
    })
}

fn g711_frames(c: &mut Criterion) {
    let pcm = pcm_frame();
    let mut ulaw = [0u8; FRAME];
    let mut alaw = [0u8; FRAME];
    g711::encode_ulaw(&pcm, &mut ulaw);
    g711::encode_alaw(&pcm, &mut alaw);
    let mut bytes = [0u8; FRAME];
    let mut samples = [0i16; FRAME];

    let mut group = c.benchmark_group("g711_frame_160");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ulaw_encode", |b| {
        b.iter(|| g711::encode_ulaw(black_box(&pcm), &mut bytes))
    });
    group.bench_function("ulaw_decode", |b| {
        b.iter(|| g711::decode_ulaw(black_box(&ulaw), &mut samples))
    });
    group.bench_function("alaw_encode", |b| {
        b.iter(|| g711::encode_alaw(black_box(&pcm), &mut bytes))
    });
    group.bench_function("alaw_decode", |b| {
        b.iter(|| g711::decode_alaw(black_box(&alaw), &mut samples))
    });
    group.bench_function("ulaw_to_alaw_transcode", |b| {
        b.iter(|| g711::transcode_ulaw_to_alaw(black_box(&ulaw), &mut bytes))
    });
    group.finish();
}

criterion_group!(benches, g711_frames);
criterion_main!(benches);
