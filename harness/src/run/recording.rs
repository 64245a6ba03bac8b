//! [`Recording`]: the run's input, every event as published, kept in memory for the replay check.

use clearway_core::event::Event;

use crate::constants::RECORDING_CHUNK_EVENTS;

/// Every event in sequence order, in fixed-size chunks: appending allocates a new chunk once per
/// [`RECORDING_CHUNK_EVENTS`] events and never moves what is recorded.
#[derive(Default)]
pub struct Recording {
    chunks: Vec<Vec<Event>>,
}

impl Recording {
    /// Empty.
    pub fn new() -> Recording {
        Recording::default()
    }

    /// Appends `event`.
    #[inline]
    pub fn push(&mut self, event: &Event) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < RECORDING_CHUNK_EVENTS => chunk.push(*event),
            _ => {
                let mut chunk = Vec::with_capacity(RECORDING_CHUNK_EVENTS);
                chunk.push(*event);
                self.chunks.push(chunk);
            }
        }
    }

    /// One recording of what several producers recorded, in sequence order.
    pub fn merge(recordings: Vec<Recording>) -> Recording {
        if recordings.len() == 1 {
            return recordings.into_iter().next().unwrap_or_default();
        }
        let mut events: Vec<Event> = recordings
            .iter()
            .flat_map(|recording| recording.iter().copied())
            .collect();
        events.sort_unstable_by_key(|event| event.sequence);
        let mut merged = Recording::new();
        for event in &events {
            merged.push(event);
        }
        merged
    }

    /// Events recorded.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    /// The events in order.
    pub fn iter(&self) -> impl Iterator<Item = &Event> {
        self.chunks.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_across_chunks() {
        let mut recording = Recording::new();
        let count = RECORDING_CHUNK_EVENTS + 10;
        for sequence in 0..count as u64 {
            recording.push(&Event {
                sequence,
                ..Event::default()
            });
        }
        assert_eq!(recording.len(), count);
        assert!(recording
            .iter()
            .enumerate()
            .all(|(index, event)| event.sequence == index as u64));
    }

    #[test]
    fn merging_puts_several_producers_back_in_sequence_order() {
        let mut odd = Recording::new();
        let mut even = Recording::new();
        for sequence in 0..1_000u64 {
            let event = Event {
                sequence,
                ..Event::default()
            };
            if sequence % 2 == 0 {
                even.push(&event)
            } else {
                odd.push(&event)
            }
        }
        let merged = Recording::merge(vec![odd, even]);
        assert_eq!(merged.len(), 1_000);
        assert!(merged
            .iter()
            .enumerate()
            .all(|(index, event)| event.sequence == index as u64));
    }
}
