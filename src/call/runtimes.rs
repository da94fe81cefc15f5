//! Where call tasks run (edge): one single-threaded tokio runtime per core, each on its own
//! thread, calls dealt out round-robin. A call's RTP sockets, timers and task then live on
//! one thread: a packet wakes its call on the thread that polled the socket, with no
//! work-stealing hand-off or cross-thread wake-up per packet (measured by
//! `scripts/bench/bridge.sh`: about a quarter less CPU per relayed packet than the shared
//! multi-threaded runtime). The SIP task and the admin API stay on the main runtime.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

/// The call runtimes; their threads stop when this is dropped.
#[derive(Debug)]
pub struct CallRuntimes {
    handles: Vec<Handle>,
    next: AtomicUsize,
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl CallRuntimes {
    /// Starts `count` (at least one) runtime threads named `pbx-calls-N`. Each thread runs in
    /// the caller's current tracing span (the node's, `[node] name`), so call logs name the
    /// node too.
    pub fn start(count: usize) -> std::io::Result<CallRuntimes> {
        let span = tracing::Span::current();
        let mut runtimes = CallRuntimes {
            handles: Vec::new(),
            next: AtomicUsize::new(0),
            stops: Vec::new(),
            threads: Vec::new(),
        };
        for index in 0..count.max(1) {
            let runtime = Builder::new_current_thread().enable_all().build()?;
            let (stop, stopped) = oneshot::channel::<()>();
            runtimes.handles.push(runtime.handle().clone());
            runtimes.stops.push(stop);
            let span = span.clone();
            runtimes.threads.push(
                std::thread::Builder::new()
                    .name(format!("pbx-calls-{index}"))
                    .spawn(move || {
                        let _node = span.enter();
                        let _ = runtime.block_on(stopped);
                    })?,
            );
        }
        Ok(runtimes)
    }

    /// One runtime per core the process may use.
    pub fn per_core() -> std::io::Result<CallRuntimes> {
        CallRuntimes::start(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// The runtime for the next call.
    pub fn next(&self) -> &Handle {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        &self.handles[index]
    }
}

impl Drop for CallRuntimes {
    fn drop(&mut self) {
        self.stops.clear();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_dealt_round_robin_onto_their_own_threads() {
        let runtimes = CallRuntimes::start(2).unwrap();
        let name = |handle: &Handle| {
            let (tx, rx) = std::sync::mpsc::channel();
            handle.spawn(async move {
                let _ = tx.send(std::thread::current().name().map(str::to_string));
            });
            rx.recv().unwrap().unwrap()
        };
        let names: Vec<String> = (0..4).map(|_| name(runtimes.next())).collect();
        assert_eq!(
            names,
            ["pbx-calls-0", "pbx-calls-1", "pbx-calls-0", "pbx-calls-1"]
        );
    }

    #[test]
    fn dropping_stops_the_threads() {
        let runtimes = CallRuntimes::start(1).unwrap();
        let handle = runtimes.next().clone();
        drop(runtimes);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        handle.spawn(async move {
            let _ = tx.send(());
        });
        assert!(rx
            .recv_timeout(std::time::Duration::from_millis(200))
            .is_err());
    }
}
