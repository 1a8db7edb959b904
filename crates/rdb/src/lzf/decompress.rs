//! LZF decompression. (Decoding side.)
//!
//! The stream is a sequence of chunks, each starting with a control byte `c`:
//! - `c < 32`: a literal run of `c + 1` bytes follows;
//! - otherwise a back-reference: length `c >> 5` (7 means "7 plus the next
//!   byte"), then one more byte of offset; the copy is `length + 2` bytes from
//!   `((c & 31) << 8) + offset_byte + 1` bytes back in the output (the regions
//!   may overlap, which repeats a pattern).
//!
//! Every read and copy is bounds-checked against the input and `out_len`: a
//! corrupt stream gives an error, never a panic and never more memory than
//! `out_len`.

/// Decompresses `input`, which must produce exactly `out_len` bytes.
pub fn decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>, &'static str> {
    // A chunk of n input bytes yields at most 264 output bytes per 2-3 input
    // bytes, so the output can not pass ~132 times the input: cap the allocation
    // by that rather than by a length read from the file.
    let cap = out_len.min(input.len().saturating_mul(132));
    let mut out: Vec<u8> = Vec::with_capacity(cap);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input
                .get(ip..ip + run)
                .ok_or("literal run past the input")?;
            if out.len() + run > out_len {
                return Err("output longer than declared");
            }
            out.extend_from_slice(lit);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip).ok_or("truncated back-reference")?);
                ip += 1;
            }
            let low = usize::from(*input.get(ip).ok_or("truncated back-reference")?);
            ip += 1;
            let back = ((ctrl & 0x1f) << 8) + low + 1;
            let len = len + 2;
            if back > out.len() {
                return Err("back-reference before the start of the output");
            }
            if out.len() + len > out_len {
                return Err("output longer than declared");
            }
            let from = out.len() - back;
            if back >= len {
                out.extend_from_within(from..from + len);
            } else {
                // Overlapping copy: byte by byte repeats the pattern.
                for i in 0..len {
                    let b = out[from + i];
                    out.push(b);
                }
            }
        }
    }
    if out.len() != out_len {
        return Err("output shorter than declared");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::decompress;

    #[test]
    fn literals_and_references() {
        // "abcabcabcX": literal "abc", back-reference 6 bytes at distance 3
        // (overlapping), literal "X".
        let input = [2, b'a', b'b', b'c', (4 << 5), 2, 0, b'X'];
        assert_eq!(decompress(&input, 10).unwrap(), b"abcabcabcX");
        // A long reference (length byte follows).
        let input = [0, b'z', (7 << 5), 3, 0];
        assert_eq!(decompress(&input, 13).unwrap(), vec![b'z'; 13]);
    }

    #[test]
    fn corrupt_streams_are_errors() {
        assert!(decompress(&[2, b'a'], 3).is_err()); // literal truncated
        assert!(decompress(&[0, b'a'], 2).is_err()); // too short
        assert!(decompress(&[1, b'a', b'b'], 1).is_err()); // too long
        assert!(decompress(&[0, b'a', 1 << 5, 5], 4).is_err()); // before start
        assert!(decompress(&[0, b'a', 7 << 5], 20).is_err()); // truncated ref
        assert!(decompress(&[0, b'a', 1 << 5, 0], 3).is_err()); // 1 + 3 > 3
        assert_eq!(decompress(&[], 0).unwrap(), b"");
    }
}
