//! `compress=zlib-stream` transport compression: one zlib stream per connection,
//! every frame flushed with `Z_SYNC_FLUSH` so it ends with `00 00 ff ff` and the
//! client can inflate it as soon as it arrives (the inflater keeps its context
//! between frames, which is where the gain comes from).

use flate2::{Compress, Compression, FlushCompress, Status};

/// The four bytes every sync-flushed frame ends with.
pub const ZLIB_SUFFIX: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The compressor of one connection.
pub struct ZlibStream {
    inner: Compress,
}

impl std::fmt::Debug for ZlibStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZlibStream")
            .field("total_in", &self.inner.total_in())
            .finish()
    }
}

impl Default for ZlibStream {
    fn default() -> Self {
        Self::new()
    }
}

impl ZlibStream {
    /// A fresh stream (the first frame carries the zlib header).
    pub fn new() -> Self {
        ZlibStream {
            inner: Compress::new(Compression::fast(), true),
        }
    }

    /// Compress one frame and sync-flush it.
    pub fn compress(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len() / 2 + 64);
        let start_in = self.inner.total_in();
        loop {
            let consumed = (self.inner.total_in() - start_in) as usize;
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(256));
            }
            let status = self.inner.compress_vec(
                &input[consumed.min(input.len())..],
                &mut out,
                FlushCompress::Sync,
            );
            let consumed = (self.inner.total_in() - start_in) as usize;
            match status {
                // Done once every byte is in and the flush marker is out: a sync
                // flush that left spare room in `out` has written everything.
                Ok(Status::Ok) | Ok(Status::BufError)
                    if consumed >= input.len() && out.len() < out.capacity() =>
                {
                    break;
                }
                Ok(_) => continue,
                // miniz never fails on valid input; stop rather than spin.
                Err(_) => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    #[test]
    fn frames_end_with_the_suffix_and_inflate_as_one_stream() {
        let mut z = ZlibStream::new();
        let mut d = Decompress::new(true);
        let big = format!(r#"{{"op":0,"d":"{}"}}"#, "abc".repeat(30_000));
        for msg in [
            r#"{"op":10,"d":{"heartbeat_interval":41250}}"#.to_string(),
            big,
            r#"{"op":11}"#.to_string(),
        ] {
            let frame = z.compress(msg.as_bytes());
            assert_eq!(frame[frame.len() - 4..], ZLIB_SUFFIX);
            let mut out = Vec::with_capacity(msg.len() + 16);
            d.decompress_vec(&frame, &mut out, FlushDecompress::Sync)
                .expect("inflate");
            assert_eq!(String::from_utf8(out).expect("utf8"), msg);
        }
    }
}
