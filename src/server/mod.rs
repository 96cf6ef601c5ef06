//! The sync server: an HTTP JSON API over one of two stores (embedded SQLite, PostgreSQL).
