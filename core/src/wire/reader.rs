//! [`FrameReader`]: turns a byte stream, arriving in pieces of any size, into frames one by one,
//! in a buffer allocated once that never grows.

use super::{decode, Decoded, Frame, WireError};
use crate::constants::{FRAME_READER_FRAME_COUNT, FRAME_SIZE_MAX};

/// The bytes of a reader's buffer: [`FRAME_READER_FRAME_COUNT`] frames of the largest size.
pub const FRAME_READER_BUFFER_SIZE: usize = FRAME_SIZE_MAX * FRAME_READER_FRAME_COUNT;

/// A byte stream's frames, one by one. Feed it with [`FrameReader::buffer_mut`] and
/// [`FrameReader::filled`] (read from a socket straight into its buffer) or with
/// [`FrameReader::push`], then take frames with [`FrameReader::next_frame`] until it says it
/// needs more.
///
/// A frame is at most [`FRAME_SIZE_MAX`] bytes and the buffer holds several, so once the bytes
/// already taken are moved out of the way there is always room for the rest of the frame being
/// read. After an error the stream cannot be resynchronised (the length field that would say
/// where the next frame starts is what failed), so every later call returns the same error: the
/// node sends an ERROR and a GOODBYE and closes the connection (planned).
pub struct FrameReader {
    buffer: Box<[u8]>,
    /// Where the first byte not yet taken as a frame is; `start <= end`.
    start: usize,
    /// Where the bytes fed so far end; `end <= buffer.len()`.
    end: usize,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new()
    }
}

impl FrameReader {
    /// A reader with an empty buffer of [`FRAME_READER_BUFFER_SIZE`] bytes, allocated now and
    /// never again.
    pub fn new() -> FrameReader {
        FrameReader {
            buffer: vec![0u8; FRAME_READER_BUFFER_SIZE].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// The free space after the bytes fed so far, to read into; call [`FrameReader::filled`]
    /// with the count read. Moves the unread bytes to the front first, so the space is as large
    /// as it can be: at least [`FRAME_READER_BUFFER_SIZE`] − [`FRAME_SIZE_MAX`] bytes whenever
    /// [`FrameReader::next_frame`] has just said it needs more.
    pub fn buffer_mut(&mut self) -> &mut [u8] {
        self.compact();
        &mut self.buffer[self.end..]
    }

    /// Records that `count` bytes were written at the start of [`FrameReader::buffer_mut`].
    ///
    /// # Panics
    ///
    /// If `count` is more than that space: a caller bug, not a peer's.
    pub fn filled(&mut self, count: usize) {
        assert!(
            count <= self.buffer.len() - self.end,
            "filled {count} bytes into {} free",
            self.buffer.len() - self.end
        );
        self.end += count;
    }

    /// Copies as much of `bytes` as fits and returns how many were taken; the rest must be
    /// pushed again after frames are taken.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let space = self.buffer_mut();
        let count = bytes.len().min(space.len());
        space[..count].copy_from_slice(&bytes[..count]);
        self.filled(count);
        count
    }

    /// The next whole frame, `None` if the bytes fed so far end inside one, or the error that
    /// makes the stream unreadable (returned again on every later call).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, WireError> {
        match decode(&self.buffer[self.start..self.end])? {
            Decoded::Frame(frame, size) => {
                self.start += size;
                if self.start == self.end {
                    self.start = 0;
                    self.end = 0;
                }
                Ok(Some(frame))
            }
            Decoded::NeedMore(_) => Ok(None),
        }
    }

    /// Bytes fed and not yet taken as frames.
    pub fn pending_bytes(&self) -> usize {
        self.end - self.start
    }

    /// Moves the bytes not yet taken to the front of the buffer.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }
}

impl std::fmt::Debug for FrameReader {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FrameReader")
            .field("start", &self.start)
            .field("end", &self.end)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::TxnId;
    use crate::wire::encode;

    #[test]
    fn frames_fed_a_byte_at_a_time_come_out_whole_and_in_order() {
        let frames: Vec<Frame> = (0..1_000)
            .map(|index| match index % 3 {
                0 => Frame::Ping(index),
                1 => Frame::Busy(TxnId(u128::from(index) << 64)),
                _ => Frame::Goodbye(index as u16),
            })
            .collect();
        let mut stream = Vec::new();
        for frame in &frames {
            let mut out = [0u8; FRAME_SIZE_MAX];
            let size = encode(frame, &mut out).unwrap();
            stream.extend_from_slice(&out[..size]);
        }
        assert!(stream.len() > FRAME_READER_BUFFER_SIZE, "wraps the buffer");
        let mut reader = FrameReader::new();
        let mut found = Vec::new();
        for byte in &stream {
            assert_eq!(reader.push(std::slice::from_ref(byte)), 1);
            while let Some(frame) = reader.next_frame().unwrap() {
                found.push(frame);
            }
        }
        assert_eq!(found, frames);
        assert_eq!(reader.pending_bytes(), 0);
    }

    #[test]
    fn a_full_buffer_takes_no_more_until_frames_are_taken_and_never_grows() {
        let mut reader = FrameReader::new();
        let mut ping = [0u8; FRAME_SIZE_MAX];
        let size = encode(&Frame::Ping(7), &mut ping).unwrap();
        let stream: Vec<u8> = ping[..size]
            .iter()
            .copied()
            .cycle()
            .take(FRAME_READER_BUFFER_SIZE + size)
            .collect();
        assert_eq!(reader.push(&stream), FRAME_READER_BUFFER_SIZE);
        assert_eq!(reader.push(&stream), 0);
        assert_eq!(reader.next_frame(), Ok(Some(Frame::Ping(7))));
        assert_eq!(reader.buffer_mut().len(), size);
        assert_eq!(reader.buffer.len(), FRAME_READER_BUFFER_SIZE);
    }

    #[test]
    fn an_error_is_returned_again_on_every_later_call() {
        let mut reader = FrameReader::new();
        reader.push(&[2, 0, 0, 0, 9, 0x30]);
        let error = WireError::UnknownVersion { version: 9 };
        assert_eq!(reader.next_frame(), Err(error));
        reader.push(&[0; 10]);
        assert_eq!(reader.next_frame(), Err(error));
    }
}
