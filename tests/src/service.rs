//! A real service started by `scripts/services/<name>.sh`, which prints
//! `KEY=VALUE` lines (endpoints, credentials, file paths) once it is ready.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use crate::workspace;

/// A running service. Dropping it stops the service and removes its run dir.
#[derive(Debug)]
pub struct Service {
    pub name: String,
    pub run_dir: PathBuf,
    env: HashMap<String, String>,
}

/// Run dirs of services still running, stopped at process exit.
static RUNNING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static ATEXIT: OnceLock<()> = OnceLock::new();

extern "C" fn stop_all_at_exit() {
    let dirs = RUNNING.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default();
    for d in dirs {
        stop_dir(&d);
    }
}

fn stop_dir(dir: &Path) {
    let stop = workspace::root().join("scripts/services/stop.sh");
    let _ = Command::new(stop).arg(dir).stdout(Stdio::null()).status();
}

impl Service {
    /// Starts `scripts/services/<name>.sh` with extra environment, and waits
    /// until the script reports the service ready. Panics with the script's
    /// output when it fails: a test cannot run without its service.
    pub fn start(name: &str, extra_env: &[(&str, &str)]) -> Service {
        Service::start_with_args(name, &[], extra_env)
    }

    /// Like [`Service::start`], passing arguments to the script (e.g. `--tls`).
    pub fn start_with_args(name: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Service {
        ATEXIT.get_or_init(|| unsafe {
            libc::atexit(stop_all_at_exit);
        });
        let script = workspace::root().join("scripts/services").join(format!("{name}.sh"));
        let mut cmd = Command::new(&script);
        cmd.args(args).envs(extra_env.iter().copied()).stdin(Stdio::null());
        let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        if !out.status.success() {
            panic!(
                "{} failed ({}).\n--- stdout\n{stdout}\n--- stderr\n{}\nHint: run scripts/install-deps.sh and scripts/setup/all.sh first.",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let env: HashMap<String, String> = stdout
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let run_dir = env
            .iter()
            .find(|(k, _)| k.ends_with("RUN_DIR"))
            .map(|(_, v)| PathBuf::from(v))
            .unwrap_or_else(|| panic!("{name}.sh printed no *_RUN_DIR line:\n{stdout}"));
        if let Ok(mut v) = RUNNING.lock() {
            v.push(run_dir.clone());
        }
        spawn_watchdog(&run_dir);
        Service { name: name.to_string(), run_dir, env }
    }

    /// A value the script printed; panics naming the missing key.
    pub fn get(&self, key: &str) -> &str {
        self.env
            .get(key)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("service {} printed no {key} (it printed: {:?})", self.name, self.env.keys()))
    }

    pub fn env(&self) -> &HashMap<String, String> {
        &self.env
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        stop_dir(&self.run_dir);
        if let Ok(mut v) = RUNNING.lock() {
            v.retain(|d| d != &self.run_dir);
        }
    }
}

/// If this test process dies without running its exit handlers (SIGKILL, a
/// crash), a detached watchdog stops the service once our PID is gone.
fn spawn_watchdog(run_dir: &Path) {
    let stop = workspace::root().join("scripts/services/stop.sh");
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 2; done; [ -d '{dir}' ] && '{stop}' '{dir}' >/dev/null 2>&1",
        pid = std::process::id(),
        dir = run_dir.display(),
        stop = stop.display()
    );
    let _ =
        Command::new("setsid").args(["-f", "sh", "-c", &script]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn();
}

/// One instance of a service shared by the tests of one test file (for
/// services that are slow to start: dockerd, kube-apiserver, vcsim). The
/// files are modules of one test binary (tests/Cargo.toml), so the instance
/// is keyed by the calling file: a file's tests see only what they and their
/// siblings did to it, as when each file was a binary of its own (a cluster
/// verdict test must not see the failing Deployment of an apply test). It is
/// stopped at process exit.
#[track_caller]
pub fn shared(name: &'static str) -> &'static Service {
    shared_with_args(name, &[])
}

/// Like [`shared`], started with arguments to its script (e.g.
/// `kube-apiserver --workloads`); keyed by the calling file, name and arguments.
#[track_caller]
pub fn shared_with_args(name: &'static str, args: &'static [&'static str]) -> &'static Service {
    type Key = (&'static str, &'static str, &'static [&'static str]);
    static SHARED: OnceLock<Mutex<HashMap<Key, &'static Service>>> = OnceLock::new();
    let key = (std::panic::Location::caller().file(), name, args);
    let map = SHARED.get_or_init(|| Mutex::new(HashMap::new()));
    let mut guard = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = guard.get(&key) {
        return s;
    }
    // Leaked on purpose: lives until exit, where the atexit handler stops it.
    let s: &'static Service = Box::leak(Box::new(Service::start_with_args(name, args, &[])));
    guard.insert(key, s);
    s
}
