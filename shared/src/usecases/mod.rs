//! What the functions do, spoken through `ports`: hand out upload slots (`uploads`,
//! `multipart`), verify and publish an upload (`processing`), read, list, edit, attach and delete
//! media (`media`, `view`, `cursor`, `deletion`), render variants (`transforms`) and sweep debris
//! (`janitor`).

pub mod cursor;
pub mod deletion;
pub mod janitor;
pub mod media;
pub mod multipart;
pub mod processing;
pub mod transforms;
pub mod uploads;
pub mod view;
