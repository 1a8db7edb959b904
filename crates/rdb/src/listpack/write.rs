//! Building listpacks byte-for-byte as Redis 7.0 builds them. (Encoding side.)

/// A listpack under construction.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
    count: usize,
}

impl Writer {
    pub fn new() -> Writer {
        Writer {
            buf: Vec::new(),
            count: 0,
        }
    }

    /// Appends a string element; one that reads as a canonical integer is stored
    /// as an integer, as Redis does.
    pub fn push_bytes(&mut self, s: &[u8]) {
        let _ = (s, &mut self.buf, &mut self.count);
        todo!("listpack::Writer::push_bytes")
    }

    /// Appends an integer element.
    pub fn push_int(&mut self, v: i64) {
        let _ = v;
        todo!("listpack::Writer::push_int")
    }

    /// The finished blob (header, elements, terminator).
    pub fn finish(self) -> Vec<u8> {
        todo!("listpack::Writer::finish")
    }
}
