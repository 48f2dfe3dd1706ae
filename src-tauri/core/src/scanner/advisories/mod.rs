//! Local advisory database imported from OSV records (zip or folder), and
//! matching installed packages against it with each ecosystem's ordering.
//!
//! - `osv`: the OSV record format (lenient) and its severity.
//! - `ecosystem`: OSV ecosystems ↔ the OS found in an image.
//! - `store` / `import`: SQLite tables and the streamed, batched import.
//! - `matching`: affected ranges with dpkg / apk / rpm ordering.
//! - `distro`: the distribution's own severity and fix status (Debian
//!   urgency and no-dsa, Ubuntu priority, Red Hat severity).

pub mod distro;
pub mod ecosystem;
pub mod import;
pub mod matching;
pub mod osv;
pub mod store;

pub use distro::FixStatus;
pub use ecosystem::{ecosystem_of, Ecosystem, Family};
pub use import::{import_path, ImportReport};
pub use matching::{match_image, match_packages, Vulnerability};
pub use osv::Severity;
