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
//! | [`constants`] | every limit, with the reasoning behind its number |
//!
//! The payment stages (authorize, route, ledger), the journal, the wire protocol and the network
//! node are built on these and arrive in `stage/`, `journal/`, `wire/` and `node/`.
//!
//! `docs/ARCHITECTURE.md` at the repository root has the glossary and the argument for why the
//! ring's memory ordering is sound.

pub mod constants;
#[cfg(not(loom))]
pub mod event;
#[cfg(not(loom))]
pub mod network;
#[cfg(not(loom))]
pub mod pipeline;
#[cfg(not(loom))]
pub mod reference_model;
pub mod ring;
#[cfg(not(loom))]
pub mod stage;
