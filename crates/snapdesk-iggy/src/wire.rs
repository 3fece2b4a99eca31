//! Reading a file front to back through one fixed buffer: headers are parsed in place,
//! bodies are handed to the checksum without a copy. Memory per open file is the buffer,
//! whatever the file's size.

use std::io::{self, Read};

/// 1 MiB: large reads keep up with `cat`, and every header fits many times over.
pub const BUF: usize = 1024 * 1024;

pub struct Chunked<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    pos: u64,
    eof: bool,
}

impl<R: Read> Chunked<R> {
    pub fn new(inner: R) -> Self {
        Self::with_capacity(inner, BUF)
    }

    pub fn with_capacity(inner: R, cap: usize) -> Self {
        Self {
            inner,
            buf: vec![0; cap.max(512)],
            start: 0,
            end: 0,
            pos: 0,
            eof: false,
        }
    }

    /// The file offset of the next unread byte.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The bytes buffered and not consumed.
    pub fn peek(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Buffers at least `n` bytes (`n` at most the capacity) unless the file ends first;
    /// returns whether `n` bytes are there.
    pub fn fill(&mut self, n: usize) -> io::Result<bool> {
        debug_assert!(n <= self.buf.len());
        if self.end - self.start >= n {
            return Ok(true);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end < n && !self.eof {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start >= n)
    }

    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.pos += n as u64;
    }

    /// Hands the next `n` bytes to `f` in buffer-sized slices and consumes them; returns how
    /// many there were (fewer than `n` when the file ends).
    pub fn feed(&mut self, mut n: u64, mut f: impl FnMut(&[u8])) -> io::Result<u64> {
        let mut done = 0;
        while n > 0 {
            if self.start == self.end && !self.fill(1)? {
                break;
            }
            let k = ((self.end - self.start) as u64).min(n) as usize;
            f(&self.buf[self.start..self.start + k]);
            self.consume(k);
            n -= k as u64;
            done += k as u64;
        }
        Ok(done)
    }

    /// Reads to the end, counting the bytes (what is left after the last whole record).
    pub fn drain(&mut self) -> io::Result<u64> {
        self.feed(u64::MAX, |_| {})
    }
}

pub fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

pub fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

pub fn u128_at(b: &[u8], at: usize) -> u128 {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[at..at + 16]);
    u128::from_le_bytes(a)
}

/// A little-endian cursor over a small in-memory record (metadata commands).
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Self { b, at: 0 }
    }
    pub fn rest(&self) -> &'a [u8] {
        &self.b[self.at.min(self.b.len())..]
    }
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    pub fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }
    pub fn u32(&mut self) -> Option<u32> {
        self.bytes(4).map(|b| u32_at(b, 0))
    }
    pub fn u64(&mut self) -> Option<u64> {
        self.bytes(8).map(|b| u64_at(b, 0))
    }
    /// A name: length u8, then UTF-8.
    pub fn name8(&mut self) -> Option<String> {
        let n = self.u8()? as usize;
        self.bytes(n)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
    /// An Iggy identifier: kind u8 (1 numeric, 2 string), length u8, value.
    pub fn identifier(&mut self) -> Option<Ident> {
        let kind = self.u8()?;
        let len = self.u8()? as usize;
        let v = self.bytes(len)?;
        match (kind, len) {
            (1, 4) => Some(Ident::Numeric(u32_at(v, 0))),
            (2, _) => Some(Ident::Name(String::from_utf8_lossy(v).into_owned())),
            _ => None,
        }
    }
}

/// How a command names a stream, topic or group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ident {
    Numeric(u32),
    Name(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_feed_and_positions_across_small_buffers() {
        let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let mut c = Chunked::with_capacity(&data[..], 512);
        assert!(c.fill(10).unwrap());
        assert_eq!(&c.peek()[..3], &[0, 1, 2]);
        c.consume(10);
        let mut sum = 0u64;
        let n = c.feed(3000, |s| sum += s.len() as u64).unwrap();
        assert_eq!((n, sum, c.pos()), (3000, 3000, 3010));
        assert!(c.fill(100).unwrap());
        assert_eq!(c.peek()[0], (3010 % 256) as u8);
        assert_eq!(c.drain().unwrap(), 1990);
        assert!(!c.fill(1).unwrap());
    }

    #[test]
    fn cursor_reads_identifiers_and_stops_at_the_end() {
        let b = [2u8, 3, b'a', b'b', b'c', 1, 4, 7, 0, 0, 0, 9];
        let mut c = Cursor::new(&b);
        assert_eq!(c.identifier(), Some(Ident::Name("abc".into())));
        assert_eq!(c.identifier(), Some(Ident::Numeric(7)));
        assert_eq!(c.u8(), Some(9));
        assert_eq!(c.u32(), None);
    }
}
