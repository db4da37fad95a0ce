//! Module signing for the scenarios: the test key for stock kernels, the preload
//! kernel's own build key for it, and the host check of what a module was signed with.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};

use super::Kernel;
use crate::module;
use crate::setup::root;
use crate::tools::run as run_cmd;

/// The test signing key: a self-signed certificate made once with openssl.
fn signing_key() -> Result<(PathBuf, PathBuf)> {
    let dir = root().join("target/vm/signing");
    let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    if key.exists() && cert.exists() {
        return Ok((key, cert));
    }
    fs::create_dir_all(&dir)?;
    let config = dir.join("x509.genkey");
    // As the kernel's certs/default_x509.genkey: what sign-file and the kernel expect.
    fs::write(
        &config,
        "[ req ]\ndefault_bits = 2048\ndistinguished_name = req_distinguished_name\n\
         prompt = no\nstring_mask = utf8only\nx509_extensions = myexts\n\n\
         [ req_distinguished_name ]\nO = bpf-preload\nCN = bpf-preload test signing key\n\n\
         [ myexts ]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=digitalSignature\n\
         subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )?;
    run_cmd(
        Command::new("openssl")
            .args([
                "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "36500",
            ])
            .args(["-batch", "-x509", "-outform", "PEM", "-config"])
            .arg(&config)
            .arg("-out")
            .arg(&cert)
            .arg("-keyout")
            .arg(&key)
            .stderr(Stdio::null()),
    )?;
    Ok((key, cert))
}

/// modinfo (kmod) reads each signed module's appended signature: it must name the
/// key it was signed with for `kernel`, the preload kernel's own or the test key.
pub fn check_signer<'a>(kernel: &Kernel, signed: impl Iterator<Item = &'a Path>) -> Result<String> {
    let (_, cert) = key_for(kernel)?;
    let subject = module::signer(&cert)?;
    let expected = subject
        .split(',')
        .find_map(|part| part.trim().strip_prefix("CN = "))
        .unwrap_or(&subject)
        .to_string();
    let mut checked = Vec::new();
    for ko in signed {
        let signer = crate::tools::output(Command::new("modinfo").args(["-F", "signer"]).arg(ko))
            .context("running modinfo (`apt-get install kmod`)")?
            .trim()
            .to_string();
        if signer != expected {
            bail!(
                "modinfo -F signer says {signer:?} for {}, expected {expected:?}",
                ko.display()
            );
        }
        checked.push(signer);
    }
    ensure!(!checked.is_empty(), "no signed module to check");
    Ok(format!("modinfo: signer \"{}\"", checked.join("\", \"")))
}

/// The key and certificate signed modules for `kernel` get: the preload kernel's
/// build key, which it trusts; the test key for stock kernels, which do not.
pub fn key_for(kernel: &Kernel) -> Result<(PathBuf, PathBuf)> {
    match &kernel.preload_keys {
        Some(keys) => Ok(keys.clone()),
        None => signing_key(),
    }
}
