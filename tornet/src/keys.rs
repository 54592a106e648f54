//! Key material for the nodes of a network, made by tor's own tools.
//!
//! Every node gets its relay keys from `tor --list-fingerprint` (which
//! writes `fingerprint` and `fingerprint-ed25519` into the data directory);
//! authorities additionally get a v3 authority identity and signing key from
//! `tor-gencert`. All nodes are keyed in parallel: RSA key generation is the
//! slow part of a launch.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::TorNetError;

/// Identities of one node, as read back from the files tor wrote.
#[derive(Debug, Clone)]
pub(crate) struct NodeKeys {
    /// RSA identity fingerprint, 40 upper-case hex digits.
    pub(crate) rsa_fingerprint: String,
    /// Ed25519 identity, unpadded base64 as in `fingerprint-ed25519`.
    pub(crate) ed25519_identity: String,
    /// Authorities only: the v3 identity (authority certificate fingerprint).
    pub(crate) v3ident: Option<String>,
}

/// What to key: a nickname, its data directory, and for authorities the
/// DirPort that goes into the certificate.
#[derive(Debug)]
pub(crate) struct KeyJob<'a> {
    pub(crate) nickname: &'a str,
    pub(crate) data_dir: &'a Path,
    pub(crate) authority_dirport: Option<u16>,
}

/// Generates keys for every job in parallel; results are in job order.
pub(crate) fn generate(
    tor: &Path,
    gencert: &Path,
    jobs: &[KeyJob<'_>],
) -> Result<Vec<NodeKeys>, TorNetError> {
    let mut running: Vec<(Option<Child>, Child)> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let keys_dir = job.data_dir.join("keys");
        fs::create_dir_all(&keys_dir).map_err(|e| TorNetError::io(&keys_dir, e))?;
        set_private(job.data_dir)?;
        let gencert_child = match job.authority_dirport {
            Some(dirport) => Some(spawn_gencert(gencert, &keys_dir, dirport)?),
            None => None,
        };
        let fp_child = Command::new(tor)
            .args(["--ignore-missing-torrc", "-f", "/dev/null", "--orport", "1"])
            .arg("--datadirectory")
            .arg(job.data_dir)
            .args(["--list-fingerprint", "--quiet"])
            .args(["GeoIPFile", "/dev/null", "GeoIPv6File", "/dev/null"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| TorNetError::ToolMissing {
                program: tor.display().to_string(),
                source,
            })?;
        running.push((gencert_child, fp_child));
    }
    let mut out = Vec::with_capacity(jobs.len());
    for (job, (gencert_child, fp_child)) in jobs.iter().zip(running) {
        if let Some(child) = gencert_child {
            finish(child, job.nickname, "tor-gencert")?;
        }
        finish(fp_child, job.nickname, "tor --list-fingerprint")?;
        out.push(read_keys(job)?);
    }
    Ok(out)
}

fn spawn_gencert(gencert: &Path, keys_dir: &Path, dirport: u16) -> Result<Child, TorNetError> {
    let mut child = Command::new(gencert)
        .args(["--create-identity-key", "--passphrase-fd", "0", "-m", "12"])
        .arg("-i")
        .arg(keys_dir.join("authority_identity_key"))
        .arg("-s")
        .arg(keys_dir.join("authority_signing_key"))
        .arg("-c")
        .arg(keys_dir.join("authority_certificate"))
        .arg("-a")
        .arg(format!("127.0.0.1:{dirport}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| TorNetError::ToolMissing {
            program: gencert.display().to_string(),
            source,
        })?;
    // The identity key is encrypted with this passphrase; nobody needs it
    // again (the signing key is stored in the clear).
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(b"torpeer-testnet\n")
            .map_err(|e| TorNetError::io(keys_dir, e))?;
    }
    Ok(child)
}

fn finish(child: Child, node: &str, tool: &str) -> Result<(), TorNetError> {
    let output = child.wait_with_output().map_err(|e| TorNetError::KeyGen {
        node: node.to_owned(),
        detail: format!("{tool}: {e}"),
    })?;
    if output.status.success() {
        return Ok(());
    }
    let mut detail = format!("{tool} exited with {}: ", output.status);
    detail.push_str(String::from_utf8_lossy(&output.stderr).trim());
    detail.push(' ');
    detail.push_str(String::from_utf8_lossy(&output.stdout).trim());
    Err(TorNetError::KeyGen {
        node: node.to_owned(),
        detail,
    })
}

fn read_keys(job: &KeyJob<'_>) -> Result<NodeKeys, TorNetError> {
    let rsa_fingerprint = second_word(&job.data_dir.join("fingerprint"), job.nickname)?;
    let ed25519_identity = second_word(&job.data_dir.join("fingerprint-ed25519"), job.nickname)?;
    let v3ident = match job.authority_dirport {
        Some(_) => Some(cert_fingerprint(
            &job.data_dir.join("keys").join("authority_certificate"),
            job.nickname,
        )?),
        None => None,
    };
    Ok(NodeKeys {
        rsa_fingerprint: rsa_fingerprint.to_ascii_uppercase(),
        ed25519_identity,
        v3ident,
    })
}

/// `fingerprint` files read "nickname VALUE".
fn second_word(path: &Path, node: &str) -> Result<String, TorNetError> {
    let text = fs::read_to_string(path).map_err(|e| TorNetError::io(path, e))?;
    let value = text.split_whitespace().nth(1).unwrap_or_default();
    if value.is_empty() {
        return Err(TorNetError::KeyGen {
            node: node.to_owned(),
            detail: format!("{}: no fingerprint in {text:?}", path.display()),
        });
    }
    Ok(value.to_owned())
}

/// The v3ident is the `fingerprint` line of the authority certificate.
fn cert_fingerprint(path: &Path, node: &str) -> Result<String, TorNetError> {
    let text = fs::read_to_string(path).map_err(|e| TorNetError::io(path, e))?;
    text.lines()
        .find_map(|l| l.strip_prefix("fingerprint "))
        .map(|fp| fp.trim().to_ascii_uppercase())
        .filter(|fp| fp.len() == 40 && fp.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| TorNetError::KeyGen {
            node: node.to_owned(),
            detail: format!("{}: no fingerprint line", path.display()),
        })
}

/// tor refuses data directories that others can read.
pub(crate) fn set_private(dir: &Path) -> Result<(), TorNetError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| TorNetError::io(dir, e))
}

/// Creates `dir` (and parents) private to the user.
pub(crate) fn create_private(dir: &Path) -> Result<PathBuf, TorNetError> {
    fs::create_dir_all(dir).map_err(|e| TorNetError::io(dir, e))?;
    set_private(dir)?;
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cert_fingerprint_is_parsed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cert");
        fs::write(
            &path,
            "dir-key-certificate-version 3\nfingerprint 0123456789abcdef0123456789ABCDEF01234567\n",
        )
        .unwrap();
        assert_eq!(
            cert_fingerprint(&path, "a").unwrap(),
            "0123456789ABCDEF0123456789ABCDEF01234567"
        );
        fs::write(&path, "fingerprint nothex\n").unwrap();
        assert!(matches!(
            cert_fingerprint(&path, "a"),
            Err(TorNetError::KeyGen { .. })
        ));
    }

    #[test]
    fn fingerprint_file_second_word() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fingerprint");
        fs::write(&path, "test000a ABCDEF\n").unwrap();
        assert_eq!(second_word(&path, "x").unwrap(), "ABCDEF");
        fs::write(&path, "lonely\n").unwrap();
        assert!(second_word(&path, "x").is_err());
    }
}
