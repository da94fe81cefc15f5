//! Text-to-speech latency: a cache miss (espeak-ng runs, its 22.05 kHz WAV is decoded and
//! resampled to 8 kHz, the phrase saved to the disk cache) against a hit in memory and a hit
//! on disk (a fresh process reading the cached 8 kHz file). Needs espeak-ng installed.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};
use pbx::config::TtsConfig;
use pbx::tts::Tts;

/// The sentence spoken (about 2.5 s of speech); misses add a counter to make it new.
const SENTENCE: &str = "Thank you for calling. Please hold the line";

fn tts(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = TtsConfig {
        engine: "espeak-ng".into(),
        cache_dir: Some(dir.path().to_path_buf()),
        cache_size_mb: 64,
        timeout_secs: 20,
        ..TtsConfig::default()
    };
    let engine = Tts::new(&config).expect("espeak-ng must be installed");
    let mut group = c.benchmark_group("tts");
    group.sample_size(10);
    let counter = AtomicU64::new(0);
    group.bench_function("miss_engine_run", |b| {
        b.iter(|| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let text = format!("{SENTENCE} {n}");
            black_box(runtime.block_on(engine.speak("", "", &text)).unwrap())
        })
    });
    runtime.block_on(engine.speak("", "", SENTENCE)).unwrap();
    group.bench_function("hit_memory", |b| {
        b.iter(|| black_box(runtime.block_on(engine.speak("", "", SENTENCE)).unwrap()))
    });
    group.bench_function("hit_disk", |b| {
        b.iter(|| {
            let fresh = Tts::new(&config).unwrap();
            black_box(runtime.block_on(fresh.speak("", "", SENTENCE)).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, tts);
criterion_main!(benches);
