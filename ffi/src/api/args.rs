//! Arguments as every binding passes them: JSON documents for options and lists (the
//! form the C ABI and the Python package share), names that must say something, and
//! signal numbers.

use crate::failure::{Failure, Outcome};

/// A JSON object argument (options, resources): `None` or "" give the defaults;
/// anything but an object (an array, a scalar) is refused rather than read by
/// position, and so are unknown fields where `T` denies them. `name` is the argument's
/// name in messages.
pub fn json_object<T: serde::de::DeserializeOwned + Default>(text: Option<&str>, name: &str) -> Outcome<T> {
    match text {
        None | Some("") => Ok(T::default()),
        Some(s) => required_json_object(s, name),
    }
}

/// A JSON object argument that must be given (an empty string is refused).
pub fn required_json_object<T: serde::de::DeserializeOwned>(text: &str, name: &str) -> Outcome<T> {
    let bad = |why: String| Failure::invalid(format!("{name}: {why}"));
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if !v.is_object() {
        return Err(bad("expected a JSON object".into()));
    }
    serde_json::from_value(v).map_err(|e| bad(e.to_string()))
}

/// A JSON array of strings (filters, patterns): `None` or "" is an empty list.
pub fn json_strings(text: Option<&str>, name: &str) -> Outcome<Vec<String>> {
    let bad = |why: String| Failure::invalid(format!("{name}: {why}"));
    match text {
        None | Some("") => Ok(Vec::new()),
        Some(s) => {
            let v: serde_json::Value = serde_json::from_str(s).map_err(|e| bad(e.to_string()))?;
            if !v.is_array() {
                return Err(bad("expected a JSON array of strings".into()));
            }
            serde_json::from_value(v).map_err(|e| bad(format!("expected a JSON array of strings: {e}")))
        }
    }
}

/// A name or pattern that must say something: empty or blank is INVALID_ARGUMENT
/// (an empty pattern would otherwise match everything by prefix).
pub(crate) fn name<'a>(s: &'a str, what: &str) -> Outcome<&'a str> {
    if s.trim().is_empty() {
        return Err(Failure::invalid(format!("argument `{what}` is empty")));
    }
    Ok(s)
}

/// A signal number kill(2) knows (1 to 64).
pub(crate) fn signal(signal: i32) -> Outcome<i32> {
    if !(1..=64).contains(&signal) {
        return Err(Failure::invalid(format!("signal {signal}: expected a signal number from 1 to 64")));
    }
    Ok(signal)
}
