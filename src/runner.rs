//! (spine: in progress)
