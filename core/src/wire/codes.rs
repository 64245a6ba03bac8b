//! The wire codes of [`Outcome`] and [`Decline`]: written out here, one row each, so that
//! reordering or adding a variant in `event/` can never change what a byte on the wire means.
//! `docs/PROTOCOL.md` carries the same tables (and a STATUS's query status table, whose codes
//! are [`QueryStatus`](super::QueryStatus)'s own); a test holds them to each other.

use super::WireError;
use crate::event::{Decline, Outcome};

/// Every outcome and its wire code.
pub const OUTCOME_CODES: [(Outcome, u8); 10] = [
    (Outcome::Pending, 0),
    (Outcome::Forwarded, 1),
    (Outcome::Approved, 2),
    (Outcome::Declined, 3),
    (Outcome::Expired, 4),
    (Outcome::Rejected, 5),
    (Outcome::Exists, 6),
    (Outcome::LateReply, 7),
    (Outcome::Applied, 8),
    (Outcome::BatchClosed, 9),
];

/// The decline byte of an ANSWER that carries no decline.
pub const DECLINE_NONE: u8 = 0;

/// Every decline reason and its wire code; 0 is [`DECLINE_NONE`].
pub const DECLINE_CODES: [(Decline, u8); 27] = [
    (Decline::BadMac, 1),
    (Decline::UnknownSender, 2),
    (Decline::KindNotAllowed, 3),
    (Decline::AmountMustNotBeZero, 4),
    (Decline::AmountExceedsLimit, 5),
    (Decline::MalformedAccount, 6),
    (Decline::RefundWithoutOriginal, 7),
    (Decline::UnknownReplyCode, 8),
    (Decline::SenderSuspended, 9),
    (Decline::NoRoute, 10),
    (Decline::BankUnavailable, 11),
    (Decline::BadControlEvent, 12),
    (Decline::ExistsWithDifferentFields, 13),
    (Decline::DuplicateInFlight, 14),
    (Decline::InsufficientLiquidity, 15),
    (Decline::RefundOfUnknownPayment, 16),
    (Decline::RefundOfUnapprovedPayment, 17),
    (Decline::RefundOfOtherInstitution, 18),
    (Decline::RefundExceedsOriginal, 19),
    (Decline::ReplyForUnknownPayment, 20),
    (Decline::ReplyFromWrongBank, 21),
    (Decline::AmountOverflow, 22),
    (Decline::LedgerFull, 23),
    (Decline::TxnIdWithoutTime, 24),
    (Decline::TxnIdInFuture, 25),
    (Decline::TxnIdBeyondRetention, 26),
    (Decline::OriginalBeyondRetention, 27),
];

/// `outcome`'s wire code.
pub fn outcome_wire_code(outcome: Outcome) -> u8 {
    OUTCOME_CODES
        .iter()
        .find(|(row, _)| *row == outcome)
        .map(|&(_, code)| code)
        .expect("OUTCOME_CODES lists every outcome (a test checks it)")
}

/// The outcome with wire code `code`, or [`WireError::UnknownOutcome`].
pub fn outcome_from_wire_code(code: u8) -> Result<Outcome, WireError> {
    OUTCOME_CODES
        .iter()
        .find(|&&(_, row)| row == code)
        .map(|&(outcome, _)| outcome)
        .ok_or(WireError::UnknownOutcome { code })
}

/// The wire code of `decline`, [`DECLINE_NONE`] for none.
pub fn decline_wire_code(decline: Option<Decline>) -> u8 {
    match decline {
        None => DECLINE_NONE,
        Some(decline) => DECLINE_CODES
            .iter()
            .find(|(row, _)| *row == decline)
            .map(|&(_, code)| code)
            .expect("DECLINE_CODES lists every decline (a test checks it)"),
    }
}

/// The decline with wire code `code` (`None` for [`DECLINE_NONE`]), or
/// [`WireError::UnknownDecline`].
pub fn decline_from_wire_code(code: u8) -> Result<Option<Decline>, WireError> {
    if code == DECLINE_NONE {
        return Ok(None);
    }
    DECLINE_CODES
        .iter()
        .find(|&&(_, row)| row == code)
        .map(|&(decline, _)| Some(decline))
        .ok_or(WireError::UnknownDecline { code })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_decline_has_one_code_and_every_code_one_decline() {
        assert_eq!(DECLINE_CODES.len(), Decline::ALL.len());
        for decline in Decline::ALL {
            let code = decline_wire_code(Some(decline));
            assert_ne!(code, DECLINE_NONE, "{decline}");
            assert_eq!(decline_from_wire_code(code), Ok(Some(decline)));
        }
        assert_eq!(decline_from_wire_code(DECLINE_NONE), Ok(None));
        for code in 28..=u8::MAX {
            assert_eq!(
                decline_from_wire_code(code),
                Err(WireError::UnknownDecline { code })
            );
        }
    }

    #[test]
    fn every_outcome_has_one_code_and_every_code_one_outcome() {
        for (index, &(outcome, code)) in OUTCOME_CODES.iter().enumerate() {
            assert_eq!(usize::from(code), index, "{outcome}");
            assert_eq!(outcome_wire_code(outcome), code);
            assert_eq!(outcome_from_wire_code(code), Ok(outcome));
        }
        for code in 10..=u8::MAX {
            assert_eq!(
                outcome_from_wire_code(code),
                Err(WireError::UnknownOutcome { code })
            );
        }
    }

    #[test]
    fn the_tables_in_protocol_md_match_these() {
        let protocol = include_str!("../../../docs/PROTOCOL.md");
        for (outcome, code) in OUTCOME_CODES {
            let row = format!("| {code} | `{outcome}` |");
            assert!(protocol.contains(&row), "PROTOCOL.md lacks {row}");
        }
        for (decline, code) in DECLINE_CODES {
            let row = format!("| {code} | `{decline}` |");
            assert!(protocol.contains(&row), "PROTOCOL.md lacks {row}");
        }
        for status in crate::wire::QueryStatus::ALL {
            let row = format!("| {} | `{status}` |", status as u8);
            assert!(protocol.contains(&row), "PROTOCOL.md lacks {row}");
        }
    }
}
