//! RTP header view and builder (RFC 3550 §5.1), plus the typed protocol values every media
//! module uses: [`Ssrc`], [`SeqNo`], [`PayloadType`] and [`MediaTime`].
//!
//! Sits at the bottom of the media core: [`crate::media::session`] parses every received
//! datagram with [`RtpPacket::parse`] and writes every sent header with [`RtpHeader::write`] or
//! [`rewrite_in_place`]. Nothing here allocates or copies payload bytes: a packet is a validated
//! view over the caller's receive buffer.
//!
//! RFC 3550 §5.1, the fixed header:
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//! |                           timestamp                           |
//! |           synchronization source (SSRC) identifier            |
//! |            contributing source (CSRC) identifiers             |
//! ```
//! "If the padding bit is set, the packet contains one or more additional padding octets at the
//! end which are not part of the payload. The last octet of the padding contains a count of how
//! many padding octets should be ignored, including itself." (§5.1). With rtcp-mux, RFC 5761 §4
//! tells RTCP apart by the second octet: "if it is within the range 192-223, the packet is RTCP".
//!
//! Parts: `seq` holds the receive-side [`SeqTracker`] (RFC 3550 A.1, A.3) built on [`SeqNo`].

mod seq;

use thiserror::Error;

pub use seq::{SeqEvent, SeqTracker};

/// Length of the fixed RTP header without CSRCs or extension (RFC 3550 §5.1).
pub const HEADER_LEN: usize = 12;

/// The only RTP version in use (RFC 3550 §5.1 "V=2").
const VERSION: u8 = 2;

/// Second octets that mark a multiplexed RTCP packet (RFC 5761 §4: 192-223, covering SR 200
/// through APP 204 and the feedback and XR types after them).
const RTCP_SECOND_OCTET: std::ops::RangeInclusive<u8> = 192..=223;

/// Why bytes are not a usable RTP packet, or a header does not fit its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    /// The packet ends before a field it announces (fixed header, CSRC list or extension).
    #[error("RTP packet truncated: {len} bytes, header needs {needed}")]
    Truncated {
        /// Bytes available.
        len: usize,
        /// Bytes the header claims.
        needed: usize,
    },
    /// The version field is not 2 (e.g. STUN or garbage on the media port).
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    /// A multiplexed RTCP packet (RFC 5761 §4); the caller routes it to RTCP handling.
    #[error("RTCP packet type {packet_type} on the RTP path (rtcp-mux)")]
    Rtcp {
        /// The RTCP packet type (second octet), e.g. 200 for a sender report.
        packet_type: u8,
    },
    /// The padding count is zero or larger than the bytes after the header.
    #[error("RTP padding of {padding} octets does not fit the {available} bytes after the header")]
    BadPadding {
        /// The padding count from the last octet.
        padding: u8,
        /// Bytes after the header, payload and padding together.
        available: usize,
    },
    /// A payload type above 127 (the field is 7 bits wide).
    #[error("RTP payload type {0} out of range 0-127")]
    InvalidPayloadType(u8),
    /// The output buffer cannot hold the header (or header and payload).
    #[error("buffer of {available} bytes too small, need {needed}")]
    BufferTooSmall {
        /// Bytes required.
        needed: usize,
        /// Bytes the caller provided.
        available: usize,
    },
}

/// Synchronization source identifier (RFC 3550 §3): names one RTP stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ssrc(pub u32);

/// A 16-bit RTP sequence number; compares with serial-number arithmetic (RFC 1982) because it
/// wraps from 65535 to 0. It deliberately has no `Ord`: serial order is not transitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqNo(pub u16);

impl SeqNo {
    /// The sequence number `n` packets later, wrapping at 2^16.
    pub fn wrapping_add(self, n: u16) -> SeqNo {
        SeqNo(self.0.wrapping_add(n))
    }

    /// Signed distance `self - earlier` in the shortest direction around the circle: positive
    /// when `self` is newer. Exactly half a circle apart is reported as -32768 (not newer).
    pub fn diff(self, earlier: SeqNo) -> i16 {
        self.0.wrapping_sub(earlier.0) as i16
    }

    /// RFC 1982 "greater than": `self` follows `other` by less than half the number space.
    pub fn is_newer_than(self, other: SeqNo) -> bool {
        self.diff(other) > 0
    }

    /// Extends this number to 32 bits (RFC 3550 A.1: cycle count in the high 16 bits) by picking
    /// the value nearest to `reference`, an extended number already seen. Wraps at 2^32.
    pub fn extend(self, reference: u32) -> u32 {
        let delta = self.diff(SeqNo(reference as u16));
        reference.wrapping_add(delta as i32 as u32)
    }
}

/// An RTP payload type (RFC 3550 §5.1, 7 bits); the constructor rejects values above 127, so a
/// held value always fits the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PayloadType(u8);

impl PayloadType {
    /// G.711 µ-law, static payload type 0 (RFC 3551 §6).
    pub const PCMU: PayloadType = PayloadType(0);
    /// G.711 A-law, static payload type 8 (RFC 3551 §6).
    pub const PCMA: PayloadType = PayloadType(8);

    /// Validates a payload type number from SDP or configuration.
    pub fn new(value: u8) -> Result<PayloadType, RtpError> {
        if value > 0x7f {
            return Err(RtpError::InvalidPayloadType(value));
        }
        Ok(PayloadType(value))
    }

    /// The numeric value, 0-127.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// An RTP timestamp (RFC 3550 §5.1): media clock ticks, wrapping at 2^32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MediaTime(pub u32);

impl MediaTime {
    /// The timestamp `ticks` later, wrapping at 2^32.
    pub fn wrapping_add(self, ticks: u32) -> MediaTime {
        MediaTime(self.0.wrapping_add(ticks))
    }

    /// Signed tick distance `self - earlier`, shortest way around the circle.
    pub fn diff(self, earlier: MediaTime) -> i32 {
        self.0.wrapping_sub(earlier.0) as i32
    }
}

/// A validated, zero-copy view of one RTP packet inside the caller's buffer.
#[derive(Debug, Clone, Copy)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    payload_start: usize,
    payload_end: usize,
}

impl<'a> RtpPacket<'a> {
    /// Validates `buf` as one RTP packet: version 2, not multiplexed RTCP, and the CSRC list,
    /// extension and padding all within bounds. Never panics on any input.
    pub fn parse(buf: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        let (&first, &second) = match buf {
            [first, second, ..] => (first, second),
            _ => {
                return Err(RtpError::Truncated {
                    len: buf.len(),
                    needed: HEADER_LEN,
                })
            }
        };
        let version = first >> 6;
        if version != VERSION {
            return Err(RtpError::BadVersion(version));
        }
        if RTCP_SECOND_OCTET.contains(&second) {
            return Err(RtpError::Rtcp {
                packet_type: second,
            });
        }
        let csrc_count = usize::from(first & 0x0f);
        let mut header_len = HEADER_LEN + 4 * csrc_count;
        if buf.len() < header_len {
            return Err(RtpError::Truncated {
                len: buf.len(),
                needed: header_len,
            });
        }
        if first & 0x10 != 0 {
            let ext = buf
                .get(header_len..header_len + 4)
                .ok_or(RtpError::Truncated {
                    len: buf.len(),
                    needed: header_len + 4,
                })?;
            let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            header_len += 4 + 4 * words;
            if buf.len() < header_len {
                return Err(RtpError::Truncated {
                    len: buf.len(),
                    needed: header_len,
                });
            }
        }
        let available = buf.len() - header_len;
        let mut payload_end = buf.len();
        if first & 0x20 != 0 {
            let padding = buf[buf.len() - 1];
            if padding == 0 || usize::from(padding) > available {
                return Err(RtpError::BadPadding { padding, available });
            }
            payload_end -= usize::from(padding);
        }
        Ok(RtpPacket {
            buf,
            payload_start: header_len,
            payload_end,
        })
    }

    /// The marker bit (RFC 3551 §4.1: first packet of a talk spurt for audio).
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// The payload type.
    pub fn payload_type(&self) -> PayloadType {
        PayloadType(self.buf[1] & 0x7f)
    }

    /// The sequence number.
    pub fn sequence(&self) -> SeqNo {
        SeqNo(u16::from_be_bytes([self.buf[2], self.buf[3]]))
    }

    /// The RTP timestamp.
    pub fn timestamp(&self) -> MediaTime {
        MediaTime(u32::from_be_bytes([
            self.buf[4],
            self.buf[5],
            self.buf[6],
            self.buf[7],
        ]))
    }

    /// The synchronization source.
    pub fn ssrc(&self) -> Ssrc {
        Ssrc(u32::from_be_bytes([
            self.buf[8],
            self.buf[9],
            self.buf[10],
            self.buf[11],
        ]))
    }

    /// The contributing sources (a mixer's inputs), in header order.
    pub fn csrcs(&self) -> impl Iterator<Item = Ssrc> + 'a {
        let count = usize::from(self.buf[0] & 0x0f);
        self.buf[HEADER_LEN..HEADER_LEN + 4 * count]
            .chunks_exact(4)
            .map(|c| Ssrc(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
    }

    /// The header extension (RFC 3550 §5.3.1) as its 16-bit profile value and data words.
    pub fn extension(&self) -> Option<(u16, &'a [u8])> {
        if self.buf[0] & 0x10 == 0 {
            return None;
        }
        let start = HEADER_LEN + 4 * usize::from(self.buf[0] & 0x0f);
        let profile = u16::from_be_bytes([self.buf[start], self.buf[start + 1]]);
        Some((profile, &self.buf[start + 4..self.payload_start]))
    }

    /// The payload, without header, extension or padding.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.payload_start..self.payload_end]
    }

    /// Number of padding octets removed from the end (0 without the P bit).
    pub fn padding_len(&self) -> usize {
        self.buf.len() - self.payload_end
    }

    /// The whole packet as received.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// The fields of a plain outgoing header: no padding, extension or CSRCs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// The marker bit.
    pub marker: bool,
    /// The payload type.
    pub payload_type: PayloadType,
    /// The sequence number.
    pub sequence: SeqNo,
    /// The RTP timestamp.
    pub timestamp: MediaTime,
    /// The synchronization source.
    pub ssrc: Ssrc,
}

impl RtpHeader {
    /// Writes the 12-byte header at the start of `buf` and returns its length.
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, RtpError> {
        let available = buf.len();
        let out = buf.get_mut(..HEADER_LEN).ok_or(RtpError::BufferTooSmall {
            needed: HEADER_LEN,
            available,
        })?;
        out[0] = VERSION << 6;
        out[1] = (u8::from(self.marker) << 7) | self.payload_type.0;
        out[2..4].copy_from_slice(&self.sequence.0.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.0.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.0.to_be_bytes());
        Ok(HEADER_LEN)
    }
}

/// Rewrites SSRC, sequence number, timestamp and payload type of a packet in place, keeping the
/// marker bit, CSRCs, extension, payload and padding: a relaying B2BUA moves a packet into its
/// own stream without copying it. Only checks that the fixed header is present.
pub fn rewrite_in_place(
    buf: &mut [u8],
    ssrc: Ssrc,
    seq: SeqNo,
    ts: MediaTime,
    pt: PayloadType,
) -> Result<(), RtpError> {
    let header = fixed_header_mut(buf)?;
    header[1] = (header[1] & 0x80) | pt.0;
    header[2..4].copy_from_slice(&seq.0.to_be_bytes());
    header[4..8].copy_from_slice(&ts.0.to_be_bytes());
    header[8..12].copy_from_slice(&ssrc.0.to_be_bytes());
    Ok(())
}

/// Sets or clears the marker bit of a packet in place (a relay marks the first packet after it
/// re-bases a stream).
pub fn set_marker(buf: &mut [u8], marker: bool) -> Result<(), RtpError> {
    let header = fixed_header_mut(buf)?;
    header[1] = (header[1] & 0x7f) | (u8::from(marker) << 7);
    Ok(())
}

fn fixed_header_mut(buf: &mut [u8]) -> Result<&mut [u8], RtpError> {
    let len = buf.len();
    buf.get_mut(..HEADER_LEN).ok_or(RtpError::Truncated {
        len,
        needed: HEADER_LEN,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    /// V=2, M=1, PT=0, seq 0x1234, ts 0xdeadbeef, SSRC 0x01020304, payload 4 bytes.
    const PLAIN: [u8; 16] = [
        0x80, 0x80, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0xff, 0x7f, 0x00,
        0x80,
    ];

    /// V=2, P=1, X=1, CC=2, PT=8; two CSRCs, a one-word extension (profile 0xbede), 3 payload
    /// bytes and 3 padding octets.
    const FULL: [u8; 34] = [
        0xb2, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa0, 0xca, 0xfe, 0xba, 0xbe, // fixed
        0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, // CSRCs
        0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00, // extension
        0xd5, 0xd5, 0xd5, // payload
        0x00, 0x00, 0x03, // padding
    ];

    #[test]
    fn fixed_header_fields() {
        let p = RtpPacket::parse(&PLAIN).unwrap();
        assert!(p.marker());
        assert_eq!(p.payload_type(), PayloadType::PCMU);
        assert_eq!(p.sequence(), SeqNo(0x1234));
        assert_eq!(p.timestamp(), MediaTime(0xdead_beef));
        assert_eq!(p.ssrc(), Ssrc(0x0102_0304));
        assert_eq!(p.payload(), &[0xff, 0x7f, 0x00, 0x80]);
        assert_eq!(p.csrcs().count(), 0);
        assert_eq!(p.extension(), None);
        assert_eq!(p.padding_len(), 0);
    }

    #[test]
    fn csrc_extension_and_padding() {
        let p = RtpPacket::parse(&FULL).unwrap();
        assert!(!p.marker());
        assert_eq!(p.payload_type(), PayloadType::PCMA);
        assert_eq!(p.timestamp(), MediaTime(160));
        let csrcs: Vec<_> = p.csrcs().collect();
        assert_eq!(csrcs, [Ssrc(0x1111_1111), Ssrc(0x2222_2222)]);
        assert_eq!(p.extension(), Some((0xbede, &[0x10, 0xaa, 0x00, 0x00][..])));
        assert_eq!(p.payload(), &[0xd5, 0xd5, 0xd5]);
        assert_eq!(p.padding_len(), 3);
    }

    #[test]
    fn header_write_matches_layout() {
        let header = RtpHeader {
            marker: true,
            payload_type: PayloadType::PCMU,
            sequence: SeqNo(0x1234),
            timestamp: MediaTime(0xdead_beef),
            ssrc: Ssrc(0x0102_0304),
        };
        let mut buf = [0u8; 16];
        assert_eq!(header.write(&mut buf), Ok(12));
        assert_eq!(buf[..12], PLAIN[..12]);
        assert_eq!(
            header.write(&mut buf[..11]),
            Err(RtpError::BufferTooSmall {
                needed: 12,
                available: 11
            })
        );
    }

    #[test]
    fn rewrite_keeps_marker_and_payload() {
        let mut buf = FULL.to_vec();
        buf[1] |= 0x80;
        let pt = PayloadType::new(0).unwrap();
        rewrite_in_place(&mut buf, Ssrc(7), SeqNo(65535), MediaTime(u32::MAX), pt).unwrap();
        let p = RtpPacket::parse(&buf).unwrap();
        assert!(p.marker());
        assert_eq!(
            (p.ssrc(), p.sequence(), p.timestamp()),
            (Ssrc(7), SeqNo(65535), MediaTime(u32::MAX))
        );
        assert_eq!(p.payload_type(), PayloadType::PCMU);
        assert_eq!(p.payload(), &[0xd5, 0xd5, 0xd5]);
        set_marker(&mut buf, false).unwrap();
        assert!(!RtpPacket::parse(&buf).unwrap().marker());
        assert!(rewrite_in_place(&mut buf[..11], Ssrc(1), SeqNo(1), MediaTime(1), pt).is_err());
    }

    #[test]
    fn rejects_bad_version_rtcp_and_padding() {
        let mut v1 = PLAIN;
        v1[0] = 0x40;
        assert_eq!(RtpPacket::parse(&v1).unwrap_err(), RtpError::BadVersion(1));
        // An RTCP receiver report without report blocks (RFC 3550 §6.4.2), 8 bytes.
        let rr = [0x80, 201, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04];
        assert_eq!(
            RtpPacket::parse(&rr).unwrap_err(),
            RtpError::Rtcp { packet_type: 201 }
        );
        for pt in 200..=204u8 {
            let mut sr = PLAIN;
            sr[1] = pt;
            assert_eq!(
                RtpPacket::parse(&sr).unwrap_err(),
                RtpError::Rtcp { packet_type: pt }
            );
        }
        let mut zero_pad = PLAIN;
        zero_pad[0] |= 0x20;
        zero_pad[15] = 0;
        assert_eq!(
            RtpPacket::parse(&zero_pad).unwrap_err(),
            RtpError::BadPadding {
                padding: 0,
                available: 4
            }
        );
        zero_pad[15] = 5;
        assert!(matches!(
            RtpPacket::parse(&zero_pad),
            Err(RtpError::BadPadding { .. })
        ));
        zero_pad[15] = 4;
        assert_eq!(RtpPacket::parse(&zero_pad).unwrap().payload(), &[] as &[u8]);
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 0..FULL.len() {
            let res = RtpPacket::parse(&FULL[..len]);
            assert!(res.is_err(), "length {len} parsed");
        }
        // Dropping the padding bit exposes the truncated extension too.
        let mut no_pad = FULL.to_vec();
        no_pad[0] &= !0x20;
        assert_eq!(
            RtpPacket::parse(&no_pad[..27]).unwrap_err(),
            RtpError::Truncated {
                len: 27,
                needed: 28
            }
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = StdRng::seed_from_u64(3550);
        let mut buf = [0u8; 64];
        let mut accepted = 0;
        for _ in 0..200_000 {
            let len = rng.gen_range(0..buf.len());
            rng.fill(&mut buf[..len]);
            buf[0] = (buf[0] & 0x3f) | if rng.gen_bool(0.9) { 0x80 } else { 0 };
            if let Ok(p) = RtpPacket::parse(&buf[..len]) {
                accepted += 1;
                assert!(p.payload().len() <= len - HEADER_LEN);
                let _ = (p.csrcs().count(), p.extension(), p.marker(), p.ssrc());
            }
        }
        assert!(accepted > 1000, "only {accepted} random packets parsed");
    }

    #[test]
    fn payload_type_is_seven_bits() {
        assert_eq!(PayloadType::new(127).map(PayloadType::get), Ok(127));
        assert_eq!(
            PayloadType::new(128),
            Err(RtpError::InvalidPayloadType(128))
        );
    }

    #[test]
    fn serial_arithmetic_wraps() {
        assert!(SeqNo(0).is_newer_than(SeqNo(65535)));
        assert!(!SeqNo(65535).is_newer_than(SeqNo(0)));
        assert!(!SeqNo(5).is_newer_than(SeqNo(5)));
        assert_eq!(SeqNo(2).diff(SeqNo(65534)), 4);
        assert!(!SeqNo(32768).is_newer_than(SeqNo(0)));
        assert_eq!(SeqNo(65535).wrapping_add(2), SeqNo(1));
        assert_eq!(SeqNo(0).extend(0x0001_ffff), 0x0002_0000);
        assert_eq!(SeqNo(65535).extend(0x0002_0000), 0x0001_ffff);
        assert_eq!(SeqNo(100).extend(0x0003_0050), 0x0003_0064);
        assert_eq!(MediaTime(u32::MAX).wrapping_add(161), MediaTime(160));
        assert_eq!(MediaTime(160).diff(MediaTime(u32::MAX)), 161);
    }
}
