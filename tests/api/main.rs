//! API integration tests: the real server on 127.0.0.1:0 over a fresh database per
//! test, on SQLite always and on PostgreSQL when `ACCORD_TEST_POSTGRES_URL` is set.
//! Silent unless `TEST_LOG=1`.

mod helpers;

mod access;
mod audit;
mod client_e2e;
mod concurrency;
mod config;
mod confluent;
mod consumers;
mod consumers_store;
mod database;
mod delete;
mod export;
mod import_confluent;
mod limits;
mod openapi;
mod operations;
mod process;
mod read;
mod readiness;
mod register;
mod reliability;
mod strict;
mod text;
mod validate;
