//! `opsdeck config schema set|show|remove|list`: JSON Schemas per key
//! prefix in the team store (ROOT/config/schemas/<hex prefix>). The
//! connection is the first positional argument, or --connection/--endpoints.

use clap::{Args, Subcommand};
use opsdeck_core::backend::EtcdSession;
use opsdeck_core::config::schema::SchemaInfo;
use opsdeck_core::{Backend, Error};

use crate::exit;
use crate::output::{outln, print_json, print_table, Format};

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    command: SchemaCommand,
    /// Team root prefix (schemas under ROOT/config/schemas/).
    #[arg(long = "team-prefix", global = true, default_value = opsdeck_core::team::DEFAULT_ROOT)]
    root: String,
}

#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// [CONNECTION] PREFIX FILE ("-": standard input): set or replace the
    /// schema of PREFIX; a document that is not a valid JSON Schema is refused.
    /// Needs write on ROOT/config/schemas/ (an etcd root user, or a role granted it).
    Set {
        #[arg(num_args = 2..=3, value_names = ["CONNECTION", "PREFIX", "FILE"])]
        args: Vec<String>,
    },
    /// [CONNECTION] PREFIX: print the schema set on exactly PREFIX (exit 2: none).
    Show {
        #[arg(num_args = 1..=2, value_names = ["CONNECTION", "PREFIX"])]
        args: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// [CONNECTION] PREFIX: remove the schema of PREFIX (exit 2: none).
    Remove {
        #[arg(num_args = 1..=2, value_names = ["CONNECTION", "PREFIX"])]
        args: Vec<String>,
    },
    /// [CONNECTION]: every schema, with whether it is valid.
    List {
        #[arg(num_args = 0..=1, value_name = "CONNECTION")]
        args: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

impl SchemaCommand {
    /// The positional arguments and how many there are without a connection.
    fn positional(&self) -> (&[String], usize) {
        match self {
            SchemaCommand::Set { args } => (args, 2),
            SchemaCommand::Show { args, .. } | SchemaCommand::Remove { args } => (args, 1),
            SchemaCommand::List { args, .. } => (args, 0),
        }
    }
}

impl SchemaArgs {
    /// The positional connection name, if given; `flagged`: --connection or
    /// --endpoints was given (then no positional connection).
    pub fn connection(&self, flagged: bool) -> Result<Option<String>, Error> {
        let (args, without) = self.command.positional();
        match (args.len() > without, flagged) {
            (true, true) => Err(Error::invalid("give the connection once: CONNECTION, --connection or --endpoints")),
            (true, false) => Ok(args.first().cloned()),
            (false, true) => Ok(None),
            (false, false) => Err(Error::invalid("name the etcd: CONNECTION first, or --connection NAME / --endpoints URL")),
        }
    }

    /// The arguments after the connection.
    fn rest(&self) -> &[String] {
        let (args, without) = self.command.positional();
        &args[args.len() - without..]
    }
}

fn print_info(i: &SchemaInfo, format: Format) {
    if format == Format::Json {
        print_json(i);
        return;
    }
    outln!("prefix: {}", i.prefix);
    outln!("source: {} (revision {})", i.source, i.revision);
    if let Some(why) = &i.invalid {
        outln!("INVALID: {why}");
    }
    outln!("{}", i.document);
}

pub async fn run(b: &Backend, s: EtcdSession, a: SchemaArgs) -> Result<u8, Error> {
    let s = s.with_schema_root(&a.root)?;
    let rest = a.rest().to_vec();
    match &a.command {
        SchemaCommand::Set { .. } => {
            let (prefix, file) = (&rest[0], &rest[1]);
            let doc = if file == "-" {
                super::config::read_input("-")?.into_bytes()
            } else {
                std::fs::read(file).map_err(|e| Error::invalid(format!("cannot read {file}: {e}")))?
            };
            let i = b.config_schema_set(&s, prefix, &doc).await?;
            outln!("{prefix}: JSON Schema set ({}, revision {})", i.source, i.revision);
            Ok(exit::OK)
        }
        SchemaCommand::Show { format, .. } => {
            print_info(&b.config_schema_show(&s, &rest[0]).await?, *format);
            Ok(exit::OK)
        }
        SchemaCommand::Remove { .. } => {
            b.config_schema_remove(&s, &rest[0]).await?;
            outln!("{}: JSON Schema removed", rest[0]);
            Ok(exit::OK)
        }
        SchemaCommand::List { format, .. } => {
            let list = b.config_schema_list(&s).await?;
            if *format == Format::Json {
                print_json(&list);
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|i| {
                        vec![
                            i.prefix.clone(),
                            i.invalid.as_ref().map_or_else(|| "valid".to_string(), |w| format!("INVALID: {w}")),
                            i.source.clone(),
                        ]
                    })
                    .collect();
                print_table(&["PREFIX", "STATE", "SOURCE"], &rows);
            }
            Ok(exit::OK)
        }
    }
}
