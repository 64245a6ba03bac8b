//! Clearway's load generator: the workload model, arrival schedules, and the simulators that play
//! payment institutions and banks against a node.
//!
//! Nothing is built here yet: the payment event it generates arrives with the switch's stages.
//! Until then the benchmarks in `benches/` drive the ring runtime with synthetic messages.
