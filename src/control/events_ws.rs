//! `GET /api/events`: the event stream as a WebSocket of JSON text messages, one event per
//! message (`{"seq":..,"timestamp":..,"type":..,...}`). `?since=SEQ` first replays the events
//! after `SEQ` still in the window, so a client that reconnects with the last `seq` it saw
//! loses nothing; without it the stream starts with what happens next. A client that fell
//! behind the window gets `{"type":"EventsLost","count":N}` and the stream goes on from the
//! oldest event still held. Messages from the client are ignored; the stream ends when the
//! client closes it or the server shuts down.

use std::time::SystemTime;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::api::ApiState;
use crate::events::{iso8601, Read, Seq, Subscription};

/// The query of `GET /api/events`.
#[derive(Debug, Clone, Deserialize)]
pub struct EventsQuery {
    /// Replay the events after this sequence number first.
    pub since: Option<u64>,
}

/// Upgrades to a WebSocket streaming events. The subscription is taken before the upgrade,
/// so nothing published meanwhile is missed.
pub async fn events(
    ws: WebSocketUpgrade,
    State(state): State<ApiState>,
    Query(query): Query<EventsQuery>,
) -> Response {
    let subscription = state.events.subscribe(query.since.map(Seq));
    let shutdown = state.shutdown.clone();
    ws.on_upgrade(move |socket| stream(socket, subscription, shutdown))
}

async fn stream(mut socket: WebSocket, mut events: Subscription, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            read = events.next() => {
                let Some(text) = render(&read) else { continue };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
            _ = shutdown.cancelled() => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        }
    }
}

/// One read as the JSON text of a message.
fn render(read: &Read) -> Option<String> {
    match read {
        Read::Event(published) => serde_json::to_string(&**published).ok(),
        Read::Lost { count, .. } => Some(
            serde_json::json!({
                "type": "EventsLost",
                "timestamp": iso8601(SystemTime::now()),
                "count": count,
            })
            .to_string(),
        ),
        Read::Pending => None,
    }
}
