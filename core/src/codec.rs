//! Length-delimited proto3 frames on a byte stream, and decoding of messages
//! that may arrive as binary protobuf or as proto3 JSON.
//!
//! A frame is a protobuf varint length `n` followed by `n` bytes of an encoded
//! [`proto::Frame`] (the same as prost's `encode_length_delimited`). Lengths
//! above the decoder's maximum are refused as soon as the prefix is read, so a
//! peer cannot make us buffer more than one maximum-size frame.

use prost::Message;

use crate::proto;
use crate::proto::frame::Kind;

/// Default hard limit on one frame's payload: room for a 1,000-record
/// `Peers` answer (about 200 KiB) with a wide margin.
pub const DEFAULT_MAX_FRAME_LEN: usize = 1 << 20;
/// A varint length prefix is at most this many bytes.
const MAX_VARINT_LEN: usize = 10;

/// Why bytes on a stream could not be turned into a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The length prefix announces more than the maximum.
    #[error("frame of {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// Announced length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// The length prefix is not a valid varint.
    #[error("invalid frame length prefix")]
    BadLengthPrefix,
    /// The payload is not a valid protobuf `Frame`.
    #[error("undecodable frame: {0}")]
    Decode(String),
    /// A well-formed frame of a kind this version does not know (a newer
    /// peer). The stream is still in sync; answer with an error frame.
    #[error("unknown frame kind")]
    UnknownKind,
    /// A previous error left the stream out of sync.
    #[error("stream is out of sync after an earlier framing error")]
    Poisoned,
}

impl FrameError {
    /// Whether the stream can go on after this error. Only an unknown kind
    /// leaves the framing intact.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, Self::UnknownKind)
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "frame_too_large",
            Self::BadLengthPrefix => "frame_bad_length",
            Self::Decode(_) => "frame_decode",
            Self::UnknownKind => "frame_unknown_kind",
            Self::Poisoned => "frame_poisoned",
        }
    }
}

/// Encode one frame (length prefix and payload), refusing frames larger
/// than `max_len` so that we never send what a peer must refuse.
pub fn encode_frame(kind: Kind, max_len: usize) -> Result<Vec<u8>, FrameError> {
    let frame = proto::Frame { kind: Some(kind) };
    let len = frame.encoded_len();
    if len > max_len {
        return Err(FrameError::TooLarge {
            len: len as u64,
            max: max_len,
        });
    }
    Ok(frame.encode_length_delimited_to_vec())
}

/// Capacity a drained [`FrameDecoder`] may keep for the next frames.
const IDLE_BUFFER_CAPACITY: usize = 4_096;

/// Incremental frame decoder: push bytes as they arrive, pull whole frames.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    start: usize,
    max_len: usize,
    poisoned: bool,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_LEN)
    }
}

impl FrameDecoder {
    /// A decoder refusing frames over `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            max_len,
            poisoned: false,
        }
    }

    /// Append received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        // Compact before growing, so consumed frames don't accumulate.
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed.
    ///
    /// After a fatal error ([`FrameError::is_fatal`]) every later call
    /// returns [`FrameError::Poisoned`]: close the stream.
    pub fn next_frame(&mut self) -> Result<Option<Kind>, FrameError> {
        if self.poisoned {
            return Err(FrameError::Poisoned);
        }
        let result = self.next_frame_inner();
        if let Err(e) = &result
            && e.is_fatal()
        {
            self.poisoned = true;
        }
        result
    }

    fn next_frame_inner(&mut self) -> Result<Option<Kind>, FrameError> {
        let pending = &self.buf[self.start..];
        let Some((len, prefix_len)) = read_varint(pending)? else {
            return Ok(None);
        };
        if len > self.max_len as u64 {
            return Err(FrameError::TooLarge {
                len,
                max: self.max_len,
            });
        }
        // len <= max_len, which is a usize.
        let len = len as usize;
        let Some(payload) = pending.get(prefix_len..prefix_len + len) else {
            return Ok(None);
        };
        let frame = proto::Frame::decode(payload).map_err(|e| FrameError::Decode(e.to_string()))?;
        self.start += prefix_len + len;
        if self.start == self.buf.len() {
            // All consumed: give back the room a large frame took, so an
            // idle connection holds no buffer (a node keeps dozens, and a
            // simulator thousands, of them).
            self.buf.clear();
            self.start = 0;
            if self.buf.capacity() > IDLE_BUFFER_CAPACITY {
                self.buf = Vec::new();
            }
        }
        frame.kind.map(Some).ok_or(FrameError::UnknownKind)
    }
}

/// Read a protobuf varint from the front of `bytes`: `Ok(None)` if
/// incomplete, else the value and the number of bytes it took.
fn read_varint(bytes: &[u8]) -> Result<Option<(u64, usize)>, FrameError> {
    let mut value: u64 = 0;
    for (i, byte) in bytes.iter().take(MAX_VARINT_LEN).enumerate() {
        let low = u64::from(byte & 0x7f);
        if i == MAX_VARINT_LEN - 1 && (*byte > 1) {
            return Err(FrameError::BadLengthPrefix);
        }
        value |= low << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    if bytes.len() >= MAX_VARINT_LEN {
        return Err(FrameError::BadLengthPrefix);
    }
    Ok(None)
}

/// How a message was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Binary protobuf.
    Binary,
    /// Canonical proto3 JSON.
    Json,
}

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Input larger than allowed.
    #[error("input of {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Invalid binary protobuf.
    #[error("invalid protobuf: {0}")]
    Binary(String),
    /// Invalid proto3 JSON.
    #[error("invalid proto3 JSON: {0}")]
    Json(String),
}

impl MessageError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "input_too_large",
            Self::Binary(_) => "invalid_protobuf",
            Self::Json(_) => "invalid_json",
        }
    }
}

/// Guess the encoding: proto3 JSON starts with `{` (after whitespace), which
/// as a protobuf tag would be field 15 with the deprecated group wire type —
/// never produced by our schema.
pub fn detect_encoding(bytes: &[u8]) -> Encoding {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Encoding::Json,
        _ => Encoding::Binary,
    }
}

/// Decode a message given as binary protobuf or proto3 JSON, whichever it is.
pub fn decode_message<M>(bytes: &[u8], max_len: usize) -> Result<(M, Encoding), MessageError>
where
    M: Message + Default + serde::de::DeserializeOwned,
{
    if bytes.len() > max_len {
        return Err(MessageError::TooLarge {
            len: bytes.len(),
            max: max_len,
        });
    }
    match detect_encoding(bytes) {
        Encoding::Json => match serde_json::from_slice(bytes) {
            Ok(m) => Ok((m, Encoding::Json)),
            // Leading "whitespace" can be binary: 0x0a is the tag of field 1
            // (length-delimited) and 0x09, 0x0a, 0x0d, 0x20 are lengths, so
            // a binary message whose first string starts with '{' looks
            // like JSON here. Give binary a chance before calling it bad JSON.
            Err(e) if bytes.first() != Some(&b'{') => M::decode(bytes)
                .map(|m| (m, Encoding::Binary))
                .map_err(|_| MessageError::Json(e.to_string())),
            Err(e) => Err(MessageError::Json(e.to_string())),
        },
        Encoding::Binary => M::decode(bytes)
            .map(|m| (m, Encoding::Binary))
            .map_err(|e| MessageError::Binary(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ping(n: u64) -> Kind {
        Kind::Ping(proto::Ping { nonce: n })
    }

    #[test]
    fn frames_split_anywhere_reassemble() {
        let mut wire = Vec::new();
        for n in 0..5 {
            wire.extend(encode_frame(ping(n * 1000), DEFAULT_MAX_FRAME_LEN).unwrap());
        }
        for split in 0..wire.len() {
            let mut d = FrameDecoder::default();
            let mut got = Vec::new();
            for chunk in [&wire[..split], &wire[split..]] {
                d.push(chunk);
                while let Some(k) = d.next_frame().unwrap() {
                    got.push(k);
                }
            }
            assert_eq!(got, (0..5).map(|n| ping(n * 1000)).collect::<Vec<_>>());
            assert_eq!(d.buffered(), 0);
        }
    }

    #[test]
    fn oversized_frames_are_refused_from_the_prefix_alone() {
        let mut d = FrameDecoder::new(16);
        // Announce 17 bytes, send none of them.
        d.push(&[17]);
        assert_eq!(
            d.next_frame(),
            Err(FrameError::TooLarge { len: 17, max: 16 })
        );
        assert_eq!(d.next_frame(), Err(FrameError::Poisoned));
        let big = Kind::AppData(proto::AppData { data: vec![0; 32] });
        assert!(matches!(
            encode_frame(big, 16),
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn bad_prefix_and_payload_are_typed() {
        let mut d = FrameDecoder::default();
        d.push(&[0xff; 11]);
        assert_eq!(d.next_frame(), Err(FrameError::BadLengthPrefix));
        let mut d = FrameDecoder::default();
        d.push(&[3, 0xff, 0xff, 0xff]);
        assert!(matches!(d.next_frame(), Err(FrameError::Decode(_))));
    }

    #[test]
    fn unknown_kinds_keep_the_stream_in_sync() {
        // Field 99, varint 1: a frame kind from the future.
        let mut d = FrameDecoder::default();
        d.push(&[3, 0x98, 0x06, 0x01]);
        d.push(&encode_frame(ping(7), 64).unwrap());
        assert_eq!(d.next_frame(), Err(FrameError::UnknownKind));
        assert_eq!(d.next_frame(), Ok(Some(ping(7))));
        // An empty frame has no kind either.
        d.push(&[0]);
        assert_eq!(d.next_frame(), Err(FrameError::UnknownKind));
    }

    #[test]
    fn messages_decode_from_json_or_binary() {
        let msg = proto::Ping { nonce: u64::MAX };
        let bin = msg.encode_to_vec();
        let json = serde_json::to_vec(&msg).unwrap();
        assert_eq!(
            decode_message::<proto::Ping>(&bin, 1024).unwrap(),
            (msg, Encoding::Binary)
        );
        assert_eq!(
            decode_message::<proto::Ping>(&json, 1024).unwrap(),
            (msg, Encoding::Json)
        );
        assert!(matches!(
            decode_message::<proto::Ping>(b"{nope", 1024),
            Err(MessageError::Json(_))
        ));
        assert!(matches!(
            decode_message::<proto::Ping>(&[0; 10], 4),
            Err(MessageError::TooLarge { .. })
        ));
    }
}
