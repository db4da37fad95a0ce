//! Running the tools a build needs (cargo, make, binutils, openssl), and writing files.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Runs a command, failing with its command line if it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// Runs a command with its output captured, printing it only if the command fails.
pub fn run_quietly(cmd: &mut Command) -> Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        eprint!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        bail!("{cmd:?} failed: {}", out.status);
    }
    Ok(())
}

/// A command's standard output, failing with its standard error if it fails.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `cargo` (the one running us, if any) with our own flags only, whatever the
/// caller's environment says.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Whether `tool` is on `PATH`.
pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            fs::metadata(dir.join(tool)).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        })
    })
}

/// Writes `contents` unless the file already holds exactly that (keeps mtimes, so
/// make and cargo rebuild only what changed).
pub fn write_if_changed(path: &Path, contents: &[u8]) -> Result<()> {
    if fs::read(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

/// Fills `@KEY@` placeholders of an embedded template; every placeholder must be
/// given and every given key used, so a template and its caller cannot drift apart.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (key, value) in values {
        let placeholder = format!("@{key}@");
        assert!(out.contains(&placeholder), "template has no {placeholder}");
        out = out.replace(&placeholder, value);
    }
    assert!(
        !out.split('@')
            .skip(1)
            .step_by(2)
            .any(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c == '_')),
        "template has an unfilled placeholder"
    );
    out
}

/// The subject of a PEM or DER certificate, through openssl.
pub fn signer(cert: &Path) -> Result<String> {
    let mut cmd = Command::new("openssl");
    cmd.args(["x509", "-noout", "-subject", "-in"]).arg(cert);
    let text = match output(&mut cmd) {
        Ok(text) => text,
        Err(_) => output(
            Command::new("openssl")
                .args(["x509", "-inform", "DER", "-noout", "-subject", "-in"])
                .arg(cert),
        )
        .with_context(|| format!("{} is not a certificate openssl reads", cert.display()))?,
    };
    Ok(text
        .trim()
        .trim_start_matches("subject=")
        .trim()
        .to_string())
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // /proc/self/status's "Uid:" line: real, effective, saved, filesystem.
    fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn fills_placeholders() {
        assert_eq!(
            super::fill("a @X@ b @Y_Z@", &[("X", "1"), ("Y_Z", "2")]),
            "a 1 b 2"
        );
    }
}
