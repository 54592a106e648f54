//! `cargo xtask`: build steps that are more than one cargo command.
//!
//! `cargo xtask npm` turns `torpeer-wasm` into the `torpeer` npm package:
//! 1. `cargo build -p torpeer-wasm --target wasm32-unknown-unknown --release`
//!    with `+simd128` (Node 20 and every current browser run it, and it
//!    lets the core's SIMD Keccak kernel in);
//! 2. `wasm-bindgen` (the CLI, at exactly the pinned crate version) for
//!    three targets: `nodejs` (CommonJS, for Node), `bundler` (ES module that
//!    imports the .wasm, for webpack/Vite/Rollup) and `web` (ES module with an
//!    explicit `init()`, for a plain `<script type="module">`);
//! 3. `wasm-opt` from binaryen on each module, when it is installed;
//! 4. `package.json` (from `wasm/npm/package.json`, with the workspace
//!    version), README.md, the local-API client (`wasm/npm/client/`, plain
//!    JavaScript, exported as `torpeer/client`), then `npm pack`.
//!
//! The package is laid out in `wasm/pkg/torpeer/`, the tarball next to it.
//! The last line printed is the tarball's absolute path, so scripts can
//! `tarball=$(cargo xtask npm | tail -n1)`.
//!
//! No dependencies beyond std: this runs before anything else is built.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Name of the package and of the generated files.
const PACKAGE: &str = "torpeer";
/// wasm-bindgen targets and the folder each goes to in the package.
const TARGETS: [(&str, &str); 3] = [("nodejs", "node"), ("bundler", "bundler"), ("web", "web")];
/// Features the wasm module uses (rustc's wasm32 defaults plus simd128);
/// binaryen must be told, or it refuses the module.
const WASM_OPT_FEATURES: [&str; 7] = [
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-multivalue",
    "--enable-reference-types",
    "--enable-simd",
];

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("npm") => npm(&args[1..]),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask npm [--no-simd] [--no-wasm-opt]

  npm   build the `torpeer` npm package into wasm/pkg/ and pack it;
        the last line of output is the tarball's absolute path
        --no-simd      build without -C target-feature=+simd128
        --no-wasm-opt  skip wasm-opt even when it is installed";

/// Options of `cargo xtask npm`.
struct NpmOptions {
    simd: bool,
    wasm_opt: bool,
}

fn npm(args: &[String]) -> Result<()> {
    let mut options = NpmOptions {
        simd: true,
        wasm_opt: true,
    };
    for arg in args {
        match arg.as_str() {
            "--no-simd" => options.simd = false,
            "--no-wasm-opt" => options.wasm_opt = false,
            other => return Err(format!("unknown option {other:?}\n{USAGE}")),
        }
    }
    let root = workspace_root()?;
    let manifest = read(&root.join("Cargo.toml"))?;
    let version = workspace_value(&manifest, "version")
        .ok_or("no `version` in [workspace.package] of Cargo.toml")?;
    let bindgen_version =
        wasm_bindgen_pin(&manifest).ok_or("no `wasm-bindgen = \"=X.Y.Z\"` pin in Cargo.toml")?;
    check_wasm_bindgen(&bindgen_version)?;

    // 1. The module.
    let mut build = cargo();
    build.current_dir(&root).args([
        "build",
        "-p",
        "torpeer-wasm",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--release",
        "--locked",
    ]);
    if options.simd {
        // Target-specific, so host build scripts and proc macros keep their
        // flags (and their cached builds).
        build.env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            "-C target-feature=+simd128",
        );
    }
    run(&mut build)?;
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"));
    let module = target_dir.join("wasm32-unknown-unknown/release/torpeer_wasm.wasm");
    println!(
        "size: cargo build        {:>9} bytes  {}",
        size(&module)?,
        module.display()
    );

    // 2-3. Bindings and optimisation, per target.
    let out = root.join("wasm/pkg");
    let pkg = out.join(PACKAGE);
    if pkg.exists() {
        fs::remove_dir_all(&pkg).map_err(|e| format!("cannot clear {}: {e}", pkg.display()))?;
    }
    let mut wasm_opt =
        options.wasm_opt && Command::new("wasm-opt").arg("--version").output().is_ok();
    if options.wasm_opt && !wasm_opt {
        println!(
            "note: wasm-opt not found (Debian package binaryen); modules left as wasm-bindgen wrote them"
        );
    }
    for (target, folder) in TARGETS {
        let dir = pkg.join(folder);
        run(Command::new("wasm-bindgen")
            .args(["--target", target, "--out-name", PACKAGE, "--out-dir"])
            .arg(&dir)
            .arg(&module))?;
        let bg = dir.join(format!("{PACKAGE}_bg.wasm"));
        let before = size(&bg)?;
        if wasm_opt {
            let original = dir.join(format!("{PACKAGE}_bg.orig.wasm"));
            fs::rename(&bg, &original).map_err(|e| format!("cannot move {}: {e}", bg.display()))?;
            run(Command::new("wasm-opt")
                .arg("-O3")
                .args(WASM_OPT_FEATURES)
                .arg(&original)
                .arg("-o")
                .arg(&bg))?;
            // Old binaryen releases (Debian 13 ships 108) rewrite the
            // externref table wasm-bindgen relies on, and the module then
            // fails at load. The nodejs build comes first: load it, and keep
            // wasm-bindgen's modules if the optimised one does not work.
            if target == "nodejs" && !loads_in_node(&dir) {
                println!(
                    "note: the wasm-opt output does not load in Node (binaryen too old for \
                     reference types?); modules left as wasm-bindgen wrote them"
                );
                wasm_opt = false;
                fs::rename(&original, &bg)
                    .map_err(|e| format!("cannot restore {}: {e}", bg.display()))?;
                println!("size: {target:<8} bindgen {before:>9} bytes");
            } else {
                fs::remove_file(&original)
                    .map_err(|e| format!("cannot remove {}: {e}", original.display()))?;
                println!(
                    "size: {target:<8} bindgen {before:>9} bytes  wasm-opt -O3 {:>9} bytes",
                    size(&bg)?
                );
            }
        } else {
            println!("size: {target:<8} bindgen {before:>9} bytes");
        }
        // Each folder says how Node must read its .js files, whatever the
        // package root says: CommonJS for the nodejs build, ES modules else.
        let kind = if target == "nodejs" {
            "commonjs"
        } else {
            "module"
        };
        write(
            &dir.join("package.json"),
            &format!("{{\n  \"type\": \"{kind}\"\n}}\n"),
        )?;
        // wasm-bindgen writes a .gitignore of `*` into each folder; npm pack
        // would read it as an ignore list.
        let _ = fs::remove_file(dir.join(".gitignore"));
    }

    // 4. Manifest, README, pack.
    let npm_dir = root.join("wasm/npm");
    let template = read(&npm_dir.join("package.json"))?;
    if !template.contains("\"version\": \"0.0.0\"") {
        return Err("wasm/npm/package.json must hold \"version\": \"0.0.0\" (replaced by the workspace version)".into());
    }
    write(
        &pkg.join("package.json"),
        &template.replacen(
            "\"version\": \"0.0.0\"",
            &format!("\"version\": \"{version}\""),
            1,
        ),
    )?;
    fs::copy(npm_dir.join("README.md"), pkg.join("README.md"))
        .map_err(|e| format!("cannot copy README.md: {e}"))?;
    // The local-API client: plain JavaScript and hand-written typings,
    // shipped as they are (`torpeer/client`).
    copy_dir(&npm_dir.join("client"), &pkg.join("client"))?;
    let packed = Command::new("npm")
        .args(["pack", "--pack-destination"])
        .arg(&out)
        .current_dir(&pkg)
        .output()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if !packed.status.success() {
        return Err(format!(
            "npm pack failed: {}",
            String::from_utf8_lossy(&packed.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&packed.stdout);
    let file = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or("npm pack printed no file name")?
        .trim();
    let tarball = out.join(file);
    println!("size: tarball            {:>9} bytes", size(&tarball)?);
    println!("{}", tarball.display());
    Ok(())
}

/// Does the nodejs build in `dir` load and answer a call?
fn loads_in_node(dir: &Path) -> bool {
    let script = format!(
        "require({:?}).networkDefaults()",
        dir.join(format!("{PACKAGE}.js")).display().to_string()
    );
    Command::new("node")
        .args(["-e", &script])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The workspace root: the parent of this crate's folder.
fn workspace_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| "xtask has no parent folder".to_owned())
}

/// `key = "value"` inside `[workspace.package]` (a line scan: the manifest
/// is ours and simple, and a TOML parser would be the xtask's only
/// dependency).
fn workspace_value(manifest: &str, key: &str) -> Option<String> {
    let mut in_section = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[workspace.package]";
            continue;
        }
        if !in_section {
            continue;
        }
        if let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            return Some(v.trim().trim_matches('"').to_owned());
        }
    }
    None
}

/// The exact version in `wasm-bindgen = "=X.Y.Z"`.
fn wasm_bindgen_pin(manifest: &str) -> Option<String> {
    manifest.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == "wasm-bindgen")
            .then(|| {
                v.trim()
                    .trim_matches('"')
                    .strip_prefix('=')
                    .map(str::to_owned)
            })
            .flatten()
    })
}

/// The CLI must be the crate's version: the two share an unstable
/// interchange format inside the module.
fn check_wasm_bindgen(want: &str) -> Result<()> {
    let output = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .map_err(|e| {
            format!("cannot run wasm-bindgen ({e}); run scripts/setup.d/30-wasm-tools.sh")
        })?;
    let have = String::from_utf8_lossy(&output.stdout);
    if have.trim() != format!("wasm-bindgen {want}") {
        return Err(format!(
            "wasm-bindgen CLI is {:?} but the crate is pinned to {want}; \
             run scripts/setup.d/30-wasm-tools.sh",
            have.trim()
        ));
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {status}"))
    }
}

fn size(path: &Path) -> Result<u64> {
    fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Copy the files of `from` (not recursive: the client is one folder) into
/// a new folder `to`.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries = fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let path = entry.path();
        if path.is_file() {
            fs::copy(&path, to.join(entry.file_name()))
                .map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[workspace]
members = ["core"]

[workspace.package]
version = "1.2.3"
edition = "2024"

[workspace.dependencies]
version = "not this one"
wasm-bindgen = "=0.2.130"
wasm-bindgen-test = "0.3"
"#;

    #[test]
    fn reads_the_workspace_version_and_the_bindgen_pin() {
        assert_eq!(
            workspace_value(MANIFEST, "version").as_deref(),
            Some("1.2.3")
        );
        assert_eq!(workspace_value(MANIFEST, "license"), None);
        assert_eq!(wasm_bindgen_pin(MANIFEST).as_deref(), Some("0.2.130"));
        assert_eq!(wasm_bindgen_pin("wasm-bindgen = \"0.2\""), None);
    }
}
