//! The team's form versions this device holds (issue 15): stored as they arrive with a pull
//! page, in the page's transaction, and read to check and guide visits.
//!
//! Owns the `form` table. A device holds one team's forms: versions of another team (the
//! officer moved) replace them. This module must not decide whether answers are valid
//! (`crate::forms`) nor talk to the server.

use rusqlite::{params, Connection, OptionalExtension};

use super::Store;
use crate::client::error::{Error, Result};
use crate::forms::{Form, PublishedForm};
use crate::protocol::{KnownForms, TeamForms};

/// Stores `forms` in the caller's transaction: replaces another team's forms, keeps the
/// versions already held (a published version never changes).
pub(super) fn store_forms(tx: &Connection, forms: &TeamForms, now: &str) -> Result<()> {
    tx.execute("DELETE FROM form WHERE team <> ?1", [&forms.team])?;
    for f in &forms.versions {
        let json = serde_json::to_string(&f.form)
            .map_err(|e| Error::CorruptStore(format!("cannot encode form {}: {e}", f.version)))?;
        tx.execute(
            "INSERT OR IGNORE INTO form (team, version, content_hash, form, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![forms.team, f.version, f.content_hash, json, now],
        )?;
    }
    Ok(())
}

fn read_form(version: u32, content_hash: String, json: &str) -> Result<PublishedForm> {
    let form: Form = serde_json::from_str(json)
        .map_err(|e| Error::CorruptStore(format!("stored form version {version}: {e}")))?;
    Ok(PublishedForm {
        version,
        content_hash,
        form,
    })
}

impl Store {
    /// What this device holds, for the pull's `fieldsync-forms` header.
    pub fn known_forms(&self) -> Result<KnownForms> {
        let held: Option<(String, u32)> = self
            .conn
            .query_row(
                "SELECT team, version FROM form ORDER BY version DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(KnownForms { held })
    }

    /// The current form (the highest version held), or `None`: visits are then free-form.
    pub fn current_form(&self) -> Result<Option<PublishedForm>> {
        self.form_where("ORDER BY version DESC LIMIT 1", None)
    }

    /// One form version held, or `None`.
    pub fn form_version(&self, version: u32) -> Result<Option<PublishedForm>> {
        self.form_where("WHERE version = ?1", Some(version))
    }

    fn form_where(&self, tail: &str, version: Option<u32>) -> Result<Option<PublishedForm>> {
        let sql = format!("SELECT version, content_hash, form FROM form {tail}");
        let mut st = self.conn.prepare(&sql)?;
        let row: Option<(u32, String, String)> = match version {
            Some(v) => st.query_row([v], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))),
            None => st.query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))),
        }
        .optional()?;
        row.map(|(v, h, json)| read_form(v, h, &json)).transpose()
    }
}
