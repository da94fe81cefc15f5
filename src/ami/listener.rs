//! The AMI TCP listener (edge): accepts clients on `[ami] bind` and runs each connection as
//! a task in its own `JoinSet`, at most [`MAX_CONNECTIONS`] at once (more are closed at
//! once). On shutdown it stops accepting, and every connection says `Event: Shutdown` and
//! closes; the listener returns when they all have.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::connection;
use super::perform::AmiContext;

/// Client connections served at once; one more is accepted and closed right away.
pub const MAX_CONNECTIONS: usize = 256;

/// Serves AMI on `listener` until `shutdown` is cancelled.
pub async fn run(listener: TcpListener, context: AmiContext, shutdown: CancellationToken) {
    let context = Arc::new(context);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if connections.len() >= MAX_CONNECTIONS {
                        tracing::warn!(%peer, "AMI connection refused: too many clients");
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    connections.spawn(connection::serve(stream, peer, context.clone(), shutdown.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "AMI accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
        }
    }
    while connections.join_next().await.is_some() {}
}
