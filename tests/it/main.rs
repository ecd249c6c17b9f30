//! The behaviour suites, one binary: each module is a suite (`cargo test
//! --test it layer::` runs one). Apps, emulators and fake WorkOS servers come
//! from the shared helper tree in `tests/support`.
//!
//! Apps are driven over real HTTP on 127.0.0.1 (reqwest) where the network
//! matters — flows against the emulator, attacks, faults, replicas — and
//! in-process with `axum_test::TestServer` where a router is all there is.

#[path = "../support/mod.rs"]
mod support;

mod access_token;
mod answers;
mod attacks;
mod bearer;
mod caches;
mod callback_pages;
mod client_requests;
mod client_retry;
mod config;
mod cookies;
mod custom_login;
mod device;
mod emulator_client;
mod emulator_flow;
mod emulator_tokens;
mod faults;
mod flows;
mod guards;
mod hooks;
mod layer;
mod logout;
mod mfa;
mod nested;
mod organization_selection;
mod organizations;
mod origins;
mod refresh;
mod replicas;
mod rotation;
mod seal_vectors;
mod secrets;
mod session;
mod sign_in_options;
mod telemetry;
mod user_management_rest;
mod webhooks;
