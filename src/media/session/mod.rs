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
//!
//! Parts: this file holds the configuration, the receive side and the timers; `outgoing` the
//! stream we send ([`RtpSession::write_packet`], [`RtpSession::write_event_packet`],
//! [`RtpSession::media_clock`], [`RtpSession::forward_packet`]).

mod outgoing;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use rand::RngCore;
use thiserror::Error;

use crate::media::rtp::{
    MediaTime, PayloadType, RtpError, RtpPacket, SeqEvent, SeqNo, SeqTracker, Ssrc,
};
use outgoing::LastSent;

/// Default for [`SessionConfig::relatch_after`]: 25 frames of 20 ms.
pub const DEFAULT_RELATCH_AFTER: Duration = Duration::from_millis(500);
/// Default for [`SessionConfig::inactivity_timeout`]; like Asterisk's `rtptimeout`, meant for
/// hanging up calls whose peer vanished. While the peer is not expected to send (on hold,
/// [`RtpSession::set_expecting`]) the timer is off, as Asterisk's `rtpholdtimeout` defaults.
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
    /// session's start, or when RTP became expected again). Raised once, re-armed when valid
    /// packets return.
    Inactive {
        /// When the last valid packet arrived (or RTP became expected).
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

/// One leg's RTP session; see the module doc for the latching rule and timing model.
#[derive(Debug)]
pub struct RtpSession {
    config: SessionConfig,
    /// Origin of the arrival clock used for jitter.
    epoch: Instant,
    latched: Option<SocketAddr>,
    last_valid: Instant,
    /// Whether the peer is expected to send; the inactivity timer runs only then.
    expecting: bool,
    /// When RTP became expected again (the inactivity count starts at the later of this and
    /// `last_valid`).
    expecting_since: Instant,
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
            expecting: true,
            expecting_since: now,
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

    /// Tells whether the peer is expected to send RTP: a held stream (sendonly, recvonly or
    /// inactive) need not, and its silence must not end the call. When RTP becomes expected
    /// again at `now`, the inactivity timeout counts from `now`.
    pub fn set_expecting(&mut self, expecting: bool, now: Instant) {
        if expecting && !self.expecting {
            self.expecting_since = now;
            self.inactive_raised = false;
        }
        self.expecting = expecting;
    }

    /// When `handle_timeout` must next be called; `None` when no timer is armed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.config.inactivity_timeout.is_zero() || self.inactive_raised || !self.expecting {
            return None;
        }
        Some(self.last_valid.max(self.expecting_since) + self.config.inactivity_timeout)
    }

    /// Fires due timers: raises [`SessionEvent::Inactive`] once the timeout has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|deadline| now >= deadline) {
            self.inactive_raised = true;
            self.event = Some(SessionEvent::Inactive {
                since: self.last_valid.max(self.expecting_since),
            });
        }
    }

    /// The next pending event, if any.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.event.take()
    }
}

#[cfg(test)]
mod tests;
