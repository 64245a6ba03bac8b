//! [`save_switch`] and [`restore_switch`]: the whole switch's state for a snapshot's payload —
//! route's and the ledger's, behind a small header. Authorize keeps no state that events change
//! (its tables are the network's keys and limits), so it has nothing to save.
//!
//! # Format
//!
//! 1. the format version (`u8`, [`SWITCH_STATE_VERSION`]);
//! 2. the network's [`fingerprint`](Network::fingerprint) (32 bytes);
//! 3. route's state ([`Route::save`]);
//! 4. the ledger's state ([`Ledger::save`]).
//!
//! The snapshot file around it (the sequence it covers, the state hash, a checksum, the atomic
//! rename) is the journal's.

use crate::network::Network;

use super::state::{StateError, StateReader, StateWriter};
use super::{Ledger, LedgerConfig, Route};

/// The version of the format [`save_switch`] writes; [`restore_switch`] reads only this one.
pub const SWITCH_STATE_VERSION: u8 = 2;

/// Route's and the ledger's state, behind the format version and the fingerprint of the network
/// they were built for.
///
/// # Panics
///
/// If `route` and `ledger` were built for different networks: the switch builds both from one.
pub fn save_switch(route: &Route, ledger: &Ledger) -> Vec<u8> {
    assert_eq!(
        route.network_fingerprint(),
        ledger.network_fingerprint(),
        "route and the ledger were built for different networks"
    );
    let mut route_state = StateWriter::new();
    route.save(&mut route_state);
    let mut ledger_state = StateWriter::new();
    ledger.save(&mut ledger_state);
    switch_payload(
        &route.network_fingerprint(),
        &route_state.into_bytes(),
        &ledger_state.into_bytes(),
    )
}

/// The same bytes as [`save_switch`], from route's and the ledger's states saved apart: in a
/// pipelined node each stage saves its own on its own thread, at the same sequence, and a writer
/// joins them. `fingerprint` is the network's both were built for.
pub fn switch_payload(fingerprint: &[u8; 32], route_state: &[u8], ledger_state: &[u8]) -> Vec<u8> {
    let mut out = StateWriter::new();
    out.reserve(1 + fingerprint.len() + route_state.len() + ledger_state.len());
    out.write_u8(SWITCH_STATE_VERSION);
    out.write_array(fingerprint);
    out.write_array(route_state);
    out.write_array(ledger_state);
    out.into_bytes()
}

/// Route and the ledger for `network` and `config`, in the state [`save_switch`] wrote; refused
/// if `bytes` are of another version, were saved with another network or configuration, or
/// are malformed. Never panics on any `bytes`, and allocates no more than `config` asks for and
/// a small multiple of `bytes.len()`.
///
/// # Panics
///
/// As [`Ledger::new`], if a capacity in `config` is zero.
pub fn restore_switch(
    network: &Network,
    config: LedgerConfig,
    bytes: &[u8],
) -> Result<(Route, Ledger), StateError> {
    let mut input = StateReader::new(bytes);
    let version = input.read_u8("the switch state's version")?;
    if version != SWITCH_STATE_VERSION {
        return Err(StateError::new(
            "the switch state's version",
            format!("it is version {version}; this build reads version {SWITCH_STATE_VERSION}"),
        ));
    }
    let fingerprint = input.read_array::<32>("the switch state's network fingerprint")?;
    if fingerprint != network.fingerprint() {
        return Err(StateError::new(
            "the switch state's network fingerprint",
            "the state was saved with another network: its fingerprint is not this network's",
        ));
    }
    let route = Route::restore(network, &mut input)?;
    let ledger = Ledger::restore(network, config, &mut input)?;
    input.finish()?;
    Ok((route, ledger))
}
