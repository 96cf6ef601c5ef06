//! Forms on the command line (issue 15): `admin form publish | list | show` on the server's
//! database, `fieldsync form show` on the device, and the one text rendering of a form both
//! print. It reads form files through [`crate::forms`], prints, and maps errors to exit codes;
//! it must not decide what a valid form or answer is (that is `crate::forms`).

use std::path::PathBuf;

use super::Failure;
use crate::exit;
use crate::forms::{FormError, PublishedForm, Question};
use crate::model::escape_unsafe;

#[derive(Debug, clap::Subcommand)]
pub enum AdminFormCommand {
    /// Publish an XLSForm (an .xlsx workbook, or a folder of survey.csv and choices.csv) as
    /// the team's next form version; prints the new version number alone on stdout.
    Publish {
        /// The team whose officers fill this form.
        #[arg(long)]
        team: String,
        /// The .xlsx workbook or the folder of CSV files.
        form: PathBuf,
    },
    /// List published form versions: team, version, form id, title, questions, published.
    List {
        /// Only this team's versions.
        #[arg(long)]
        team: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print one published form version (the team's current one by default).
    Show {
        /// The team whose form to show.
        #[arg(long)]
        team: String,
        /// The version to show [default: the current one].
        #[arg(long)]
        version: Option<u32>,
        /// Print the form's JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum FormCommand {
    /// Print the team's current form as this device holds it (it arrives with `fieldsync
    /// sync`); `--json` prints its JSON.
    Show {
        /// Another version this device holds [default: the current one].
        #[arg(long)]
        version: Option<u32>,
    },
}

/// Runs `fieldsync form ...` on the local store.
pub fn run_form(g: &super::Globals, cmd: FormCommand) -> Result<i32, Failure> {
    let FormCommand::Show { version } = cmd;
    let store = g.open_store().map_err(Failure::from)?;
    let form = match version {
        Some(v) => store.form_version(v),
        None => store.current_form(),
    }
    .map_err(Failure::from)?;
    let Some(form) = form else {
        let what = version.map_or("no form yet".to_string(), |v| {
            format!("no form version {v}")
        });
        return Err(Failure::new(
            exit::NO_INPUT,
            format!("this device holds {what}: forms arrive with `fieldsync sync` once the administrator publishes one"),
        ));
    };
    if g.json {
        super::print_json(&form)?;
    } else {
        print!("{}", escape_unsafe(&render_form(&form), &['\n', '\t']));
    }
    Ok(exit::OK)
}

/// Maps a form that cannot be read or is refused: every problem on its own line, exit 65; a
/// missing file exit 66.
pub fn form_failure(e: FormError) -> Failure {
    let code = match &e {
        FormError::Io { .. } => exit::NO_INPUT,
        FormError::UnknownFormat { path } if !path.exists() => exit::NO_INPUT,
        _ => exit::DATA,
    };
    Failure::new(code, e.to_string())
}

/// The text rendering of a published form: a heading, then one block per question.
pub fn render_form(p: &PublishedForm) -> String {
    let f = &p.form;
    let mut out = format!(
        "{} ({}), version {}{}\n",
        f.title(),
        f.form_id(),
        p.version,
        f.author_version()
            .map(|v| format!(", author's version {v}"))
            .unwrap_or_default()
    );
    for (i, q) in f.questions().iter().enumerate() {
        out.push_str(&render_question(i + 1, q, f.choices(q)));
    }
    out
}

fn render_question(n: usize, q: &Question, choices: Option<&[crate::forms::Choice]>) -> String {
    let required = if q.required { ", required" } else { "" };
    let mut out = format!("\n{n:>2}. {} [{}{required}]\n", q.name, q.kind);
    out.push_str(&format!("    {}\n", q.label));
    if let Some(h) = &q.hint {
        out.push_str(&format!("    hint: {h}\n"));
    }
    for c in choices.unwrap_or_default() {
        out.push_str(&format!("      - {} ({})\n", c.name, c.label));
    }
    if let Some(c) = &q.constraint {
        let msg = q
            .constraint_message
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        out.push_str(&format!("    constraint: {c}{msg}\n"));
    }
    if let Some(r) = &q.relevant {
        out.push_str(&format!("    asked when: {r}\n"));
    }
    out
}

#[cfg(feature = "server")]
pub use admin::run_admin_form;

#[cfg(feature = "server")]
mod admin {
    use super::*;
    use crate::forms::Form;
    use crate::server::Service;

    /// Runs one `admin form` command against the service.
    pub async fn run_admin_form(service: &Service, cmd: AdminFormCommand) -> Result<i32, Failure> {
        let fail = super::super::serve::service_failure;
        match cmd {
            AdminFormCommand::Publish { team, form } => {
                let parsed = Form::load(&form).map_err(form_failure)?;
                let row = service.publish_form(&team, &parsed).await.map_err(fail)?;
                println!("{}", row.form.version);
                crate::errln!(
                    "published {} ({} questions) as team {}'s form version {}; devices get it with their next sync",
                    row.form.form.form_id(),
                    row.form.form.questions().len(),
                    row.team,
                    row.form.version
                );
            }
            AdminFormCommand::List { team, json } => {
                let rows = service.list_forms(team.as_deref()).await.map_err(fail)?;
                if json {
                    super::super::print_json(&rows)?;
                } else {
                    print_list(&rows);
                }
            }
            AdminFormCommand::Show {
                team,
                version,
                json,
            } => {
                let row = service.form(&team, version).await.map_err(fail)?;
                if json {
                    super::super::print_json(&row)?;
                } else {
                    print!(
                        "{}",
                        crate::model::escape_unsafe(&render_form(&row.form), &['\n', '\t'])
                    );
                }
            }
        }
        Ok(exit::OK)
    }

    fn print_list(rows: &[crate::server::store::FormRow]) {
        if rows.is_empty() {
            crate::errln!("no forms published yet (see `fieldsync admin form publish`)");
            return;
        }
        println!(
            "{:<16} {:>7} {:<24} {:>9} {:<22} TITLE",
            "TEAM", "VERSION", "FORM ID", "QUESTIONS", "PUBLISHED"
        );
        for r in rows {
            let f = &r.form.form;
            println!(
                "{:<16} {:>7} {:<24} {:>9} {:<22} {}",
                r.team,
                r.form.version,
                f.form_id(),
                f.questions().len(),
                r.published_at,
                f.title()
            );
        }
    }
}
