//! A server-sent-events decoder: bytes in, the `data` of each event out. Lines end in CR, LF or
//! CRLF (also split across reads); `:` lines are comments; `data` lines of one event are joined
//! with `\n`; a blank line dispatches the event (spec `aoai-wire.md` §8.6).
//!
//! It works on bytes (no `String` per line, no shifting of the buffer): line ends are found with
//! `memchr`, consumed input is dropped by advancing a `BytesMut`, and each event's data is
//! copied once.

use bytes::{Buf, BytesMut};

#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    buf: BytesMut,
    data: Vec<u8>,
    has_data: bool,
    /// The previous chunk ended in CR: a leading LF belongs to that line end.
    after_cr: bool,
}

impl SseDecoder {
    /// Adds bytes from the wire.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let bytes = if self.after_cr && bytes.first() == Some(&b'\n') {
            &bytes[1..]
        } else {
            bytes
        };
        self.after_cr = false;
        self.buf.extend_from_slice(bytes);
    }

    /// The data of the next complete event, if one is buffered.
    pub(crate) fn next_event(&mut self) -> Option<Vec<u8>> {
        let mut consumed = 0;
        let mut event = None;
        while let Some(offset) = memchr::memchr2(b'\n', b'\r', &self.buf[consumed..]) {
            let end = consumed + offset;
            let mut next = end + 1;
            if self.buf[end] == b'\r' {
                match self.buf.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let line = &self.buf[consumed..end];
            consumed = next;
            if line.is_empty() {
                if self.has_data {
                    self.has_data = false;
                    event = Some(std::mem::take(&mut self.data));
                    break;
                }
                continue;
            }
            if line[0] == b':' {
                continue;
            }
            let (field, value) = match memchr::memchr(b':', line) {
                Some(colon) => {
                    let value = &line[colon + 1..];
                    (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
                }
                None => (line, &b""[..]),
            };
            if field == b"data" {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
        }
        self.buf.advance(consumed);
        event
    }

    /// Whether undispatched bytes or data remain (a stream cut mid-event).
    pub(crate) fn has_partial(&self) -> bool {
        self.has_data || !self.buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<String> {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        for c in chunks {
            d.push(c);
            while let Some(e) = d.next_event() {
                out.push(String::from_utf8(e).unwrap());
            }
        }
        out
    }

    #[test]
    fn events_survive_any_split_and_line_ending() {
        let wire = b"data: {\"a\":1}\n\n: comment\r\ndata:x\r\ndata: y\r\n\r\nevent: e\nid: 1\n\ndata\n\ndata: [DONE]\n\n";
        let want = vec![
            "{\"a\":1}".to_string(),
            "x\ny".into(),
            "".into(),
            "[DONE]".into(),
        ];
        assert_eq!(events(&[wire]), want);
        for split in 1..wire.len() {
            assert_eq!(
                events(&[&wire[..split], &wire[split..]]),
                want,
                "split at {split}"
            );
        }
        let bytewise: Vec<&[u8]> = wire.chunks(1).collect();
        assert_eq!(events(&bytewise), want);
    }

    #[test]
    fn a_cut_event_is_partial() {
        let mut d = SseDecoder::default();
        d.push(b"data: {\"a\"");
        assert_eq!(d.next_event(), None);
        assert!(d.has_partial());
        d.push(b":1}\n");
        assert_eq!(d.next_event(), None);
        assert!(d.has_partial());
    }
}
