//! Why a call failed: a status and a message. Every operation of the safe layer
//! returns one on failure; the C shims turn it into a status and the thread's last
//! error, a binding into its own error (a Python exception, a Node error).

use crate::status::berth_status::{self, *};

/// Why a call failed, before it becomes a status and a message.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: berth_status,
    pub message: String,
}

impl From<berth_core::Error> for Failure {
    fn from(e: berth_core::Error) -> Failure {
        Failure { status: berth_status::of_kind(e.kind()), message: e.message().to_string() }
    }
}

impl Failure {
    pub fn new(status: berth_status, message: impl Into<String>) -> Failure {
        Failure { status, message: message.into() }
    }

    pub fn null(arg: &str) -> Failure {
        Failure::new(BERTH_ERR_NULL_ARGUMENT, format!("argument `{arg}` is NULL"))
    }

    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(BERTH_ERR_INVALID_ARGUMENT, message)
    }
}

pub type Outcome<T = berth_status> = Result<T, Failure>;
