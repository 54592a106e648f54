//! Finding the `torpeer` binary from a test of another crate.
//!
//! `env!("CARGO_BIN_EXE_torpeer")` only exists inside `torpeer-node`'s own
//! tests, and cargo has no stable way for one package's tests to depend on
//! another package's binary. So:
//!
//! 1. `$TORPEER_BIN`, when set, names the binary (CI builds it first and
//!    sets this; see `scripts/ci/75-tor-e2e.sh`);
//! 2. otherwise the binary is built now with `cargo build --profile test
//!    -p torpeer-node --bin torpeer` into the same target directory and
//!    profile as the
//!    running test (found from the test executable's path,
//!    `<target>/<profile>/deps/<test>-<hash>`), and that path is used. A
//!    build that is up to date takes a second; it also means a plain
//!    `cargo test -p torpeer-tests --test tor_network` never runs a stale
//!    binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Env var naming a prebuilt `torpeer` binary.
pub const BIN_ENV: &str = "TORPEER_BIN";

/// The `torpeer` binary, built with `features` when it has to be built.
pub fn torpeer_bin(features: &[&str]) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(BIN_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{BIN_ENV}={} is not a file (build it with `cargo build -p torpeer-node \
                 --bin torpeer` or unset {BIN_ENV})",
                path.display()
            ))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let (target_dir, profile_dir) = target_of(&exe).ok_or_else(|| {
        format!(
            "cannot tell the target directory from {}; set {BIN_ENV}",
            exe.display()
        )
    })?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("tests crate has no parent directory")?;
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace)
        .args(["build", "-p", "torpeer-node", "--bin", "torpeer"])
        .arg("--target-dir")
        .arg(&target_dir)
        .stdin(Stdio::null());
    // Same profile as the test (`debug/` holds the `test` profile's output
    // too), so the dependencies `cargo test` built are reused.
    if profile_dir == "release" {
        cmd.arg("--release");
    } else {
        cmd.args(["--profile", "test"]);
    }
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    eprintln!("building the torpeer binary: {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("running {}: {e}", Path::new(&cargo).display()))?;
    if !status.success() {
        return Err(format!("`{cmd:?}` failed ({status})"));
    }
    let bin = target_dir.join(&profile_dir).join("torpeer");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("cargo built, but {} does not exist", bin.display()))
    }
}

/// `(<target>, <profile>)` of `<target>/<profile>/deps/<exe>`.
fn target_of(exe: &Path) -> Option<(PathBuf, String)> {
    let deps = exe.parent()?;
    if deps.file_name()? != "deps" {
        return None;
    }
    let profile = deps.parent()?;
    let target = profile.parent()?;
    Some((
        target.to_path_buf(),
        profile.file_name()?.to_str()?.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn target_and_profile_come_from_the_test_path() {
        assert_eq!(
            target_of(Path::new("/t/debug/deps/tor_network-0123abcd")),
            Some((PathBuf::from("/t"), "debug".to_owned()))
        );
        assert_eq!(
            target_of(Path::new("/x/target/release/deps/t-1"))
                .unwrap()
                .1,
            "release"
        );
        assert_eq!(target_of(Path::new("/t/debug/tor_network")), None);
    }
}
