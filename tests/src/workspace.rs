//! Paths of the repository and of the build outputs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (this crate lives in `<root>/tests`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// The `opsdeck` CLI binary of this build (scripts/test.sh builds it first).
pub fn cli_bin() -> PathBuf {
    target_dir().join("debug/opsdeck")
}

/// The CLI on a data directory and a keychain service of the test's own.
pub fn cli(data: &Path, keychain_service: &str) -> Command {
    let mut c = Command::new(cli_bin());
    c.env("OPSDECK_DATA_DIR", data).env("OPSDECK_KEYCHAIN_SERVICE", keychain_service);
    c
}

/// Runs `cmd` with `stdin` written to its standard input (then closed) and
/// both outputs captured: the exit code (-1 when a signal ended it), standard
/// output as bytes, standard error as text.
pub fn run_with_stdin(mut cmd: Command, stdin: &[u8]) -> (i32, Vec<u8>, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start the command");
    let mut input = child.stdin.take().expect("piped stdin");
    input.write_all(stdin).expect("write standard input");
    drop(input);
    let out = child.wait_with_output().expect("wait for the command");
    (out.status.code().unwrap_or(-1), out.stdout, String::from_utf8_lossy(&out.stderr).into())
}

/// Where end-to-end screenshots are written.
pub fn shots_dir() -> PathBuf {
    let dir = root().join("target").join("e2e-shots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The files in `tests/tests/` are modules of the test binaries that
/// tests/Cargo.toml names (`autotests = false`; `integration.rs` and `e2e.rs`
/// declare theirs with `#[path = "<file>"]`): one link each after a change,
/// not one per file. Panics naming any file there that is neither a binary of
/// its own nor declared by exactly one of them: such a file would never be
/// compiled or run.
pub fn assert_every_test_file_is_declared() {
    let dir = root().join("tests/tests");
    let manifest = std::fs::read_to_string(root().join("tests/Cargo.toml")).unwrap_or_default();
    let is_binary = |name: &str| manifest.contains(&format!("path = \"tests/{name}\""));
    let roots = ["integration.rs", "e2e.rs"];
    let texts: Vec<String> = roots.iter().map(|r| std::fs::read_to_string(dir.join(r)).unwrap_or_default()).collect();
    let mut problems = vec![];
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".rs") || is_binary(&name) {
            continue;
        }
        let declaration = format!("#[path = \"{name}\"]");
        match texts.iter().filter(|t| t.contains(&declaration)).count() {
            1 => {}
            0 => {
                problems.push(format!("{name} is in no test binary: add `{declaration} mod ...;` to tests/tests/integration.rs or e2e.rs"))
            }
            _ => problems.push(format!("{name} is declared by both tests/tests/integration.rs and e2e.rs")),
        }
    }
    for root in roots {
        if !is_binary(root) {
            problems.push(format!("tests/Cargo.toml names no test binary with path tests/{root}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
