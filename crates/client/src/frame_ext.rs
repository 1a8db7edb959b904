//! Small accessors over [`Frame`] that callers keep needing (tests, the CLI's modes,
//! replication handshakes). Kept here as an extension trait so that `shoal-resp`
//! stays a pure codec.

use crate::Frame;

/// Convenience views of a reply.
pub trait FrameExt {
    /// The bytes of a bulk, simple, verbatim, double or big-number reply.
    fn as_bytes(&self) -> Option<&[u8]>;
    /// The text of an error reply.
    fn error_text(&self) -> Option<&[u8]>;
    /// An integer reply, or a bulk/simple string holding a decimal integer.
    fn as_int(&self) -> Option<i64>;
    /// The elements of an array, set or push reply.
    fn as_items(&self) -> Option<&[Frame]>;
    /// True for RESP2's null bulk and null array and for RESP3's null.
    fn is_null(&self) -> bool;
    /// The reply without any RESP3 attribute wrapped around it.
    fn without_attribute(&self) -> &Frame;
}

impl FrameExt for Frame {
    fn as_bytes(&self) -> Option<&[u8]> {
        match self.without_attribute() {
            Frame::Bulk(b) | Frame::Simple(b) | Frame::Double(b) | Frame::BigNumber(b) => Some(b),
            Frame::Verbatim { text, .. } => Some(text),
            _ => None,
        }
    }

    fn error_text(&self) -> Option<&[u8]> {
        match self.without_attribute() {
            Frame::Error(e) => Some(e),
            _ => None,
        }
    }

    fn as_int(&self) -> Option<i64> {
        match self.without_attribute() {
            Frame::Integer(i) => Some(*i),
            Frame::Bulk(b) | Frame::Simple(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        }
    }

    fn as_items(&self) -> Option<&[Frame]> {
        match self.without_attribute() {
            Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => Some(v),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self.without_attribute(), Frame::Null | Frame::NullArray)
    }

    fn without_attribute(&self) -> &Frame {
        let mut f = self;
        while let Frame::Attribute(_, inner) = f {
            f = inner;
        }
        f
    }
}
