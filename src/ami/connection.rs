//! One AMI client connection (edge): sends the banner, feeds what the client sends through
//! the [`Decoder`] into its [`Session`], carries out the actions the session hands back, and
//! once the client is logged in streams the events its classes and filter let through. The
//! connection is closed on Logoff, after the last failed login, when the client has not
//! logged in within the auth timeout, when the client stops reading for [`WRITE_TIMEOUT`],
//! and at shutdown (after an `Event: Shutdown`).
//!
//! Actions are answered in the order they arrive; events published while an action waits
//! for a channel are sent after its answer (the event window holds them meanwhile).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::class::Class;
use super::dialect::BridgeLinks;
use super::event;
use super::message::{Decoder, Message};
use super::perform::{perform, AmiContext};
use super::session::{Clock, Outcome, Session, BANNER};
use crate::events::{Read, Subscription};

/// How long a write may wait for a client that does not read before it is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 4096;

/// Why a connection ended early.
#[derive(Debug, thiserror::Error)]
enum Closed {
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The client stopped reading.
    #[error("the client did not read for {WRITE_TIMEOUT:?}")]
    Stalled,
}

struct Connection {
    stream: TcpStream,
    out: Vec<u8>,
}

impl Connection {
    fn queue(&mut self, message: &Message) {
        message.render_into(&mut self.out);
    }

    async fn flush(&mut self) -> Result<(), Closed> {
        if self.out.is_empty() {
            return Ok(());
        }
        let written = tokio::time::timeout(WRITE_TIMEOUT, self.stream.write_all(&self.out)).await;
        self.out.clear();
        match written {
            Ok(result) => Ok(result?),
            Err(_) => Err(Closed::Stalled),
        }
    }
}

/// Serves the client on `stream` until it leaves or `shutdown` is cancelled.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    context: Arc<AmiContext>,
    shutdown: CancellationToken,
) {
    match run(stream, peer, &context, &shutdown).await {
        Ok(()) => tracing::debug!(%peer, "AMI connection closed"),
        Err(error) => tracing::debug!(%peer, %error, "AMI connection dropped"),
    }
}

async fn next_event(subscription: &mut Option<Subscription>) -> Read {
    match subscription {
        Some(subscription) => subscription.next().await,
        None => std::future::pending().await,
    }
}

async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    context: &Arc<AmiContext>,
    shutdown: &CancellationToken,
) -> Result<(), Closed> {
    let mut connection = Connection {
        stream,
        out: BANNER.as_bytes().to_vec(),
    };
    connection.flush().await?;
    let mut session = Session::new(context.users.clone(), peer.ip());
    let mut decoder = Decoder::new();
    let mut events: Option<Subscription> = None;
    let login_deadline = Instant::now() + context.auth_timeout;
    let mut buf = vec![0u8; READ_CHUNK];
    let mut links = BridgeLinks::default();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => {
                if session.receives(Class::System) {
                    connection.queue(
                        &Message::event("Shutdown")
                            .with("Privilege", Class::System.privilege())
                            .with("Shutdown", "Cleanly")
                            .with("Restart", "False"),
                    );
                    connection.flush().await?;
                }
                return Ok(());
            }
            _ = tokio::time::sleep_until(login_deadline.into()), if session.user().is_none() => {
                tracing::info!(%peer, "AMI client did not log in in time");
                return Ok(());
            }
            read = connection.stream.read(&mut buf) => {
                let count = read?;
                if count == 0 {
                    return Ok(());
                }
                decoder.handle_bytes(&buf[..count]);
                while let Some(decoded) = decoder.poll_message() {
                    let outcome = match decoded {
                        Ok(message) => session.handle_message(&message, &clock(context)),
                        Err(error) => session.handle_decode_error(error),
                    };
                    let logged_in = session.user().is_some();
                    match outcome {
                        Outcome::Send(messages) => messages.iter().for_each(|m| connection.queue(m)),
                        Outcome::SendAndClose(messages) => {
                            messages.iter().for_each(|m| connection.queue(m));
                            connection.flush().await?;
                            return Ok(());
                        }
                        Outcome::Run { request, action_id } => {
                            for message in perform(context, request, action_id.as_deref()).await {
                                connection.queue(&message);
                            }
                        }
                    }
                    if logged_in && events.is_none() {
                        tracing::info!(%peer, user = session.user().unwrap_or_default(), "AMI user logged in");
                        events = Some(context.events.subscribe(None));
                    }
                    connection.flush().await?;
                }
            }
            read = next_event(&mut events) => {
                match read {
                    Read::Event(published) => {
                        for rendered in event::render(&published.event) {
                            let link = context.dialect.bridge_link(&rendered, &mut links);
                            let adapted = std::iter::once(context.dialect.adapt(rendered));
                            for rendered in adapted.chain(link) {
                                if session.receives(rendered.class) {
                                    connection.queue(&rendered.message);
                                }
                            }
                        }
                        connection.flush().await?;
                    }
                    Read::Lost { count, .. } => {
                        tracing::warn!(%peer, count, "AMI client fell behind the event window; events lost");
                    }
                    Read::Pending => {}
                }
            }
        }
    }
}

fn clock(context: &AmiContext) -> Clock {
    Clock {
        wall: SystemTime::now(),
        uptime: context.started.elapsed(),
        random: rand::random(),
    }
}
