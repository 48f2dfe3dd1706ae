//! `opsdeck registry add|list|remove|repos|tags`: the registry connections
//! the app's Images → Registries tab shows (same backend methods, same audit).
//! The password is read from $OPSDECK_REGISTRY_PASSWORD (never a flag) and
//! stored in the OS keychain. `opsdeck scan --registry-connection NAME
//! REPO:TAG` scans from a saved connection.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use opsdeck_core::scanner::registry::saved::{RegistryAuth, RegistryInput, RegistryListing, RegistrySpec};
use opsdeck_core::Error;

use super::scan_inputs::PASSWORD_ENV;
use crate::exit;
use crate::output::{fail, outln, print_json, print_table};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Auth {
    Anonymous,
    Basic,
    Token,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Save a registry connection (the password from $OPSDECK_REGISTRY_PASSWORD goes to the keychain).
    Add {
        name: String,
        /// https://host[:port] (http:// only for a registry without TLS).
        url: String,
        #[arg(long, value_enum, default_value = "anonymous")]
        auth: Auth,
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        /// PEM file of the CA that signs the registry's certificate.
        #[arg(long, value_name = "PEM")]
        ca: Option<PathBuf>,
        /// Default platform of multi-platform images (os/arch[/variant]).
        #[arg(long)]
        platform: Option<String>,
        /// Check /v2/ and the catalog before saving; nothing is saved if it fails.
        #[arg(long)]
        test: bool,
    },
    /// The saved registry connections.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a registry connection and its keychain password.
    Remove { name: String },
    /// The repositories of a saved registry (the catalog, page by page).
    Repos {
        name: String,
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
        page_size: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// The tags of a repository of a saved registry.
    Tags {
        name: String,
        repository: String,
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
        page_size: Option<u32>,
        #[arg(long)]
        json: bool,
    },
}

fn listing(l: &RegistryListing, json: bool) -> u8 {
    if json {
        return print_json(l);
    }
    for n in &l.names {
        outln!("{n}");
    }
    if l.truncated {
        crate::output::errln!("(only the first {} are listed)", l.names.len());
    }
    exit::OK
}

pub async fn run(data_dir: Option<PathBuf>, c: RegistryCommand) -> u8 {
    let backend = match super::open_backend(data_dir).await {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    let result: opsdeck_core::Result<u8> = async {
        Ok(match c {
            RegistryCommand::Add { name, url, auth, user, ca, platform, test } => {
                let auth = match auth {
                    Auth::Anonymous => RegistryAuth::Anonymous,
                    Auth::Basic => RegistryAuth::Basic,
                    Auth::Token => RegistryAuth::Token,
                };
                let secret = std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty());
                if auth != RegistryAuth::Anonymous && secret.is_none() {
                    return Err(Error::invalid(format!("--auth basic/token needs the password in ${PASSWORD_ENV}")));
                }
                let ca_file = ca.map(|p| std::path::absolute(&p).unwrap_or(p).display().to_string());
                let spec = RegistrySpec { url, auth, username: user, ca_file, platform };
                let input = RegistryInput { id: None, name, spec, secret: secret.filter(|_| auth != RegistryAuth::Anonymous) };
                if test {
                    let outcome = backend.test_registry_connection(input.clone()).await?;
                    if !outcome.ok {
                        crate::output::errln!("test failed: {}", outcome.message);
                        return Ok(outcome.error_code.map_or(exit::FAILED, exit::for_code));
                    }
                    outln!("test: {} ({} ms)", outcome.message, outcome.latency_ms);
                }
                let c = backend.save_registry_connection(input).await?;
                outln!(
                    "saved registry connection \"{}\" ({}){}",
                    c.name,
                    c.spec.url,
                    if c.has_secret { ", password in the keychain" } else { "" }
                );
                exit::OK
            }
            RegistryCommand::List { json } => {
                let list = backend.registry_connections().await?;
                if json {
                    return Ok(print_json(&list));
                }
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|c| {
                        vec![
                            c.name.clone(),
                            c.spec.url.clone(),
                            format!("{:?}", c.spec.auth).to_lowercase(),
                            c.spec.username.clone().unwrap_or_default(),
                            c.spec.ca_file.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                print_table(&["NAME", "URL", "AUTH", "USER", "CA FILE"], &rows);
                exit::OK
            }
            RegistryCommand::Remove { name } => {
                backend.delete_registry_connection(&name).await?;
                outln!("removed registry connection \"{name}\"");
                exit::OK
            }
            RegistryCommand::Repos { name, page_size, json } => listing(&backend.registry_repositories(&name, page_size).await?, json),
            RegistryCommand::Tags { name, repository, page_size, json } => {
                listing(&backend.registry_tags(&name, &repository, page_size).await?, json)
            }
        })
    }
    .await;
    match result {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}
