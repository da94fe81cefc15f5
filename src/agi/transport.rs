//! The byte pipes of a FastAGI or program AGI session (edge): a TCP connection to a FastAGI
//! server, or a spawned program's stdout (commands) and stdin (environment and results).
//! Reading a line is cancel-safe, so the call task can wait on it and on the call at once.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::Child;

use super::lines::{LineBuffer, LineError};

/// Why a session's pipe failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The FastAGI server could not be reached in time.
    #[error("FastAGI connect to {address} failed: {reason}")]
    Connect {
        /// `host:port`.
        address: String,
        /// What went wrong.
        reason: String,
    },
    /// The program does not exist.
    #[error("AGI program {0} not found")]
    NotFound(String),
    /// The program exists but could not be started (not executable...).
    #[error("AGI program {program} could not start: {source}")]
    Spawn {
        /// The program's path.
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Reading or writing the pipe failed.
    #[error("AGI peer I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The peer sent something that is not a command line.
    #[error(transparent)]
    Line(#[from] LineError),
}

/// One session's peer: where command lines come from and results go.
pub struct AgiPeer {
    reader: Box<dyn AsyncRead + Unpin + Send>,
    writer: Box<dyn AsyncWrite + Unpin + Send>,
    lines: LineBuffer,
    /// The program, killed when the peer is dropped (the call or the session ended).
    _child: Option<Child>,
}

impl std::fmt::Debug for AgiPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgiPeer").finish_non_exhaustive()
    }
}

impl AgiPeer {
    /// Connects to a FastAGI server within `timeout`.
    pub async fn connect(
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<AgiPeer, TransportError> {
        let address = format!("{host}:{port}");
        let failed = |reason: String| TransportError::Connect {
            address: address.clone(),
            reason,
        };
        let stream = tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port)))
            .await
            .map_err(|_| failed(format!("no answer within {timeout:?}")))?
            .map_err(|e| failed(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let (reader, writer) = stream.into_split();
        Ok(AgiPeer {
            reader: Box::new(reader),
            writer: Box::new(writer),
            lines: LineBuffer::default(),
            _child: None,
        })
    }

    /// Starts `program` with `args`, its stdin and stdout as the session's pipe (stderr goes
    /// to the PBX's own).
    pub fn spawn(program: &Path, args: &[String]) -> Result<AgiPeer, TransportError> {
        let shown = program.display().to_string();
        if !program.is_file() {
            return Err(TransportError::NotFound(shown));
        }
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| TransportError::Spawn {
                program: shown.clone(),
                source,
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(TransportError::Spawn {
                program: shown,
                source: std::io::Error::other("no stdin/stdout pipe"),
            });
        };
        Ok(AgiPeer {
            reader: Box::new(stdout),
            writer: Box::new(stdin),
            lines: LineBuffer::default(),
            _child: Some(child),
        })
    }

    /// Sends `text` as it is.
    pub async fn send(&mut self, text: &str) -> Result<(), TransportError> {
        self.writer.write_all(text.as_bytes()).await?;
        self.writer.flush().await?;
        Ok(())
    }

    /// The next command line; `None` when the peer closed. Cancel-safe: bytes read are kept.
    pub async fn next_line(&mut self) -> Result<Option<String>, TransportError> {
        let mut buf = [0u8; 1024];
        loop {
            if let Some(line) = self.lines.next_line()? {
                return Ok(Some(line));
            }
            let n = self.reader.read(&mut buf).await?;
            if n == 0 {
                return Ok(None);
            }
            self.lines.extend(&buf[..n]);
        }
    }
}
