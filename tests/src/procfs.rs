//! Processes as /proc shows them (Linux): the E2E driver's clean-up and the
//! app benchmark's process tree.

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
