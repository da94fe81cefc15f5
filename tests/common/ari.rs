//! ARI for tests that hand channels to an application: `Stasis(app)` (and an originate into
//! an app) needs the app registered, which an ARI WebSocket for it does while it is open.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Pbx;

/// Config lines giving the pbx the ARI account [`hold_app`] logs in with.
pub const ARI_USER: &str = "[[ari.user]]\nusername = \"app\"\npassword = \"secret\"\n";

/// Registers application `app` by holding an ARI WebSocket for it while the value lives
/// (the pbx must have [`ARI_USER`]).
pub fn hold_app(pbx: &Pbx, app: &str) -> tungstenite::WebSocket<TcpStream> {
    let host = pbx.api.trim_start_matches("http://");
    let stream = TcpStream::connect(host).expect("connect to the HTTP server");
    let url = format!("ws://{host}/ari/events?app={app}&api_key=app:secret");
    let (socket, _) = tungstenite::client(url.as_str(), stream).expect("ARI WebSocket");
    socket
}

/// An application's WebSocket, read with a real WebSocket client.
pub struct AppSocket {
    socket: tungstenite::WebSocket<TcpStream>,
    /// Every event read so far, in order.
    pub received: Vec<Value>,
}

impl AppSocket {
    /// Connects as [`ARI_USER`] with `query` (`app=demo`, `since=...`).
    pub fn connect(pbx: &Pbx, query: &str) -> AppSocket {
        let host = pbx.api.trim_start_matches("http://");
        let stream = TcpStream::connect(host).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let url = format!("ws://{host}/ari/events?api_key=app:secret&{query}");
        let (socket, _) = tungstenite::client(url.as_str(), stream).expect("ARI WebSocket");
        AppSocket {
            socket,
            received: Vec::new(),
        }
    }

    /// Reads until an event satisfies `wanted` (within 15 s); that event.
    pub fn expect(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(found) = self.received.iter().find(|e| wanted(e)) {
                return found.clone();
            }
            assert!(Instant::now() < deadline, "no {what}: {:?}", self.received);
            match self.socket.read() {
                Ok(tungstenite::Message::Text(text)) => self
                    .received
                    .push(serde_json::from_str(text.as_str()).unwrap()),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("ARI WebSocket failed: {e}"),
            }
        }
    }
}
