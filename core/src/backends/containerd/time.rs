//! containerd's protobuf timestamps, in RFC 3339.

/// A protobuf timestamp in RFC 3339 (UTC), or `None` for the zero value containerd
/// sends for "not yet" (a running task's exit time).
pub fn timestamp_opt(ts: &prost_types::Timestamp) -> Option<String> {
    (ts.seconds > 0).then(|| timestamp(ts))
}

/// A protobuf timestamp in RFC 3339 (UTC).
pub fn timestamp(ts: &prost_types::Timestamp) -> String {
    crate::util::rfc3339(ts.seconds, ts.nanos.max(0) as u32)
}
