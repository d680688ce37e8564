//! include/berth.h is exactly what the pinned cbindgen generates from this crate; its
//! version macros match Cargo.toml and src/abi_version.rs; it compiles as C99 and C++17
//! with every warning an error; and the status values are unique.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn generate() -> String {
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(Path::new(crate_dir).join("cbindgen.toml")).unwrap();
    let mut out = Vec::new();
    cbindgen::Builder::new().with_crate(crate_dir).with_config(config).generate().expect("cbindgen").write(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn header_is_up_to_date() {
    let path = root().join("include/berth.h");
    let fresh = generate();
    if std::env::var_os("BERTH_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/berth.h differs from what cbindgen generates: run `BERTH_BLESS=1 cargo test -p berth-ffi --test header` and commit it"
    );
}

#[test]
fn version_macros_match_cargo() {
    let h = std::fs::read_to_string(root().join("include/berth.h")).unwrap();
    let abi = include_str!("../src/abi_version.rs");
    let abi = abi.rsplit("= ").next().unwrap().trim().trim_end_matches(';');
    for (name, want) in [
        ("BERTH_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR").to_string()),
        ("BERTH_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR").to_string()),
        ("BERTH_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH").to_string()),
        ("BERTH_VERSION", format!("\"{}\"", env!("CARGO_PKG_VERSION"))),
        ("BERTH_ABI_VERSION", abi.to_string()),
    ] {
        let line = format!("#define {name} {want}\n");
        assert!(h.contains(&line), "berth.h lacks `{}`", line.trim());
    }
}

#[test]
fn status_values_are_unique_and_named() {
    let h = std::fs::read_to_string(root().join("include/berth.h")).unwrap();
    let mut values = Vec::new();
    for line in h.lines() {
        let t = line.trim();
        if t.starts_with("BERTH_OK") || t.starts_with("BERTH_END") || t.starts_with("BERTH_ERR_") {
            let v: i32 = t.split('=').nth(1).unwrap().trim().trim_end_matches(',').parse().unwrap();
            assert!(!values.contains(&v), "status value {v} used twice");
            values.push(v);
        }
    }
    assert_eq!(values.len(), 18, "every status is in the header");
    for v in values {
        let name = unsafe { std::ffi::CStr::from_ptr(berth::berth_status_string(v)) };
        assert_ne!(name.to_str().unwrap(), "unknown", "status {v} has no name");
    }
}

#[test]
fn header_compiles_as_c99_and_cpp17_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("use.c");
    std::fs::write(&src, "#include <berth.h>\nint main(void) { berth_runtime rt = {0}; (void)rt; return BERTH_OK; }\n")
        .unwrap();
    let include = root().join("include");
    for (compiler, std) in [("gcc", "-std=c99"), ("g++", "-std=c++17")] {
        let mut cmd = Command::new(compiler);
        if compiler == "g++" {
            cmd.args(["-x", "c++"]);
        }
        let out = cmd
            .args([std, "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-I"])
            .arg(&include)
            .arg(&src)
            .output()
            .unwrap();
        assert!(out.status.success(), "{compiler} {std}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
