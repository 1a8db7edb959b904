//! LZF compression, producing the same bytes as the liblzf 3.6 build Redis ships
//! (its "very fast" hashing, 64K-slot table, 8 KB window), so that DUMP payloads
//! holding compressed strings and listpacks match Redis's byte for byte.
//!
//! Output format (what the decompressor reads):
//! - a literal run: control byte `len - 1` (`len` in 1..=32), then `len` bytes;
//! - a back-reference of `n` bytes (3..=264) at distance `off + 1` (`off` below
//!   8192): control byte `(n - 2) << 5 | off >> 8` when `n - 2 < 7`, else
//!   `7 << 5 | off >> 8` followed by `n - 9`; then `off & 0xff`.
//!
//! How matches are found (this decides the exact bytes): at each position the
//! hash of the next three bytes (mixed with the byte before) picks a slot holding
//! the last position seen with that hash; a candidate is used when it lies
//! strictly after the start of the input, within the window, and its first three
//! bytes are equal. After a match only its last two positions are hashed.
//! The table starts empty here; Redis's starts with whatever its stack held, so
//! on rare inputs Redis finds a match we do not (both outputs are valid LZF).
//!
//! Invariant: the output never exceeds `input.len() - 4` bytes (checked as the
//! stream is produced, with liblzf's own bounds, so the give-up point is Redis's).

/// Table size (liblzf's `HLOG` = 16).
const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
/// Longest literal run.
const MAX_LIT: usize = 1 << 5;
/// Window: offsets below this.
const MAX_OFF: usize = 1 << 13;
/// Longest back-reference.
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// liblzf's slot index for the rolling value `h` (the "very fast" variant).
#[inline]
fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// Compresses `input`; `None` when the result would be longer than
/// `input.len() - 4` bytes (Redis's rule: it then stores the string as it is).
pub fn compress(input: &[u8]) -> Option<Vec<u8>> {
    if input.len() <= 4 {
        return None;
    }
    let out_end = input.len() - 4;
    compress_bounded(input, out_end)
}

/// liblzf's `lzf_compress(input, out, out_len)`: `None` where it returns 0.
fn compress_bounded(input: &[u8], out_end: usize) -> Option<Vec<u8>> {
    let in_end = input.len();
    if in_end == 0 || out_end == 0 {
        return None;
    }
    // Slot values are positions in `input`; 0 doubles as "empty", which the
    // `ref > start` rule below rejects anyway.
    let mut htab = vec![0u32; HSIZE];
    // `out` grows as bytes are written; `op` mirrors liblzf's output pointer,
    // which may point one past the bytes written (a run's control slot).
    let mut out: Vec<u8> = Vec::with_capacity(out_end + 1);
    let put = |out: &mut Vec<u8>, at: usize, b: u8| {
        if at >= out.len() {
            out.resize(at + 1, 0);
        }
        out[at] = b;
    };
    let mut ip = 0usize;
    let mut op = 1usize; // start a literal run: its control byte goes at op - lit - 1
    let mut lit = 0usize;
    out.push(0);

    let mut hval: u32 = (u32::from(input[0]) << 8) | u32::from(*input.get(1).unwrap_or(&0));
    while ip + 2 < in_end {
        hval = (hval << 8) | u32::from(input[ip + 2]);
        let slot = idx(hval);
        let r = htab[slot] as usize;
        htab[slot] = ip as u32;

        let is_match = r > 0
            && r < ip
            && ip - r - 1 < MAX_OFF
            && input[r + 2] == input[ip + 2]
            && input[r] == input[ip]
            && input[r + 1] == input[ip + 1];
        if is_match {
            let off = ip - r - 1;
            let mut len = 2usize;
            let maxlen = (in_end - ip - len).min(MAX_REF);

            // liblzf's conservative test, then the exact one.
            if op + 3 + 1 >= out_end && op - usize::from(lit == 0) + 3 + 1 >= out_end {
                return None;
            }
            put(&mut out, op - lit - 1, (lit as u8).wrapping_sub(1)); // stop the run
            op -= usize::from(lit == 0); // undo an empty run

            // liblzf compares 16 bytes unchecked when more than 16 may match, then
            // goes on one byte at a time; the first loop may run past `maxlen` by
            // up to two bytes (still within the input), and so does this one.
            let mut broke = false;
            if maxlen > 16 {
                for _ in 0..16 {
                    len += 1;
                    if input[r + len] != input[ip + len] {
                        broke = true;
                        break;
                    }
                }
            }
            if !broke {
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }

            len -= 2; // the length field holds the match length - 2
            ip += 1;
            if len < 7 {
                put(&mut out, op, ((off >> 8) + (len << 5)) as u8);
                op += 1;
            } else {
                put(&mut out, op, ((off >> 8) + (7 << 5)) as u8);
                put(&mut out, op + 1, (len - 7) as u8);
                op += 2;
            }
            put(&mut out, op, off as u8);
            op += 1;
            lit = 0;
            op += 1; // start a new run

            ip += len + 1;
            if ip + 2 >= in_end {
                break;
            }
            // Hash the last two positions of the match.
            ip -= 2;
            hval = (u32::from(input[ip]) << 8) | u32::from(input[ip + 1]);
            hval = (hval << 8) | u32::from(input[ip + 2]);
            htab[idx(hval)] = ip as u32;
            ip += 1;
            hval = (hval << 8) | u32::from(input[ip + 2]);
            htab[idx(hval)] = ip as u32;
            ip += 1;
        } else {
            if op >= out_end {
                return None;
            }
            lit += 1;
            put(&mut out, op, input[ip]);
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                put(&mut out, op - lit - 1, (lit - 1) as u8);
                lit = 0;
                op += 1;
            }
        }
    }

    if op + 3 > out_end {
        return None;
    }
    while ip < in_end {
        lit += 1;
        put(&mut out, op, input[ip]);
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            put(&mut out, op - lit - 1, (lit - 1) as u8);
            lit = 0;
            op += 1;
        }
    }
    put(&mut out, op - lit - 1, (lit as u8).wrapping_sub(1));
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference decoder of the format above, for checking round trips only.
    fn expand(mut c: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some((&ctrl, rest)) = c.split_first() {
            c = rest;
            let ctrl = usize::from(ctrl);
            if ctrl < 32 {
                out.extend_from_slice(&c[..=ctrl]);
                c = &c[ctrl + 1..];
            } else {
                let mut len = ctrl >> 5;
                if len == 7 {
                    len += usize::from(c[0]);
                    c = &c[1..];
                }
                let back = ((ctrl & 0x1f) << 8) + usize::from(c[0]) + 1;
                c = &c[1..];
                let from = out.len() - back;
                for i in 0..len + 2 {
                    out.push(out[from + i]);
                }
            }
        }
        out
    }

    #[test]
    fn short_or_incompressible_inputs_are_refused() {
        assert_eq!(compress(b""), None);
        assert_eq!(compress(b"abcd"), None);
        assert_eq!(compress(b"abcdefghijklmnopqrstuvwxyz0123456789"), None);
    }

    #[test]
    fn repetitive_input_compresses_and_round_trips() {
        let input = vec![b'a'; 1000];
        let c = compress(&input).expect("compressible");
        assert!(c.len() < 30, "{} bytes", c.len());
        assert_eq!(expand(&c), input);
    }

    #[test]
    fn known_output_for_a_run() {
        // What Redis 7.0 stores for SET k <24 x 'a'>: "aa", a back-reference at
        // distance 1 of 20 bytes, then the last two bytes as literals (liblzf's
        // hash mixes in the byte before, so the first match starts at 2).
        let c = compress(&[b'a'; 24]).expect("compressible");
        assert_eq!(c, b"\x01aa\xe0\x0b\x00\x01aa".to_vec());
        assert_eq!(expand(&c), vec![b'a'; 24]);
    }

    #[test]
    fn random_inputs_round_trip() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for round in 0..300 {
            let len = rng.gen_range(5..20_000);
            let alphabet = if round % 3 == 0 { 256 } else { 4 };
            let input: Vec<u8> = (0..len).map(|_| rng.gen_range(0..alphabet) as u8).collect();
            if let Some(c) = compress(&input) {
                assert!(c.len() <= input.len() - 4);
                assert_eq!(expand(&c), input, "round {round}");
            }
        }
    }
}
