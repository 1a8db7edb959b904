//! The server under test, from `shoal-testkit` (see its docs).

#![allow(unused_imports)]

pub use shoal_testkit::*;

/// Starts the server or returns from the test with a note.
#[macro_export]
macro_rules! server_or_skip {
    () => {
        shoal_testkit::server_or_skip!()
    };
}
