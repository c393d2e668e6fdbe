//! The chunks of one read, as the worker hands them to the reader: their JSON
//! texts side by side in one buffer, their heads beside it. The worker allocates
//! nothing per chunk; the reader copies each text out into the chunk it hands
//! out, so the thread that frees a chunk (the caller's) is the one that made it
//! (the allocator's per-thread caches then serve both ends).

use crate::chunk::{Chunk, Head};
use crate::decoder::Sink;

/// Decoded chunks in order: each text followed by a NUL in `text`, and where
/// each ends with its head.
#[derive(Default)]
pub(super) struct Batch {
    text: String,
    heads: Vec<(usize, Head)>,
}

impl Batch {
    /// A batch with room for `bytes` of text and `chunks` heads (the worker
    /// passes the previous read's count: reads of one stream tend to hold as many,
    /// and a right-sized vector is neither regrown per read nor counted twice over
    /// in the budget).
    pub(super) fn with_capacity(bytes: usize, chunks: usize) -> Batch {
        Batch {
            text: String::with_capacity(bytes),
            heads: Vec::with_capacity(chunks),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.heads.len()
    }

    /// The heap and inline bytes the batch holds: what it counts against the
    /// stream's queue budget.
    pub(super) fn footprint(&self) -> usize {
        std::mem::size_of::<Batch>()
            + self.text.capacity()
            + self.heads.capacity() * std::mem::size_of::<(usize, Head)>()
            + self
                .heads
                .iter()
                .map(|(_, h)| h.heap_bytes())
                .sum::<usize>()
    }
}

impl Sink for Batch {
    fn chunk(&mut self, json: &str, head: Head) {
        let need = json.len() + 1;
        if self.text.capacity() - self.text.len() < need {
            // Doubled for many small texts, but no more than a long one needs:
            // the budget counts the capacity, and memory holds it.
            self.text.reserve_exact(need.max(self.text.capacity()));
        }
        self.text.push_str(json);
        self.text.push('\0');
        self.heads.push((self.text.len(), head));
    }
}

impl IntoIterator for Batch {
    type Item = Chunk;
    type IntoIter = Chunks;
    fn into_iter(self) -> Chunks {
        Chunks {
            text: self.text,
            heads: self.heads.into_iter(),
            start: 0,
        }
    }
}

/// A batch's chunks, each copied out of the batch as it is taken.
pub(super) struct Chunks {
    text: String,
    heads: std::vec::IntoIter<(usize, Head)>,
    start: usize,
}

impl Default for Chunks {
    fn default() -> Chunks {
        Batch::default().into_iter()
    }
}

impl Iterator for Chunks {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        let (end, head) = self.heads.next()?;
        let json = &self.text[self.start..end - 1];
        self.start = end;
        Some(Chunk::from_text(json, head))
    }
}

impl Chunks {
    /// Chunks not taken yet.
    pub(super) fn len(&self) -> usize {
        self.heads.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoder::Decoder;

    #[test]
    fn chunks_come_out_as_they_went_in() {
        let body = "{\"type\":\"content\",\"content\":\"a\"}\n{\"type\":\"own\"}\ndata: {\"type\":\"title\",\"title\":\"t\\u00e9\"}\n\n";
        let mut batch = Batch::with_capacity(body.len(), 0);
        Decoder::new(1 << 20, false)
            .feed(body.as_bytes(), &mut batch)
            .unwrap();
        assert_eq!(batch.len(), 3);
        let direct = crate::decoder::decode_all(body.as_bytes(), 1 << 20).unwrap();
        let out: Vec<Chunk> = batch.into_iter().collect();
        assert_eq!(out, direct);
        assert_eq!(out[1].type_with_nul(), "own\0");
        assert_eq!(out[2].text().as_deref(), Some("t\u{e9}"));
    }
}
