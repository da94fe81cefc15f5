//! Receive-side sequence state of one RTP stream (RFC 3550 A.1, A.3): 32-bit extended sequence
//! numbers, loss as `expected - received`, late and duplicate detection. A.1 on a large jump:
//! "Two sequential packets -- assume that the other side restarted without telling us so just
//! re-sync".

use super::SeqNo;

/// RFC 3550 A.1: a forward jump larger than this is a possible sequence restart.
const MAX_DROPOUT: i32 = 3000;
/// RFC 3550 A.1: a packet this far behind the highest sequence is late, not a restart.
const MAX_MISORDER: i32 = 100;

/// Receive-side sequence state of one stream (RFC 3550 A.1, A.3): extended 32-bit sequence
/// numbers, loss as `expected - received`, late and duplicate detection over the last 128
/// numbers. A jump beyond `MAX_DROPOUT` is believed only when the next packet follows it ("two
/// sequential packets"); the tracker then starts a new epoch and keeps the old epoch's loss.
#[derive(Debug, Clone, Copy)]
pub struct SeqTracker {
    /// Extended sequence number of the earliest packet of this epoch.
    base: u32,
    /// Highest extended sequence number seen.
    max: u32,
    /// Distinct packets of this epoch.
    received: u64,
    /// Bit `i` set when extended sequence `max - i` arrived.
    window: u128,
    /// Next sequence expected after an unconfirmed jump (A.1 `bad_seq`).
    bad_seq: Option<SeqNo>,
    /// Loss of earlier epochs.
    lost_before: i64,
}

/// What one sequence number meant to a [`SeqTracker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqEvent {
    /// Newer than any before (possibly after a gap).
    InOrder,
    /// Older than the highest seen, first arrival.
    Late,
    /// Already seen; not counted.
    Duplicate,
    /// A jump not yet believed; not counted.
    Jump,
    /// Confirms the previous jump: the stream restarted its numbering (new epoch).
    Restart,
}

impl SeqTracker {
    /// Starts tracking at the stream's first packet.
    pub fn new(first: SeqNo) -> Self {
        let ext = u32::from(first.0);
        SeqTracker {
            base: ext,
            max: ext,
            received: 1,
            window: 1,
            bad_seq: None,
            lost_before: 0,
        }
    }

    /// Accounts one arriving sequence number.
    pub fn update(&mut self, seq: SeqNo) -> SeqEvent {
        let delta = i32::from(seq.diff(SeqNo(self.max as u16)));
        if delta > 0 && delta < MAX_DROPOUT {
            let shift = delta as u32;
            self.window = if shift >= u128::BITS {
                1
            } else {
                (self.window << shift) | 1
            };
            self.max = self.max.wrapping_add(shift);
            self.received += 1;
            self.bad_seq = None;
            SeqEvent::InOrder
        } else if delta <= 0 && -delta <= MAX_MISORDER {
            let bit = 1u128 << delta.unsigned_abs();
            if self.window & bit != 0 {
                return SeqEvent::Duplicate;
            }
            self.window |= bit;
            self.received += 1;
            let ext = seq.extend(self.max);
            if self.base.wrapping_sub(ext) as i32 > 0 {
                self.base = ext;
            }
            SeqEvent::Late
        } else if self.bad_seq == Some(seq) {
            // The jump packet (seq - 1) and this one open the new epoch.
            let ext = u32::from(seq.0) | 0x1_0000;
            *self = SeqTracker {
                base: ext - 1,
                max: ext,
                received: 2,
                window: 0b11,
                bad_seq: None,
                lost_before: self.lost(),
            };
            SeqEvent::Restart
        } else {
            self.bad_seq = Some(seq.wrapping_add(1));
            SeqEvent::Jump
        }
    }

    /// The highest extended sequence number of the current epoch (cycles in the high 16 bits).
    pub fn extended_max(&self) -> u32 {
        self.max
    }

    /// Cumulative packets lost over all epochs, `expected - received`.
    pub fn lost(&self) -> i64 {
        let expected = i64::from(self.max.wrapping_sub(self.base)) + 1;
        self.lost_before + expected - self.received as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_counts_across_the_wrap() {
        let mut t = SeqTracker::new(SeqNo(65530));
        for seq in [65531, 65532, 65534, 65535, 0, 1, 3, 4, 5] {
            assert_eq!(t.update(SeqNo(seq)), SeqEvent::InOrder, "seq {seq}");
        }
        assert_eq!((t.lost(), t.extended_max()), (2, 0x1_0005));
        assert_eq!(t.update(SeqNo(65533)), SeqEvent::Late);
        assert_eq!(t.update(SeqNo(65533)), SeqEvent::Duplicate);
        assert_eq!(t.update(SeqNo(5)), SeqEvent::Duplicate);
        assert_eq!(t.lost(), 1);
        // Older than the first packet: widens the expected range, loss unchanged.
        assert_eq!(t.update(SeqNo(65529)), SeqEvent::Late);
        assert_eq!(t.lost(), 1);
    }

    #[test]
    fn big_jump_needs_two_sequential_packets() {
        let mut t = SeqTracker::new(SeqNo(100));
        assert_eq!(t.update(SeqNo(101)), SeqEvent::InOrder);
        assert_eq!(t.update(SeqNo(30000)), SeqEvent::Jump);
        assert_eq!(t.update(SeqNo(102)), SeqEvent::InOrder);
        assert_eq!(t.lost(), 0);
        assert_eq!(t.update(SeqNo(40000)), SeqEvent::Jump);
        assert_eq!(t.update(SeqNo(40001)), SeqEvent::Restart);
        assert_eq!(t.update(SeqNo(40003)), SeqEvent::InOrder);
        assert_eq!(t.lost(), 1);
    }
}
