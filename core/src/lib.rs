//! Clearway's switching core. The principal type in this crate is
//! [`Pipeline`](pipeline::Pipeline): stages on pinned threads passing events through one
//! pre-allocated ring, each writing its results into the event in place, in the style of the
//! LMAX Disruptor.
//!
//! # Layout
//!
//! | module | holds |
//! | --- | --- |
//! | [`ring`] | the runtime underneath: ring buffer, cursors, sequencers, barriers, wait strategies |
//! | [`pipeline`] | topologies, handlers, the running pipeline, producers, the fused chain, counters |
//! | [`event`] | the event a slot carries and the results stages write beside it; kinds, declines, outcomes |
//! | [`network`] | participants and the BIN table: loaded from TOML, validated, or generated |
//! | [`stage`] | authorize, route and the ledger, each a handler over the switch's slot |
//! | [`reference_model`] | the same rules, single-threaded and obvious: what the stages are held to |
//! | [`store`] | the long memory: finished payments by id in an embedded LSM, partitioned by the id's hour |
//! | [`journal`] | the on-disk journal: records, segments, the group-committing writer, recovery's scan, snapshot files |
//! | [`wire`] | the binary protocol's codec: frames, their encoder and decoder, the HELLO's MAC, the stream reader |
//! | [`constants`] | every limit, with the reasoning behind its number |
//!
//! The network node is built on these and arrives in `node/`; `docs/PROTOCOL.md` gives the wire
//! protocol byte by byte.
//! `docs/SWITCH.md` gives the stages' rules exactly.
//!
//! `docs/ARCHITECTURE.md` at the repository root has the glossary and the argument for why the
//! ring's memory ordering is sound.

pub mod constants;
#[cfg(not(loom))]
pub mod event;
#[cfg(not(loom))]
pub mod journal;
#[cfg(not(loom))]
pub mod network;
#[cfg(not(loom))]
pub mod pipeline;
#[cfg(not(loom))]
pub mod reference_model;
pub mod ring;
#[cfg(not(loom))]
pub mod stage;
#[cfg(not(loom))]
pub mod store;
#[cfg(not(loom))]
pub mod wire;
