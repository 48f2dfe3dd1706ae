//! The IPC contract: every command (collected by build.rs from the
//! `#[tauri::command]` functions in src/commands) with its argument and result
//! types. The same value routes the calls at run time and writes the
//! TypeScript client (ui/src/api/bindings.ts), so the two cannot drift; the
//! test below fails when the checked-in bindings differ from the Rust types.

use opsdeck_core::ErrorCode;
use specta_typescript::Typescript;
use tauri_specta::{Builder, ErrorHandlingMode};

/// Where the generated client lives, relative to this crate.
pub const BINDINGS: &str = "../ui/src/api/bindings.ts";

pub fn builder() -> Builder<tauri::Wry> {
    Builder::<tauri::Wry>::new()
        .commands(include!(concat!(env!("OUT_DIR"), "/commands.rs")))
        // A failed command rejects its promise with a UiError; the UI's client
        // turns every rejection into an AppError (ui/src/api/client.ts).
        .error_handling(ErrorHandlingMode::Throw)
        // Revisions, counts and sizes are u64/i64; none reaches 2^53.
        .dangerously_cast_bigints_to_number()
        .typ::<ErrorCode>()
        .constant("ERROR_CODES", ErrorCode::ALL)
        .typ::<crate::error::UiError>()
}

/// The TypeScript client for the current Rust types.
pub fn typescript() -> Result<String, String> {
    let dir = tempfile_dir();
    let path = dir.join("bindings.ts");
    builder().export(Typescript::default().header("// Generated from the Rust commands by src-tauri/src/contract.rs; do not edit.\n// Regenerate: OPSDECK_BLESS=1 cargo test -p opsdeck-desktop contract\n"), &path).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(with_plain_names(&text))
}

/// A type whose serde attributes make it read differently from how it is
/// written (a `#[serde(default)]` field, say) is exported twice: `X_Serialize`
/// (what the backend sends: every field present) and `X_Deserialize` (what it
/// accepts), and `X` as their union. The UI holds what it receives, so `X`
/// becomes `X_Serialize`, which every command taking `X_Deserialize` accepts.
/// A channel carries values from Rust to the UI, so its element is the
/// `_Serialize` form too (the exporter types channel arguments as inputs).
fn with_plain_names(text: &str) -> String {
    let mut names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("export type "))
        .filter_map(|l| l.split([' ', '<']).next())
        .filter_map(|n| n.strip_suffix("_Serialize"))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut out = text.to_string();
    for n in &names {
        out = out.replace(&format!("Channel<{n}_Deserialize>"), &format!("Channel<{n}_Serialize>"));
        out = out.replace(&format!("export type {n} = {n}_Serialize | {n}_Deserialize;"), &format!("export type {n} = {n}_Serialize;"));
    }
    out
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("opsdeck-bindings-{}-{:?}", std::process::id(), std::thread::current().id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in client matches the Rust commands and types. After
    /// changing a command or a type it carries, regenerate with
    /// `OPSDECK_BLESS=1 cargo test -p opsdeck-desktop contract`.
    #[test]
    fn contract_bindings_are_current() {
        let generated = typescript().expect("the contract exports to TypeScript");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(BINDINGS);
        if std::env::var_os("OPSDECK_BLESS").is_some() {
            std::fs::write(&path, &generated).expect("writing the bindings");
            return;
        }
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == generated,
            "{} is out of date with the Rust commands: run `OPSDECK_BLESS=1 cargo test -p opsdeck-desktop contract` and commit it",
            path.display()
        );
    }
}
