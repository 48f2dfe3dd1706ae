//! Subcommands whose issue has not landed yet: they say so and exit non-zero,
//! so a pipeline never mistakes them for a pass.

#[derive(Debug, clap::Args)]
pub struct PendingArgs {
    /// Arguments of the future command (ignored).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub fn run(name: &str, issue: &str) -> u8 {
    eprintln!("opsdeck {name}: not yet implemented in this version (tracked in issue {issue})");
    crate::exit::NOT_IMPLEMENTED
}
