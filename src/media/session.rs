//! Per-leg RTP session (RFC 3550 §6.4.1 and appendices A.1, A.3, A.8): receive validation,
//! symmetric-RTP latching, statistics, inactivity detection, and the sequence and timestamp
//! space of the stream this leg sends (own frames and frames relayed from the other leg).
//!
//! Sans-IO: the session owns no socket. The edge (`call::media_io`) receives datagrams, feeds
//! them to [`RtpSession::handle_packet`], sends what [`RtpSession::write_packet`] and
//! [`RtpSession::forward_packet`] produce to [`RtpSession::remote`], and drives
//! [`RtpSession::poll_timeout`]/[`RtpSession::handle_timeout`]. Several sessions may share one
//! socket; the edge then demultiplexes by [`RtpSession::remote`].
//!
//! **Symmetric RTP (latching)**, as Asterisk's `rtp_symmetric`: we send to where the peer's
//! packets come from, not to the SDP address, which is wrong behind NAT. The rule:
//! - only a *valid* packet (parses as RTP, accepted payload type) can latch; garbage never does;
//! - while nothing is latched, the first valid packet latches its source address;
//! - once latched, valid packets from another address are rejected
//!   ([`RecvError::UnexpectedSource`]) unless the latched source has sent nothing valid for
//!   [`SessionConfig::relatch_after`]; then the new address is latched (a NAT rebinding or a
//!   moved peer). An SSRC change alone does not move the latch, so a stray stream cannot take
//!   over a live one;
//! - [`RtpSession::set_remote_from_sdp`] with a new address (re-INVITE) drops the latch.
//!
//! Receive statistics follow RFC 3550 A.1 and A.3 ([`SeqTracker`]): 32-bit extended sequence
//! numbers give `expected - received` as the loss; a jump of more than 3000 is believed only when
//! the next packet follows it ("two sequential packets"). A.8 jitter: "J(i) = J(i-1) +
//! (|D(i-1,i)| - J(i-1))/16", arrival time converted to timestamp units with the clock rate,
//! computed in the RFC's integer form.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use rand::RngCore;
use thiserror::Error;

use crate::media::rtp::{
    rewrite_in_place, set_marker, MediaTime, PayloadType, RtpError, RtpHeader, RtpPacket, SeqEvent,
    SeqNo, SeqTracker, Ssrc, HEADER_LEN,
};

/// Largest forward sequence jump that keeps a relayed source's mapping (RFC 3550 A.1
/// `MAX_DROPOUT`); a larger one re-bases.
const MAX_DROPOUT: i32 = 3000;
/// Largest backward sequence step that keeps a relayed source's mapping (A.1 `MAX_MISORDER`).
const MAX_MISORDER: i32 = 100;
/// Extra silence, beyond a frame's own duration, after which sending counts as a new talk spurt:
/// the timestamp then follows the wall clock and the marker is set. Larger than an edge timer's
/// scheduling jitter so paced frames never trip it.
const SEND_GAP: Duration = Duration::from_millis(60);

/// Default for [`SessionConfig::relatch_after`]: 25 frames of 20 ms.
pub const DEFAULT_RELATCH_AFTER: Duration = Duration::from_millis(500);
/// Default for [`SessionConfig::inactivity_timeout`]; like Asterisk's `rtptimeout`, meant for
/// hanging up calls whose peer vanished. The call logic should disable it while on hold.
pub const DEFAULT_INACTIVITY_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything a leg knows about its media stream when it creates the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// SSRC of the stream we send (random, RFC 3550 §8.1).
    pub local_ssrc: Ssrc,
    /// Sequence number of the first packet we send (random, RFC 3550 §5.1).
    pub initial_seq: SeqNo,
    /// Timestamp of the first packet we send (random, RFC 3550 §5.1).
    pub initial_timestamp: MediaTime,
    /// The peer's address from SDP; `None` until the answer (or offer) is known.
    pub remote: Option<SocketAddr>,
    /// The negotiated codec's payload type.
    pub codec_pt: PayloadType,
    /// The negotiated telephone-event (RFC 4733) payload type, if any.
    pub event_pt: Option<PayloadType>,
    /// The media clock rate, e.g. 8000 for G.711.
    pub clock_rate: NonZeroU32,
    /// Silence after which [`SessionEvent::Inactive`] is raised; zero disables it.
    pub inactivity_timeout: Duration,
    /// Silence of the latched source after which another address may latch.
    pub relatch_after: Duration,
}

impl SessionConfig {
    /// A configuration with random SSRC, sequence and timestamp from `rng` (the edge passes
    /// `rand::thread_rng()`, tests a seeded generator), no remote address yet, no
    /// telephone-event and default timeouts; set the other public fields as negotiated.
    pub fn new(codec_pt: PayloadType, clock_rate: NonZeroU32, rng: &mut impl RngCore) -> Self {
        SessionConfig {
            local_ssrc: Ssrc(rng.next_u32()),
            initial_seq: SeqNo(rng.next_u32() as u16),
            initial_timestamp: MediaTime(rng.next_u32()),
            remote: None,
            codec_pt,
            event_pt: None,
            clock_rate,
            inactivity_timeout: DEFAULT_INACTIVITY_TIMEOUT,
            relatch_after: DEFAULT_RELATCH_AFTER,
        }
    }
}

/// Something the leg should act on, from [`RtpSession::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// No valid packet for the inactivity timeout; `since` is the last valid arrival (or the
    /// session's start). Raised once, re-armed when valid packets return.
    Inactive {
        /// When the last valid packet arrived.
        since: Instant,
    },
}

/// A packet accepted by [`RtpSession::handle_packet`].
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The parsed packet: payload, payload type, marker, sequence, timestamp, SSRC.
    pub packet: RtpPacket<'a>,
    /// First packet of a new stream (a new SSRC, or the same SSRC restarting its sequence per
    /// RFC 3550 A.1): per-stream state such as a jitter buffer should be reset.
    pub new_source: bool,
    /// A copy of a packet already received; counted, and best dropped.
    pub duplicate: bool,
}

/// Why a received datagram was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RecvError {
    /// A multiplexed RTCP packet (RFC 5761); route it to RTCP handling. Not counted as rejected.
    #[error("RTCP packet type {packet_type} (rtcp-mux)")]
    Rtcp {
        /// The RTCP packet type.
        packet_type: u8,
    },
    /// Not a well-formed RTP packet.
    #[error("malformed RTP packet: {0}")]
    Malformed(RtpError),
    /// A payload type that was not negotiated for this leg.
    #[error("payload type {} not negotiated", .0.get())]
    UnacceptedPayloadType(PayloadType),
    /// A valid packet from an address other than the latched one while the latched source is
    /// still active (see the latching rule in the module doc).
    #[error("RTP from {from}, latched to {latched}")]
    UnexpectedSource {
        /// Where the packet came from.
        from: SocketAddr,
        /// The address the session is latched to.
        latched: SocketAddr,
    },
}

impl From<RtpError> for RecvError {
    fn from(err: RtpError) -> Self {
        match err {
            RtpError::Rtcp { packet_type } => RecvError::Rtcp { packet_type },
            other => RecvError::Malformed(other),
        }
    }
}

/// Why a packet could not be produced for sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SendError {
    /// The output buffer cannot hold header and payload.
    #[error("output buffer of {available} bytes too small, need {needed}")]
    BufferTooSmall {
        /// Bytes required.
        needed: usize,
        /// Bytes provided.
        available: usize,
    },
    /// The packet handed to [`RtpSession::forward_packet`] is not well-formed RTP.
    #[error("cannot forward malformed RTP: {0}")]
    Malformed(RtpError),
}

/// Counters of one session (RFC 3550 §6.4 report material). Byte counts are payload octets,
/// as the RTCP sender report counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SessionStats {
    /// Packets produced by `write_packet` and `forward_packet`.
    pub packets_sent: u64,
    /// Payload octets sent.
    pub bytes_sent: u64,
    /// Accepted packets, duplicates included.
    pub packets_received: u64,
    /// Payload octets of accepted packets.
    pub bytes_received: u64,
    /// Cumulative loss, `expected - received` summed over every stream (RFC 3550 A.3).
    pub lost: i64,
    /// Packets that arrived after a later sequence number.
    pub out_of_order: u64,
    /// Packets whose sequence number had already arrived.
    pub duplicates: u64,
    /// Times the remote SSRC changed.
    pub ssrc_changes: u64,
    /// Datagrams refused by `handle_packet` (malformed, wrong payload type, wrong source).
    pub rejected: u64,
    /// Interarrival jitter of the current remote stream (RFC 3550 A.8) in timestamp units, over
    /// codec packets only: RFC 4733 events reuse one timestamp per digit and would inflate it.
    pub jitter: f64,
    /// The same jitter in milliseconds.
    pub jitter_ms: f64,
}

/// The current remote stream.
#[derive(Debug, Clone, Copy)]
struct Source {
    ssrc: Ssrc,
    seq: SeqTracker,
    /// Last relative transit time for A.8, in timestamp units.
    transit: Option<u32>,
    /// A.8 interarrival jitter in timestamp units, times 16.
    jitter16: u64,
}

/// How our previous outgoing packet was made.
#[derive(Debug, Clone, Copy)]
enum Origin {
    /// By `write_packet`, which announced this timestamp advance for the next frame.
    Local { advance: u32 },
    /// By `forward_packet`, with this mapping from the other leg's stream.
    Forward(ForwardMap),
    /// By `write_event_packet`; `at`/`ts` still anchor the media clock where own media stopped.
    Event,
}

/// Offsets from a relayed source's sequence/timestamp space into ours.
#[derive(Debug, Clone, Copy)]
struct ForwardMap {
    ssrc: Ssrc,
    seq_offset: u16,
    ts_offset: u32,
    max_seq: SeqNo,
}

/// Our previous outgoing packet.
#[derive(Debug, Clone, Copy)]
struct LastSent {
    at: Instant,
    ts: MediaTime,
    origin: Origin,
}

/// One leg's RTP session; see the module doc for the latching rule and timing model.
#[derive(Debug)]
pub struct RtpSession {
    config: SessionConfig,
    /// Origin of the arrival clock used for jitter.
    epoch: Instant,
    latched: Option<SocketAddr>,
    last_valid: Instant,
    inactive_raised: bool,
    event: Option<SessionEvent>,
    source: Option<Source>,
    /// Loss of remote streams that ended (SSRC changes).
    lost_before: i64,
    stats: SessionStats,
    next_seq: SeqNo,
    last_sent: Option<LastSent>,
}

impl RtpSession {
    /// A session starting at `now`; the inactivity timer starts now too.
    pub fn new(config: SessionConfig, now: Instant) -> Self {
        RtpSession {
            next_seq: config.initial_seq,
            config,
            epoch: now,
            latched: None,
            last_valid: now,
            inactive_raised: false,
            event: None,
            source: None,
            lost_before: 0,
            stats: SessionStats::default(),
            last_sent: None,
        }
    }

    /// Validates and accounts one datagram from `from` that arrived at `now`; see the module
    /// doc for the latching rule. Rejected datagrams change nothing but `stats().rejected`.
    pub fn handle_packet<'a>(
        &mut self,
        from: SocketAddr,
        data: &'a [u8],
        now: Instant,
    ) -> Result<Received<'a>, RecvError> {
        let result = self.accept(from, data, now);
        if matches!(result, Err(ref e) if !matches!(e, RecvError::Rtcp { .. })) {
            self.stats.rejected += 1;
        }
        result
    }

    fn accept<'a>(
        &mut self,
        from: SocketAddr,
        data: &'a [u8],
        now: Instant,
    ) -> Result<Received<'a>, RecvError> {
        let packet = RtpPacket::parse(data)?;
        let pt = packet.payload_type();
        if pt != self.config.codec_pt && Some(pt) != self.config.event_pt {
            return Err(RecvError::UnacceptedPayloadType(pt));
        }
        if let Some(latched) = self.latched.filter(|&addr| addr != from) {
            if now.saturating_duration_since(self.last_valid) < self.config.relatch_after {
                return Err(RecvError::UnexpectedSource { from, latched });
            }
        }
        self.latched = Some(from);
        self.last_valid = now;
        self.inactive_raised = false;
        self.stats.packets_received += 1;
        self.stats.bytes_received += packet.payload().len() as u64;

        let (ssrc, seq) = (packet.ssrc(), packet.sequence());
        let event = match self.source.as_mut().filter(|s| s.ssrc == ssrc) {
            Some(source) => {
                let event = source.seq.update(seq);
                if event == SeqEvent::Restart {
                    source.transit = None;
                }
                Some(event)
            }
            None => {
                if let Some(old) = self.source.take() {
                    self.stats.ssrc_changes += 1;
                    self.lost_before += old.seq.lost();
                }
                self.source = Some(Source {
                    ssrc,
                    seq: SeqTracker::new(seq),
                    transit: None,
                    jitter16: 0,
                });
                None
            }
        };
        match event {
            Some(SeqEvent::Late) => self.stats.out_of_order += 1,
            Some(SeqEvent::Duplicate) => self.stats.duplicates += 1,
            _ => {}
        }
        let new_source = matches!(event, None | Some(SeqEvent::Restart));
        let duplicate = event == Some(SeqEvent::Duplicate);
        if !matches!(event, Some(SeqEvent::Duplicate | SeqEvent::Jump))
            && pt == self.config.codec_pt
        {
            self.update_jitter(packet.timestamp(), now);
        }
        Ok(Received {
            packet,
            new_source,
            duplicate,
        })
    }

    /// RFC 3550 A.8 on the current source.
    fn update_jitter(&mut self, ts: MediaTime, now: Instant) {
        let transit = (self.ticks_between(self.epoch, now) as u32).wrapping_sub(ts.0);
        if let Some(source) = self.source.as_mut() {
            if let Some(prev) = source.transit.replace(transit) {
                // The RFC's integer form, J scaled by 16 (no float decaying into subnormals);
                // (J + 8) >> 4 never exceeds J, so the subtraction cannot underflow.
                let d = u64::from((transit.wrapping_sub(prev) as i32).unsigned_abs());
                source.jitter16 = source.jitter16 - ((source.jitter16 + 8) >> 4) + d;
            }
        }
    }

    /// Builds one packet of our own media into `out` and returns its length. The packet is
    /// stamped with the current media clock, which then advances by `samples` (the frame's
    /// duration in clock ticks). When more than the previous frame's duration plus `SEND_GAP` of
    /// wall time passed since our last packet, the timestamp instead jumps by the wall time
    /// elapsed, so the peer's jitter buffer sees the real gap. The marker is set when asked, on
    /// the first packet, after such a gap, and after relayed media or RFC 4733 events.
    pub fn write_packet(
        &mut self,
        payload_type: PayloadType,
        samples: u32,
        marker: bool,
        payload: &[u8],
        out: &mut [u8],
        now: Instant,
    ) -> Result<usize, SendError> {
        let (ts, spurt) = self.next_local_ts(now);
        let len = self.emit(payload_type, ts, marker || spurt, payload, out)?;
        let origin = Origin::Local { advance: samples };
        self.last_sent = Some(LastSent {
            at: now,
            ts,
            origin,
        });
        Ok(len)
    }

    /// The timestamp our own media would carry if sent at `now`: the start timestamp to give an
    /// RFC 4733 event (`DtmfSender`).
    pub fn media_clock(&self, now: Instant) -> MediaTime {
        self.next_local_ts(now).0
    }

    /// Builds a packet stamped with the caller's `timestamp` into `out`: RFC 4733 §2.5.1.2
    /// event packets all carry their event's start, taken from [`Self::media_clock`]. The media
    /// clock keeps running meanwhile: the next `write_packet` is placed by wall clock (after
    /// the event) and marked.
    pub fn write_event_packet(
        &mut self,
        payload_type: PayloadType,
        timestamp: MediaTime,
        marker: bool,
        payload: &[u8],
        out: &mut [u8],
        now: Instant,
    ) -> Result<usize, SendError> {
        let len = self.emit(payload_type, timestamp, marker, payload, out)?;
        let (at, ts) = self
            .last_sent
            .map_or((now, timestamp), |last| (last.at, last.ts));
        self.last_sent = Some(LastSent {
            at,
            ts,
            origin: Origin::Event,
        });
        Ok(len)
    }

    /// Timestamp for own media sent at `now`, and whether it starts a talk spurt.
    fn next_local_ts(&self, now: Instant) -> (MediaTime, bool) {
        match self.last_sent {
            Some(LastSent {
                at,
                ts,
                origin: Origin::Local { advance },
            }) => {
                let gap = self.ticks(SEND_GAP) + u64::from(advance);
                if self.ticks_between(at, now) > gap {
                    (self.projected_ts(now), true)
                } else {
                    (ts.wrapping_add(advance), false)
                }
            }
            _ => (self.projected_ts(now), true),
        }
    }

    /// Writes header and payload into `out` with our SSRC and next sequence number.
    fn emit(
        &mut self,
        payload_type: PayloadType,
        timestamp: MediaTime,
        marker: bool,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        let needed = HEADER_LEN + payload.len();
        let available = out.len();
        let out = out
            .get_mut(..needed)
            .ok_or(SendError::BufferTooSmall { needed, available })?;
        let sequence = self.next_seq;
        let ssrc = self.config.local_ssrc;
        let header = RtpHeader {
            marker,
            payload_type,
            sequence,
            timestamp,
            ssrc,
        };
        let (head, body) = out.split_at_mut(HEADER_LEN);
        header.write(head).map_err(SendError::Malformed)?;
        body.copy_from_slice(payload);
        self.next_seq = sequence.wrapping_add(1);
        self.count_sent(payload.len());
        Ok(needed)
    }

    /// Moves a packet received on the other leg into this leg's stream in place: our SSRC,
    /// `payload_type` (this leg's number for the same codec or event), and our sequence and
    /// timestamp space. The mapping keeps the source's spacing (gaps, reordering) while the
    /// source is stable, and re-bases when it changes SSRC, jumps its sequence (early media to
    /// answer, re-INVITE) or follows our own media: the first packet then gets our next
    /// sequence number, a timestamp projected by wall clock from our previous packet, and the
    /// marker, so the peer sees one continuous stream.
    pub fn forward_packet(
        &mut self,
        incoming: &mut [u8],
        payload_type: PayloadType,
        now: Instant,
    ) -> Result<(), SendError> {
        let packet = RtpPacket::parse(incoming).map_err(SendError::Malformed)?;
        let (ssrc, seq, ts) = (packet.ssrc(), packet.sequence(), packet.timestamp());
        let payload_len = packet.payload().len();
        let current = match self.last_sent {
            Some(LastSent {
                origin: Origin::Forward(map),
                ..
            }) if map.ssrc == ssrc => {
                let delta = i32::from(seq.diff(map.max_seq));
                Some(map).filter(|_| (-MAX_MISORDER..=MAX_DROPOUT).contains(&delta))
            }
            _ => None,
        };
        let rebase = current.is_none();
        let mut map = current.unwrap_or_else(|| {
            let out_ts = self.projected_ts(now);
            ForwardMap {
                ssrc,
                seq_offset: self.next_seq.0.wrapping_sub(seq.0),
                ts_offset: out_ts.0.wrapping_sub(ts.0),
                max_seq: seq,
            }
        });
        let (out_seq, ts) = (
            seq.wrapping_add(map.seq_offset),
            ts.wrapping_add(map.ts_offset),
        );
        let ssrc = self.config.local_ssrc;
        rewrite_in_place(incoming, ssrc, out_seq, ts, payload_type)
            .map_err(SendError::Malformed)?;
        if rebase {
            set_marker(incoming, true).map_err(SendError::Malformed)?;
        }
        if rebase || seq.is_newer_than(map.max_seq) {
            map.max_seq = seq;
            self.next_seq = out_seq.wrapping_add(1);
            let origin = Origin::Forward(map);
            self.last_sent = Some(LastSent {
                at: now,
                ts,
                origin,
            });
        }
        self.count_sent(payload_len);
        Ok(())
    }

    /// Our timestamp for a packet sent at `now` after a discontinuity: the previous packet's
    /// timestamp plus the wall time since, at least one tick; the random start for the first.
    fn projected_ts(&self, now: Instant) -> MediaTime {
        match self.last_sent {
            Some(last) => last
                .ts
                .wrapping_add(self.ticks_between(last.at, now).max(1) as u32),
            None => self.config.initial_timestamp,
        }
    }

    /// Wall time from `earlier` to `now` in media clock ticks (not wrapped; 0 if negative).
    fn ticks_between(&self, earlier: Instant, now: Instant) -> u64 {
        self.ticks(now.saturating_duration_since(earlier))
    }

    /// A duration in media clock ticks (not wrapped).
    fn ticks(&self, d: Duration) -> u64 {
        let rate = u64::from(self.config.clock_rate.get());
        let sub = u64::from(d.subsec_nanos()) * rate / 1_000_000_000;
        d.as_secs().saturating_mul(rate).saturating_add(sub)
    }

    fn count_sent(&mut self, payload_len: usize) {
        self.stats.packets_sent += 1;
        self.stats.bytes_sent += payload_len as u64;
    }

    /// Where to send: the latched source address if any, else the SDP address.
    pub fn remote(&self) -> Option<SocketAddr> {
        self.latched.or(self.config.remote)
    }

    /// Takes the peer's address from a new SDP (re-INVITE). A different address drops the
    /// latch, so the next valid packet latches afresh; the same address keeps it.
    pub fn set_remote_from_sdp(&mut self, addr: SocketAddr) {
        if self.config.remote != Some(addr) {
            self.config.remote = Some(addr);
            self.latched = None;
        }
    }

    /// The SSRC of the stream we send.
    pub fn local_ssrc(&self) -> Ssrc {
        self.config.local_ssrc
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> SessionStats {
        let (lost, jitter16) = self.source.map_or((0, 0), |s| (s.seq.lost(), s.jitter16));
        let jitter = jitter16 as f64 / 16.0;
        SessionStats {
            lost: self.lost_before + lost,
            jitter,
            jitter_ms: jitter * 1000.0 / f64::from(self.config.clock_rate.get()),
            ..self.stats
        }
    }

    /// When `handle_timeout` must next be called; `None` when no timer is armed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.config.inactivity_timeout.is_zero() || self.inactive_raised {
            return None;
        }
        Some(self.last_valid + self.config.inactivity_timeout)
    }

    /// Fires due timers: raises [`SessionEvent::Inactive`] once the timeout has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|deadline| now >= deadline) {
            self.inactive_raised = true;
            self.event = Some(SessionEvent::Inactive {
                since: self.last_valid,
            });
        }
    }

    /// The next pending event, if any.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.event.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
