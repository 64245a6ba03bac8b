//! [`Slot`]: one ring entry, split into the input the producer writes and the output stages write.

/// One ring entry: `input`, written by the producer before it publishes and read-only afterwards,
/// and `output`, the results stages write in place as the event moves down the pipeline.
///
/// The split is what lets a reader of the input (the journal) run beside a stage that writes
/// results (authorize) on the same slot at the same time without either holding a reference that
/// aliases the other's: the projections below create `&I` and `&mut O` from a raw pointer to the
/// slot without ever making a reference to the whole slot.
#[derive(Default)]
pub struct Slot<I, O> {
    input: I,
    output: O,
}

impl<I, O> Slot<I, O> {
    /// A slot holding `input` and `output`: how rings are filled at start.
    pub fn new(input: I, output: O) -> Self {
        Self { input, output }
    }

    /// The input part, shared.
    ///
    /// # Safety
    /// `slot` points to a live slot, and no one writes its input for `'a`: the producer has
    /// published it and cannot claim it again until every consumer has released it.
    #[inline(always)]
    pub unsafe fn input<'a>(slot: *const Self) -> &'a I {
        // SAFETY: the caller guarantees `slot` is live and its input unwritten for `'a`.
        unsafe { &*std::ptr::addr_of!((*slot).input) }
    }

    /// The input part shared and the output part exclusive: what a stage that writes results gets.
    ///
    /// # Safety
    /// As for [`Slot::input`], and no other thread reads or writes the output for `'a`: the
    /// topology orders every pair of output-writing stages, so only one of them holds the slot.
    #[inline(always)]
    pub unsafe fn stage<'a>(slot: *mut Self) -> (&'a I, &'a mut O) {
        // SAFETY: the caller guarantees the input is unwritten and the output unshared for `'a`;
        // the two places are disjoint fields, so the references do not alias each other.
        unsafe {
            (
                &*std::ptr::addr_of!((*slot).input),
                &mut *std::ptr::addr_of_mut!((*slot).output),
            )
        }
    }

    /// Both parts exclusive: what the producer gets for a slot it has claimed.
    ///
    /// # Safety
    /// `slot` is live and claimed by the caller: every consumer has released it and no other
    /// producer holds it, so nothing else touches any part of it for `'a`.
    #[inline(always)]
    pub unsafe fn claimed<'a>(slot: *mut Self) -> (&'a mut I, &'a mut O) {
        // SAFETY: the caller holds the slot exclusively for `'a`; the fields are disjoint.
        unsafe {
            (
                &mut *std::ptr::addr_of_mut!((*slot).input),
                &mut *std::ptr::addr_of_mut!((*slot).output),
            )
        }
    }
}
