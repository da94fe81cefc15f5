//! ARI for tests that hand channels to an application: `Stasis(app)` (and an originate into
//! an app) needs the app registered, which an ARI WebSocket for it does while it is open.

use std::net::TcpStream;

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
