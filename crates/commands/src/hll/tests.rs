//! Unit tests of the HyperLogLog commands and format.
