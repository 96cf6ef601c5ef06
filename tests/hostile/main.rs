//! Hostile input at the server: a table of hostile requests, each sent to a real
//! `fieldsync serve` over SQLite and over PostgreSQL, with its exact status and error code,
//! the server still healthy afterwards, and **nothing stored**: a fingerprint of the whole
//! server state (every team's full pull from cursor zero, `admin officer list --json`, and a
//! dump of every table) is identical before and after, except for what the case says it
//! stores (a per-change rejection's result under its op_id, or SQL metacharacters accepted
//! as data, which must then round-trip byte-exactly).
//!
//! Then proptest throws arbitrary bytes, arbitrary JSON and near-valid push requests at
//! `POST /v1/push`, and random query strings at `GET /v1/pull`: never a 5xx, always the JSON
//! error shape, and the server stays healthy. By default each of the four generators runs
//! for 5 s (about 20 s in all); `FIELDSYNC_FUZZ_CASES=N` runs N inputs per generator with no
//! time limit, and `FIELDSYNC_FUZZ_SEED` replays a run.
//!
//! Requests go over a raw TCP client so that anything can be sent: bytes that are not
//! UTF-8 in headers, chunked bodies of any size, a Content-Length the body does not match.
//! `docs/hostile.md` lists the table.
//!
//! Modules: [`raw`] (the raw HTTP client), [`world`] (the server under attack and its
//! fingerprint), [`table`] (runs the table) with its cases by concern in [`auth`],
//! [`bodies`], [`replay`], [`fields`], [`cursors`] and [`injection`]; [`fuzz`] (proptest
//! against a live server) and [`amplification`] (a known bug, ignored).

#[path = "../support/mod.rs"]
mod support;

mod amplification;
mod auth;
mod bodies;
mod cursors;
mod fields;
mod fuzz;
mod injection;
mod raw;
mod replay;
mod table;
mod world;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use fieldsync::protocol::{ErrorBody, PullResponse, PushResponse};
use fieldsync::server::cursor::encode_cursor;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};
use support::body::{change, push_body as body, uid, visit};
use support::{admin, StoreKind, TestServer};
use uuid::Uuid;

use bodies::gzip_bytes;
use raw::*;
use table::*;
use world::*;
