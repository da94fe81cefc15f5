//! The event window (sans-IO): the last N published events in sequence order, and what a
//! reader at a given position gets from it. Publishing never waits for readers: when the
//! window is full the oldest event goes, and a reader that had not read it yet is told how
//! many it lost instead.

use std::collections::VecDeque;
use std::sync::Arc;

use super::{Published, Seq};

/// What a reader that wants the events after `after` gets now.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    /// The next event in order.
    Event(Arc<Published>),
    /// Events after `after` left the window before this reader got them: `count` of them are
    /// gone; the reader goes on from the oldest event still held.
    Lost {
        /// How many events the reader missed.
        count: u64,
        /// The sequence number the reader is now positioned after.
        resume_after: Seq,
    },
    /// Nothing newer has been published yet.
    Pending,
}

/// The bounded window of published events.
#[derive(Debug)]
pub struct Window {
    events: VecDeque<Arc<Published>>,
    capacity: usize,
    /// The sequence number of the latest event published (0 before the first).
    last: Seq,
}

impl Window {
    /// An empty window holding at most `capacity` events (at least one).
    pub fn new(capacity: usize) -> Window {
        Window {
            events: VecDeque::with_capacity(capacity.clamp(1, 1024)),
            capacity: capacity.max(1),
            last: Seq(0),
        }
    }

    /// Appends `event` with the next sequence number, dropping the oldest when full.
    pub fn push(&mut self, make: impl FnOnce(Seq) -> Published) -> Seq {
        let seq = Seq(self.last.0 + 1);
        self.last = seq;
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(Arc::new(make(seq)));
        seq
    }

    /// The latest sequence number published (0 before the first event).
    pub fn last(&self) -> Seq {
        self.last
    }

    /// The event after `after`, or what the reader lost, or nothing yet.
    pub fn read_after(&self, after: Seq) -> Read {
        let Some(oldest) = self.events.front().map(|e| e.seq) else {
            return Read::Pending;
        };
        if after.0 >= self.last.0 {
            return Read::Pending;
        }
        if after.0 + 1 < oldest.0 {
            return Read::Lost {
                count: oldest.0 - after.0 - 1,
                resume_after: Seq(oldest.0 - 1),
            };
        }
        let index = (after.0 + 1 - oldest.0) as usize;
        self.events
            .get(index)
            .map_or(Read::Pending, |e| Read::Event(Arc::clone(e)))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::events::PbxEvent;

    fn publish(window: &mut Window, n: u64) {
        for i in 0..n {
            window.push(|seq| Published {
                seq,
                timestamp: UNIX_EPOCH + Duration::from_secs(i),
                node: None,
                event: PbxEvent::EventsLost { count: i },
            });
        }
    }

    fn seq_of(read: Read) -> u64 {
        match read {
            Read::Event(e) => e.seq.0,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[test]
    fn sequence_numbers_start_at_one_and_increase() {
        let mut window = Window::new(8);
        assert_eq!(window.read_after(Seq(0)), Read::Pending);
        publish(&mut window, 3);
        assert_eq!(window.last(), Seq(3));
        assert_eq!(seq_of(window.read_after(Seq(0))), 1);
        assert_eq!(seq_of(window.read_after(Seq(1))), 2);
        assert_eq!(seq_of(window.read_after(Seq(2))), 3);
        assert_eq!(window.read_after(Seq(3)), Read::Pending);
    }

    #[test]
    fn a_full_window_drops_the_oldest_and_a_slow_reader_learns_how_many_it_lost() {
        let mut window = Window::new(4);
        publish(&mut window, 10);
        // Held: 7, 8, 9, 10. A reader after 2 lost 3..=6.
        assert_eq!(
            window.read_after(Seq(2)),
            Read::Lost {
                count: 4,
                resume_after: Seq(6)
            }
        );
        assert_eq!(seq_of(window.read_after(Seq(6))), 7);
        assert_eq!(seq_of(window.read_after(Seq(9))), 10);
    }

    #[test]
    fn a_reader_from_the_start_of_a_window_that_never_overflowed_loses_nothing() {
        let mut window = Window::new(4);
        publish(&mut window, 4);
        assert_eq!(seq_of(window.read_after(Seq(0))), 1);
    }

    #[test]
    fn a_reader_ahead_of_the_stream_waits() {
        let mut window = Window::new(4);
        publish(&mut window, 2);
        assert_eq!(window.read_after(Seq(50)), Read::Pending);
    }
}
