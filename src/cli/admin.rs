//! `fieldsync admin`.
use super::Failure;

#[derive(Debug, clap::Args)]
pub struct AdminArgs {}

pub fn run(_args: AdminArgs) -> Result<i32, Failure> {
    Err(Failure::new(crate::exit::SOFTWARE, "admin: not built yet"))
}
