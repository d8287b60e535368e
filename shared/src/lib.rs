//! lambda-media's library, in layers (docs/DESIGN.md draws them): `domain` (the media, its
//! kinds, keys, caller and events: no I/O), `ports` (the interfaces the use cases need),
//! `usecases` (what the functions do), `imaging` and `video` (the codecs and containers),
//! `adapters` (DynamoDB, S3, EventBridge, webhooks, in-memory fakes), `edge` (HTTP: errors,
//! extractors, auth, request parsing) and `wiring` (config, SDK clients, telemetry).
//! Dependencies run edge -> usecases -> domain/ports <- adapters; wiring sees everything.

pub mod adapters;
pub mod domain;
pub mod edge;
pub mod imaging;
pub mod ports;
pub mod usecases;
pub mod video;
pub mod wiring;
