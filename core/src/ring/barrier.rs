//! [`SequenceBarrier`]: what a consumer waits on, over the producer or over upstream stages.

use std::sync::Arc;

use super::run_state::{Interrupt, RunState};
use super::sequence::SequenceGroup;
use super::sequencer::Published;
use super::wait_strategy::WaitStrategy;

/// What a barrier reads to learn how far it may go.
#[derive(Clone)]
pub enum Upstream {
    /// A first stage: how far the producers have published.
    Producer(Published),
    /// A later stage: the minimum of its upstream stages' cursors (every worker of a worker
    /// group, every branch of a join).
    Stages(SequenceGroup),
}

/// A consumer's view of its upstreams: how many sequences it may process, waiting by its
/// [`WaitStrategy`] until there is at least one more than it has.
///
/// A consumer takes everything the barrier reports as one batch: it is told where the batch ends,
/// not handed one event at a time.
pub struct SequenceBarrier {
    upstream: Upstream,
    wait: WaitStrategy,
    run_state: Arc<RunState>,
}

impl SequenceBarrier {
    /// A barrier over `upstream`, waiting by `wait`, stopped by `run_state`.
    pub fn new(upstream: Upstream, wait: WaitStrategy, run_state: Arc<RunState>) -> Self {
        Self {
            upstream,
            wait,
            run_state,
        }
    }

    /// The count of sequences the upstreams have finished, without waiting. Slots below it may be
    /// read: every upstream published them with `Release` and this read them with `Acquire`.
    #[inline(always)]
    pub fn available(&self, next: u64) -> u64 {
        match &self.upstream {
            Upstream::Producer(published) => published.available(next),
            Upstream::Stages(group) => group.minimum(),
        }
    }

    /// Waits until more than `next` sequences are available and returns how many are: the batch
    /// is `next..returned`. Returns [`Interrupt::Drained`] once the input is closed and `next`
    /// reaches its end, and [`Interrupt::Halted`] when the pipeline halts.
    #[inline(always)]
    pub fn wait_for(&self, next: u64) -> Result<u64, Interrupt> {
        self.wait.wait(
            &self.run_state,
            || {
                let available = self.available(next);
                (available > next).then_some(available)
            },
            || self.run_state.consumer_interrupt(next),
        )
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::ring::sequence::Sequence;

    #[test]
    fn join_barrier_waits_for_the_slower_branch() {
        let run_state = Arc::new(RunState::new(false));
        let left = Arc::new(Sequence::new(0));
        let right = Arc::new(Sequence::new(0));
        let group = SequenceGroup::new(vec![Arc::clone(&left), Arc::clone(&right)]);
        let barrier = SequenceBarrier::new(
            Upstream::Stages(group),
            WaitStrategy::SpinThenYield,
            Arc::clone(&run_state),
        );
        left.set(10);
        right.set(4);
        assert_eq!(barrier.wait_for(0), Ok(4));
        right.set(12);
        assert_eq!(barrier.wait_for(4), Ok(10));
        run_state.close_at(10);
        assert_eq!(barrier.wait_for(10), Err(Interrupt::Drained));
    }
}
