//! Output formats shared by the subcommands, and the one path every byte of
//! standard output takes.
//!
//! Nothing in the CLI uses `println!`/`print!` (they panic when the reader
//! of a pipe has gone, as in `opsdeck health | head -c 300`): [`outln!`] and
//! [`out!`] write through [`write_out`], which ends the process quietly with
//! [`crate::exit::BROKEN_PIPE`] (141, what a shell reports for `ls | head`
//! when SIGPIPE ends `ls`) once standard output is a closed pipe. SIGPIPE
//! itself stays ignored, as Rust sets it: the process also writes to sockets
//! (etcd, the Kubernetes API, Docker, vCenter), where a peer that went away
//! must be an error to handle, not the death of the process. Diagnostics go
//! through [`errln!`], which ignores a closed standard error.

use std::io::Write;

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Writes to standard output like `print!`, without the panic.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_out(format_args!($($arg)*))
    };
}

/// Writes a line to standard output like `println!`, without the panic.
macro_rules! outln {
    () => {
        $crate::output::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes a line to standard error like `eprintln!`; a closed standard error
/// is ignored (the exit status still tells the outcome).
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};

/// Writes to standard output; a reader that went away ends the process (see the module doc).
pub fn write_out(args: std::fmt::Arguments<'_>) {
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        output_failed(e);
    }
}

/// Writes bytes to standard output (a rendered completion script or manual
/// page, a value read with `config get --raw`).
pub fn write_out_bytes(bytes: &[u8]) {
    if let Err(e) = std::io::stdout().lock().write_all(bytes) {
        output_failed(e);
    }
}

/// Flushes standard output before the process exits, with the same handling
/// as a write: a last partial line must not be lost or fail silently.
pub fn flush_out() {
    if let Err(e) = std::io::stdout().lock().flush() {
        output_failed(e);
    }
}

pub fn write_err(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// A closed pipe ends the process at once with 141 and no message, the way
/// SIGPIPE ends `ls`; any other failure (a full disk) is said and is exit 3.
pub fn output_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(crate::exit::BROKEN_PIPE.into());
    }
    write_err(format_args!("error: writing to standard output: {e}\n"));
    std::process::exit(crate::exit::INTERNAL.into());
}

/// Prints rows as aligned columns under a header.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        // Padded by hand: a format width is at most 65535, and a cell (an etcd value) can be wider.
        let parts: Vec<String> =
            cells.iter().enumerate().map(|(i, c)| format!("{c}{}", " ".repeat(widths[i].saturating_sub(c.chars().count())))).collect();
        outln!("{}", parts.join("  ").trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

pub fn print_json<T: serde::Serialize>(value: &T) -> u8 {
    match serde_json::to_string_pretty(value) {
        Ok(s) => {
            outln!("{s}");
            crate::exit::OK
        }
        Err(e) => {
            errln!("error: cannot serialise the output: {e}");
            crate::exit::INTERNAL
        }
    }
}

/// Whether errors are printed with their causes (`--details`).
static DETAILS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn show_details(on: bool) {
    DETAILS.store(on, std::sync::atomic::Ordering::Relaxed);
}

pub fn details_shown() -> bool {
    DETAILS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prints a library error with its category (and, with `--details`, the
/// causes under it), returns the exit code for it.
pub fn fail(e: &opsdeck_core::Error) -> u8 {
    errln!("error ({}): {e}", e.code().as_str());
    let causes = opsdeck_core::error::causes(e);
    if details_shown() {
        for c in &causes {
            errln!("  caused by: {c}");
        }
    } else if !causes.is_empty() {
        errln!("  (--details shows its causes)");
    }
    crate::exit::for_error(e)
}
