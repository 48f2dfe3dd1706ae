//! Hostile input budgets (issue 15 item 9): how much one scan may read
//! before it is refused, so a tar bomb, a layer of millions of entries, a
//! flood of `status.d` files or a looping rpm database ends in a clear
//! refusal — never an exhausted machine, a crash, or an ALLOW.
//!
//! | limit | default | environment |
//! |---|---|---|
//! | uncompressed layer bytes read, per scan | 64 GiB | `OPSDECK_SCAN_MAX_BYTES` |
//! | tar entries read, per scan | 5,000,000 | `OPSDECK_SCAN_MAX_ENTRIES` |
//! | package-database bytes kept in memory, per scan | 1 GiB | `OPSDECK_SCAN_MAX_KEPT_BYTES` |
//! | package-database files kept (e.g. `status.d/*`), per scan | 100,000 | `OPSDECK_SCAN_MAX_KEPT_FILES` |
//! | reading the image's rpm database | 30 s | `OPSDECK_RPMDB_DEADLINE_SECS` |
//! | a file chosen in the app (advisories, VEX, image tarball) | 4 GiB | `OPSDECK_INPUT_MAX_BYTES` |
//!
//! A refusal is an error whose message starts `refused:` and names the
//! limit, what was reached and the variable that raises it; the scan has
//! no report (its CLI exit is 2, the app shows the message).
//!
//! The per-scan meter lives on the thread that reads the layers (one
//! blocking thread per scan): [`Scope::enter`] starts a scan's meter there,
//! or joins the one already running.

use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

/// The limits in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_entries: u64,
    pub max_kept_bytes: u64,
    pub max_kept_files: u64,
    pub rpmdb_deadline: Duration,
    pub max_input_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 << 30,
            max_entries: 5_000_000,
            max_kept_bytes: 1 << 30,
            max_kept_files: 100_000,
            rpmdb_deadline: Duration::from_secs(30),
            max_input_bytes: 4 << 30,
        }
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().replace('_', "").parse().ok()).filter(|v| *v > 0)
}

impl Limits {
    /// The defaults, each replaced by its environment variable when set to a positive number.
    pub fn from_env() -> Limits {
        let d = Limits::default();
        Limits {
            max_bytes: env_u64("OPSDECK_SCAN_MAX_BYTES").unwrap_or(d.max_bytes),
            max_entries: env_u64("OPSDECK_SCAN_MAX_ENTRIES").unwrap_or(d.max_entries),
            max_kept_bytes: env_u64("OPSDECK_SCAN_MAX_KEPT_BYTES").unwrap_or(d.max_kept_bytes),
            max_kept_files: env_u64("OPSDECK_SCAN_MAX_KEPT_FILES").unwrap_or(d.max_kept_files),
            rpmdb_deadline: env_u64("OPSDECK_RPMDB_DEADLINE_SECS").map(Duration::from_secs).unwrap_or(d.rpmdb_deadline),
            max_input_bytes: env_u64("OPSDECK_INPUT_MAX_BYTES").unwrap_or(d.max_input_bytes),
        }
    }
}

/// What one scan has read so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub entries: u64,
    pub kept_bytes: u64,
    pub kept_files: u64,
}

struct Meter {
    limits: Limits,
    used: Usage,
    depth: usize,
}

thread_local! {
    static METER: RefCell<Option<Meter>> = const { RefCell::new(None) };
}

/// A scan's meter on this thread, for as long as the outermost scope lives.
pub struct Scope(());

impl Scope {
    /// Starts a meter with the environment's limits, or joins the running one.
    pub fn enter() -> Scope {
        Self::with(Limits::from_env())
    }

    /// Starts a meter with `limits` (tests), or joins the running one.
    pub fn with(limits: Limits) -> Scope {
        METER.with(|m| {
            let mut m = m.borrow_mut();
            match m.as_mut() {
                Some(meter) => meter.depth += 1,
                None => *m = Some(Meter { limits, used: Usage::default(), depth: 1 }),
            }
        });
        Scope(())
    }

    /// What the current scan has read.
    pub fn usage() -> Usage {
        METER.with(|m| m.borrow().as_ref().map(|m| m.used).unwrap_or_default())
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        METER.with(|m| {
            let mut m = m.borrow_mut();
            if let Some(meter) = m.as_mut() {
                meter.depth -= 1;
                if meter.depth == 0 {
                    *m = None;
                }
            }
        });
    }
}

fn refused(what: &str, limit: u64, unit: &str, var: &str) -> Error {
    Error::invalid(format!(
        "refused: {what} is over this scan's limit of {limit} {unit} (a hostile or unusually large image); \
         set {var} to raise it if the image is trusted"
    ))
}

/// Charges `f` to the running meter (none running: nothing is limited).
fn charge(f: impl FnOnce(&mut Usage, &Limits) -> Result<()>) -> Result<()> {
    METER.with(|m| match m.borrow_mut().as_mut() {
        Some(meter) => f(&mut meter.used, &meter.limits),
        None => Ok(()),
    })
}

/// `n` more uncompressed bytes read from a layer.
pub fn bytes(n: u64) -> Result<()> {
    charge(|u, l| {
        u.bytes += n;
        if u.bytes > l.max_bytes {
            return Err(refused("the uncompressed layer data read", l.max_bytes, "bytes", "OPSDECK_SCAN_MAX_BYTES"));
        }
        Ok(())
    })
}

/// One more tar entry read.
pub fn entry() -> Result<()> {
    charge(|u, l| {
        u.entries += 1;
        if u.entries > l.max_entries {
            return Err(refused("the number of tar entries read", l.max_entries, "entries", "OPSDECK_SCAN_MAX_ENTRIES"));
        }
        Ok(())
    })
}

/// A package-database file of `size` bytes about to be kept in memory.
pub fn keep(size: u64) -> Result<()> {
    charge(|u, l| {
        u.kept_files += 1;
        u.kept_bytes += size;
        if u.kept_files > l.max_kept_files {
            return Err(refused(
                "the number of package-database files (e.g. status.d entries)",
                l.max_kept_files,
                "files",
                "OPSDECK_SCAN_MAX_KEPT_FILES",
            ));
        }
        if u.kept_bytes > l.max_kept_bytes {
            return Err(refused("the package-database data kept in memory", l.max_kept_bytes, "bytes", "OPSDECK_SCAN_MAX_KEPT_BYTES"));
        }
        Ok(())
    })
}

/// A file a person chose (in the app or on the command line): it must be
/// a regular file (not a folder, device, FIFO or socket; a symbolic link is
/// followed to one) no larger than the input limit. Returns its size.
pub fn check_chosen_file(path: &Path, what: &str) -> Result<u64> {
    let limit = Limits::from_env().max_input_bytes;
    let meta = std::fs::metadata(path).map_err(|e| Error::invalid(format!("{what} {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(Error::invalid(format!("refused: {what} {} is not a regular file (a folder, device, FIFO or socket)", path.display())));
    }
    if meta.len() > limit {
        return Err(Error::invalid(format!(
            "refused: {what} {} is {} bytes, over the limit of {limit} bytes for a chosen file; set OPSDECK_INPUT_MAX_BYTES to raise it",
            path.display(),
            meta.len()
        )));
    }
    Ok(meta.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Limits {
        Limits { max_bytes: 100, max_entries: 3, max_kept_bytes: 50, max_kept_files: 2, ..Limits::default() }
    }

    #[test]
    fn a_scan_is_refused_past_each_limit_and_the_meter_ends_with_its_scope() {
        {
            let _scan = Scope::with(small());
            bytes(60).unwrap();
            {
                let _layer = Scope::enter(); // joins the scan's meter
                let e = bytes(41).unwrap_err().to_string();
                assert!(e.starts_with("refused:") && e.contains("OPSDECK_SCAN_MAX_BYTES"), "{e}");
            }
            assert_eq!(Scope::usage().bytes, 101, "still the scan's meter");
        }
        assert_eq!(Scope::usage(), Usage::default(), "no meter after the scan");
        bytes(u64::MAX / 2).unwrap(); // outside a scan nothing is limited

        let _scan = Scope::with(small());
        for _ in 0..3 {
            entry().unwrap();
        }
        assert!(entry().unwrap_err().to_string().contains("tar entries"));
        keep(10).unwrap();
        keep(10).unwrap();
        assert!(keep(1).unwrap_err().to_string().contains("status.d"));
    }

    #[test]
    fn chosen_files_are_regular_files_under_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_chosen_file(dir.path(), "advisories").unwrap_err().to_string().contains("not a regular file"));
        let f = dir.path().join("a.json");
        std::fs::write(&f, b"{}").unwrap();
        assert_eq!(check_chosen_file(&f, "advisories").unwrap(), 2);
        // A device is not a file, whatever it would yield.
        assert!(check_chosen_file(Path::new("/dev/zero"), "VEX").unwrap_err().to_string().contains("not a regular file"));
    }
}
