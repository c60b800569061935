//! The command line's integration tests: the real `yinling` binary, started and killed.

mod kill;
