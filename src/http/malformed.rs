//! A JSON answer for requests hyper cannot parse.
//!
//! When a request line or its headers are malformed (`GET /versions/>=1.0`, with `>`
//! not percent-encoded), hyper answers by itself, before any router sees the request:
//! a 400 (414, 431) with an empty body, then closes the connection. hyper has no hook
//! for that answer, so [`Explained`] sits between the socket and hyper: it keeps the
//! first bytes of the request being read and, when hyper writes such an empty error
//! answer, writes instead the same status with the JSON error body every other 4xx
//! has, saying what was wrong and how to fix it (which characters to percent-encode).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How much of a request is kept to explain why it could not be parsed: its request
/// line is at the start.
const KEPT: usize = 2048;

/// A connection's stream, with hyper's empty error answers replaced by JSON ones.
pub struct Explained<S> {
    inner: S,
    /// The first bytes read since the last answer began.
    request: Vec<u8>,
    /// An explained answer not yet written to `inner`.
    pending: Vec<u8>,
    written: usize,
}

impl<S> Explained<S> {
    /// Wraps a connection's stream.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            request: Vec::new(),
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<S: AsyncWrite + Unpin> Explained<S> {
    /// Writes what is left of `pending`; ready when it is all written.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = match Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            self.written += n;
        }
        Ok(()).into()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Explained<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if polled.is_ready() {
            let room = KEPT.saturating_sub(self.request.len());
            let new = &buf.filled()[before..];
            let kept = &new[..new.len().min(room)];
            self.request.extend_from_slice(kept);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Explained<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Err(e)) = self.drain(cx) {
            return Poll::Ready(Err(e));
        }
        if self.written < self.pending.len() {
            return Poll::Pending;
        }
        if buf.starts_with(b"HTTP/1.1 ") {
            if let Some(answer) = explain(buf, &self.request) {
                self.pending = answer;
                self.written = 0;
                self.request.clear();
                // The explained answer replaces hyper's: report hyper's as written.
                let _ = self.drain(cx);
                return Poll::Ready(Ok(buf.len()));
            }
            // A new answer: what is read from now on is the next request.
            self.request.clear();
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

/// The JSON answer that replaces `head`, when `head` is hyper's own empty answer to a
/// request it could not parse; `None` for every other answer.
fn explain(head: &[u8], request: &[u8]) -> Option<Vec<u8>> {
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    if end + 4 != head.len() {
        return None; // an answer with a body: the router's
    }
    let text = std::str::from_utf8(&head[..end]).ok()?;
    let mut lines = text.split("\r\n");
    let status = lines.next()?.strip_prefix("HTTP/1.1 ")?;
    if !lines.any(|l| l.eq_ignore_ascii_case("content-length: 0")) {
        return None;
    }
    let (code, message) = match status.split(' ').next()? {
        "400" => ("malformed-request", bad_request(request)),
        "414" => (
            "uri-too-long",
            "the request's path and query are too long".to_owned(),
        ),
        "431" => (
            "headers-too-large",
            "the request's headers are larger than the server accepts (--max-header-bytes)"
                .to_owned(),
        ),
        _ => return None,
    };
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    Some(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// Why `request` (its first bytes) is not a request, in words.
fn bad_request(request: &[u8]) -> String {
    let line = request.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(_method), Some(target)) = (parts.next(), parts.next()) else {
        return "the request could not be parsed as HTTP/1.1".to_owned();
    };
    let mut unsafe_chars: Vec<char> = target.chars().filter(|&c| !uri_char(c)).collect();
    unsafe_chars.dedup();
    if unsafe_chars.is_empty() {
        return "the request could not be parsed as HTTP/1.1 (its request line or a header is malformed)"
            .to_owned();
    }
    let listed: Vec<String> = unsafe_chars
        .iter()
        .map(|c| format!("`{c}` as {}", encode(*c)))
        .collect();
    let encoded: String = target
        .chars()
        .map(|c| {
            if uri_char(c) {
                c.to_string()
            } else {
                encode(c)
            }
        })
        .collect();
    format!(
        "the request path holds characters that must be URL-encoded ({}): request {encoded} \
         instead (`curl` does not encode paths; a version range such as ^1 is written %5E1)",
        listed.join(", ")
    )
}

/// Whether `c` may appear as is in a request target (RFC 3986: unreserved, reserved,
/// and `%` of an escape).
fn uri_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

/// `c` percent-encoded (UTF-8 bytes).
fn encode(c: char) -> String {
    let mut bytes = [0u8; 4];
    c.encode_utf8(&mut bytes)
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unencoded_range_is_named_with_its_encoding() {
        let m = bad_request(b"GET /api/v1/contracts/a/versions/>=1.0 HTTP/1.1\r\nhost: x\r\n");
        assert!(m.contains("`>` as %3E"), "{m}");
        assert!(!m.contains("`=` as"), "{m}");
        assert!(m.contains("/api/v1/contracts/a/versions/%3E=1.0"), "{m}");
    }

    #[test]
    fn only_hypers_empty_answers_are_replaced() {
        let empty = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let answer = explain(empty, b"GET /a> HTTP/1.1\r\n").expect("replaced");
        let text = String::from_utf8(answer).unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
        assert!(text.contains("content-type: application/json"), "{text}");
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert!(explain(ok, b"GET / HTTP/1.1\r\n").is_none());
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";
        assert!(explain(with_body, b"GET / HTTP/1.1\r\n").is_none());
    }
}
