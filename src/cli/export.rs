//! `fieldsync export` (the laptop's records) and `fieldsync admin export` (the server's):
//! where the output goes, progress on a terminal, the summary line. The record layout is
//! [`crate::export`]'s, shared by both; which records are read is the client store's or the
//! server's [`crate::server::export`]. This module decides neither.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::{Failure, Globals};
use crate::exit;
use crate::export::{answer_columns, ExportError, ExportFormat, RecordWriter, PAGE_SIZE};
use crate::model::EntityType;

/// Which records to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EntityArg {
    Household,
    Visit,
}

impl From<EntityArg> for EntityType {
    fn from(e: EntityArg) -> Self {
        match e {
            EntityArg::Household => EntityType::Household,
            EntityArg::Visit => EntityType::Visit,
        }
    }
}

/// What both exports share: entity, format, output, tombstones.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Which records: household or visit.
    #[arg(long, value_enum)]
    pub entity: EntityArg,
    /// csv (a header row, one column per answer key) or jsonl (one JSON object a line).
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Write to this file (replaced only once the export is complete) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Include deleted records (tombstones), with `deleted` true.
    #[arg(long)]
    pub include_deleted: bool,
    /// CSV of visits: head answer columns with the form's question labels instead of
    /// `answers.<name>` (columns follow the form's order either way).
    #[arg(long)]
    pub labels: bool,
    /// CSV for a spreadsheet: text cells beginning with =, +, -, @ get a leading ' so they
    /// are shown as text, never run as formulas (off by default: it changes the data).
    #[arg(long)]
    pub excel_safe: bool,
}

impl OutputArgs {
    /// `--labels` names CSV columns; JSON lines keep answer names as keys.
    fn check(&self) -> Result<(), Failure> {
        if self.labels && self.format != ExportFormat::Csv {
            return Err(Failure::new(
                exit::USAGE,
                "--labels heads CSV columns; JSON lines keep the answer names (use --format csv)",
            ));
        }
        Ok(())
    }
}

/// `fieldsync export`: the laptop's records, e.g. when a laptop is being retired.
#[derive(Debug, clap::Args)]
pub struct LocalExportArgs {
    #[command(flatten)]
    pub out: OutputArgs,
}

/// The meta columns of a local export, before the fields.
const LOCAL_META: &[&str] = &[
    "id",
    "server_id",
    "version",
    "sync_state",
    "deleted",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
];

fn write_failure(e: ExportError) -> Failure {
    let broken_pipe = |io: &std::io::Error| io.kind() == std::io::ErrorKind::BrokenPipe;
    match &e {
        ExportError::MetaCount { .. } => Failure::new(exit::SOFTWARE, e.to_string()),
        // The reader went away (`fieldsync export | head -1`): a quiet end, as `list` does.
        ExportError::Io(io) if broken_pipe(io) => Failure::broken_pipe(),
        ExportError::Csv(c) if matches!(c.kind(), csv::ErrorKind::Io(io) if broken_pipe(io)) => {
            Failure::broken_pipe()
        }
        _ => Failure::new(exit::CANT_CREATE, e.to_string()),
    }
}

/// `3 visits`, `1 household`.
fn count(n: u64, entity: EntityType) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{n} {entity}{s}")
}

/// Where an export goes: stdout, or a temporary file renamed over `--output` at the end so a
/// failed export never leaves half a file behind.
pub(super) enum Output {
    Stdout(std::io::Stdout),
    File {
        tmp: tempfile::NamedTempFile,
        path: PathBuf,
    },
}

impl Output {
    pub(super) fn open(path: Option<&Path>) -> Result<Output, Failure> {
        let Some(path) = path else {
            return Ok(Output::Stdout(std::io::stdout()));
        };
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".fieldsync-export-")
            .tempfile_in(dir)
            .map_err(|e| {
                Failure::new(
                    exit::CANT_CREATE,
                    format!("cannot create {}: {e}", path.display()),
                )
            })?;
        Ok(Output::File {
            tmp,
            path: path.to_path_buf(),
        })
    }

    pub(super) fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Stdout(s) => s,
            Output::File { tmp, .. } => tmp.as_file_mut(),
        }
    }

    /// Makes the export durable and visible under its name.
    pub(super) fn commit(self) -> Result<(), Failure> {
        let Output::File { tmp, path } = self else {
            return Ok(());
        };
        let fail = |e: std::io::Error| {
            Failure::new(
                exit::CANT_CREATE,
                format!("cannot write {}: {e}", path.display()),
            )
        };
        tmp.as_file().sync_all().map_err(fail)?;
        tmp.persist(&path).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

/// A spinner with the running count, on a terminal only.
pub(super) fn progress(entity: EntityType) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    let style = indicatif::ProgressStyle::with_template("{spinner} {pos} {msg} exported")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_message(format!("{entity}s"));
    bar
}

/// Runs `fieldsync export`.
pub fn run_local(g: &Globals, args: LocalExportArgs) -> Result<i32, Failure> {
    args.out.check()?;
    let store = g.open_store()?;
    let entity: EntityType = args.out.entity.into();
    let deleted = args.out.include_deleted;
    let columns = match entity {
        EntityType::Visit => {
            let keys = store.export_answer_keys(deleted)?;
            let form = store.current_form()?;
            let forms: Vec<&crate::forms::Form> = form.iter().map(|f| &f.form).collect();
            answer_columns(&keys, &forms, args.out.labels)
        }
        EntityType::Household => Vec::new(),
    };
    let mut output = Output::open(args.out.output.as_deref())?;
    let bar = progress(entity);
    let written = {
        let mut w = RecordWriter::with_columns(
            output.writer(),
            args.out.format,
            entity,
            LOCAL_META,
            columns,
        )
        .map_err(write_failure)?
        .excel_safe(args.out.excel_safe);
        let mut after = None;
        loop {
            let page = store.export_page(entity, after, deleted, PAGE_SIZE)?;
            for r in &page {
                let meta: [Value; 9] = [
                    json!(r.id),
                    json!(r.server_id),
                    json!(r.version),
                    json!(r.sync_state),
                    json!(r.is_deleted()),
                    json!(r.created_at),
                    json!(r.audit.created_by),
                    json!(r.updated_at),
                    json!(r.audit.updated_by),
                ];
                w.write(&meta, &r.fields).map_err(write_failure)?;
            }
            bar.set_position(w.written());
            match page.last() {
                Some(last) if page.len() == PAGE_SIZE as usize => after = Some(last.id),
                _ => break,
            }
        }
        w.finish().map_err(write_failure)?.0
    };
    output.commit()?;
    bar.finish_and_clear();
    crate::errln!("exported {}", count(written, entity));
    Ok(exit::OK)
}

#[cfg(feature = "server")]
pub use server::run_admin;

/// `admin export`: the server's records for analysis or a data warehouse.
#[derive(Debug, clap::Args)]
pub struct AdminExportArgs {
    #[command(flatten)]
    pub out: OutputArgs,
    /// Only this team's records.
    #[arg(long)]
    pub team: Option<String>,
    /// Only records changed after this: what the previous export printed (a version with
    /// --team; for every team a watermark, one version per team: north:120,south:88).
    #[arg(long, default_value = "0", value_name = "VERSION|WATERMARK")]
    pub since: String,
}

#[cfg(feature = "server")]
mod server {
    use serde_json::{json, Value};

    use super::{count, progress, write_failure, AdminExportArgs, Failure, Output};
    use crate::cli::serve::service_failure;
    use crate::exit;
    use crate::export::{answer_columns, RecordWriter};
    use crate::forms::Form;
    use crate::model::EntityType;
    use crate::server::export::{ExportQuery, Since};
    use crate::server::Service;

    /// The meta columns of a server export, before the fields.
    const SERVER_META: &[&str] = &[
        "id",
        "server_id",
        "version",
        "team",
        "deleted",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    ];

    /// The current form of each exported team (of `team`, or of every team, by team name):
    /// they order the answer columns. None for households.
    async fn current_forms(
        service: &Service,
        entity: EntityType,
        team: Option<&str>,
    ) -> Result<Vec<Form>, Failure> {
        if entity != EntityType::Visit {
            return Ok(Vec::new());
        }
        if let Some(t) = team {
            crate::server::store::validate_team(t)
                .map_err(|e| service_failure(crate::server::ServiceError::Store(e)))?;
        }
        let rows = service.list_forms(team).await.map_err(service_failure)?;
        let mut current: std::collections::BTreeMap<String, (u32, Form)> = Default::default();
        for r in rows {
            let newer = current
                .get(&r.team)
                .is_none_or(|(v, _)| *v < r.form.version);
            if newer {
                current.insert(r.team, (r.form.version, r.form.form));
            }
        }
        Ok(current.into_values().map(|(_, f)| f).collect())
    }

    /// Runs `admin export` against an open service.
    pub async fn run_admin(service: &Service, args: AdminExportArgs) -> Result<i32, Failure> {
        let since: Since = args
            .since
            .parse()
            .map_err(|e: String| Failure::new(exit::USAGE, e))?;
        args.out.check()?;
        let entity: EntityType = args.out.entity.into();
        let forms = current_forms(service, entity, args.team.as_deref()).await?;
        let query = ExportQuery {
            entity,
            team: args.team,
            since,
            include_deleted: args.out.include_deleted,
        };
        let mut export = service.export(query).await.map_err(service_failure)?;
        let forms: Vec<&Form> = forms.iter().collect();
        let columns = answer_columns(export.answer_keys(), &forms, args.out.labels);
        let mut output = Output::open(args.out.output.as_deref())?;
        let bar = progress(entity);
        let written = {
            let mut w = RecordWriter::with_columns(
                output.writer(),
                args.out.format,
                entity,
                SERVER_META,
                columns,
            )
            .map_err(write_failure)?
            .excel_safe(args.out.excel_safe);
            while let Some(page) = export.next_page().await.map_err(service_failure)? {
                for r in &page {
                    let meta: [Value; 9] = [
                        json!(r.id),
                        json!(r.server_id),
                        json!(r.version),
                        json!(r.team),
                        json!(r.deleted),
                        json!(r.audit.created_at),
                        json!(r.audit.created_by),
                        json!(r.audit.updated_at),
                        json!(r.audit.updated_by),
                    ];
                    w.write(&meta, &r.fields).map_err(write_failure)?;
                }
                bar.set_position(w.written());
            }
            w.finish().map_err(write_failure)?.0
        };
        output.commit()?;
        bar.finish_and_clear();
        let next = export.next_since();
        let upto = match next {
            Since::Version(_) => format!("version {next}"),
            Since::Teams(_) => format!("each team's version {next}"),
        };
        crate::errln!(
            "exported {} up to {upto}; next: --since {next}",
            count(written, entity)
        );
        Ok(exit::OK)
    }
}
