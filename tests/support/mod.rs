//! Test support: the fake GitHub and the OpenAPI checker it uses.
#![allow(dead_code)]

pub mod fake_github;
pub mod openapi;
pub mod registry;
