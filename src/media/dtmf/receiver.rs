//! RFC 4733 receiver: turns a stream of telephone-event packets into exactly one
//! [`DtmfPress`] per key press. §2.5.1.2: all packets of an event carry its start as RTP
//! timestamp; §2.5.1.4: the final packet "SHOULD be sent a total of three times"; §2.5.1.3:
//! long events restart the timestamp every 0xFFFF samples, without the marker bit.

use super::{DtmfDigit, DtmfError, DtmfPress, EventPayload};

/// A packet whose timestamp lies less than this many samples before the current event's belongs
/// to an earlier event (late or reordered) and is dropped rather than taken as a new press.
const STALE_WINDOW_SAMPLES: u32 = 1 << 20;

/// The event the receiver is tracking.
#[derive(Debug, Clone, Copy)]
struct Event {
    digit: DtmfDigit,
    /// RTP timestamp of the current segment (§2.5.1.3: long events restart it every 0xFFFF).
    segment_ts: u32,
    /// Duration of the segment, the largest seen so far.
    segment_duration: u16,
    /// Summed durations of the completed earlier segments.
    earlier_segments: u32,
    ended: bool,
    reported: bool,
}

impl Event {
    fn press(&self) -> DtmfPress {
        DtmfPress {
            digit: self.digit,
            duration_samples: self
                .earlier_segments
                .saturating_add(u32::from(self.segment_duration)),
        }
    }

    /// Applies one update; reports the press once, at the first end seen.
    fn update(&mut self, duration: u16, end: bool) -> Option<DtmfPress> {
        if self.reported {
            return None;
        }
        self.segment_duration = self.segment_duration.max(duration);
        self.ended |= end;
        self.reported = self.ended;
        self.ended.then(|| self.press())
    }
}

/// Turns received telephone-event packets into key presses, one per press.
///
/// Packets are matched to events by RTP timestamp (§2.5.1.2), so redundant updates and the
/// three end packets collapse into one press, a lost start packet does not matter, and a press
/// whose end packets were lost is completed by the next event's first packet (new timestamp).
///
/// A press whose end packets were all lost and that no other event follows is completed by
/// [`finish_pending`](Self::finish_pending). Time is the RTP timestamp rather than a wall clock:
/// the caller passes the current time on the telephone-event clock (the timestamp of the latest
/// audio packet from the same source, or its own media clock), which keeps this type free of
/// `Instant` and lets it judge "late" in the units the sender used. [`flush`](Self::flush)
/// reports a pending press unconditionally, for teardown.
///
/// Payload types and SSRC are the RTP session's business; on an SSRC change it should start a
/// new receiver, since a new source's timestamps are unrelated.
#[derive(Debug, Clone)]
pub struct DtmfReceiver {
    current: Option<Event>,
    end_timeout: u32,
}

impl DtmfReceiver {
    /// A receiver that gives up on an event's end `end_timeout_samples` after its last known
    /// duration (see [`DEFAULT_END_TIMEOUT_SAMPLES`](super::DEFAULT_END_TIMEOUT_SAMPLES)).
    pub fn new(end_timeout_samples: u32) -> DtmfReceiver {
        DtmfReceiver {
            current: None,
            end_timeout: end_timeout_samples,
        }
    }

    /// Handles one telephone-event packet; returns a press when one completes.
    ///
    /// `marker` tells a new event (set on its first packet) from the next segment of a long
    /// event (§2.5.1.3: a new timestamp without the marker, contiguous with the last segment).
    pub fn handle_event(
        &mut self,
        rtp_timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<Option<DtmfPress>, DtmfError> {
        let block = EventPayload::parse(payload)?;
        let digit =
            DtmfDigit::from_event(block.event).ok_or(DtmfError::NotDtmf { event: block.event })?;
        if let Some(cur) = self.current.as_mut() {
            if rtp_timestamp == cur.segment_ts {
                return Ok(cur.update(block.duration, block.end));
            }
            if cur.segment_ts.wrapping_sub(rtp_timestamp) < STALE_WINDOW_SAMPLES {
                return Ok(None);
            }
            let contiguous =
                rtp_timestamp.wrapping_sub(cur.segment_ts) == u32::from(cur.segment_duration);
            if !marker && !cur.ended && cur.digit == digit && contiguous {
                cur.earlier_segments = cur.press().duration_samples;
                cur.segment_ts = rtp_timestamp;
                cur.segment_duration = 0;
                return Ok(cur.update(block.duration, block.end));
            }
        }
        let previous = self.current.take().filter(|e| !e.reported);
        let mut event = Event {
            digit,
            segment_ts: rtp_timestamp,
            segment_duration: block.duration,
            earlier_segments: 0,
            ended: block.end,
            reported: false,
        };
        let press = match previous {
            Some(lost_end) => Some(lost_end.press()),
            None => event.update(block.duration, block.end),
        };
        self.current = Some(event);
        Ok(press)
    }

    /// Reports the pending press if its end is overdue at `now_timestamp` (RTP timestamp on the
    /// telephone-event clock), or if it has ended but was held back behind an earlier press.
    pub fn finish_pending(&mut self, now_timestamp: u32) -> Option<DtmfPress> {
        let cur = self.current.as_mut().filter(|e| !e.reported)?;
        let elapsed = now_timestamp.wrapping_sub(cur.segment_ts);
        let deadline = u32::from(cur.segment_duration).saturating_add(self.end_timeout);
        let overdue = elapsed < 1 << 31 && elapsed >= deadline;
        if !(cur.ended || overdue) {
            return None;
        }
        cur.reported = true;
        Some(cur.press())
    }

    /// Reports the pending press, if any, whatever the time (call teardown).
    pub fn flush(&mut self) -> Option<DtmfPress> {
        let cur = self.current.as_mut().filter(|e| !e.reported)?;
        cur.reported = true;
        Some(cur.press())
    }
}
