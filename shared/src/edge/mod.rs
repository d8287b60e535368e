//! HTTP: the one error model and its mapping from the use cases' errors (`error`), extractors and
//! responses (`http`), who is calling (`auth`), request bodies and query parameters (`requests`)
//! and the route table (`routes`).

pub mod auth;
pub mod error;
pub mod http;
pub mod requests;
pub mod routes;
