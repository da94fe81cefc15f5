//! RFC 4733 telephone-events (DTMF): the 4-byte event payload, a receiver that turns a stream of
//! event packets into exactly one [`DtmfPress`] per key press, and a sender that produces the
//! packet sequence for one digit.
//!
//! Sits in the media core between the RTP session (which strips the RTP header and hands over
//! timestamp, marker bit and payload of packets carrying the negotiated telephone-event payload
//! type) and the dialplan (which reads digits). No I/O and no clock: time is the RTP timestamp.
//!
//! RFC 4733 §2.3 payload layout:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |     event     |E|R| volume    |          duration             |
//! ```
//!
//! §2.5.1.2: every packet of an event carries the event's start as its RTP timestamp, so the
//! timestamp identifies the event: same timestamp, same event; a new timestamp, a new event.
//! §2.5.1.4: the final packet "SHOULD be sent a total of three times", which the receiver must
//! collapse into one press.
//!
//! Parts: the payload and digit types stay here; `receiver` holds [`DtmfReceiver`] (end-bit
//! dedupe, lost ends), `sender` holds [`DtmfSender`] (one digit's packet sequence).

mod receiver;
mod sender;

pub use receiver::DtmfReceiver;
pub use sender::{DtmfPacket, DtmfSender};

/// Length of one event block (RFC 4733 §2.3).
pub const EVENT_PAYLOAD_LEN: usize = 4;

/// Suggested [`DtmfReceiver::new`] timeout: 200 ms at 8 kHz, four missed 50 ms updates.
pub const DEFAULT_END_TIMEOUT_SAMPLES: u32 = 1600;

/// Errors from reading a telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DtmfError {
    /// The payload is shorter than one 4-byte event block.
    #[error("telephone-event payload of {len} bytes, need {EVENT_PAYLOAD_LEN}")]
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// A valid event code outside the 16 DTMF events (e.g. 16, hook flash).
    #[error("telephone-event {event} is not a DTMF digit")]
    NotDtmf {
        /// The event code received.
        event: u8,
    },
}

/// The 16 DTMF events of RFC 4733 §3.2 (codes 0-15), in event-code order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtmfDigit {
    /// Event 0, key `0`.
    D0,
    /// Event 1, key `1`.
    D1,
    /// Event 2, key `2`.
    D2,
    /// Event 3, key `3`.
    D3,
    /// Event 4, key `4`.
    D4,
    /// Event 5, key `5`.
    D5,
    /// Event 6, key `6`.
    D6,
    /// Event 7, key `7`.
    D7,
    /// Event 8, key `8`.
    D8,
    /// Event 9, key `9`.
    D9,
    /// Event 10, key `*`.
    Star,
    /// Event 11, key `#`.
    Pound,
    /// Event 12, key `A`.
    A,
    /// Event 13, key `B`.
    B,
    /// Event 14, key `C`.
    C,
    /// Event 15, key `D`.
    D,
}

/// Every digit indexed by its event code.
#[rustfmt::skip]
const DIGITS: [DtmfDigit; 16] = [
    DtmfDigit::D0, DtmfDigit::D1, DtmfDigit::D2, DtmfDigit::D3, DtmfDigit::D4, DtmfDigit::D5,
    DtmfDigit::D6, DtmfDigit::D7, DtmfDigit::D8, DtmfDigit::D9, DtmfDigit::Star, DtmfDigit::Pound,
    DtmfDigit::A, DtmfDigit::B, DtmfDigit::C, DtmfDigit::D,
];

/// Key characters indexed by event code.
const DIGIT_CHARS: &[u8; 16] = b"0123456789*#ABCD";

impl DtmfDigit {
    /// The digit for an RFC 4733 event code, `None` for codes above 15.
    pub fn from_event(code: u8) -> Option<DtmfDigit> {
        DIGITS.get(usize::from(code)).copied()
    }

    /// The RFC 4733 event code (0-15).
    pub fn event_code(self) -> u8 {
        self as u8
    }

    /// The key as dialplans and SIP INFO write it: `0`-`9`, `*`, `#`, `A`-`D`.
    pub fn as_char(self) -> char {
        char::from(DIGIT_CHARS[usize::from(self.event_code())])
    }

    /// The digit for a key character (letters in either case), `None` for anything else.
    pub fn from_char(c: char) -> Option<DtmfDigit> {
        let upper = u8::try_from(c.to_ascii_uppercase()).ok()?;
        let code = DIGIT_CHARS.iter().position(|&k| k == upper)?;
        DIGITS.get(code).copied()
    }
}

/// One event block as carried on the wire (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPayload {
    /// Event code (0-15 are DTMF digits).
    pub event: u8,
    /// E bit: this packet ends the event.
    pub end: bool,
    /// Power level in -dBm0, 0-63 (6 bits).
    pub volume: u8,
    /// Duration so far, in samples of the telephone-event clock, counted from the RTP timestamp.
    pub duration: u16,
}

impl EventPayload {
    /// Reads the first event block of a payload. The R bit is reserved and ignored; further
    /// blocks (§2.5.1.5, several events in one packet, unused by common phones) are not read.
    pub fn parse(payload: &[u8]) -> Result<EventPayload, DtmfError> {
        let [event, flags, high, low, ..] = *payload else {
            return Err(DtmfError::TooShort { len: payload.len() });
        };
        Ok(EventPayload {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([high, low]),
        })
    }

    /// Writes the block into `out`, R bit zero, volume truncated to its 6 bits.
    pub fn write(&self, out: &mut [u8; EVENT_PAYLOAD_LEN]) {
        let [high, low] = self.duration.to_be_bytes();
        *out = [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            high,
            low,
        ];
    }
}

/// One completed key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPress {
    /// The key.
    pub digit: DtmfDigit,
    /// Total duration in samples of the telephone-event clock (long events may exceed 16 bits).
    pub duration_samples: u32,
}

/// A key press as the call layer sees it: the key and how long it was held (RFC 4733 event
/// duration, or SIP INFO's `Duration`), for `ChannelDtmfReceived` and the AMI `DTMFEnd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPress {
    /// The key: `0`-`9`, `*`, `#`, `A`-`D`.
    pub digit: char,
    /// How long it was held, in milliseconds.
    pub duration_ms: u32,
}

impl From<DtmfPress> for KeyPress {
    /// The press at the 8 kHz telephone-event clock.
    fn from(press: DtmfPress) -> KeyPress {
        KeyPress {
            digit: press.digit.as_char(),
            duration_ms: press.duration_samples / 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DtmfDigit as K;

    /// `(timestamp, marker, end, duration)` of one packet.
    type Pkt = (u32, bool, bool, u16);

    fn ev(event: u8, end: bool, volume: u8, duration: u16) -> EventPayload {
        EventPayload {
            event,
            end,
            volume,
            duration,
        }
    }

    fn rx() -> DtmfReceiver {
        DtmfReceiver::new(DEFAULT_END_TIMEOUT_SAMPLES)
    }

    fn press(digit: DtmfDigit, duration_samples: u32) -> DtmfPress {
        DtmfPress {
            digit,
            duration_samples,
        }
    }

    #[test]
    fn a_press_is_told_to_the_call_in_milliseconds_of_the_8_khz_clock() {
        let key = KeyPress::from(press(K::D5, 2240));
        assert_eq!(
            key,
            KeyPress {
                digit: '5',
                duration_ms: 280
            }
        );
    }

    /// Feeds the packets for `digit`; collects the presses.
    fn feed(rx: &mut DtmfReceiver, digit: DtmfDigit, packets: &[Pkt]) -> Vec<DtmfPress> {
        let mut out = [0; 4];
        let mut presses = Vec::new();
        for &(ts, marker, end, duration) in packets {
            ev(digit.event_code(), end, 10, duration).write(&mut out);
            presses.extend(rx.handle_event(ts, marker, &out).unwrap());
        }
        presses
    }

    /// A 100 ms press at 20 ms updates as phones send it: marker first, three end packets.
    fn stream(ts: u32) -> Vec<Pkt> {
        let mut p: Vec<_> = (1..5).map(|i| (ts, i == 1, false, i * 160)).collect();
        p.extend([(ts, false, true, 800); 3]);
        p
    }

    #[test]
    fn payload_bit_layout() {
        // Event 5, E=1, R=0, volume 10, duration 800 = 0x0320.
        let p = EventPayload::parse(&[0x05, 0x8a, 0x03, 0x20]);
        assert_eq!(p, Ok(ev(5, true, 10, 800)));
        // R bit set is ignored; E clear; volume 63; duration 0xffff.
        let p = EventPayload::parse(&[0x0b, 0x7f, 0xff, 0xff]);
        assert_eq!(p, Ok(ev(11, false, 63, 0xffff)));
        let mut out = [0; 4];
        ev(11, false, 10, 160).write(&mut out);
        assert_eq!(out, [0x0b, 0x0a, 0x00, 0xa0]);
        ev(1, true, 0xff, 1).write(&mut out);
        assert_eq!(out, [0x01, 0xbf, 0x00, 0x01]);
    }

    #[test]
    fn malformed_and_non_dtmf_payloads_are_errors() {
        let mut rx = rx();
        let short = |len| Err(DtmfError::TooShort { len });
        assert_eq!(rx.handle_event(0, true, &[]), short(0));
        assert_eq!(rx.handle_event(0, true, &[1, 0x8a, 3]), short(3));
        let flash = rx.handle_event(0, true, &[16, 0x8a, 3, 0]);
        assert_eq!(flash, Err(DtmfError::NotDtmf { event: 16 }));
        assert_eq!(rx.flush(), None);
    }

    #[test]
    fn one_press_from_a_realistic_stream() {
        let mut rx = rx();
        assert_eq!(feed(&mut rx, K::D1, &stream(8000)), [press(K::D1, 800)]);
        assert_eq!(rx.finish_pending(20_000), None);
        assert_eq!(rx.flush(), None);
    }

    #[test]
    fn redundant_and_late_packets_do_not_repeat_the_press() {
        let mut rx = rx();
        let mut packets = stream(1000);
        packets.insert(2, (1000, false, false, 320)); // duplicated update
        packets.extend([(1000, false, true, 800), (1000, false, false, 640)]); // 4th end, late
        assert_eq!(feed(&mut rx, K::Star, &packets), [press(K::Star, 800)]);
        // A reordered end of the first press arriving during the second one is dropped.
        let late = [(3000, true, false, 160), (1000, false, true, 800)];
        assert_eq!(feed(&mut rx, K::Star, &late), []);
        let end = feed(&mut rx, K::Star, &[(3000, false, true, 400)]);
        assert_eq!(end, [press(K::Star, 400)]);
    }

    #[test]
    fn lost_start_packet() {
        let packets = &stream(500)[2..];
        assert_eq!(feed(&mut rx(), K::D9, packets), [press(K::D9, 800)]);
    }

    #[test]
    fn lost_end_packets_completed_by_timeout() {
        let mut rx = rx();
        assert_eq!(feed(&mut rx, K::D5, &stream(8000)[..4]), []);
        // Last known duration 640: due at 8000 + 640 + 1600.
        assert_eq!(rx.finish_pending(8000 + 640 + 1599), None);
        assert_eq!(rx.finish_pending(8000 - 100), None);
        assert_eq!(
            rx.finish_pending(8000 + 640 + 1600),
            Some(press(K::D5, 640))
        );
        assert_eq!(rx.finish_pending(20_000), None);
        assert_eq!(rx.flush(), None);
    }

    #[test]
    fn lost_end_packets_completed_by_the_next_event() {
        let mut rx = rx();
        assert_eq!(feed(&mut rx, K::D5, &stream(8000)[..4]), []);
        let presses = feed(&mut rx, K::D7, &stream(12_000));
        assert_eq!(presses, [press(K::D5, 640), press(K::D7, 800)]);
    }

    #[test]
    fn short_event_seen_only_as_end_packets_after_a_lost_end() {
        let mut rx = rx();
        assert_eq!(feed(&mut rx, K::D2, &[(0, true, false, 160)]), []);
        // The first packet of the next event already ends it: the earlier press comes first,
        // the new one at its next end packet, or from finish_pending when that was the last.
        let first = feed(&mut rx, K::D3, &[(4000, true, true, 320)]);
        assert_eq!(first, [press(K::D2, 160)]);
        assert_eq!(rx.finish_pending(4000), Some(press(K::D3, 320)));
        assert_eq!(feed(&mut rx, K::D3, &[(4000, false, true, 320)]), []);
        assert_eq!(rx.flush(), None);
    }

    #[test]
    fn two_presses_of_the_same_digit() {
        let packets = [stream(16_000), stream(16_000 + 2400)].concat();
        let presses = feed(&mut rx(), K::Pound, &packets);
        assert_eq!(presses, [press(K::Pound, 800); 2]);
    }

    #[test]
    fn long_event_segments_are_one_press() {
        let mut rx = rx();
        let t0 = u32::MAX - 1000; // the segment boundary also wraps the timestamp
        assert_eq!(
            feed(
                &mut rx,
                K::D0,
                &[(t0, true, false, 40_000), (t0, false, false, 65_535)]
            ),
            []
        );
        let t1 = t0.wrapping_add(65_535);
        let presses = feed(
            &mut rx,
            K::D0,
            &[(t1, false, false, 800), (t1, false, true, 1000)],
        );
        assert_eq!(presses, [press(K::D0, 66_535)]);
    }

    #[test]
    fn all_sixteen_events() {
        let mut rx = rx();
        for code in 0..16u8 {
            let digit = DtmfDigit::from_event(code).unwrap();
            assert_eq!(digit.event_code(), code);
            assert_eq!(DtmfDigit::from_char(digit.as_char()), Some(digit));
            assert_eq!(
                DtmfDigit::from_char(digit.as_char().to_ascii_lowercase()),
                Some(digit)
            );
            let presses = feed(&mut rx, digit, &stream(u32::from(code) * 10_000));
            assert_eq!(presses, [press(digit, 800)]);
        }
        let keys: String = (0..16)
            .map(|c| DtmfDigit::from_event(c).unwrap().as_char())
            .collect();
        assert_eq!(keys, "0123456789*#ABCD");
        assert_eq!(DtmfDigit::from_event(16), None);
        assert_eq!(DtmfDigit::from_char('E'), None);
        assert_eq!(DtmfDigit::from_char('\u{e9}'), None);
    }

    fn sent(mut tx: DtmfSender) -> Vec<(DtmfPacket, EventPayload)> {
        let mut out = [0; 4];
        std::iter::from_fn(|| {
            let packet = tx.next_payload(&mut out)?;
            Some((packet, EventPayload::parse(&out).unwrap()))
        })
        .collect()
    }

    #[test]
    fn sender_sequence() {
        let packets = sent(DtmfSender::new(K::D4, 700, 10, 42_000, 160));
        let durations: Vec<u16> = packets.iter().map(|(_, b)| b.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 700, 700, 700]);
        for (i, (p, b)) in packets.iter().enumerate() {
            assert_eq!((p.marker, p.timestamp, p.payload_len), (i == 0, 42_000, 4));
            assert_eq!(
                (p.is_end, b.end, b.event, b.volume),
                (i >= 4, i >= 4, 4, 10)
            );
        }
    }

    #[test]
    fn sender_edge_cases() {
        let packets = sent(DtmfSender::new(K::A, 0, 200, 7, 0));
        assert_eq!(packets.len(), 3);
        assert!(packets[0].0.marker && packets.iter().all(|(p, _)| p.is_end));
        assert_eq!(packets[0].1, ev(12, true, 63, 0));
        let packets = sent(DtmfSender::new(K::B, u16::MAX, 0, 0, 1 << 31));
        assert_eq!(packets.len(), 3);
        assert_eq!(packets[0].1.duration, u16::MAX);
    }

    #[test]
    fn sender_to_receiver_round_trip() {
        let mut rx = rx();
        for (i, digit) in (0u32..).zip(DIGITS) {
            let start = 3_000_000_000u32.wrapping_add(i * 4000);
            let mut out = [0; 4];
            let mut tx = DtmfSender::new(digit, 1000, 10, start, 160);
            let mut presses = Vec::new();
            while let Some(p) = tx.next_payload(&mut out) {
                presses.extend(rx.handle_event(p.timestamp, p.marker, &out).unwrap());
            }
            assert_eq!(presses, [press(digit, 1000)]);
        }
    }
}
