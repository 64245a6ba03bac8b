//! [`Results`]: what the stages write into a slot, in place, as the event moves down the
//! pipeline.

use super::{Decline, Outcome, ParticipantId};

/// The stages' results for one event. Ingress resets them to the default when it claims a slot;
/// each stage writes only its own fields. 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Results {
    /// The first refusal, by whichever stage refused; `None` while every stage has passed it.
    pub decline: Option<Decline>,
    /// The ledger's outcome.
    pub outcome: Outcome,
    /// For [`Outcome::Exists`], the original payment's outcome; otherwise `Pending`.
    pub original: Outcome,
    /// Route: the index of the chosen link among the bank's links.
    pub link: u8,
    /// Route: the bank the account routes to (a payment), or the bank that replied.
    pub bank: ParticipantId,
    /// Ledger: the institution to answer. For a payment, its sender; for a reply, the sender of
    /// the payment it answers (correlation).
    pub institution: ParticipantId,
    /// Ledger: the `sent_ns` of the payment being answered, copied from its hold for a reply, so
    /// egress measures latency from the institution's own send time.
    pub sent_ns: u64,
}

impl Results {
    /// Records `decline` unless an earlier stage already refused.
    #[inline]
    pub fn refuse(&mut self, decline: Decline) {
        if self.decline.is_none() {
            self.decline = Some(decline);
        }
    }

    /// Whether every stage so far has passed the event.
    #[inline]
    pub fn passed(&self) -> bool {
        self.decline.is_none()
    }
}
