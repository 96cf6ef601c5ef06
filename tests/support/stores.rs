//! Running one test against both server stores: [`StoreKind`] and the `both_stores!` macro.
//!
//! A test is written once, as `fn name(kind: StoreKind)` (a test over real server processes)
//! or `async fn name(kind: &str)` (a test over the store trait, given `"sqlite"` or
//! `"postgres"`), and `both_stores!(name, ...)` makes `sqlite::name` and `postgres::name`
//! tests of it. Nothing here knows what a test does.

use std::future::Future;

/// Which store a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

impl StoreKind {
    /// `"sqlite"` or `"postgres"`: what async store tests are given.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
        }
    }
}

/// Marks a test function `fn(StoreKind)`.
pub struct Blocking;
/// Marks a test function `async fn(&str)`.
pub struct Async;

/// A test function `both_stores!` can run against one store kind.
pub trait StoreTest<Marker> {
    fn run_on(self, kind: StoreKind);
}

impl<F: FnOnce(StoreKind)> StoreTest<Blocking> for F {
    fn run_on(self, kind: StoreKind) {
        self(kind)
    }
}

impl<F, Fut> StoreTest<(Async, Fut)> for F
where
    F: FnOnce(&'static str) -> Fut,
    Fut: Future<Output = ()>,
{
    fn run_on(self, kind: StoreKind) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("a tokio runtime for the store test")
            .block_on(self(kind.name()))
    }
}

/// Writes each test once and runs it against both server stores: `both_stores!(a, b)`
/// defines `sqlite::a`, `postgres::a`, `sqlite::b`, `postgres::b`.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() {
                $crate::support::StoreTest::run_on(super::$name, $crate::support::StoreKind::Sqlite)
            } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                $crate::support::StoreTest::run_on(super::$name, $crate::support::StoreKind::Postgres)
            } )*
        }
    };
}
pub(crate) use both_stores;
