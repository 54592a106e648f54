//! State-machine tests: several nodes in one process on virtual time, with
//! a harness that shuttles bytes between them (like quinn's `Pair`), plus
//! "raw" streams on which a test writes hand-made frames.

mod deltas;
mod harness;
mod relay;
mod scenarios;
