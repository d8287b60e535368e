//! Helpers for the local stack and the end-to-end tests: the stack's environment, dev tokens,
//! an HTTP client for the API, and real test images.

pub mod corpus;
pub mod env;
pub mod heif;
pub mod images;
pub mod inprocess;
pub mod isolated;
pub mod made;
pub mod progressive;
pub mod stack;
pub mod token;
pub mod videos;
