//! A server-sent-events decoder: bytes in, the `data` of each event out. Lines end in CR, LF or
//! CRLF (also split across reads); `:` lines are comments; `data` lines of one event are joined
//! with `\n`; a blank line dispatches the event (spec `aoai-wire.md` §8.6).

#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    buf: Vec<u8>,
    data: String,
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
    pub(crate) fn next_event(&mut self) -> Option<String> {
        let mut start = 0;
        let mut event = None;
        while let Some(offset) = self.buf[start..]
            .iter()
            .position(|b| *b == b'\n' || *b == b'\r')
        {
            let end = start + offset;
            let mut next = end + 1;
            if self.buf[end] == b'\r' {
                match self.buf.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let line = String::from_utf8_lossy(&self.buf[start..end]).into_owned();
            start = next;
            if line.is_empty() {
                if self.has_data {
                    self.has_data = false;
                    event = Some(std::mem::take(&mut self.data));
                    break;
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line.as_str(), ""),
            };
            if field == "data" {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
        }
        self.buf.drain(..start);
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
                out.push(e);
            }
        }
        out
    }

    #[test]
    fn events_survive_any_split_and_line_ending() {
        let wire = b"data: {\"a\":1}\n\n: comment\r\ndata:x\r\ndata: y\r\n\r\nevent: e\nid: 1\n\ndata: [DONE]\n\n";
        let want = vec!["{\"a\":1}".to_string(), "x\ny".into(), "[DONE]".into()];
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
