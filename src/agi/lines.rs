//! Splits the bytes an AGI peer sends into command lines (LF or CRLF ended), keeping a
//! partial line until the rest arrives. Lines longer than [`MAX_LINE`] are an error: Asterisk
//! reads into a fixed 2 KiB buffer, and a peer that never sends LF must not grow memory.

/// The longest command line accepted, in bytes (Asterisk's `AGI_BUF_LEN`).
pub const MAX_LINE: usize = 2048;

/// Why the peer's bytes could not be split into lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// A line went on past [`MAX_LINE`] bytes without LF.
    #[error("AGI command line longer than {MAX_LINE} bytes")]
    TooLong,
    /// A line was not UTF-8.
    #[error("AGI command line is not UTF-8")]
    NotUtf8,
}

/// A line splitter over a growing byte buffer.
#[derive(Debug, Default)]
pub struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    /// Adds bytes received from the peer.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// The next complete line without its line ending, if one has arrived.
    pub fn next_line(&mut self) -> Result<Option<String>, LineError> {
        let Some(end) = self.pending.iter().position(|&b| b == b'\n') else {
            if self.pending.len() > MAX_LINE {
                return Err(LineError::TooLong);
            }
            return Ok(None);
        };
        if end > MAX_LINE {
            return Err(LineError::TooLong);
        }
        let mut line: Vec<u8> = self.pending.drain(..=end).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        String::from_utf8(line)
            .map(Some)
            .map_err(|_| LineError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lf_and_crlf_lines_across_reads() {
        let mut lines = LineBuffer::default();
        lines.extend(b"ANSWER\r\nSTREAM FI");
        assert_eq!(lines.next_line(), Ok(Some("ANSWER".into())));
        assert_eq!(lines.next_line(), Ok(None));
        lines.extend(b"LE hello-world \"\"\n\n");
        assert_eq!(
            lines.next_line(),
            Ok(Some("STREAM FILE hello-world \"\"".into()))
        );
        assert_eq!(lines.next_line(), Ok(Some(String::new())));
        assert_eq!(lines.next_line(), Ok(None));
    }

    #[test]
    fn refuses_endless_and_binary_lines() {
        let mut lines = LineBuffer::default();
        lines.extend(&[b'x'; MAX_LINE + 1]);
        assert_eq!(lines.next_line(), Err(LineError::TooLong));
        let mut lines = LineBuffer::default();
        lines.extend(&[0xff, b'\n']);
        assert_eq!(lines.next_line(), Err(LineError::NotUtf8));
    }
}
