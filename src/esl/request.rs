//! Splits the bytes a client sends into requests (sans-IO). A request is a command line and
//! optional header lines, ended by a blank line; a `Content-Length` header means that many
//! bytes of body follow (`sendmsg` with an app argument in its body, `sendevent`). As
//! FreeSWITCH's `read_packet` does, lines may end with LF or CRLF and blank lines before a
//! command are skipped; header names are matched case-insensitively, and a header line
//! without `:` is ignored. Requests larger than [`MAX_REQUEST`] are an error.

/// The largest request (headers and body) accepted, in bytes.
pub const MAX_REQUEST: usize = 1 << 20;

/// Why the client's bytes are not requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// A request went on past [`MAX_REQUEST`] bytes.
    #[error("event socket request longer than {MAX_REQUEST} bytes")]
    TooLong,
    /// The command or a header was not UTF-8.
    #[error("event socket request is not UTF-8")]
    NotUtf8,
    /// A `Content-Length` that is not a number.
    #[error("bad Content-Length {0:?}")]
    BadLength(String),
}

/// One request from the client.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// The command line, trimmed (`sendmsg`, `api status`...).
    pub command: String,
    /// The header lines after it, in order, names and values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body, when a `Content-Length` announced one.
    pub body: String,
}

impl Request {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A request splitter over a growing byte buffer.
#[derive(Debug, Default)]
pub struct RequestBuffer {
    pending: Vec<u8>,
}

impl RequestBuffer {
    /// Adds bytes received from the client.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// The next complete request, if one has arrived.
    pub fn next_request(&mut self) -> Result<Option<Request>, RequestError> {
        let start = self.skip_blank_lines();
        self.pending.drain(..start);
        let Some((head_end, body_start)) = head_end(&self.pending) else {
            return self.check_size();
        };
        let head =
            std::str::from_utf8(&self.pending[..head_end]).map_err(|_| RequestError::NotUtf8)?;
        let mut lines = head.lines().map(|l| l.trim_end_matches('\r'));
        let command = lines.next().unwrap_or_default().trim().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let length = match headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        {
            Some((_, v)) => v
                .parse::<usize>()
                .map_err(|_| RequestError::BadLength(v.clone()))?,
            None => 0,
        };
        if length > MAX_REQUEST {
            return Err(RequestError::TooLong);
        }
        if self.pending.len() < body_start + length {
            return self.check_size();
        }
        let body = String::from_utf8(self.pending[body_start..body_start + length].to_vec())
            .map_err(|_| RequestError::NotUtf8)?;
        self.pending.drain(..body_start + length);
        Ok(Some(Request {
            command,
            headers,
            body,
        }))
    }

    /// Where the first non-blank line starts (blank lines are CR/LF only).
    fn skip_blank_lines(&self) -> usize {
        let mut at = 0;
        loop {
            let rest = &self.pending[at..];
            if rest.starts_with(b"\n") {
                at += 1;
            } else if rest.starts_with(b"\r\n") {
                at += 2;
            } else {
                return at;
            }
        }
    }

    fn check_size(&self) -> Result<Option<Request>, RequestError> {
        match self.pending.len() > MAX_REQUEST {
            true => Err(RequestError::TooLong),
            false => Ok(None),
        }
    }
}

/// The end of the header block (before its blank line) and where the body starts.
fn head_end(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut line_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'\n' {
            continue;
        }
        let line = &bytes[line_start..i];
        if line.is_empty() || line == b"\r" {
            return Some((line_start, i + 1));
        }
        line_start = i + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> Vec<Request> {
        let mut buffer = RequestBuffer::default();
        buffer.extend(bytes);
        std::iter::from_fn(|| buffer.next_request().unwrap()).collect()
    }

    #[test]
    fn splits_requests_with_lf_crlf_and_extra_blank_lines() {
        let got = all(b"connect\n\n\r\n\nmyevents\r\n\r\nsendmsg \ncall-command: execute\nexecute-app-name: answer\n\n");
        let commands: Vec<&str> = got.iter().map(|r| r.command.as_str()).collect();
        assert_eq!(commands, ["connect", "myevents", "sendmsg"]);
        assert_eq!(got[2].header("Call-Command"), Some("execute"));
        assert_eq!(got[2].header("execute-app-name"), Some("answer"));
    }

    #[test]
    fn a_body_follows_its_content_length_even_across_reads() {
        let mut buffer = RequestBuffer::default();
        buffer.extend(b"sendmsg\ncall-command: execute\nexecute-app-name: playback\ncontent-type: text/plain\ncontent-length: 11\n\nhello-");
        assert_eq!(buffer.next_request().unwrap(), None);
        buffer.extend(b"worldapi status\n\n");
        let first = buffer.next_request().unwrap().unwrap();
        assert_eq!(first.body, "hello-world");
        assert_eq!(
            buffer.next_request().unwrap().unwrap().command,
            "api status"
        );
        assert_eq!(buffer.next_request().unwrap(), None);
    }

    #[test]
    fn an_incomplete_request_waits_and_a_huge_one_is_refused() {
        let mut buffer = RequestBuffer::default();
        buffer.extend(b"event plain ALL\n");
        assert_eq!(buffer.next_request().unwrap(), None);
        buffer.extend(&vec![b'x'; MAX_REQUEST + 1]);
        assert_eq!(buffer.next_request(), Err(RequestError::TooLong));
        let mut bad = RequestBuffer::default();
        bad.extend(b"sendmsg\ncontent-length: many\n\n");
        assert!(matches!(
            bad.next_request(),
            Err(RequestError::BadLength(_))
        ));
    }
}
