//! Frame stream: bytes pushed into `FrameDecoder` in arbitrary chunks.
//!
//! Input: byte 0 picks the chunking (0 = everything at once), the rest is the
//! stream. Invariants: no panic; chunked decoding yields exactly what
//! one-shot decoding yields (frames and errors, in order); after a fatal
//! error the decoder only says `Poisoned`; every decoded frame re-encodes to
//! bytes that decode to the same frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torpeer_core::codec::{FrameDecoder, FrameError, encode_frame};
use torpeer_core::proto::frame::Kind;

/// A small limit so that "too large" paths are reachable from short inputs.
const MAX: usize = 4096;

type Event = Result<Kind, FrameError>;

/// Pull every frame the decoder can give now; `true` once it is poisoned.
fn drain(decoder: &mut FrameDecoder, out: &mut Vec<Event>) -> bool {
    loop {
        match decoder.next_frame() {
            Ok(Some(kind)) => out.push(Ok(kind)),
            Ok(None) => return false,
            Err(e) => {
                let fatal = e.is_fatal();
                out.push(Err(e));
                if fatal {
                    assert_eq!(decoder.next_frame(), Err(FrameError::Poisoned));
                    return true;
                }
            }
        }
    }
}

/// Decode the whole stream; the events, and the bytes left buffered if the
/// decoder is still usable (`None` once poisoned).
fn decode(stream: &[u8], chunking: u8) -> (Vec<Event>, Option<usize>) {
    let mut decoder = FrameDecoder::new(MAX);
    let mut events = Vec::new();
    let mut rest = stream;
    let mut i = 0usize;
    while !rest.is_empty() {
        let size = if chunking == 0 {
            rest.len()
        } else {
            // Chunk sizes 1..=chunking, varying along the stream.
            1 + (i.wrapping_mul(31).wrapping_add(7) % usize::from(chunking))
        };
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        decoder.push(chunk);
        assert!(decoder.buffered() <= stream.len());
        rest = tail;
        i += 1;
        if drain(&mut decoder, &mut events) {
            return (events, None);
        }
    }
    (events, Some(decoder.buffered()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunking, stream)) = data.split_first() else {
        return;
    };
    let (whole, whole_left) = decode(stream, 0);
    let (chunked, chunked_left) = decode(stream, chunking);
    assert_eq!(whole, chunked, "chunking changed the decoded stream");
    assert_eq!(whole_left, chunked_left);
    for kind in whole.into_iter().flatten() {
        let bytes = encode_frame(kind.clone(), usize::MAX).expect("no limit");
        let mut again = FrameDecoder::new(usize::MAX);
        again.push(&bytes);
        assert_eq!(
            again.next_frame(),
            Ok(Some(kind)),
            "re-encoded frame differs"
        );
        assert_eq!(again.buffered(), 0);
    }
});
