//! Building each function: configuration read once (`config`), SDK clients and TLS and the
//! services built from them (`runtime`), logging (`telemetry`).

pub mod config;
pub mod runtime;
pub mod services;
pub mod telemetry;
