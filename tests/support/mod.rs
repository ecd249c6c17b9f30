//! The one helper tree of the test suites: `tests/it` (every behaviour
//! suite) and the separate binaries (`browser`, `node_interop`, `soak`,
//! `fuzz`, `balancer`, `allocations`) include it with `mod support;`. Each binary uses some
//! of it, so unused items are not an error here.
#![allow(dead_code, unreachable_pub)]

/// One app with AuthKit in front of the embedded emulator, over real HTTP,
/// and a browser-like cookie jar.
pub mod app;
/// Several deployments of that app against one emulator: replicas sharing
/// a cookie password, or the versions of a cookie-password rotation.
pub mod deployments;
/// The seeded emulator and readers for its pages and tokens, for the suites
/// that test the emulator itself.
pub mod emulator;
/// A small fake of the JWKS and refresh endpoints, with fault switches.
pub mod fake_workos;
/// A `tracing` layer keeping every event and closed span with its fields.
pub mod logs;
/// Child processes (ended with the test), built examples, free ports.
pub mod process;
/// A recording fake WorkOS server and the recorded WorkOS interactions.
pub mod recording;
/// Signing in, as a browser does, to an app in another process.
pub mod remote;
/// A forwarding front door to the emulator that records refresh grants.
pub mod tap;
