//! Per-packet costs of the RTP core: parsing plus in-place rewrite, building a 160-byte G.711
//! frame (20 ms at 8 kHz), receive accounting with latching, loss and jitter, and the relay path
//! `forward_packet` (the last two renumber one preallocated packet in place per iteration, a few
//! ns of their figures).
//! Run: `cargo bench --bench rtp -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pbx::media::rtp::{
    rewrite_in_place, MediaTime, PayloadType, RtpHeader, RtpPacket, SeqNo, Ssrc,
};
use pbx::media::session::{RtpSession, SessionConfig};
use rand::{rngs::StdRng, SeedableRng};

const FRAME: usize = 160;

/// A 172-byte PCMU packet of SSRC 0x1234 with the given sequence number and timestamp.
fn packet(seq: u16, ts: u32) -> [u8; 12 + FRAME] {
    let mut buf = [0xd5; 12 + FRAME];
    let header = RtpHeader {
        marker: false,
        payload_type: PayloadType::PCMU,
        sequence: SeqNo(seq),
        timestamp: MediaTime(ts),
        ssrc: Ssrc(0x1234),
    };
    header.write(&mut buf).expect("172 bytes hold a header");
    buf
}

fn session(now: Instant) -> RtpSession {
    let rate = NonZeroU32::new(8000).expect("non-zero");
    let config = SessionConfig::new(PayloadType::PCMU, rate, &mut StdRng::seed_from_u64(1));
    RtpSession::new(config, now)
}

fn parse_and_rewrite(c: &mut Criterion) {
    let mut buf = packet(1, 160);
    let mut group = c.benchmark_group("rtp");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse+rewrite_in_place", |b| {
        b.iter(|| {
            let p = RtpPacket::parse(black_box(&buf)).expect("valid packet");
            let (seq, ts) = (
                p.sequence().wrapping_add(7),
                p.timestamp().wrapping_add(160),
            );
            rewrite_in_place(&mut buf, Ssrc(42), seq, ts, PayloadType::PCMA).expect("12+ bytes");
            black_box(&buf);
        })
    });
    group.finish();
}

fn write_packet(c: &mut Criterion) {
    let t0 = Instant::now();
    let mut s = session(t0);
    let (frame, mut out) = ([0xd5u8; FRAME], [0u8; 1500]);
    let mut at = t0;
    let mut group = c.benchmark_group("session");
    group.throughput(Throughput::Elements(1));
    group.bench_function("write_packet 160 B", |b| {
        b.iter(|| {
            at += Duration::from_millis(20);
            let pt = PayloadType::PCMU;
            let len = s.write_packet(pt, 160, false, black_box(&frame), &mut out, at);
            black_box(len.expect("1500 bytes hold a frame"));
        })
    });
    group.finish();
}

fn handle_packet(c: &mut Criterion) {
    let t0 = Instant::now();
    let mut s = session(t0);
    let from = SocketAddr::from(([192, 0, 2, 1], 4000));
    let (mut seq, mut at, mut buf) = (0u16, t0, packet(0, 0));
    let mut group = c.benchmark_group("session");
    group.throughput(Throughput::Elements(1));
    group.bench_function("handle_packet", |b| {
        b.iter(|| {
            seq = seq.wrapping_add(1);
            at += Duration::from_millis(20);
            let (ssrc, ts, pt) = (
                Ssrc(0x1234),
                MediaTime(u32::from(seq) * 160),
                PayloadType::PCMU,
            );
            rewrite_in_place(&mut buf, ssrc, SeqNo(seq), ts, pt).expect("12+ bytes");
            let r = s
                .handle_packet(from, black_box(&buf), at)
                .expect("valid packet");
            black_box(r.packet.payload().len());
        })
    });
    group.finish();
}

fn forward_packet(c: &mut Criterion) {
    let t0 = Instant::now();
    let mut s = session(t0);
    let (mut seq, mut at, mut buf) = (0u16, t0, packet(0, 0));
    let mut group = c.benchmark_group("session");
    group.throughput(Throughput::Elements(1));
    group.bench_function("forward_packet", |b| {
        b.iter(|| {
            seq = seq.wrapping_add(1);
            at += Duration::from_millis(20);
            let (ssrc, ts, pt) = (
                Ssrc(0x1234),
                MediaTime(u32::from(seq) * 160),
                PayloadType::PCMU,
            );
            rewrite_in_place(&mut buf, ssrc, SeqNo(seq), ts, pt).expect("12+ bytes");
            s.forward_packet(black_box(&mut buf), PayloadType::PCMA, at)
                .expect("valid packet");
            black_box(&buf);
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    parse_and_rewrite,
    write_packet,
    handle_packet,
    forward_packet
);
criterion_main!(benches);
