//! `opsdeck completions SHELL` and `opsdeck man`: shell completion scripts
//! (clap_complete) and manual pages (clap_mangen) made from the same clap
//! definitions the CLI parses with, so they never drift from it.
//! scripts/package.sh puts them in the .deb and .rpm:
//! /usr/share/man/man1/opsdeck*.1.gz, /usr/share/bash-completion/completions/opsdeck,
//! /usr/share/zsh/vendor-completions/_opsdeck, /usr/share/fish/vendor_completions.d/opsdeck.fish.

use std::path::{Path, PathBuf};

use clap::Args;
use clap_complete::Shell;
use clap_mangen::Man;

use crate::exit;
use crate::output::{errln, outln, write_out_bytes};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write every page (opsdeck.1 and one per subcommand, e.g. opsdeck-config-put.1) into this directory
    /// and print their paths, instead of printing opsdeck.1.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub fn completions(a: CompletionsArgs) -> u8 {
    let mut cmd = crate::command();
    // Rendered in memory first: clap_complete panics when its writer fails,
    // and standard output may be a pipe that closes early.
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "opsdeck", &mut script);
    write_out_bytes(&script);
    exit::OK
}

pub fn man(a: ManArgs) -> u8 {
    let mut root = crate::command().disable_help_subcommand(true);
    root.build();
    match a.dir {
        None => {
            let mut page = Vec::new();
            match main_page(&root, &mut page) {
                Ok(()) => {
                    write_out_bytes(&page);
                    exit::OK
                }
                Err(e) => {
                    errln!("error: rendering the manual page: {e}");
                    exit::INTERNAL
                }
            }
        }
        Some(dir) => match write_pages(&root, &dir) {
            Ok(paths) => {
                for p in paths {
                    outln!("{}", p.display());
                }
                exit::OK
            }
            Err(e) => {
                errln!("error (invalid_input): writing the manual pages to {}: {e}", dir.display());
                exit::USAGE
            }
        },
    }
}

fn page(cmd: clap::Command) -> Man {
    Man::new(cmd).source(format!("opsdeck {}", env!("CARGO_PKG_VERSION"))).manual("Opsdeck Manual")
}

/// opsdeck(1): clap_mangen's page, with EXIT STATUS (the codes of
/// [`exit::TABLE`]) and ENVIRONMENT before its VERSION section.
fn main_page(root: &clap::Command, w: &mut Vec<u8>) -> std::io::Result<()> {
    let mut rendered = Vec::new();
    page(root.clone()).render(&mut rendered)?;
    let rendered = String::from_utf8_lossy(&rendered);
    let mut extra = String::from(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in exit::TABLE {
        extra.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_text(meaning)));
    }
    extra.push_str(".SH ENVIRONMENT\n");
    for (var, meaning) in [
        ("OPSDECK_DATA_DIR", "Data directory (database, audit log); --data-dir overrides it."),
        ("OPSDECK_LOG", "Log filter for standard error (default: warn)."),
        (
            opsdeck_core::connectors::stream::STREAM_IDLE_ENV,
            "Seconds a started stream (an image export, a cluster watch) may stay silent before it counts as stalled (exit 5); default 60 for exports, 15 for watches.",
        ),
    ] {
        extra.push_str(&format!(".TP\n\\fB{var}\\fR\n{}\n", roff_text(meaning)));
    }
    let at = rendered.find(".SH VERSION").unwrap_or(rendered.len());
    w.extend_from_slice(rendered[..at].as_bytes());
    w.extend_from_slice(extra.as_bytes());
    w.extend_from_slice(rendered[at..].as_bytes());
    Ok(())
}

/// Plain text for a roff line: backslashes escaped, no leading control character.
fn roff_text(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// Writes opsdeck.1 and a page per (nested) subcommand into `dir`.
fn write_pages(root: &clap::Command, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut main = Vec::new();
    main_page(root, &mut main)?;
    let path = dir.join("opsdeck.1");
    std::fs::write(&path, main)?;
    let mut written = vec![path];
    fn sub_pages(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            written.push(page(sub.clone()).generate_to(dir)?);
            sub_pages(sub, dir, written)?;
        }
        Ok(())
    }
    sub_pages(root, dir, &mut written)?;
    Ok(written)
}
