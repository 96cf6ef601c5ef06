//! `fieldsync serve`.
use super::Failure;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

pub fn run(_args: ServeArgs) -> Result<i32, Failure> {
    Err(Failure::new(crate::exit::SOFTWARE, "serve: not built yet"))
}
