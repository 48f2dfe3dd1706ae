//! `opsdeck config`: read, edit, diff, export/import and watch etcd
//! configuration, the same guarded operations as the desktop app.
//!
//! Target: a saved profile (`--connection NAME`) or ad-hoc flags
//! (`--endpoints`, TLS files, `--user`; the password comes from
//! $OPSDECK_ETCD_PASSWORD or `--password-stdin`, never from a flag).

use std::io::{BufRead, Read};

use clap::{Args, Subcommand, ValueEnum};
use opsdeck_core::backend::EtcdSession;
use opsdeck_core::config::format::{detect, ValueFormat};
use opsdeck_core::config::search::{MatchIn, SearchEvent, SearchMode};
use opsdeck_core::config::transfer::DocFormat;
use opsdeck_core::config::watch::WatchEvent;
use opsdeck_core::config::WriteResult;
use opsdeck_core::connections::TlsFiles;
use opsdeck_core::connectors::etcd::EtcdTarget;
use opsdeck_core::secrets::Secret;
use opsdeck_core::{Backend, Error, ErrorCode};

use crate::exit;
use crate::output::{errln, fail, outln, print_json, print_table, Format};

pub const PASSWORD_ENV: &str = "OPSDECK_ETCD_PASSWORD";

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Args)]
struct TargetArgs {
    /// A saved etcd connection (name or id); its password comes from the keychain.
    #[arg(long, global = true, conflicts_with = "endpoints")]
    connection: Option<String>,
    /// Comma-separated endpoints, e.g. http://127.0.0.1:2379.
    #[arg(long, global = true, value_delimiter = ',')]
    endpoints: Vec<String>,
    #[arg(long, global = true)]
    cacert: Option<String>,
    /// Client certificate (PEM).
    #[arg(long = "cert", global = true)]
    tls_cert: Option<String>,
    /// Client key (PEM).
    #[arg(long = "key", global = true)]
    tls_key: Option<String>,
    /// etcd user; the password is read from $OPSDECK_ETCD_PASSWORD or --password-stdin.
    #[arg(long, global = true)]
    user: Option<String>,
    #[arg(long, global = true)]
    password_stdin: bool,
    /// With --endpoints: accept sending the password over http:// to another machine.
    #[arg(long, global = true)]
    allow_plaintext: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Json,
    Yaml,
    Toml,
    Plain,
}

impl From<FormatArg> for ValueFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Json => ValueFormat::Json,
            FormatArg::Yaml => ValueFormat::Yaml,
            FormatArg::Toml => ValueFormat::Toml,
            FormatArg::Plain => ValueFormat::Plain,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DocArg {
    Json,
    Yaml,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a key's value (with --format json: value and revisions). A binary
    /// value prints as base64; --raw writes its exact bytes instead.
    Get {
        key: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write the value's bytes to standard output as stored (no newline).
        #[arg(long, conflicts_with = "format")]
        raw: bool,
    },
    /// Write a key: VALUE, or standard input with "-" (read as bytes: a value
    /// that is not UTF-8 is stored exactly as given). Guarded: --if-revision N
    /// writes only if the key is still at mod_revision N (exit 1, "conflict",
    /// otherwise); --create writes only if the key does not exist.
    Put {
        key: String,
        value: String,
        #[arg(long, conflicts_with = "create")]
        if_revision: Option<i64>,
        #[arg(long)]
        create: bool,
        /// Validate as this format (default: detected from the value).
        #[arg(long = "as", value_enum)]
        as_format: Option<FormatArg>,
        /// Store even if it does not parse as its format.
        #[arg(long)]
        plain: bool,
        #[arg(long, default_value = "")]
        comment: String,
        /// Also check the value against this JSON Schema (on top of the team
        /// store's schema of the key's prefix).
        #[arg(long, value_name = "FILE")]
        schema: Option<String>,
    },
    /// Delete a key (guarded by --if-revision, default: the current one), or a
    /// whole --prefix (needs --yes N, the number of keys you expect to go).
    Del {
        key: String,
        #[arg(long)]
        if_revision: Option<i64>,
        #[arg(long)]
        prefix: bool,
        #[arg(long, value_name = "COUNT")]
        yes: Option<i64>,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// List the children of a prefix (dirs end with /).
    Ls {
        #[arg(default_value = "/")]
        prefix: String,
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Keys under PREFIX whose name or value contains TEXT (ASCII case
    /// ignored; binary values too), printed as found; exit 1 when none.
    Search {
        prefix: String,
        text: String,
        /// Fuzzy: TEXT's letters in order with gaps ("dbpw" finds db/password),
        /// case and accents ignored; each matched run printed in [brackets].
        #[arg(long)]
        fuzzy: bool,
        /// Stop after this many matches.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// json: one JSON line per match, then a summary line.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Previous values of a key from etcd revisions (newest first).
    History {
        key: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Write back the value a key had at revision REV (guarded).
    Rollback {
        key: String,
        #[arg(long)]
        to: i64,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Compare two prefixes; exit 1 when they differ.
    Diff {
        left: String,
        right: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Export a prefix as a JSON or YAML document.
    Export {
        prefix: String,
        #[arg(long, value_enum, default_value_t = DocArg::Json)]
        format: DocArg,
    },
    /// Import a document (FILE or "-") under a prefix; --dry-run shows the plan.
    /// Stopped part-way (SIGINT/SIGTERM, an etcd fault), it writes a report of
    /// what landed; --resume REPORT continues from it.
    Import(super::config_import::ImportArgs),
    /// Print changes under a prefix as JSON lines until interrupted (or --count
    /// puts and deletes). A broken watch reconnects by itself and says so
    /// ("reconnecting", then "resumed", or "gap" with the keys changed while
    /// etcd's history was compacted); exit 1 only when etcd refuses it.
    Watch {
        prefix: String,
        #[arg(long)]
        count: Option<usize>,
    },
    /// Protect a prefix (as an etcd root user): only the publisher role may write it; changes go through review.
    Protect {
        prefix: String,
        #[command(flatten)]
        team: TeamRoot,
    },
    /// Propose a change of protected keys: KEY=VALUE (VALUE "-" reads stdin; KEY without "=" deletes with --delete).
    Propose {
        /// KEY=VALUE, repeatable.
        #[arg(required_unless_present = "delete")]
        sets: Vec<String>,
        /// A key to delete (repeat).
        #[arg(long)]
        delete: Vec<String>,
        #[arg(long)]
        comment: String,
        #[command(flatten)]
        team: TeamRoot,
    },
    /// List change requests (pending, approved, rejected, stale, published).
    Changes {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        team: TeamRoot,
    },
    /// Show a change request with the diff of each key.
    Review {
        id: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        team: TeamRoot,
    },
    /// Approve someone else's change request.
    Approve {
        id: String,
        #[arg(long, default_value = "")]
        comment: String,
        #[command(flatten)]
        team: TeamRoot,
    },
    /// Reject someone else's change request (a reason is required).
    Reject {
        id: String,
        #[arg(long)]
        comment: String,
        #[command(flatten)]
        team: TeamRoot,
    },
    /// Publish an approved change: one transaction, only if no key moved since it was proposed.
    Publish {
        id: String,
        #[command(flatten)]
        team: TeamRoot,
    },
    /// Promote a prefix between two saved connections (dev -> prod): --from
    /// CONN:/prefix/ --to CONN:/prefix/ --plan FILE writes a reviewable plan;
    /// --apply FILE applies exactly it, each batch guarded by the revisions
    /// reviewed on both sides (exit 1 listing the keys that changed since).
    Promote(super::config_promote::PromoteArgs),
    /// The cluster behind a connection: members, leader, raft term/index, DB
    /// size vs the backend quota, version, alarms, and for each warning the
    /// etcdctl commands that fix it (shown, not run). Exit 1 on an alarm
    /// (NOSPACE, CORRUPT) or no leader.
    Cluster(super::config_cluster::ClusterArgs),
    /// Rename a prefix: [CONNECTION] FROM_PREFIX TO_PREFIX. Copy + delete in
    /// guarded transactions (64 keys each); a key changed meanwhile stops the
    /// move (exit 1, listing it); existing target keys refuse it unless --overwrite.
    Move(super::config_cluster::MoveArgs),
    /// JSON Schemas per key prefix, kept in the team store
    /// (ROOT/config/schemas/): every value written under the prefix (put,
    /// import, promote, move, rollback) must be JSON the schema accepts.
    /// `set [CONNECTION] PREFIX FILE`, `show [CONNECTION] PREFIX`, `remove
    /// [CONNECTION] PREFIX`, `list [CONNECTION]`.
    Schema(super::config_schema::SchemaArgs),
}

/// Where the team store lives in this etcd.
#[derive(Debug, Clone, Args)]
struct TeamRoot {
    /// Team root prefix (change requests under ROOT/config/).
    #[arg(long = "team-prefix", default_value = opsdeck_core::team::DEFAULT_ROOT)]
    root: String,
}

fn change_state(c: &opsdeck_core::team::changes::ChangeView) -> String {
    serde_json::to_value(c.state).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn print_change(c: &opsdeck_core::team::changes::ChangeView) {
    outln!("change {} by {} ({}): {}", c.id, c.author, change_state(c), c.comment);
    if let Some(r) = &c.review {
        outln!(
            "  {} by {}{}",
            if r.approved { "approved" } else { "rejected" },
            r.reviewer,
            if r.comment.is_empty() { String::new() } else { format!(": {}", r.comment) }
        );
    }
    for op in &c.ops {
        outln!("--- {} (revision {})", op.key, op.base_revision);
        let before = op.base_value.clone().unwrap_or_default();
        let after = op.value.clone().unwrap_or_default();
        for l in before.lines() {
            if !after.lines().any(|a| a == l) {
                outln!("-{l}");
            }
        }
        for l in after.lines() {
            if !before.lines().any(|b| b == l) {
                outln!("+{l}");
            }
        }
        if op.value.is_none() {
            outln!("  (deleted)");
        }
    }
    for k in &c.moved {
        outln!("  STALE: {k} changed since the change was proposed");
    }
    for n in &c.notes {
        outln!("  note: {n}");
    }
}

fn read_password_line() -> Result<String, Error> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| Error::invalid(format!("reading the password: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn open(backend: &Backend, t: &TargetArgs) -> Result<EtcdSession, Error> {
    if let Some(name) = &t.connection {
        let c = backend.find_connection(name).await?;
        return backend.etcd_session(&c.id).await;
    }
    let r = reach(t)?;
    EtcdSession::connect(&EtcdTarget::new(&r.endpoints, r.tls.as_ref(), r.username.as_deref(), r.password.as_ref())).await
}

/// The ad-hoc target of --endpoints and the TLS/user flags.
fn reach(t: &TargetArgs) -> Result<opsdeck_core::backend::EtcdReach, Error> {
    if t.endpoints.is_empty() {
        return Err(Error::invalid("give --connection NAME or --endpoints URL[,URL…]"));
    }
    let password = match (&t.user, t.password_stdin) {
        (None, _) => None,
        (Some(_), true) => Some(Secret::new(read_password_line()?)),
        (Some(u), false) => Some(Secret::new(
            std::env::var(PASSWORD_ENV)
                .map_err(|_| Error::invalid(format!("the password of etcd user {u}: set ${PASSWORD_ENV} or pass --password-stdin")))?,
        )),
    };
    let tls = (t.cacert.is_some() || t.tls_cert.is_some() || t.tls_key.is_some()).then(|| TlsFiles {
        ca_file: t.cacert.clone(),
        cert_file: t.tls_cert.clone(),
        key_file: t.tls_key.clone(),
    });
    let spec = opsdeck_core::connections::validate::validate_spec(opsdeck_core::connections::ConnectionSpec::Etcd {
        endpoints: t.endpoints.clone(),
        tls,
        username: t.user.clone(),
        allow_plaintext: t.allow_plaintext,
    })?;
    let opsdeck_core::connections::ConnectionSpec::Etcd { endpoints, tls, username, .. } = spec else { unreachable!() };
    Ok(opsdeck_core::backend::EtcdReach { endpoints, tls, username, password })
}

pub async fn run(data_dir: Option<std::path::PathBuf>, args: ConfigArgs) -> u8 {
    let backend = match super::open_backend(data_dir).await {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    if let ConfigCommand::Promote(p) = args.command {
        // Names its two connections itself (--from, --to, or the plan).
        if args.target.connection.is_some() || !args.target.endpoints.is_empty() {
            return fail(&Error::invalid(
                "promote names its connections in --from and --to (saved connections); drop --connection/--endpoints",
            ));
        }
        return match Box::pin(super::config_promote::run(&backend, p)).await {
            Ok(code) => code,
            Err(e) => fail(&e),
        };
    }
    let command = match args.command {
        ConfigCommand::Cluster(c) => {
            let saved = c.connection.clone().or_else(|| args.target.connection.clone());
            if c.connection.is_some() && (args.target.connection.is_some() || !args.target.endpoints.is_empty()) {
                return fail(&Error::invalid("give the connection once: CONNECTION, --connection or --endpoints"));
            }
            let adhoc = match saved {
                Some(_) => None,
                None => match reach(&args.target) {
                    Ok(r) => Some(r),
                    Err(e) => return fail(&e),
                },
            };
            return match Box::pin(super::config_cluster::cluster(&backend, saved, adhoc, c)).await {
                Ok(code) => code,
                Err(e) => fail(&e),
            };
        }
        ConfigCommand::Move(m) => {
            let (conn, from, to) = super::config_cluster::move_args(&m.args);
            let session = match conn {
                Some(name) if args.target.connection.is_none() && args.target.endpoints.is_empty() => {
                    match backend.find_connection(&name).await {
                        Ok(c) => backend.etcd_session(&c.id).await,
                        Err(e) => Err(e),
                    }
                }
                Some(_) => Err(Error::invalid("give the connection once: CONNECTION, --connection or --endpoints")),
                None => open(&backend, &args.target).await,
            };
            return match session {
                Ok(s) => match Box::pin(super::config_cluster::relocate(&backend, &s, &from, &to, &m)).await {
                    Ok(code) => code,
                    Err(e) => fail(&e),
                },
                Err(e) => fail(&e),
            };
        }
        ConfigCommand::Schema(a) => {
            let flagged = args.target.connection.is_some() || !args.target.endpoints.is_empty();
            let session = match a.connection(flagged) {
                Ok(Some(name)) => match backend.find_connection(&name).await {
                    Ok(c) => backend.etcd_session(&c.id).await,
                    Err(e) => Err(e),
                },
                Ok(None) => open(&backend, &args.target).await,
                Err(e) => Err(e),
            };
            return match session {
                Ok(s) => match Box::pin(super::config_schema::run(&backend, s, a)).await {
                    Ok(code) => code,
                    Err(e) => fail(&e),
                },
                Err(e) => fail(&e),
            };
        }
        other => other,
    };
    let session = match open(&backend, &args.target).await {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    match Box::pin(run_with(&backend, &session, command)).await {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

pub(super) fn read_input(arg: &str) -> Result<String, Error> {
    if arg == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| Error::invalid(format!("reading standard input: {e}")))?;
        Ok(s)
    } else {
        Ok(arg.to_string())
    }
}

fn read_stdin_bytes() -> Result<Vec<u8>, Error> {
    let mut v = Vec::new();
    std::io::stdin().read_to_end(&mut v).map_err(|e| Error::invalid(format!("reading standard input: {e}")))?;
    Ok(v)
}

fn report_write(key: &str, r: &WriteResult) -> u8 {
    match r {
        WriteResult::Written { meta, recovered, .. } => {
            outln!("{key}: written at mod_revision {}", meta.mod_revision);
            if let Some(r) = recovered {
                errln!("note: {r}");
            }
            exit::OK
        }
        WriteResult::Conflict { current: Some(c) } => {
            errln!(
                "conflict: {key} is now at mod_revision {} (changed by someone else); nothing written. Their value:\n{}",
                c.meta.mod_revision,
                c.value
            );
            exit::FAILED
        }
        WriteResult::Conflict { current: None } => {
            errln!("conflict: {key} was deleted by someone else; nothing written");
            exit::FAILED
        }
    }
}

async fn run_with(b: &Backend, s: &EtcdSession, cmd: ConfigCommand) -> Result<u8, Error> {
    match cmd {
        ConfigCommand::Promote(p) => Box::pin(super::config_promote::run(b, p)).await,
        // Opened by `run` itself (a positional CONNECTION).
        ConfigCommand::Cluster(_) | ConfigCommand::Move(_) | ConfigCommand::Schema(_) => {
            Err(Error::Internal("cluster/move/schema reached run_with".into()))
        }
        ConfigCommand::Protect { prefix, team } => {
            b.config_protect(s, &team.root, &prefix).await?;
            outln!("{prefix} is protected: writable by the publisher role only; changes go through review");
            Ok(exit::OK)
        }
        ConfigCommand::Propose { sets, delete, comment, team } => {
            let mut ops = Vec::new();
            for set in &sets {
                let (k, v) = set.split_once('=').ok_or_else(|| Error::invalid(format!("\"{set}\": write KEY=VALUE (or --delete KEY)")))?;
                ops.push((k.to_string(), Some(read_input(v)?)));
            }
            ops.extend(delete.into_iter().map(|k| (k, None)));
            let c = b.change_propose(s, &team.root, &ops, &comment).await?;
            outln!("{}", c.id);
            Ok(exit::OK)
        }
        ConfigCommand::Changes { format, team } => {
            let (list, problems) = Box::pin(b.change_list(s, &team.root)).await?;
            for p in &problems {
                errln!("skipped {}: {}", p.key, p.reason);
            }
            Ok(match format {
                Format::Json => print_json(&list),
                Format::Table => {
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|c| {
                            vec![
                                c.id.clone(),
                                change_state(c),
                                c.author.clone(),
                                c.review.as_ref().map(|r| r.reviewer.clone()).unwrap_or_default(),
                                c.ops.iter().map(|o| o.key.as_str()).collect::<Vec<_>>().join(", "),
                                c.comment.clone(),
                            ]
                        })
                        .collect();
                    print_table(&["ID", "STATE", "AUTHOR", "REVIEWER", "KEYS", "COMMENT"], &rows);
                    exit::OK
                }
            })
        }
        ConfigCommand::Review { id, format, team } => {
            let c = Box::pin(b.change_get(s, &team.root, &id)).await?;
            Ok(match format {
                Format::Json => print_json(&c),
                Format::Table => {
                    print_change(&c);
                    exit::OK
                }
            })
        }
        ConfigCommand::Approve { id, comment, team } => {
            print_change(&b.change_review(s, &team.root, &id, true, &comment).await?);
            Ok(exit::OK)
        }
        ConfigCommand::Reject { id, comment, team } => {
            print_change(&b.change_review(s, &team.root, &id, false, &comment).await?);
            Ok(exit::OK)
        }
        ConfigCommand::Publish { id, team } => {
            let c = b.change_publish(s, &team.root, &id).await?;
            print_change(&c);
            Ok(exit::OK)
        }
        ConfigCommand::Get { key, format, raw } => {
            if raw {
                let bytes = b.config_get_bytes(s, &key).await?;
                crate::output::write_out_bytes(&bytes);
                return Ok(exit::OK);
            }
            let kv = b.config_get(s, &key).await?;
            if format == Format::Json {
                return Ok(print_json(&kv));
            }
            outln!("{}", kv.value);
            Ok(exit::OK)
        }
        ConfigCommand::Put { key, value, if_revision, create, as_format, plain, comment, schema } => {
            let with_schema;
            let s = match &schema {
                Some(f) => {
                    with_schema = s.clone().with_schema_file(f)?;
                    &with_schema
                }
                None => s,
            };
            let bytes = if value == "-" { read_stdin_bytes()? } else { value.into_bytes() };
            let expected = if create {
                0
            } else if let Some(r) = if_revision {
                r
            } else {
                // Unguarded by request: guard on what is there now (still no lost update within this call).
                match b.config_get(s, &key).await {
                    Ok(kv) => kv.meta.mod_revision,
                    Err(Error::NotFound(_)) => 0,
                    Err(e) => return Err(e),
                }
            };
            let value = match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    // Not text: stored as the bytes read, never re-encoded.
                    if as_format.is_some() {
                        return Err(Error::invalid(
                            "--as: the value is not UTF-8 text, so it has no text format; drop --as to store its bytes",
                        ));
                    }
                    let r = b.config_put_bytes(s, &key, e.as_bytes(), expected, &comment).await?;
                    return Ok(report_write(&key, &r));
                }
            };
            let format = if plain { ValueFormat::Plain } else { as_format.map(Into::into).unwrap_or_else(|| detect(value.as_bytes())) };
            let r = b.config_put(s, &key, &value, expected, format, plain, &comment).await?;
            Ok(report_write(&key, &r))
        }
        ConfigCommand::Del { key, if_revision, prefix, yes, comment } => {
            if prefix {
                let preview = b.config_delete_preview(s, &key).await?;
                let Some(expected) = yes else {
                    errln!("{} keys under {key} would be deleted, e.g.:", preview.count);
                    for k in &preview.sample {
                        errln!("  {k}");
                    }
                    errln!("re-run with --yes {} to delete them", preview.count);
                    return Ok(exit::USAGE);
                };
                let n = b.config_delete_prefix(s, &key, expected, &comment).await?;
                outln!("deleted {n} keys under {key}");
                return Ok(exit::OK);
            }
            let expected = match if_revision {
                Some(r) => r,
                None => b.config_get(s, &key).await?.meta.mod_revision,
            };
            let r = b.config_delete(s, &key, expected, &comment).await?;
            Ok(report_write(&key, &r))
        }
        ConfigCommand::Ls { prefix, limit, format } => {
            let page = b.config_tree(s, &prefix, None, limit).await?;
            if format == Format::Json {
                return Ok(print_json(&page));
            }
            for e in &page.entries {
                match &e.meta {
                    Some(m) if m.lease != 0 => outln!("{}\t(mod {} lease {:x})", e.key, m.mod_revision, m.lease),
                    Some(m) => outln!("{}\t(mod {})", e.key, m.mod_revision),
                    None => outln!("{}", e.key),
                }
            }
            if page.next_cursor.is_some() {
                errln!("… more entries: raise --limit");
            }
            Ok(exit::OK)
        }
        ConfigCommand::Search { prefix, text, fuzzy, limit, format } => {
            let mode = if fuzzy { SearchMode::Fuzzy } else { SearchMode::Substring };
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<SearchEvent>();
            let _search = b.config_value_search(s, &prefix, &text, mode, limit, move |ev| {
                let _ = tx.send(ev);
            })?;
            while let Some(ev) = rx.recv().await {
                if format == Format::Json {
                    outln!("{}", serde_json::to_string(&ev).unwrap_or_default());
                }
                match ev {
                    SearchEvent::Hit { hit } if format == Format::Table => {
                        let place = match hit.found_in {
                            MatchIn::Key => "key",
                            MatchIn::Value => "value",
                        };
                        let shown: String =
                            hit.parts.iter().map(|p| if p.hit { format!("[{}]", p.text) } else { p.text.clone() }).collect();
                        outln!("{}\t{place}\t{shown}", hit.key);
                    }
                    SearchEvent::Done { scanned, hits, truncated, .. } => {
                        errln!("{hits} match(es) in {scanned} keys{}", if truncated { " (stopped at --limit)" } else { "" });
                        return Ok(if hits == 0 { exit::FAILED } else { exit::OK });
                    }
                    SearchEvent::Error { code, message } => {
                        return Err(match code {
                            ErrorCode::Unreachable | ErrorCode::Timeout => Error::Unreachable(message),
                            ErrorCode::Forbidden => Error::Forbidden(message),
                            ErrorCode::Auth => Error::Auth(message),
                            _ => Error::Internal(message),
                        })
                    }
                    _ => {}
                }
            }
            Ok(exit::FAILED)
        }
        ConfigCommand::History { key, limit, format } => {
            let h = b.config_history(s, &key, limit).await?;
            if format == Format::Json {
                return Ok(print_json(&h));
            }
            let rows: Vec<Vec<String>> = h
                .entries
                .iter()
                .map(|e| {
                    vec![
                        e.mod_revision.to_string(),
                        e.version.to_string(),
                        e.value.clone().unwrap_or_else(|| "<deleted>".into()).replace('\n', "⏎"),
                    ]
                })
                .collect();
            print_table(&["REVISION", "VERSION", "VALUE"], &rows);
            if let Some(c) = h.compacted_at {
                errln!("history before revision {c} was compacted by etcd");
            } else if h.truncated {
                errln!("older entries exist: raise --limit");
            }
            Ok(exit::OK)
        }
        ConfigCommand::Rollback { key, to, comment } => {
            let current = b.config_get(s, &key).await?;
            let r = b.config_rollback(s, &key, to, current.meta.mod_revision, &comment).await?;
            Ok(report_write(&key, &r))
        }
        ConfigCommand::Diff { left, right, format } => {
            let d = b.config_compare(s, &left, &right).await?;
            let differs = !(d.only_left.is_empty() && d.only_right.is_empty() && d.different.is_empty());
            if format == Format::Json {
                print_json(&d);
            } else {
                for i in &d.only_left {
                    outln!("< {}", i.rel);
                }
                for i in &d.only_right {
                    outln!("> {}", i.rel);
                }
                for i in &d.different {
                    outln!("~ {}", i.rel);
                }
                errln!(
                    "{} only in {left}, {} only in {right}, {} different, {} same",
                    d.only_left.len(),
                    d.only_right.len(),
                    d.different.len(),
                    d.same
                );
            }
            Ok(if differs { exit::FAILED } else { exit::OK })
        }
        ConfigCommand::Export { prefix, format } => {
            let f = match format {
                DocArg::Json => DocFormat::Json,
                DocArg::Yaml => DocFormat::Yaml,
            };
            outln!("{}", b.config_export(s, &prefix, f).await?);
            Ok(exit::OK)
        }
        ConfigCommand::Import(args) => Box::pin(super::config_import::run(b, s, args)).await,
        ConfigCommand::Watch { prefix, count } => {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<WatchEvent>();
            let _handle = b
                .config_watch(s, &prefix, move |ev| {
                    let _ = tx.send(ev);
                })
                .await?;
            let mut seen = 0;
            while let Some(ev) = rx.recv().await {
                outln!("{}", serde_json::to_string(&ev).unwrap_or_default());
                match ev {
                    WatchEvent::Error { .. } => return Ok(exit::FAILED),
                    // Recovery states are reported, not counted as changes.
                    WatchEvent::Reconnecting { .. } | WatchEvent::Resumed { .. } | WatchEvent::Gap { .. } => continue,
                    WatchEvent::Put { .. } | WatchEvent::Delete { .. } => {}
                }
                seen += 1;
                if count.is_some_and(|c| seen >= c) {
                    break;
                }
            }
            Ok(exit::OK)
        }
    }
}
