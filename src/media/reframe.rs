//! Re-framing PCM between packetisation times (sans-IO): a mixing bridge works in 20 ms
//! frames, while a member may send and expect packets of its negotiated `a=ptime` (RFC 4566
//! §6: "the length of time in milliseconds represented by the media in a packet"), 10 ms or
//! 30 ms or 40 ms. A [`Reframer`] is a small FIFO of samples: frames of one size go in, frames
//! of another come out, in order, with nothing lost or repeated. Its buffer is allocated once.

/// A FIFO of PCM samples with a fixed capacity.
#[derive(Debug)]
pub struct Reframer {
    samples: Vec<i16>,
    len: usize,
}

impl Reframer {
    /// An empty FIFO holding at most `capacity` samples.
    pub fn new(capacity: usize) -> Reframer {
        Reframer {
            samples: vec![0; capacity],
            len: 0,
        }
    }

    /// Samples waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no sample waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left for [`Reframer::push`].
    pub fn room(&self) -> usize {
        self.samples.len() - self.len
    }

    /// Appends `pcm`; false (nothing appended) when it does not fit.
    pub fn push(&mut self, pcm: &[i16]) -> bool {
        if pcm.len() > self.room() {
            return false;
        }
        self.samples[self.len..self.len + pcm.len()].copy_from_slice(pcm);
        self.len += pcm.len();
        true
    }

    /// Moves the oldest `out.len()` samples into `out`; false (nothing moved) when fewer wait.
    pub fn pop(&mut self, out: &mut [i16]) -> bool {
        let n = out.len();
        if n > self.len {
            return false;
        }
        out.copy_from_slice(&self.samples[..n]);
        self.samples.copy_within(n..self.len, 0);
        self.len -= n;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forty_ms_packets_become_twenty_ms_frames_and_back() {
        let mut fifo = Reframer::new(960);
        let packet: Vec<i16> = (0..320).collect();
        assert!(fifo.push(&packet));
        let (mut a, mut b) = ([0i16; 160], [0i16; 160]);
        assert!(fifo.pop(&mut a) && fifo.pop(&mut b));
        assert_eq!([a, b].concat(), packet);
        assert!(!fifo.pop(&mut a), "nothing is repeated");
        assert!(fifo.is_empty());
    }

    #[test]
    fn thirty_ms_packets_interleave_with_twenty_ms_frames() {
        let mut fifo = Reframer::new(960);
        let mut next = 0i16;
        let mut out = Vec::new();
        let mut frame = [0i16; 160];
        for _ in 0..30 {
            while fifo.len() < 160 {
                let packet: Vec<i16> = (next..next + 240).collect();
                next += 240;
                assert!(fifo.push(&packet));
            }
            assert!(fifo.pop(&mut frame));
            out.extend_from_slice(&frame);
        }
        assert_eq!(out, (0..4800).collect::<Vec<i16>>(), "in order, none lost");
        assert!(fifo.len() < 240);
    }

    #[test]
    fn a_full_fifo_refuses_more() {
        let mut fifo = Reframer::new(100);
        assert!(fifo.push(&[1; 60]));
        assert!(!fifo.push(&[2; 60]));
        assert_eq!(fifo.room(), 40);
        assert_eq!(fifo.len(), 60);
    }
}
