//! The multi-threaded proof-of-work solver.
