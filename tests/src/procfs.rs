//! Processes as /proc shows them (Linux): the E2E driver's clean-up and the
//! app benchmarks' process tree and memory.

/// The fields of /proc/PID/stat the tests use.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    /// `R`, `S`, `Z` (zombie), ...
    pub state: char,
    pub parent: u32,
    pub group: i32,
    /// Clock ticks after boot.
    pub start_time: u64,
}

impl Stat {
    pub fn alive(&self) -> bool {
        self.state != 'Z'
    }
}

/// Every process id.
pub fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc").map(|d| d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect()).unwrap_or_default()
}

pub fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name, which may hold spaces and parentheses.
    let f: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    Some(Stat {
        state: f.first()?.chars().next()?,
        parent: f.get(1)?.parse().ok()?,
        group: f.get(2)?.parse().ok()?,
        start_time: f.get(19)?.parse().ok()?,
    })
}

/// The command name (truncated by the kernel to 15 characters).
pub fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

/// Resident memory of a process from /proc/PID/smaps_rollup, in KiB.
#[derive(Debug, Default, Clone, Copy)]
pub struct Mem {
    /// Resident set: counts shared library pages in full for every process.
    pub rss: u64,
    /// Proportional set: shared pages split among the processes mapping them,
    /// so the sum over processes is the memory they take together.
    pub pss: u64,
    /// The anonymous part of PSS: heaps (Rust, JavaScript), render buffers.
    pub pss_anon: u64,
    /// The file-backed part of PSS: code and data of the binary and the
    /// libraries, fonts, ICU data.
    pub pss_file: u64,
}

/// [`Mem`] of process `pid` (zeros when it is gone).
pub fn mem(pid: u32) -> Mem {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| {
        text.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    Mem { rss: field("Rss:"), pss: field("Pss:"), pss_anon: field("Pss_Anon:"), pss_file: field("Pss_File:") + field("Pss_Shmem:") }
}

/// Whether `p` descends from `ancestor`.
pub fn descends(mut p: u32, ancestor: u32) -> bool {
    for _ in 0..32 {
        match stat(p).map(|s| s.parent) {
            Some(q) if q == ancestor => return true,
            Some(q) if q > 1 => p = q,
            _ => return false,
        }
    }
    false
}

/// The running app started for this benchmark (comm is truncated to 15
/// characters; an app of an earlier round may still be exiting, so: ours,
/// alive, newest) and its descendants (WebKit's processes).
pub fn app_processes(binary: &str) -> (Option<u32>, Vec<(u32, String)>) {
    let name: String = std::path::Path::new(binary).file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name: String = name.chars().take(15).collect();
    let pids = pids();
    let me = std::process::id();
    let app = pids
        .iter()
        .copied()
        .filter(|p| comm(*p) == name && descends(*p, me))
        .filter_map(|p| stat(p).filter(|s| s.alive()).map(|s| (s.start_time, p)))
        .max()
        .map(|(_, p)| p);
    let children = match app {
        Some(a) => pids
            .iter()
            .copied()
            .filter(|p| *p != a && descends(*p, a) && stat(*p).is_some_and(|s| s.alive()))
            .map(|p| (p, comm(p)))
            .collect(),
        None => vec![],
    };
    (app, children)
}
