//! RTP port allocation inside the configured range (`[rtp] port_min..port_max`).
//!
//! RFC 3550 §11: "For UDP and similar protocols, RTP SHOULD use an even destination port number
//! and the corresponding RTCP stream SHOULD use the next higher (odd) destination port number".
//! The pool therefore hands out the even ports of `[min, max]`; a leg binds its RTP socket on
//! the leased port (and RTCP on port + 1 when it does not use rtcp-mux).
//!
//! Ports are handed out round-robin: the search starts after the last port leased, so a port
//! just released is reused only after every other free port, and a late packet of the previous
//! call on that port cannot land in the new one. [`PortPool`] is a clonable handle shared by all
//! call tasks; its lock is held only for one scan of a small bitmap, never across I/O. Leasing
//! is per call, not per packet.
//!
//! A port can be in use by another process although the pool thinks it free. When binding
//! fails, the edge calls [`PortLease::retry`], which leases the next port before releasing the
//! busy one, so the busy port goes to the back of the rotation.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use thiserror::Error;

/// Why no port could be handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PortError {
    /// Every even port of the range is leased.
    #[error("no free RTP port: all even ports in {min}-{max} are in use")]
    Exhausted {
        /// The configured lower bound.
        min: u16,
        /// The configured upper bound.
        max: u16,
    },
    /// The range holds no usable even port (empty, reversed, or only port 0).
    #[error("RTP port range {min}-{max} contains no even port above 0")]
    EmptyRange {
        /// The configured lower bound.
        min: u16,
        /// The configured upper bound.
        max: u16,
    },
}

/// Shared state: which even ports are leased, and where the next search starts.
#[derive(Debug)]
struct Pool {
    min: u16,
    max: u16,
    /// The lowest usable even port; slot `i` is port `first + 2 * i`.
    first: u16,
    leased: Vec<bool>,
    in_use: usize,
    /// Slot where the next search starts.
    cursor: usize,
}

/// A clonable handle on the RTP port range, shared by every call task.
#[derive(Clone)]
pub struct PortPool {
    inner: Arc<Mutex<Pool>>,
}

impl fmt::Debug for PortPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pool = self.lock();
        write!(
            f,
            "PortPool({}-{}, {} of {} in use)",
            pool.min,
            pool.max,
            pool.in_use,
            pool.leased.len()
        )
    }
}

impl PortPool {
    /// A pool over the even ports in `[min, max]` (both inclusive).
    pub fn new(min: u16, max: u16) -> Result<PortPool, PortError> {
        let low = min.max(2);
        let first = low.checked_add(low & 1).filter(|&p| p <= max);
        let Some(first) = first else {
            return Err(PortError::EmptyRange { min, max });
        };
        let slots = usize::from((max - first) / 2) + 1;
        let pool = Pool {
            min,
            max,
            first,
            leased: vec![false; slots],
            in_use: 0,
            cursor: 0,
        };
        Ok(PortPool {
            inner: Arc::new(Mutex::new(pool)),
        })
    }

    /// Leases the next free even port after the last one handed out.
    pub fn lease(&self) -> Result<PortLease, PortError> {
        let mut pool = self.lock();
        let slots = pool.leased.len();
        let found = (0..slots)
            .map(|i| (pool.cursor + i) % slots)
            .find(|&slot| !pool.leased[slot]);
        let Some(slot) = found else {
            return Err(PortError::Exhausted {
                min: pool.min,
                max: pool.max,
            });
        };
        pool.leased[slot] = true;
        pool.in_use += 1;
        pool.cursor = (slot + 1) % slots;
        let port = pool.first + 2 * slot as u16;
        Ok(PortLease {
            pool: self.clone(),
            port,
        })
    }

    /// Ports currently leased.
    pub fn in_use(&self) -> usize {
        self.lock().in_use
    }

    /// Number of even ports in the range: the most calls legs can hold at once.
    pub fn capacity(&self) -> usize {
        self.lock().leased.len()
    }

    fn release(&self, port: u16) {
        let mut pool = self.lock();
        let slot = usize::from((port - pool.first) / 2);
        if let Some(leased) = pool.leased.get_mut(slot).filter(|leased| **leased) {
            *leased = false;
            pool.in_use -= 1;
        }
    }

    /// The critical sections cannot panic, but a poisoned lock must not take the PBX down.
    fn lock(&self) -> MutexGuard<'_, Pool> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One leased even port; dropping the lease returns the port to the pool.
#[derive(Debug)]
pub struct PortLease {
    pool: PortPool,
    port: u16,
}

impl PortLease {
    /// The leased (even) RTP port; RTCP, without rtcp-mux, is `port() + 1`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Swaps a port that turned out busy at bind time for the next free one. The new port is
    /// leased before this one is released, so it cannot be the same port, and the busy port
    /// rejoins the rotation behind every other free port.
    pub fn retry(self) -> Result<PortLease, PortError> {
        self.pool.lease()
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        self.pool.release(self.port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_ports_only() {
        let pool = PortPool::new(10001, 10008).unwrap();
        assert_eq!(pool.capacity(), 4);
        let ports: Vec<u16> = (0..5).map(|_| pool.lease().unwrap().port()).collect();
        assert_eq!(ports, [10002, 10004, 10006, 10008, 10002]);
        assert_eq!(
            PortPool::new(65534, 65535).unwrap().lease().unwrap().port(),
            65534
        );
        assert_eq!(PortPool::new(0, 2).unwrap().capacity(), 1);
    }

    #[test]
    fn empty_ranges_are_refused() {
        assert_eq!(
            PortPool::new(10001, 10001).unwrap_err(),
            PortError::EmptyRange {
                min: 10001,
                max: 10001
            }
        );
        assert!(PortPool::new(20000, 10000).is_err());
        assert!(PortPool::new(0, 1).is_err());
        assert!(PortPool::new(65535, 65535).is_err());
    }

    #[test]
    fn exhaustion_names_the_range() {
        let pool = PortPool::new(10000, 10003).unwrap();
        let _a = pool.lease().unwrap();
        let _b = pool.lease().unwrap();
        let err = pool.lease().unwrap_err();
        assert_eq!(
            err,
            PortError::Exhausted {
                min: 10000,
                max: 10003
            }
        );
        assert_eq!(
            err.to_string(),
            "no free RTP port: all even ports in 10000-10003 are in use"
        );
        assert_eq!(pool.in_use(), 2);
    }

    #[test]
    fn round_robin_and_release_on_drop() {
        let pool = PortPool::new(10000, 10006).unwrap();
        let a = pool.lease().unwrap();
        assert_eq!(a.port(), 10000);
        drop(a);
        assert_eq!(pool.in_use(), 0);
        // The released port comes back only after the rest of the range.
        let next: Vec<PortLease> = (0..4).map(|_| pool.lease().unwrap()).collect();
        let ports: Vec<u16> = next.iter().map(PortLease::port).collect();
        assert_eq!(ports, [10002, 10004, 10006, 10000]);
        assert_eq!(pool.in_use(), 4);
        drop(next);
        assert_eq!(pool.in_use(), 0);
        let clone = pool.clone();
        let lease = clone.lease().unwrap();
        assert_eq!((lease.port(), pool.in_use()), (10002, 1));
    }

    #[test]
    fn retry_skips_the_busy_port() {
        let pool = PortPool::new(10000, 10004).unwrap();
        let busy = pool.lease().unwrap();
        let other = busy.retry().unwrap();
        assert_eq!(other.port(), 10002);
        assert_eq!(pool.in_use(), 1);
        let held: Vec<PortLease> = (0..2).map(|_| pool.lease().unwrap()).collect();
        assert_eq!(
            held.iter().map(PortLease::port).collect::<Vec<_>>(),
            [10004, 10000]
        );
        // With one port left a retry fails rather than handing back the busy port.
        let pool = PortPool::new(10000, 10000).unwrap();
        assert!(pool.lease().unwrap().retry().is_err());
        assert_eq!(pool.in_use(), 0);
    }
}
