//! RFC 4733 sender: the packet sequence for one digit, updates with a growing duration, the
//! first with the marker bit, then the final duration three times with the E bit (§2.5.1.4:
//! the final packet "SHOULD be sent a total of three times").

use super::{DtmfDigit, EventPayload, EVENT_PAYLOAD_LEN};

/// One packet produced by [`DtmfSender`]; the RTP session adds sequence number and SSRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    /// RTP marker bit: set on the first packet of the event only.
    pub marker: bool,
    /// RTP timestamp: the event's start, the same for every packet of the event.
    pub timestamp: u32,
    /// Bytes written to the payload buffer (always [`EVENT_PAYLOAD_LEN`]).
    pub payload_len: usize,
    /// The E bit is set (the last three packets).
    pub is_end: bool,
}

/// Produces the RFC 4733 packet sequence for one digit: an update every packet interval with a
/// growing duration, the first with the marker bit, then the final duration three times with the
/// E bit (§2.5.1.4). The RTP timestamp stays at `start_timestamp` for the whole event (§2.5.1.2),
/// while the RTP session keeps advancing the sequence number. Durations fit in 16 bits, so one
/// press lasts at most 65535 samples (8.2 s at 8 kHz); no segmenting is done.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    digit: DtmfDigit,
    duration: u16,
    volume: u8,
    timestamp: u32,
    interval: u32,
    packets_sent: u32,
    ends_sent: u8,
}

/// Number of times the final packet is sent (RFC 4733 §2.5.1.4).
const END_REPEATS: u8 = 3;

impl DtmfSender {
    /// A sender for one press of `digit` lasting `duration_samples`, at `volume` -dBm0 (capped
    /// at 63), starting at RTP timestamp `start_timestamp`, one packet every `interval_samples`
    /// (160 for 20 ms at 8 kHz; 0 is taken as 1).
    pub fn new(
        digit: DtmfDigit,
        duration_samples: u16,
        volume: u8,
        start_timestamp: u32,
        interval_samples: u32,
    ) -> DtmfSender {
        DtmfSender {
            digit,
            duration: duration_samples,
            volume: volume.min(0x3f),
            timestamp: start_timestamp,
            interval: interval_samples.max(1),
            packets_sent: 0,
            ends_sent: 0,
        }
    }

    /// Writes the next payload into `out` and describes the packet; `None` once the three end
    /// packets have been produced. Call once per packet interval.
    pub fn next_payload(&mut self, out: &mut [u8; EVENT_PAYLOAD_LEN]) -> Option<DtmfPacket> {
        if self.ends_sent == END_REPEATS {
            return None;
        }
        let elapsed = self
            .interval
            .saturating_mul(self.packets_sent.saturating_add(1));
        let duration = u16::try_from(elapsed).map_or(self.duration, |d| d.min(self.duration));
        let is_end = duration == self.duration;
        EventPayload {
            event: self.digit.event_code(),
            end: is_end,
            volume: self.volume,
            duration,
        }
        .write(out);
        let marker = self.packets_sent == 0;
        self.packets_sent = self.packets_sent.saturating_add(1);
        self.ends_sent += u8::from(is_end);
        Some(DtmfPacket {
            marker,
            timestamp: self.timestamp,
            payload_len: EVENT_PAYLOAD_LEN,
            is_end,
        })
    }
}
