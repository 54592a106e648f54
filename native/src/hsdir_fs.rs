//! Reading and writing C-tor `HiddenServiceDir`s on disk.
