//! `opsdeck connections`: add, list, test, remove and export connection profiles.
//! Secrets are read from an environment variable or standard input, never
//! from a command-line flag (flags end up in shell history and `ps`).

use std::io::BufRead;

use clap::Subcommand;
use opsdeck_core::connections::{ConnectionInput, ConnectionSpec, TlsFiles};
use opsdeck_core::{Backend, Error};

use crate::exit;
use crate::output::{fail, outln, print_json, print_table, Format};

#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// List the saved profiles.
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Add a profile.
    #[command(subcommand)]
    Add(AddCommand),
    /// Test profiles against their servers (by name or id); exit 1 if any fails.
    Test {
        #[arg(required = true)]
        names: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Remove a profile and its keychain secret.
    Remove { name: String },
    /// Print all profiles as JSON (no secrets).
    Export,
}

#[derive(Debug, clap::Args)]
pub struct SecretArgs {
    /// Read the password/token from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "secret_stdin")]
    secret_env: Option<String>,
    /// Read the password/token from the first line of standard input.
    #[arg(long)]
    secret_stdin: bool,
}

#[derive(Debug, clap::Args)]
pub struct TlsArgs {
    /// CA certificate (PEM) that signed the server certificate.
    #[arg(long)]
    ca: Option<String>,
    /// Client certificate (PEM).
    #[arg(long)]
    cert: Option<String>,
    /// Client private key (PEM).
    #[arg(long)]
    key: Option<String>,
}

impl TlsArgs {
    fn files(self) -> Option<TlsFiles> {
        if self.ca.is_none() && self.cert.is_none() && self.key.is_none() {
            return None;
        }
        Some(TlsFiles { ca_file: self.ca, cert_file: self.cert, key_file: self.key })
    }
}

#[derive(Debug, Subcommand)]
pub enum AddCommand {
    /// etcd v3 endpoints.
    Etcd {
        #[arg(long)]
        name: String,
        /// Comma-separated http(s)://host:port list.
        #[arg(long, required = true, value_delimiter = ',')]
        endpoints: Vec<String>,
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        tls: TlsArgs,
        #[command(flatten)]
        secret: SecretArgs,
        /// Accept sending the password over http:// to another machine (clear text).
        #[arg(long)]
        allow_plaintext: bool,
    },
    /// A Docker Engine.
    Docker {
        #[arg(long)]
        name: String,
        /// unix:///path/docker.sock, tcp://host:port or https://host:port.
        #[arg(long)]
        host: String,
        #[command(flatten)]
        tls: TlsArgs,
        /// Accept tcp:// without TLS to another machine (anyone on the path controls the engine).
        #[arg(long)]
        allow_plaintext: bool,
    },
    /// Contexts of a kubeconfig file.
    Kubernetes {
        #[arg(long)]
        name: String,
        #[arg(long)]
        kubeconfig: String,
        /// Context to use (repeat; none = all contexts of the file).
        #[arg(long = "context")]
        contexts: Vec<String>,
        /// Optional bearer token overriding the kubeconfig credentials.
        #[command(flatten)]
        secret: SecretArgs,
    },
    /// A vCenter or ESXi host.
    Vsphere {
        #[arg(long)]
        name: String,
        /// https://host/sdk
        #[arg(long)]
        url: String,
        #[arg(long)]
        user: String,
        /// SHA-256 thumbprint of the server certificate to pin (else system CAs verify it).
        #[arg(long)]
        thumbprint: Option<String>,
        #[command(flatten)]
        secret: SecretArgs,
    },
}

pub(crate) fn read_secret(args: &SecretArgs) -> Result<Option<String>, Error> {
    if let Some(var) = &args.secret_env {
        return match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Some(v)),
            _ => Err(Error::invalid(format!("environment variable {var} is not set or empty"))),
        };
    }
    if args.secret_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::invalid(format!("cannot read the secret from standard input: {e}")))?;
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            return Err(Error::invalid("standard input gave an empty secret"));
        }
        return Ok(Some(line));
    }
    Ok(None)
}

fn input_of(cmd: AddCommand) -> Result<ConnectionInput, Error> {
    let (name, spec, secret) = match cmd {
        AddCommand::Etcd { name, endpoints, user, tls, secret, allow_plaintext } => {
            (name, ConnectionSpec::Etcd { endpoints, tls: tls.files(), username: user, allow_plaintext }, read_secret(&secret)?)
        }
        AddCommand::Docker { name, host, tls, allow_plaintext } => {
            (name, ConnectionSpec::Docker { host, tls: tls.files(), allow_plaintext }, None)
        }
        AddCommand::Kubernetes { name, kubeconfig, contexts, secret } => {
            (name, ConnectionSpec::Kubernetes { kubeconfig, contexts }, read_secret(&secret)?)
        }
        AddCommand::Vsphere { name, url, user, thumbprint, secret } => {
            (name, ConnectionSpec::Vsphere { url, username: user, thumbprint }, read_secret(&secret)?)
        }
    };
    Ok(ConnectionInput { id: None, name, spec, secret, clear_secret: false })
}

pub async fn run(data_dir: Option<std::path::PathBuf>, cmd: ConnectionsCommand) -> u8 {
    let backend = match super::open_backend(data_dir).await {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    match run_with(&backend, cmd).await {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

async fn run_with(backend: &Backend, cmd: ConnectionsCommand) -> Result<u8, Error> {
    match cmd {
        ConnectionsCommand::List { format } => {
            let list = backend.connections().await?;
            if format == Format::Json {
                return Ok(print_json(&list));
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    let last = match &c.last_test {
                        None => "never tested".to_string(),
                        Some(t) if t.ok => format!("ok: {}", t.version.clone().unwrap_or_default()),
                        Some(t) => format!("failed: {}", t.message),
                    };
                    vec![
                        c.name.clone(),
                        c.spec.kind().as_str().into(),
                        c.spec.target(),
                        if c.has_secret { "keychain" } else { "-" }.into(),
                        last,
                    ]
                })
                .collect();
            print_table(&["NAME", "KIND", "TARGET", "SECRET", "LAST TEST"], &rows);
            Ok(exit::OK)
        }
        ConnectionsCommand::Add(add) => {
            let c = backend.save_connection(input_of(add)?).await?;
            outln!("added {} ({}) id={}", c.name, c.spec.kind().as_str(), c.id);
            Ok(exit::OK)
        }
        ConnectionsCommand::Test { names, format } => {
            let mut results = Vec::new();
            for n in &names {
                let c = backend.find_connection(n).await?;
                let outcome = backend.test_connection(&c.id).await?;
                results.push((c.name, outcome));
            }
            let failed = results.iter().any(|(_, o)| !o.ok);
            if format == Format::Json {
                let json: Vec<_> = results.iter().map(|(n, o)| serde_json::json!({ "name": n, "outcome": o })).collect();
                print_json(&json);
            } else {
                let rows: Vec<Vec<String>> = results
                    .iter()
                    .map(|(n, o)| {
                        vec![
                            n.clone(),
                            if o.ok { "ok".into() } else { format!("FAILED ({})", o.error_code.map(|c| c.as_str()).unwrap_or("?")) },
                            o.version.clone().unwrap_or_default(),
                            format!("{} ms", o.latency_ms),
                            o.message.clone(),
                        ]
                    })
                    .collect();
                print_table(&["NAME", "RESULT", "VERSION", "LATENCY", "DETAIL"], &rows);
                if crate::output::details_shown() {
                    for (n, o) in &results {
                        for cause in &o.details {
                            outln!("{n}: caused by: {cause}");
                        }
                    }
                }
            }
            Ok(if failed { exit::FAILED } else { exit::OK })
        }
        ConnectionsCommand::Remove { name } => {
            let c = backend.find_connection(&name).await?;
            backend.delete_connection(&c.id).await?;
            outln!("removed {}", c.name);
            Ok(exit::OK)
        }
        ConnectionsCommand::Export => {
            outln!("{}", backend.export_connections().await?);
            Ok(exit::OK)
        }
    }
}
