//! Unit tests of the RTP session: receive statistics and RFC 3550 A.8 jitter, latching,
//! SSRC changes, rtcp-mux routing, inactivity, and the sequence and timestamp space of sent and
//! relayed packets, on a simulated clock.

use super::*;
use crate::media::rtp::RtpHeader;
use rand::{rngs::StdRng, SeedableRng};

const PCMU: PayloadType = PayloadType::PCMU;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], port))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn session(t0: Instant) -> RtpSession {
    let rate = NonZeroU32::new(8000).unwrap();
    let mut config = SessionConfig::new(PCMU, rate, &mut StdRng::seed_from_u64(7));
    config.event_pt = Some(PayloadType::new(101).unwrap());
    config.remote = Some(addr(4000));
    config.inactivity_timeout = Duration::from_secs(5);
    RtpSession::new(config, t0)
}

fn packet(ssrc: u32, seq: u16, ts: u32, pt: PayloadType) -> [u8; 172] {
    let mut buf = [0xff; 172];
    let header = RtpHeader {
        marker: false,
        payload_type: pt,
        sequence: SeqNo(seq),
        timestamp: MediaTime(ts),
        ssrc: Ssrc(ssrc),
    };
    header.write(&mut buf).unwrap();
    buf
}

/// Feeds a PCMU packet of SSRC 1; returns whether it was a duplicate.
fn feed(s: &mut RtpSession, from: u16, seq: u16, at: Instant) -> Result<bool, RecvError> {
    let buf = packet(1, seq, 0, PCMU);
    s.handle_packet(addr(from), &buf, at).map(|r| r.duplicate)
}

#[test]
fn receive_stats_across_the_wrap() {
    let t0 = Instant::now();
    let mut s = session(t0);
    for (i, seq) in [65533, 65534, 0, 2, 1, 1].into_iter().enumerate() {
        let at = t0 + ms(20 * i as u64);
        assert_eq!(feed(&mut s, 4000, seq, at), Ok(i == 5));
    }
    let st = s.stats();
    assert_eq!((st.packets_received, st.bytes_received), (6, 6 * 160));
    let counts = (st.lost, st.out_of_order, st.duplicates, st.rejected);
    assert_eq!(counts, (1, 1, 1, 0));
}

#[test]
fn jitter_matches_rfc3550_a8() {
    let t0 = Instant::now();
    let mut s = session(t0);
    // Frames every 20 ms, every other one delayed 5 ms (40 ticks): |D| = 40 each time, so
    // J(k) = 40 * (1 - (15/16)^k) after k differences; the RFC's integer form rounds, and
    // settles at 632/16 = 39.5.
    for i in 0..50u16 {
        let late = if i % 2 == 1 { ms(5) } else { ms(0) };
        let at = t0 + ms(20 * u64::from(i)) + late;
        let buf = packet(1, i, 160 * u32::from(i), PCMU);
        s.handle_packet(addr(4000), &buf, at).unwrap();
    }
    // An RFC 4733 packet reusing an old timestamp does not count.
    let event = packet(1, 50, 0, PayloadType::new(101).unwrap());
    s.handle_packet(addr(4000), &event, t0 + ms(1000)).unwrap();
    let expected = 40.0 * (1.0 - (15.0f64 / 16.0).powi(49));
    let st = s.stats();
    assert!((st.jitter - expected).abs() < 0.6, "{st:?} vs {expected}");
    assert!((st.jitter_ms - st.jitter / 8.0).abs() < 1e-9);
}

#[test]
fn symmetric_rtp_latching() {
    let t0 = Instant::now();
    let mut s = session(t0);
    assert_eq!(s.remote(), Some(addr(4000)));
    // Invalid packets never latch.
    let bad_pt = packet(1, 1, 0, PayloadType::PCMA);
    let err = s.handle_packet(addr(5000), &bad_pt, t0).unwrap_err();
    assert_eq!(err, RecvError::UnacceptedPayloadType(PayloadType::PCMA));
    assert!(s.handle_packet(addr(5000), &[0x80, 0, 1], t0).is_err());
    assert_eq!((s.remote(), s.stats().rejected), (Some(addr(4000)), 2));
    // The first valid packet latches, wherever it comes from.
    feed(&mut s, 5000, 1, t0).unwrap();
    assert_eq!(s.remote(), Some(addr(5000)));
    // Another address is refused while the latched source is active...
    let err = feed(&mut s, 6000, 2, t0 + ms(480));
    let (from, latched) = (addr(6000), addr(5000));
    assert_eq!(err, Err(RecvError::UnexpectedSource { from, latched }));
    // ...and latches once it has been silent for `relatch_after`.
    feed(&mut s, 6000, 3, t0 + ms(500)).unwrap();
    assert_eq!(s.remote(), Some(addr(6000)));
    // The same SDP address keeps the latch; a new one drops it until the next packet.
    s.set_remote_from_sdp(addr(4000));
    assert_eq!(s.remote(), Some(addr(6000)));
    s.set_remote_from_sdp(addr(4002));
    assert_eq!(s.remote(), Some(addr(4002)));
    feed(&mut s, 7000, 4, t0 + ms(520)).unwrap();
    assert_eq!(s.remote(), Some(addr(7000)));
}

#[test]
fn ssrc_change_starts_a_new_stream() {
    let t0 = Instant::now();
    let mut s = session(t0);
    for seq in [100, 101, 103] {
        assert!(!feed(&mut s, 4000, seq, t0).unwrap());
    }
    let first = packet(2, 9000, 0, PCMU);
    let r = s.handle_packet(addr(4000), &first, t0).unwrap();
    assert!(r.new_source && !r.duplicate);
    assert_eq!(
        (r.packet.ssrc(), r.packet.sequence()),
        (Ssrc(2), SeqNo(9000))
    );
    let next = packet(2, 9002, 0, PCMU);
    assert!(!s.handle_packet(addr(4000), &next, t0).unwrap().new_source);
    let st = s.stats();
    assert_eq!((st.ssrc_changes, st.lost, st.out_of_order), (1, 2, 0));
}

#[test]
fn rtcp_is_routed_not_rejected() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let rr = [0x80, 201, 0, 1, 0, 0, 0, 1];
    let err = s.handle_packet(addr(4000), &rr, t0).unwrap_err();
    assert_eq!(err, RecvError::Rtcp { packet_type: 201 });
    assert_eq!((s.stats().rejected, s.remote()), (0, Some(addr(4000))));
}

#[test]
fn inactivity_raised_once_and_rearmed() {
    let t0 = Instant::now();
    let mut s = session(t0);
    assert_eq!(s.poll_timeout(), Some(t0 + ms(5000)));
    s.handle_timeout(t0 + ms(4999));
    assert_eq!(s.poll_event(), None);
    s.handle_timeout(t0 + ms(5000));
    assert_eq!(s.poll_event(), Some(SessionEvent::Inactive { since: t0 }));
    assert_eq!((s.poll_timeout(), s.poll_event()), (None, None));
    s.handle_timeout(t0 + ms(9000));
    assert_eq!(s.poll_event(), None);
    // Invalid packets do not re-arm; valid ones do.
    let _ = s.handle_packet(addr(4000), &[0u8; 20], t0 + ms(6000));
    assert_eq!(s.poll_timeout(), None);
    feed(&mut s, 4000, 1, t0 + ms(7000)).unwrap();
    assert_eq!(s.poll_timeout(), Some(t0 + ms(12000)));
    s.handle_timeout(t0 + ms(12000));
    let since = t0 + ms(7000);
    assert_eq!(s.poll_event(), Some(SessionEvent::Inactive { since }));
    let mut off = session(t0);
    off.config.inactivity_timeout = Duration::ZERO;
    off.handle_timeout(t0 + Duration::from_secs(3600));
    assert_eq!((off.poll_timeout(), off.poll_event()), (None, None));
}

#[test]
fn a_held_stream_may_stay_silent_and_the_timer_restarts_on_unhold() {
    let t0 = Instant::now();
    let mut s = session(t0);
    feed(&mut s, 4000, 1, t0 + ms(1000)).unwrap();
    s.set_expecting(false, t0 + ms(2000));
    assert_eq!(s.poll_timeout(), None);
    let an_hour = t0 + Duration::from_secs(3600);
    s.handle_timeout(an_hour);
    assert_eq!(s.poll_event(), None);
    // Unhold: the peer has the full timeout from now to start sending again.
    s.set_expecting(true, an_hour);
    assert_eq!(s.poll_timeout(), Some(an_hour + ms(5000)));
    s.handle_timeout(an_hour + ms(4999));
    assert_eq!(s.poll_event(), None);
    s.handle_timeout(an_hour + ms(5000));
    assert_eq!(
        s.poll_event(),
        Some(SessionEvent::Inactive { since: an_hour })
    );
    // Expecting again while expecting changes nothing; a packet re-arms as usual.
    s.set_expecting(true, an_hour + ms(6000));
    assert_eq!(s.poll_timeout(), None);
    feed(&mut s, 4000, 2, an_hour + ms(7000)).unwrap();
    assert_eq!(s.poll_timeout(), Some(an_hour + ms(12000)));
}

/// Marker, sequence and timestamp of a sent packet relative to the session's random start.
fn sent(s: &RtpSession, buf: &[u8]) -> (bool, i16, i32) {
    let p = RtpPacket::parse(buf).unwrap();
    assert_eq!(p.ssrc(), s.local_ssrc());
    let (seq0, ts0) = (s.config.initial_seq, s.config.initial_timestamp);
    (p.marker(), p.sequence().diff(seq0), p.timestamp().diff(ts0))
}

#[test]
fn write_packet_numbers_and_times_frames() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let (mut out, frame) = ([0u8; 200], [0xd5; 160]);
    let mut send = |s: &mut RtpSession, at: u64, marker: bool| {
        let len = s.write_packet(PCMU, 160, marker, &frame, &mut out, t0 + ms(at));
        assert_eq!((len, &out[12..172]), (Ok(172), &frame[..]));
        sent(s, &out[..172])
    };
    assert_eq!(send(&mut s, 0, false), (true, 0, 0));
    // Paced frames, one 40 ms late (timer jitter), keep the nominal timestamp.
    assert_eq!(send(&mut s, 20, false), (false, 1, 160));
    assert_eq!(send(&mut s, 80, false), (false, 2, 320));
    assert_eq!(send(&mut s, 100, true), (true, 3, 480));
    // After a second of silence the timestamp follows the wall clock and the marker is set.
    assert_eq!(send(&mut s, 1100, false), (true, 4, 480 + 8000));
    // An RFC 4733 event keeps its start timestamp; audio after it resumes by wall clock.
    let start = s.media_clock(t0 + ms(1120));
    assert_eq!(start.diff(s.config.initial_timestamp), 8640);
    let ev = PayloadType::new(101).unwrap();
    for (i, at) in [1120, 1140, 1160, 1180].into_iter().enumerate() {
        let len =
            s.write_event_packet(ev, start, i == 0, &[1, 0x8a, 0, 160], &mut out, t0 + ms(at));
        assert_eq!(sent(&s, &out[..len.unwrap()]), (i == 0, 5 + i as i16, 8640));
    }
    let len = s.write_packet(PCMU, 160, false, &frame, &mut out, t0 + ms(1200));
    assert_eq!(sent(&s, &out[..len.unwrap()]), (true, 9, 8480 + 800));
    let st = s.stats();
    assert_eq!((st.packets_sent, st.bytes_sent), (10, 6 * 160 + 4 * 4));
    let err = s.write_packet(PCMU, 160, false, &frame, &mut [0u8; 171], t0);
    let needed = SendError::BufferTooSmall {
        needed: 172,
        available: 171,
    };
    assert_eq!(err, Err(needed));
}

#[test]
fn forwarding_keeps_one_stream_across_source_changes() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let pt8 = PayloadType::PCMA;
    let relay = |s: &mut RtpSession, ssrc: u32, seq: u16, ts: u32, at: u64| {
        let mut buf = packet(ssrc, seq, ts, PCMU);
        s.forward_packet(&mut buf, pt8, t0 + ms(at)).unwrap();
        let p = RtpPacket::parse(&buf).unwrap();
        assert_eq!((p.payload_type(), p.payload()), (pt8, &[0xff; 160][..]));
        sent(s, &buf)
    };
    // Early media: source 1 keeps its spacing, a lost packet stays a gap, a late one fits.
    assert_eq!(relay(&mut s, 1, 65535, 1000, 0), (true, 0, 0));
    assert_eq!(relay(&mut s, 1, 0, 1160, 20), (false, 1, 160));
    assert_eq!(relay(&mut s, 1, 2, 1480, 60), (false, 3, 480));
    assert_eq!(relay(&mut s, 1, 1, 1320, 61), (false, 2, 320));
    // Answer: a new SSRC with unrelated numbers continues our stream after 20 ms.
    assert_eq!(relay(&mut s, 2, 500, 9_000_000, 80), (true, 4, 640));
    assert_eq!(relay(&mut s, 2, 501, 9_000_160, 100), (false, 5, 800));
    // Same SSRC jumping its sequence (re-INVITE to another media server) re-bases too.
    assert_eq!(relay(&mut s, 2, 30000, 5, 120), (true, 6, 960));
    // Our own prompt frames continue the sequence; relaying afterwards re-bases again.
    let mut out = [0u8; 200];
    let len = s.write_packet(PCMU, 160, false, &[0; 160], &mut out, t0 + ms(140));
    assert_eq!(sent(&s, &out[..len.unwrap()]), (true, 7, 1120));
    assert_eq!(relay(&mut s, 2, 30001, 165, 160), (true, 8, 1280));
    assert_eq!(s.stats().packets_sent, 9);
    let err = s.forward_packet(&mut [0x80u8; 11], pt8, t0).unwrap_err();
    assert!(matches!(err, SendError::Malformed(_)));
}
