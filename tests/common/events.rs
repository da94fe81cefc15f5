//! A reader of the pbx's event stream (`GET /api/events`) over a real WebSocket client
//! library (tungstenite), for tests whose oracle is the events.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use tungstenite::{Message, WebSocket};

/// One connection to the event stream.
pub struct EventStream {
    socket: WebSocket<TcpStream>,
    /// Every event received so far, in order.
    pub received: Vec<serde_json::Value>,
}

impl EventStream {
    /// Connects to the pbx whose API is at `api` (`http://127.0.0.1:PORT`), replaying the
    /// events after `since` when given.
    pub fn connect(api: &str, since: Option<u64>) -> EventStream {
        let host = api.trim_start_matches("http://");
        let stream = TcpStream::connect(host).expect("connect to the admin API");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let url = match since {
            Some(seq) => format!("ws://{host}/api/events?since={seq}"),
            None => format!("ws://{host}/api/events"),
        };
        let (socket, _) = tungstenite::client(url.as_str(), stream).expect("WebSocket handshake");
        EventStream {
            socket,
            received: Vec::new(),
        }
    }

    /// Reads events until `done` holds for what was received, or `timeout` passes; returns
    /// whether `done` held.
    pub fn read_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&[serde_json::Value]) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        while !done(&self.received) {
            if Instant::now() >= deadline {
                return false;
            }
            match self.socket.read() {
                Ok(Message::Text(text)) => self
                    .received
                    .push(serde_json::from_str(text.as_str()).expect("event is JSON")),
                Ok(Message::Close(_)) => return done(&self.received),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("event stream failed: {e}"),
            }
        }
        true
    }

    /// The sequence numbers received, in order.
    pub fn seqs(&self) -> Vec<u64> {
        self.received
            .iter()
            .filter_map(|e| e["seq"].as_u64())
            .collect()
    }

    /// The last sequence number received (0 when none).
    pub fn last_seq(&self) -> u64 {
        self.seqs().last().copied().unwrap_or(0)
    }

    /// How many events of type `kind` were received.
    pub fn count(&self, kind: &str) -> usize {
        count(&self.received, kind)
    }
}

/// How many of `events` are of type `kind`.
pub fn count(events: &[serde_json::Value], kind: &str) -> usize {
    events.iter().filter(|e| e["type"] == kind).count()
}

/// The id of the channel an event is about (`channel.id`, or `peer.id` for Dial events).
pub fn channel_of(event: &serde_json::Value) -> Option<&str> {
    event["channel"]["id"].as_str()
}

impl EventStream {
    /// Reads until an event satisfying `matches` arrives (10 s at most); panics naming `what`
    /// with everything received otherwise.
    pub fn expect(&mut self, what: &str, matches: impl Fn(&serde_json::Value) -> bool) {
        let found = self.read_until(Duration::from_secs(10), |events| {
            events.iter().any(&matches)
        });
        assert!(found, "no event: {what}\n{:#?}", self.received);
    }

    /// Expects a Dial that ended answered by a channel whose name starts with `peer`
    /// (`PJSIP/6002-`).
    pub fn expect_answered_dial(&mut self, peer: &str) {
        self.expect(&format!("DialEnd ANSWER by {peer}"), |e| {
            e["type"] == "DialEnd"
                && e["dialstatus"] == "ANSWER"
                && e["peer"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(peer))
        });
    }
}
