//! UDP transport for SIP (RFC 3261 §18): one socket, datagrams in, serialized messages out.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::net::UdpSocket;

use super::TransportStats;

/// Kernel receive buffer asked for the SIP socket: bursts of thousands of REGISTERs per second
/// overflow the usual 212 KB default during short scheduling stalls (Kamailio asks for MBs too).
/// The kernel caps it at `net.core.rmem_max`.
const SOCKET_RECV_BUFFER: usize = 4 * 1024 * 1024;

/// Receive buffer size: above any `max_message_size`, so oversized datagrams are seen (and
/// counted) rather than silently truncated by the kernel.
const RECV_BUFFER: usize = 65_536;

/// A bound SIP UDP socket.
#[derive(Debug, Clone)]
pub struct UdpTransport {
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    stats: Arc<TransportStats>,
}

impl UdpTransport {
    /// Binds `addr`.
    pub async fn bind(addr: SocketAddr, stats: Arc<TransportStats>) -> io::Result<UdpTransport> {
        let domain = socket2::Domain::for_address(addr);
        let raw = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
        if let Err(error) = raw.set_recv_buffer_size(SOCKET_RECV_BUFFER) {
            tracing::warn!(%error, "cannot enlarge the SIP socket's receive buffer");
        }
        raw.set_nonblocking(true)?;
        raw.bind(&addr.into())?;
        let socket = UdpSocket::from_std(raw.into())?;
        let local = socket.local_addr()?;
        Ok(UdpTransport {
            socket: Arc::new(socket),
            local,
            stats,
        })
    }

    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The transport's counters.
    pub fn stats(&self) -> &Arc<TransportStats> {
        &self.stats
    }

    /// Receives one datagram into `buf` (reused between calls) and returns it with its source.
    pub async fn recv(&self, buf: &mut BytesMut) -> io::Result<(Bytes, SocketAddr)> {
        buf.clear();
        buf.reserve(RECV_BUFFER);
        let (len, source) = self.socket.recv_buf_from(buf).await?;
        TransportStats::bump(&self.stats.received);
        Ok((buf.split_to(len).freeze(), source))
    }

    /// Sends `data` to `to` without waiting. A full socket buffer or any other failure is
    /// counted and logged, never fatal: UDP is lossy anyway and transactions retransmit.
    pub fn send(&self, data: &[u8], to: SocketAddr) {
        match self.socket.try_send_to(data, to) {
            Ok(_) => TransportStats::bump(&self.stats.sent),
            Err(e) => {
                TransportStats::bump(&self.stats.send_errors);
                tracing::warn!(%to, error = %e, "SIP send failed");
            }
        }
    }
}
