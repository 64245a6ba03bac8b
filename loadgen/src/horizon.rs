//! [`HorizonSample`]: a bounded sample of what was sent over the last horizon (minutes of
//! payments, tens of millions of them), for resends and refunds that reach back that far.

use rand::Rng;

use crate::constants::HORIZON_BUCKETS;

/// A ring of [`HORIZON_BUCKETS`] buckets of send time, each `span_ns` long, each keeping a
/// uniform reservoir of up to `slots` of the items sent in its span. Together the buckets cover
/// the horizon, the span being filled and the one the horizon's far edge falls in. Sized once at
/// construction; inserting, drawing and taking allocate nothing.
///
/// Items are given in nondecreasing send time, as payments are made; one older than what its
/// ring position already holds is dropped.
pub(crate) struct HorizonSample<T> {
    items: Vec<T>,
    buckets: Vec<Bucket>,
    slots: usize,
    span_ns: u64,
    /// The span last inserted into: where it starts, its number and its bucket's index, so that
    /// inserts within it (nearly all) skip the division.
    filling: (u64, u64, usize),
}

/// One span of send time and how much of its reservoir is filled and taken.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Which span it holds: send times in `number * span_ns .. (number + 1) * span_ns`.
    /// [`Bucket::EMPTY`] before the first item.
    number: u64,
    /// Items offered to it; it keeps a uniform sample of `slots` of them.
    seen: u64,
    /// Slots holding an item, from the first.
    filled: u32,
    /// Slots already taken by [`HorizonSample::take_released`], from the first.
    taken: u32,
}

impl Bucket {
    const EMPTY: Bucket = Bucket {
        number: u64::MAX,
        seen: 0,
        filled: 0,
        taken: 0,
    };
}

/// What [`HorizonSample::take_released`] may do with the next item of a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Usable {
    /// Take it.
    Yes,
    /// It can never be taken: pass over it for good.
    Never,
    /// Not now, but perhaps later: leave it, and take nothing from this bucket now.
    NotYet,
}

impl<T: Copy> HorizonSample<T> {
    /// A sample covering `horizon_ns` with `slots` items a bucket, every slot set to `empty`
    /// until filled: `buckets × slots` items allocated here, once. With `horizon_ns` 0 it holds
    /// nothing and allocates nothing.
    pub(crate) fn new(horizon_ns: u64, slots: usize, empty: T) -> HorizonSample<T> {
        if horizon_ns == 0 {
            return HorizonSample {
                items: Vec::new(),
                buckets: Vec::new(),
                slots,
                span_ns: 1,
                filling: (0, 0, 0),
            };
        }
        HorizonSample {
            items: vec![empty; HORIZON_BUCKETS * slots],
            buckets: vec![Bucket::EMPTY; HORIZON_BUCKETS],
            slots,
            span_ns: horizon_ns.div_ceil(HORIZON_BUCKETS as u64 - 2).max(1),
            // Span 0, from 0, in bucket 0: true of any span length.
            filling: (0, 0, 0),
        }
    }

    /// Whether it covers a horizon (was made with one above 0).
    #[inline]
    pub(crate) fn is_enabled(&self) -> bool {
        !self.buckets.is_empty()
    }

    /// The length of each bucket's span of send time.
    #[cfg(test)]
    pub(crate) fn span_ns(&self) -> u64 {
        self.span_ns
    }

    /// The index of the bucket for `time_ns`'s span, and the span's number (the bucket may hold
    /// another span, older or newer).
    #[inline]
    fn bucket_of(&self, time_ns: u64) -> (usize, u64) {
        let number = time_ns / self.span_ns;
        ((number % self.buckets.len() as u64) as usize, number)
    }

    /// Offers `item`, sent at `sent_ns`, to its span's reservoir: kept if the reservoir has room,
    /// else in place of a random kept one with the chance that keeps the reservoir a uniform
    /// sample of its span.
    #[inline]
    pub(crate) fn insert<R: Rng>(&mut self, sent_ns: u64, item: T, rng: &mut R) {
        if !self.is_enabled() {
            return;
        }
        let (start_ns, mut number, mut index) = self.filling;
        if sent_ns.wrapping_sub(start_ns) >= self.span_ns {
            (index, number) = self.bucket_of(sent_ns);
            self.filling = (number * self.span_ns, number, index);
        }
        let bucket = &mut self.buckets[index];
        if bucket.number != number {
            if bucket.number != Bucket::EMPTY.number && bucket.number > number {
                return;
            }
            *bucket = Bucket {
                number,
                ..Bucket::EMPTY
            };
        }
        bucket.seen += 1;
        let slot = if (bucket.filled as usize) < self.slots {
            bucket.filled += 1;
            bucket.filled as usize - 1
        } else {
            let drawn = rng.gen_range(0..bucket.seen);
            if drawn >= self.slots as u64 {
                return;
            }
            drawn as usize
        };
        self.items[index * self.slots + slot] = item;
    }

    /// A random item of the span that holds `time_ns`, or `None` when the sample has nothing
    /// from that span (nothing was sent then, or it is older than the ring holds).
    #[inline]
    pub(crate) fn sample<R: Rng>(&self, time_ns: u64, rng: &mut R) -> Option<&T> {
        if !self.is_enabled() {
            return None;
        }
        let (index, number) = self.bucket_of(time_ns);
        let bucket = &self.buckets[index];
        if bucket.number != number || bucket.filled == 0 {
            return None;
        }
        let slot = rng.gen_range(0..bucket.filled as usize);
        Some(&self.items[index * self.slots + slot])
    }

    /// The slot of the next item not yet taken of the span that holds `time_ns` (for
    /// [`HorizonSample::item_mut`]), if its bucket has released it by `now_ns`: a bucket releases its items evenly from the end of its span until its
    /// span leaves the horizon (all of them then), so however many ask, what is taken from the
    /// sample is spread evenly over the horizon's ages instead of being used up while young.
    /// `usable` judges each item in turn; an item judged [`Usable::Never`] is passed over for
    /// good.
    pub(crate) fn take_released(
        &mut self,
        time_ns: u64,
        now_ns: u64,
        mut usable: impl FnMut(&T) -> Usable,
    ) -> Option<usize> {
        if !self.is_enabled() {
            return None;
        }
        let (index, number) = self.bucket_of(time_ns);
        let bucket = &mut self.buckets[index];
        if bucket.number != number {
            return None;
        }
        let end_ns = number.saturating_add(1).saturating_mul(self.span_ns);
        let age_ns = now_ns.saturating_sub(end_ns);
        // From its end to when its start leaves the horizon: the ring's spans less the one
        // being filled and this one.
        let release_ns = (HORIZON_BUCKETS as u64 - 3) * self.span_ns;
        let released = if age_ns >= release_ns {
            bucket.filled
        } else {
            (u128::from(bucket.filled) * u128::from(age_ns) / u128::from(release_ns)) as u32
        };
        while bucket.taken < released {
            let slot = index * self.slots + bucket.taken as usize;
            match usable(&self.items[slot]) {
                Usable::Yes => {
                    bucket.taken += 1;
                    return Some(slot);
                }
                Usable::Never => bucket.taken += 1,
                Usable::NotYet => return None,
            }
        }
        None
    }

    /// The item in `slot`, as [`HorizonSample::take_released`] gave it.
    #[inline]
    pub(crate) fn item_mut(&mut self, slot: usize) -> &mut T {
        &mut self.items[slot]
    }
}

#[cfg(test)]
mod tests {
    use rand::{rngs::SmallRng, SeedableRng};

    use super::*;

    #[test]
    fn a_horizon_of_zero_holds_nothing() {
        let mut rng = SmallRng::seed_from_u64(1);
        let mut sample = HorizonSample::new(0, 8, 0u64);
        assert!(!sample.is_enabled());
        sample.insert(5, 5, &mut rng);
        assert_eq!(sample.sample(5, &mut rng), None);
        assert_eq!(sample.take_released(5, 1 << 40, |_| Usable::Yes), None);
        assert_eq!(sample.items.capacity(), 0);
    }

    #[test]
    fn each_bucket_keeps_a_uniform_sample_of_its_span() {
        let mut rng = SmallRng::seed_from_u64(2);
        // 254 spans of 1,000 ns.
        let mut sample = HorizonSample::new(254_000, 16, u64::MAX);
        assert_eq!(sample.span_ns(), 1_000);
        // 1,000 items a span for 300 spans: the ring wraps once.
        for time_ns in 0..300_000u64 {
            sample.insert(time_ns, time_ns, &mut rng);
        }
        let mut firsts = 0u64;
        for span in 44..300u64 {
            let mut seen = std::collections::HashSet::new();
            for _ in 0..64 {
                let &item = sample.sample(span * 1_000 + 500, &mut rng).unwrap();
                assert_eq!(item / 1_000, span, "an item of another span");
                seen.insert(item);
            }
            assert!(seen.len() > 8, "{seen:?}");
            // The first 16 items of the span fill it first; a uniform sample keeps 16 of 1,000.
            firsts += seen.iter().filter(|&&item| item % 1_000 < 16).count() as u64;
        }
        assert!(
            firsts < 256,
            "{firsts} of the first 16 items kept: not a uniform sample"
        );
        // Spans 0..44 were overwritten by 256..300; an older item is dropped.
        assert_eq!(sample.sample(10_500, &mut rng), None);
        sample.insert(10_500, 10_500, &mut rng);
        assert_eq!(sample.sample(10_500, &mut rng), None);
        assert_eq!(sample.items.capacity(), 256 * 16);
    }

    #[test]
    fn a_bucket_releases_its_items_evenly_over_the_horizon() {
        let mut rng = SmallRng::seed_from_u64(3);
        let mut sample = HorizonSample::new(254_000, 10, 0u64);
        for time_ns in 0..10u64 {
            sample.insert(time_ns * 100, time_ns, &mut rng);
        }
        // Span 0 ends at 1,000 and releases its 10 items over 253,000 ns.
        let take = |sample: &mut HorizonSample<u64>, now_ns| {
            let mut taken = 0;
            while sample.take_released(0, now_ns, |_| Usable::Yes).is_some() {
                taken += 1;
            }
            taken
        };
        assert_eq!(take(&mut sample, 1_000), 0);
        assert_eq!(take(&mut sample, 1_000 + 25_300), 1);
        assert_eq!(take(&mut sample, 1_000 + 126_500), 4);
        // Not yet: nothing taken, and the item waits.
        assert_eq!(sample.take_released(0, 254_000, |_| Usable::NotYet), None);
        // Never: passed over for good.
        let slot = sample.take_released(0, 254_000, |&item| {
            if item == 5 {
                Usable::Never
            } else {
                Usable::Yes
            }
        });
        assert_eq!(slot.map(|slot| *sample.item_mut(slot)), Some(6));
        assert_eq!(take(&mut sample, 254_000), 3);
        assert_eq!(take(&mut sample, 1 << 40), 0);
    }
}
