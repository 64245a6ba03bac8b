//! Arbitrary bytes into `wire::decode` and a `FrameReader`: neither may panic, every frame
//! accepted must re-encode to exactly the bytes it came from, and the reader, fed the same bytes
//! in pieces, must find the same frames as decoding them one after another.

#![no_main]

use clearway_core::constants::FRAME_SIZE_MAX;
use clearway_core::wire::{decode, encode, Decoded, Frame, FrameReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the piece size the reader is fed in; the rest is the stream.
    let Some((&piece, stream)) = data.split_first() else {
        return;
    };
    let piece = usize::from(piece).max(1);

    let mut decoded: Vec<Frame> = Vec::new();
    let mut at = 0;
    while let Ok(Decoded::Frame(frame, size)) = decode(&stream[at..]) {
        let mut out = [0u8; FRAME_SIZE_MAX];
        let written = encode(&frame, &mut out).expect("every frame fits FRAME_SIZE_MAX");
        assert_eq!(&out[..written], &stream[at..at + size], "{frame:?}");
        decoded.push(frame);
        at += size;
    }

    let mut reader = FrameReader::new();
    let mut read: Vec<Frame> = Vec::new();
    'feed: for chunk in stream.chunks(piece) {
        let mut taken = 0;
        while taken < chunk.len() {
            taken += reader.push(&chunk[taken..]);
            loop {
                match reader.next_frame() {
                    Ok(Some(frame)) => read.push(frame),
                    Ok(None) => break,
                    Err(_) => break 'feed,
                }
            }
        }
    }
    assert_eq!(read, decoded);
});
