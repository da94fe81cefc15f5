//! The stream a leg sends (RFC 3550 §5.1): our SSRC, sequence numbers and timestamps for own
//! media frames ([`RtpSession::write_packet`]), RFC 4733 event packets
//! ([`RtpSession::write_event_packet`], [`RtpSession::media_clock`]) and packets relayed from
//! the other leg ([`RtpSession::forward_packet`]), kept as one continuous stream for the peer.
//!
//! RFC 3550 §5.1: "The sequence number increments by one for each RTP data packet sent"; a
//! relayed source is re-based into our space when it changes SSRC or jumps (A.1 `MAX_DROPOUT`,
//! `MAX_MISORDER`). RFC 3551 §4.1: the first packet of a talkspurt "SHOULD be distinguished by
//! setting the marker bit".

use std::time::{Duration, Instant};

use super::{RtpSession, SendError};
use crate::media::rtp::{
    rewrite_in_place, set_marker, MediaTime, PayloadType, RtpHeader, RtpPacket, SeqNo, Ssrc,
    HEADER_LEN,
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
pub(super) struct LastSent {
    at: Instant,
    ts: MediaTime,
    origin: Origin,
}

impl RtpSession {
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

    fn count_sent(&mut self, payload_len: usize) {
        self.stats.packets_sent += 1;
        self.stats.bytes_sent += payload_len as u64;
    }
}
